package jresnet.report;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import jresnet.train.TestSetAccuracy;

/**
 * Compares trained models: a table (console and Markdown), differences between residual and plain
 * networks of the same depth, accuracy and loss charts, and a CSV of the same figures.
 */
public final class ComparisonReport {
    static final String[] COLUMNS = {"model", "params", "final val acc (%)", "best val acc (%)", "best epoch",
            "median epoch time (s)", "median images/s", "device"};
    /** Numbers are right-aligned in the console table and the Markdown table. */
    private static final boolean[] NUMERIC = {false, true, true, true, true, true, true, false};
    private static final String RESIDUAL_PREFIX = "resnet";
    private static final String PLAIN_PREFIX = "plain";
    private static final String MISSING = "n/a";

    private ComparisonReport() {
    }

    /** A comparison of residual minus plain (or first minus second) in accuracy percentage points. */
    record Difference(String minuend, String subtrahend, double finalPoints, double bestPoints) {
        String line() {
            return "difference " + minuend + " - " + subtrahend + ": " + signedPoints(finalPoints)
                    + " (final), " + signedPoints(bestPoints) + " (best)";
        }

        private static String signedPoints(double points) {
            return Double.isNaN(points) ? MISSING : String.format(Locale.ROOT, "%+.2f points", points);
        }
    }

    /** Writes accuracy.png, loss.png, report.md and comparison.csv into outDir (created if missing). */
    public static void write(Path outDir, List<ModelRun> runs) { write(outDir, runs, false); }

