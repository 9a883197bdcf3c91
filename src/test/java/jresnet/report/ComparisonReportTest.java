package jresnet.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.BasicStroke;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.function.ToDoubleFunction;

import javax.imageio.ImageIO;

import jresnet.TestSeeds;
import jresnet.train.EpochMetrics;
import jresnet.train.TestSetAccuracy;
import org.jfree.chart.LegendItem;
import org.jfree.chart.LegendItemCollection;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ComparisonReportTest {
    @TempDir
    Path outDir;

    private final long seed = TestSeeds.next();
    private final Random random = new Random(seed);

    /** Random epochs; about a quarter lack validation, but the last one is always validated. */
    private ModelRun randomRun(String model, int epochs) {
        List<EpochMetrics> metrics = new ArrayList<>();
        for (int e = 0; e < epochs; e++) {
            boolean validated = e == epochs - 1 || random.nextInt(4) != 0;
            metrics.add(new EpochMetrics(e, 0.2 + 2 * random.nextDouble(), random.nextDouble(),
                    validated ? 0.2 + 2 * random.nextDouble() : Double.NaN,
                    validated ? random.nextDouble() : Double.NaN,
                    5 + 50 * random.nextDouble(), 500 + 5000 * random.nextDouble(), 1e-3));
        }
        return new ModelRun(model, 100_000 + random.nextInt(2_000_000), "cpu (2 threads)", metrics);
    }

    private static EpochMetrics epoch(int index, double valAccuracy) {
        return new EpochMetrics(index, 1.0, 0.5, Double.isNaN(valAccuracy) ? Double.NaN : 1.2, valAccuracy,
                10.0, 1000.0, 1e-3);
    }

    @Test
    void reportOfPairedRunsHasChartsTableDifferencesAndCsv() throws IOException {
        List<ModelRun> runs = List.of(randomRun("resnet20", 2 + random.nextInt(12)),
                randomRun("plain20", 2 + random.nextInt(12)), randomRun("resnet30", 2 + random.nextInt(12)),
                randomRun("plain30", 2 + random.nextInt(12)));
        ComparisonReport.write(outDir, runs);

        for (String chart : List.of("accuracy.png", "loss.png")) {
            BufferedImage image = ImageIO.read(outDir.resolve(chart).toFile());
            assertNotNull(image, chart);
            assertEquals(1000, image.getWidth(), chart);
            assertEquals(600, image.getHeight(), chart);
            assertTrue(containsColour(image, 0x1f77b4) && containsColour(image, 0xd62728),
                    chart + " lacks the first or fourth model's line colour");
        }

        String report = Files.readString(outDir.resolve("report.md"));
        assertTrue(report.startsWith("# "), report);
        assertTrue(report.contains("![accuracy per epoch](accuracy.png)"), report);
        assertTrue(report.contains("![loss per epoch](loss.png)"), report);
        assertTrue(report.contains("Device: cpu (2 threads)"), report);
        for (ModelRun run : runs) {
            assertTrue(report.contains(expectedMarkdownRow(run)), "seed " + seed + ", missing row "
                    + expectedMarkdownRow(run) + " in\n" + report);
        }
        String resnet20 = expectedDifference(runs.get(0), runs.get(1));
        String resnet30 = expectedDifference(runs.get(2), runs.get(3));
        assertTrue(report.contains("- " + resnet20 + "\n"), "seed " + seed + ": " + resnet20 + " in\n" + report);
        assertTrue(report.contains("- " + resnet30 + "\n"), "seed " + seed + ": " + resnet30 + " in\n" + report);
        assertEquals(2, report.lines().filter(l -> l.startsWith("- difference")).count(), report);

        String table = ComparisonReport.table(runs);
        assertEquals(1 + runs.size() + 2, table.lines().count(), table);
        assertTrue(table.lines().anyMatch(resnet20::equals), table);
        assertTrue(table.lines().anyMatch(resnet30::equals), table);

        List<String> csv = Files.readAllLines(outDir.resolve("comparison.csv"));
        assertEquals("model,params,epochs,final_val_accuracy,best_val_accuracy,best_epoch,"
                + "median_epoch_seconds,median_images_per_second,device", csv.get(0));
        assertEquals(1 + runs.size(), csv.size());
        for (int i = 0; i < runs.size(); i++) {
            ModelRun run = runs.get(i);
            String[] fields = csv.get(i + 1).split(",");
            assertEquals(run.model(), fields[0]);
            assertEquals(run.params(), Long.parseLong(fields[1]));
            assertEquals(run.epochs().size(), Integer.parseInt(fields[2]));
            assertEquals(lastValidated(run), Double.parseDouble(fields[3]));
            assertEquals(best(run), Double.parseDouble(fields[4]));
            assertEquals(bestEpoch(run), Integer.parseInt(fields[5]));
            assertEquals(median(run, EpochMetrics::seconds), Double.parseDouble(fields[6]));
            assertEquals(median(run, EpochMetrics::imagesPerSecond), Double.parseDouble(fields[7]));
            assertEquals("cpu (2 threads)", fields[8]);
        }
    }

    @Test
    void withoutPairsTwoRunsAreComparedFirstMinusSecond() {
        ModelRun a = new ModelRun("wide", 10, "cpu", List.of(epoch(0, 0.50), epoch(1, 0.70), epoch(2, 0.60)));
        ModelRun b = new ModelRun("narrow", 10, "cpu", List.of(epoch(0, 0.55), epoch(1, 0.65), epoch(2, 0.6125)));
        String table = ComparisonReport.table(List.of(a, b));
        // final 60.00 - 61.25, best 70.00 - 65.00
        assertTrue(table.contains("difference wide - narrow: -1.25 points (final), +5.00 points (best)\n"), table);
        String reversed = ComparisonReport.table(List.of(b, a));
        assertTrue(reversed.contains("difference narrow - wide: +1.25 points (final), -5.00 points (best)\n"),
                reversed);
    }

    @Test
    void pairsTakePrecedenceAndUnpairedRunsAreNotCompared() {
        ModelRun plain = new ModelRun("plain56", 10, "cpu", List.of(epoch(0, 0.40)));
        ModelRun other = new ModelRun("resnet20", 10, "cpu", List.of(epoch(0, 0.90)));
        ModelRun residual = new ModelRun("resnet56", 10, "cpu", List.of(epoch(0, 0.45)));
        String table = ComparisonReport.table(List.of(plain, other, residual));
        assertEquals(List.of("difference resnet56 - plain56: +5.00 points (final), +5.00 points (best)"),
                table.lines().filter(l -> l.startsWith("difference")).toList());
        String threeUnpaired = ComparisonReport.table(List.of(
                new ModelRun("a", 1, "cpu", List.of(epoch(0, 0.1))), new ModelRun("b", 1, "cpu", List.of(epoch(0, 0.2))),
                new ModelRun("c", 1, "cpu", List.of(epoch(0, 0.3)))));
        assertFalse(threeUnpaired.contains("difference"), threeUnpaired);
    }

    @Test
    void epochsWithoutValidationAreSkippedAndRunsWithoutAnyShowNotAvailable() throws IOException {
        ModelRun partly = new ModelRun("resnet8", 1_234_567, "cuda", List.of(
                epoch(0, 0.30), epoch(1, Double.NaN), epoch(2, 0.80), epoch(3, 0.80), epoch(4, 0.75),
                epoch(5, Double.NaN)));
        ModelRun never = new ModelRun("plain8", 7, "cpu", List.of(epoch(0, Double.NaN), epoch(1, Double.NaN)));
        ComparisonReport.write(outDir, List.of(partly, never));
        String report = Files.readString(outDir.resolve("report.md"));
        assertTrue(report.contains("| resnet8 | 1,234,567 | 75.00 | 80.00 | 3 | 10.00 | 1,000 | cuda |"), report);
        assertTrue(report.contains("| plain8 | 7 | n/a | n/a | n/a | 10.00 | 1,000 | cpu |"), report);
        assertTrue(report.contains("difference resnet8 - plain8: n/a (final), n/a (best)"), report);
        assertTrue(report.contains("Devices: cuda, cpu"), report);
        assertEquals(1000, ImageIO.read(outDir.resolve("accuracy.png").toFile()).getWidth());
        assertEquals("plain8,7,2,,,,10.0,1000.0,cpu", Files.readAllLines(outDir.resolve("comparison.csv")).get(2));
    }

    /** The final weights' test accuracy: console lines, a Markdown table and test-accuracy.csv, only for runs that have one. */
    @Test
    void testAccuracyOnAllRecordsAndOnTheExactThousandIsReported() throws IOException {
        TestSetAccuracy.Result tested = new TestSetAccuracy.Result(new TestSetAccuracy.Count(9_130, 10_000),
                new TestSetAccuracy.Count(918, 1_000), 3_000);
        ModelRun residual = new ModelRun("resnet20", 10, "cpu", List.of(epoch(0, 0.9)), tested);
        ModelRun plain = new ModelRun("plain20", 10, "cpu", List.of(epoch(0, 0.8)));
        String table = ComparisonReport.table(List.of(residual, plain));
        assertTrue(table.endsWith("resnet20: test accuracy on records 0-9999: 0.9130 (9130/10000)\n"
                + "resnet20: test accuracy on records 0-999 (bit-exact): 0.9180 (918/1000), 95% Wilson interval 0.8994-0.9334\n"), table);
        ComparisonReport.write(outDir, List.of(residual, plain));
        String report = Files.readString(outDir.resolve("report.md"));
        assertTrue(report.contains("| resnet20 | 0-9999 | 91.30 | 91.80 | 89.94-93.34 |"), report);
        assertFalse(report.contains("| plain20 | 0-"), report);
        assertTrue(report.contains("| model | test records | test acc (%) | records 0-999 acc (%) | records 0-999 95% Wilson interval (%) |"), report);
        List<String> csv = Files.readAllLines(outDir.resolve(ComparisonReport.TEST_CSV));
        assertEquals(List.of("model,test_records,test_correct,test_accuracy,exact_records,exact_correct,exact_accuracy,"
                + "exact_wilson95_low,exact_wilson95_high", "resnet20,10000,9130,0.913,1000,918,0.918,"
                + tested.exact().wilson95()[0] + "," + tested.exact().wilson95()[1]), csv);
    }

    /** Under --limit-test 64 the exact records measured are 0-63, and the report's headings say so, not 0-999. */
    @Test
    void aShorterTestSetNamesTheExactRecordsItMeasured() throws IOException {
        TestSetAccuracy.Result tested = new TestSetAccuracy.Result(new TestSetAccuracy.Count(40, 64),
                new TestSetAccuracy.Count(40, 64), 60);
        ComparisonReport.write(outDir, List.of(new ModelRun("resnet20", 10, "cpu", List.of(epoch(0, 0.6)), tested),
                new ModelRun("plain20", 10, "cpu", List.of(epoch(0, 0.5)), tested)));
        String report = Files.readString(outDir.resolve("report.md"));
        assertTrue(report.contains("| records 0-63 acc (%) | records 0-63 95% Wilson interval (%) |"), report);
        assertTrue(report.contains("95% Wilson score interval of the accuracy on records 0-63."), report);
        assertFalse(report.contains("records 0-999 acc"), report);
    }

    @Test
    void legendShowsEnoughOfEachLineToTellTrainingFromValidation() {
        List<ModelRun> runs = List.of(randomRun("resnet20", 3), randomRun("plain20", 3));
        LegendItemCollection items = ComparisonCharts.accuracyChart(runs).getXYPlot().getLegendItems();
        assertEquals(4, items.getItemCount());
        for (int i = 0; i < items.getItemCount(); i++) {
            LegendItem item = items.get(i);
            assertTrue(item.isLineVisible(), item.getLabel());
            BasicStroke stroke = (BasicStroke) item.getLineStroke();
            boolean training = item.getLabel().endsWith(" training");
            assertEquals(training, stroke.getDashArray() != null, item.getLabel());
            if (training) {
                float period = 0;
                for (float length : stroke.getDashArray()) period += length;
                // at least two whole dashes and gaps, so a dashed entry cannot pass for a solid one
                assertTrue(item.getLine().getBounds2D().getWidth() >= 2 * period, item.getLabel());
            }
        }
        assertFalse(items.get(0).getShape().getBounds2D().equals(items.get(1).getShape().getBounds2D()),
                "validation and training markers differ");
    }

    @Test
    void duplicateModelNamesAreRejected() {
        ModelRun run = new ModelRun("resnet20", 1, "cpu", List.of(epoch(0, 0.5)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ComparisonReport.table(List.of(run, run)));
        assertTrue(e.getMessage().contains("'resnet20' twice"), e.getMessage());
    }

    private static boolean containsColour(BufferedImage image, int rgb) {
        for (int y = 0; y < image.getHeight(); y++) {
            for (int x = 0; x < image.getWidth(); x++) {
                if ((image.getRGB(x, y) & 0xFFFFFF) == rgb) {
                    return true;
                }
            }
        }
        return false;
    }

    private static String expectedMarkdownRow(ModelRun run) {
        return String.format(Locale.ROOT, "| %s | %,d | %.2f | %.2f | %d | %.2f | %,.0f | %s |", run.model(),
                run.params(), 100 * lastValidated(run), 100 * best(run), bestEpoch(run),
                median(run, EpochMetrics::seconds), median(run, EpochMetrics::imagesPerSecond), run.device());
    }

    private static String expectedDifference(ModelRun residual, ModelRun plain) {
        return String.format(Locale.ROOT, "difference %s - %s: %+.2f points (final), %+.2f points (best)",
                residual.model(), plain.model(), 100 * (lastValidated(residual) - lastValidated(plain)),
                100 * (best(residual) - best(plain)));
    }

    private static double lastValidated(ModelRun run) {
        List<EpochMetrics> epochs = run.epochs();
        for (int i = epochs.size() - 1; i >= 0; i--) {
            if (!Double.isNaN(epochs.get(i).valAccuracy())) {
                return epochs.get(i).valAccuracy();
            }
        }
        return Double.NaN;
    }

    private static double best(ModelRun run) {
        return run.epochs().stream().mapToDouble(EpochMetrics::valAccuracy).filter(v -> !Double.isNaN(v))
                .max().orElse(Double.NaN);
    }

    private static int bestEpoch(ModelRun run) {
        double best = best(run);
        return run.epochs().stream().filter(e -> e.valAccuracy() == best).findFirst().orElseThrow().epoch() + 1;
    }

    private static double median(ModelRun run, ToDoubleFunction<EpochMetrics> value) {
        double[] sorted = run.epochs().stream().mapToDouble(value).sorted().toArray();
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}