    /**
     * As {@link #write(Path, List)}, but with {@code onlyMissing} only the files not there yet: a
     * report of runs that have not changed may hold a user's notes. Returns the names written.
     */
    public static List<String> write(Path outDir, List<ModelRun> runs, boolean onlyMissing) {
        List<RunSummary> summaries = summarize(runs);
        try {
            Files.createDirectories(outDir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create report directory " + outDir, e);
        }
        Map<String, Consumer<Path>> files = new LinkedHashMap<>();
        files.put("accuracy.png", f -> ComparisonCharts.writeAccuracy(f, runs));
        files.put("loss.png", f -> ComparisonCharts.writeLoss(f, runs));
        files.put("report.md", f -> writeText(f, markdown(summaries) + testMarkdown(runs)));
        files.put("comparison.csv", f -> writeText(f, csv(summaries)));
        if (runs.stream().anyMatch(r -> r.test() != null)) files.put(TEST_CSV, f -> writeText(f, testCsv(runs)));
        List<String> written = new ArrayList<>();
        files.forEach((name, writer) -> {
            if (onlyMissing && Files.exists(outDir.resolve(name))) return;
            writer.accept(outDir.resolve(name));
            written.add(name);
        });
        return written;
    }

    /** The CSV of the test accuracies of the runs' final weights (written when any was measured). */
    public static final String TEST_CSV = "test-accuracy.csv";

    /**
     * The test accuracy of each run's final weights on all evaluated test records and on the bit-exact
     * records among them (0-999, or fewer under --limit-test), in Markdown; empty when none was measured.
     */
    static String testMarkdown(List<ModelRun> runs) {
        List<ModelRun> tested = runs.stream().filter(r -> r.test() != null).toList();
        if (tested.isEmpty()) {
            return "";
        }
        // the exact records measured: fewer than 1000 where --limit-test cut the test set shorter
        List<Integer> exactCounts = tested.stream().map(r -> r.test().exact().total()).distinct().toList();
        String exact = exactCounts.size() == 1 ? "records 0-" + (exactCounts.get(0) - 1) : "the bit-exact records";
        StringBuilder out = new StringBuilder("\n## Test accuracy of the final weights\n\n");
        out.append(markdownRow(new String[] {"model", "test records", "test acc (%)", exact + " acc (%)",
                exact + " 95% Wilson interval (%)"}));
        out.append("|---|---:|---:|---:|---:|\n");
        for (ModelRun run : tested) {
            TestSetAccuracy.Result t = run.test();
            double[] interval = t.exact().wilson95();
            out.append(markdownRow(new String[] {run.model(), "0-" + (t.all().total() - 1), percent(t.all().accuracy()),
                    percent(t.exact().accuracy()), percent(interval[0]) + "-" + percent(interval[1])}));
        }
        out.append("\nThe test file's records 0-999 are the bit-exact CIFAR-10 test images; records 1000-9999 were "
                + "rebuilt from lossy JPEG copies. The interval is the 95% Wilson score interval "
                + "of the accuracy on " + exact + ". The val acc columns above are on the run's validation set "
                + "(the test records, or held-out training images with --val-split).\n");
        return out.toString();
    }

    /** Counts and fractions as measured, one row per run whose final weights were evaluated. */
    static String testCsv(List<ModelRun> runs) {
        StringBuilder out = new StringBuilder("model,test_records,test_correct,test_accuracy,exact_records,exact_correct,"
                + "exact_accuracy,exact_wilson95_low,exact_wilson95_high\n");
        for (ModelRun run : runs) {
            TestSetAccuracy.Result t = run.test();
            if (t == null) {
                continue;
            }
            double[] interval = t.exact().wilson95();
            out.append(csvField(run.model())).append(',')
                    .append(t.all().total()).append(',').append(t.all().correct()).append(',')
                    .append(csvNumber(t.all().accuracy())).append(',')
                    .append(t.exact().total()).append(',').append(t.exact().correct()).append(',')
                    .append(csvNumber(t.exact().accuracy())).append(',')
                    .append(csvNumber(interval[0])).append(',').append(csvNumber(interval[1])).append('\n');
        }
        return out.toString();
    }

    /** The comparison table, aligned for a terminal, followed by the difference lines. */
    public static String table(List<ModelRun> runs) {
        List<RunSummary> summaries = summarize(runs);
        List<String[]> rows = new ArrayList<>();
        rows.add(COLUMNS);
        summaries.forEach(s -> rows.add(cells(s)));
        int[] widths = new int[COLUMNS.length];
        for (String[] row : rows) {
            for (int c = 0; c < row.length; c++) {
                widths[c] = Math.max(widths[c], row[c].length());
            }
        }
        StringBuilder out = new StringBuilder();
        for (String[] row : rows) {
            StringBuilder line = new StringBuilder();
            for (int c = 0; c < row.length; c++) {
                String padding = " ".repeat(widths[c] - row[c].length());
                line.append(c == 0 ? "" : "  ").append(NUMERIC[c] ? padding + row[c] : row[c] + padding);
            }
            out.append(line.toString().stripTrailing()).append('\n');
        }
        for (Difference difference : differences(summaries)) {
            out.append(difference.line()).append('\n');
        }
        for (ModelRun run : runs) {
            if (run.test() != null) {
                run.test().lines("").forEach(line -> out.append(run.model()).append(": ").append(line).append('\n'));
            }
        }
        return out.toString();
    }

    static List<RunSummary> summarize(List<ModelRun> runs) {
        if (runs.isEmpty()) {
            throw new IllegalArgumentException("comparison report needs at least one model run, found none");
        }
        Set<String> names = new HashSet<>();
        List<RunSummary> summaries = new ArrayList<>();
        for (ModelRun run : runs) {
            if (!names.add(run.model())) {
                throw new IllegalArgumentException("comparison report needs distinct model names, found '"
                        + run.model() + "' twice");
            }
            summaries.add(RunSummary.of(run));
        }
        return summaries;
    }

    /** The formatted cells of one table row, in {@link #COLUMNS} order. */
    static String[] cells(RunSummary s) {
        return new String[] {
                s.model(),
                String.format(Locale.ROOT, "%,d", s.params()),
                percent(s.finalValAccuracy()),
                percent(s.bestValAccuracy()),
                s.bestEpoch() == 0 ? MISSING : Integer.toString(s.bestEpoch()),
                Double.isNaN(s.medianEpochSeconds()) ? MISSING
                        : String.format(Locale.ROOT, "%.2f", s.medianEpochSeconds()),
                Double.isNaN(s.medianImagesPerSecond()) ? MISSING
                        : String.format(Locale.ROOT, "%,.0f", s.medianImagesPerSecond()),
                s.device()};
    }

    private static String percent(double fraction) {
        return Double.isNaN(fraction) ? MISSING : String.format(Locale.ROOT, "%.2f", 100 * fraction);
    }

    /**
     * resnetX - plainX for every X where both are present, in the order of the residual runs; without
     * such a pair and with exactly two runs, first minus second.
     */
    static List<Difference> differences(List<RunSummary> summaries) {
        Map<String, RunSummary> byModel = new HashMap<>();
        summaries.forEach(s -> byModel.put(s.model(), s));
        List<Difference> differences = new ArrayList<>();
        for (RunSummary residual : summaries) {
            if (residual.model().startsWith(RESIDUAL_PREFIX)) {
                String suffix = residual.model().substring(RESIDUAL_PREFIX.length());
                RunSummary plain = byModel.get(PLAIN_PREFIX + suffix);
                if (plain != null) {
                    differences.add(difference(residual, plain));
                }
            }
        }
        if (differences.isEmpty() && summaries.size() == 2) {
            differences.add(difference(summaries.get(0), summaries.get(1)));
        }
        return differences;
    }

    private static Difference difference(RunSummary minuend, RunSummary subtrahend) {
        return new Difference(minuend.model(), subtrahend.model(),
                100 * (minuend.finalValAccuracy() - subtrahend.finalValAccuracy()),
                100 * (minuend.bestValAccuracy() - subtrahend.bestValAccuracy()));
    }

    static String markdown(List<RunSummary> summaries) {
        StringBuilder out = new StringBuilder("# Model comparison\n\n");
        out.append(markdownRow(COLUMNS));
        StringBuilder rule = new StringBuilder("|");
        for (boolean numeric : NUMERIC) {
            rule.append(numeric ? "---:|" : "---|");
        }
        out.append(rule).append('\n');
        summaries.forEach(s -> out.append(markdownRow(cells(s))));
        out.append('\n');
        List<Difference> differences = differences(summaries);
        for (Difference difference : differences) {
            out.append("- ").append(difference.line()).append('\n');
        }
        if (!differences.isEmpty()) {
            out.append('\n');
        }
        out.append("Final val acc is that of the last validated epoch; epochs are counted from 1; "
                + "differences are in percentage points of validation accuracy, taken before rounding (so one may "
                + "differ by 0.01 from the difference of the table's figures).\n\n");
        out.append("![accuracy per epoch](accuracy.png)\n\n");
        out.append("![loss per epoch](loss.png)\n\n");
        Set<String> devices = new LinkedHashSet<>();
        summaries.forEach(s -> devices.add(s.device()));
        out.append(devices.size() == 1 ? "Device: " : "Devices: ").append(String.join(", ", devices)).append('\n');
        return out.toString();
    }

    static String markdownRow(String[] cells) {
        StringBuilder row = new StringBuilder("|");
        for (String cell : cells) {
            row.append(' ').append(cell.replace("|", "\\|")).append(" |");
        }
        return row.append('\n').toString();
    }

    /** Fractions and seconds as recorded, without rounding or grouping; empty where not measured. */
    static String csv(List<RunSummary> summaries) {
        StringBuilder out = new StringBuilder("model,params,epochs,final_val_accuracy,best_val_accuracy,best_epoch,"
                + "median_epoch_seconds,median_images_per_second,device\n");
        for (RunSummary s : summaries) {
            out.append(csvField(s.model())).append(',')
                    .append(s.params()).append(',')
                    .append(s.epochs()).append(',')
                    .append(csvNumber(s.finalValAccuracy())).append(',')
                    .append(csvNumber(s.bestValAccuracy())).append(',')
                    .append(s.bestEpoch() == 0 ? "" : Integer.toString(s.bestEpoch())).append(',')
                    .append(csvNumber(s.medianEpochSeconds())).append(',')
                    .append(csvNumber(s.medianImagesPerSecond())).append(',')
                    .append(csvField(s.device())).append('\n');
        }
        return out.toString();
    }

    private static String csvNumber(double value) {
        return Double.isNaN(value) ? "" : Double.toString(value);
    }

    /** RFC 4180 quoting for fields that hold a comma, quote or line break. */
    private static String csvField(String value) {
        if (value.contains(",") || value.contains("\"") || value.contains("\n") || value.contains("\r")) {
            return "\"" + value.replace("\"", "\"\"") + "\"";
        }
        return value;
    }

    private static void writeText(Path file, String text) {
        try {
            Files.writeString(file, text);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }
}
