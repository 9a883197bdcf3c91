package jresnet.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ComparisonPlanTest {
    private static final TrainingRun.Config RUN = new TrainingRun.Config("tutorial-resnet-1-w2", "keras", 2, 16, 11, 40, 16, 0, null, "stop");
    private static final TestSetAccuracy.Result MEASURED = new TestSetAccuracy.Result(
            new TestSetAccuracy.Count(7, 16), new TestSetAccuracy.Count(7, 16), 12.5);

    private static final String W1 = "1".repeat(64), W2 = "2".repeat(64), T1 = "a".repeat(64), T2 = "b".repeat(64);

    /** A recorded figure is found again only for the same model, weights and test file, and survives a write and read. */
    @Test void testFiguresAreKeyedByModelWeightsAndTestFile(@TempDir Path dir) throws Exception {
        ComparisonPlan plan = new ComparisonPlan("/data", List.of(RUN)).withTest(RUN.model(), W1, T1, MEASURED);
        plan.withReport("r").withEpochs(3).write(dir);
        ComparisonPlan read = ComparisonPlan.read(dir);
        TestSetAccuracy.Result found = read.testedBefore(RUN.model(), W1, T1);
        assertEquals(MEASURED.all(), found.all());
        assertEquals(MEASURED.exact(), found.exact());
        assertTrue(Double.isNaN(found.lossSum()), "the loss is not kept");
        assertNull(read.testedBefore(RUN.model(), W2, T1));
        assertNull(read.testedBefore(RUN.model(), W1, T2));
        assertNull(read.testedBefore("tutorial-plain-1-w2", W1, T1));
        // nor for another number of records than the run's limit names (a hand-edited limit_test)
        assertNull(new ComparisonPlan("/data", List.of(new TrainingRun.Config(RUN.model(), "keras", 2, 16, 11, 40, 32, 0, null, "stop")), null, read.tests()).testedBefore(RUN.model(), W1, T1));
        assertEquals(MEASURED.all(), read.recordedTest(RUN.model()).all());
        // a later measurement of the same model replaces the earlier one
        ComparisonPlan again = read.withTest(RUN.model(), W2, T1, MEASURED);
        assertEquals(1, again.tests().size());
        assertNull(again.testedBefore(RUN.model(), W1, T1));
    }

    /** The out-of-date mark is kept in the file until a report is recorded, and survives the other changes. */
    @Test void theOutdatedMarkLastsUntilAReportIsRecorded(@TempDir Path dir) throws Exception {
        ComparisonPlan marked = new ComparisonPlan("/data", List.of(RUN)).withReport(W1).withReportOutdated();
        marked.withTest(RUN.model(), W1, T1, MEASURED).withEpochs(3).write(dir);
        ComparisonPlan read = ComparisonPlan.read(dir);
        assertTrue(read.reportOutdated());
        assertEquals(W1, read.reportSha256());
        assertFalse(read.withReport(W2).reportOutdated());
    }

    /** compare.json written before the test figures were kept reads as a plan with none. */
    @Test void anOlderPlanWithoutTestFiguresReads(@TempDir Path dir) throws Exception {
        new ComparisonPlan("/data", List.of(RUN)).write(dir);
        Path file = dir.resolve(ComparisonPlan.FILE);
        String text = Files.readString(file);
        assertTrue(text.contains("\"tests\""), text);
        Files.writeString(file, text.replaceAll(",\\s*\"tests\": \\[\\s*\\]", "").replaceAll(",\\s*\"report_outdated\": false", ""));
        assertTrue(!Files.readString(file).contains("tests") && !Files.readString(file).contains("outdated"), Files.readString(file));
        assertEquals(List.of(), ComparisonPlan.read(dir).tests());
        assertFalse(ComparisonPlan.read(dir).reportOutdated());
    }

    /** Counts no evaluation gives, and entries for no run or twice for one, are refused naming the file and the field. */
    @Test void impossibleTestFiguresAreRefused(@TempDir Path dir) throws Exception {
        String file = dir.resolve(ComparisonPlan.FILE).toString();
        String other = "tutorial-plain-1-w2";
        List<TrainingRun.Config> runs = List.of(RUN, new TrainingRun.Config(other, "keras", 2, 16, 11, 40, 2000, 0, null, "stop"));
        // (entry, the error's start after the file name)
        Object[][] cases = {
                {tested(RUN.model(), -5, 16, 0, 16), "tests[0]: field 'test_correct' must be 0 to 0"},
                {tested(RUN.model(), -5, 16, -5, 16), "tests[0]: field 'exact_correct' must be 0 to 16, found -5"},
                {tested(RUN.model(), 50, 16, 7, 16), "tests[0]: field 'test_correct' must be 7 to 7"},
                {tested(RUN.model(), 7, 16, 17, 16), "tests[0]: field 'exact_correct' must be 0 to 16, found 17"},
                {tested(RUN.model(), 7, 16, 7, 12), "tests[0]: field 'exact_records' must be 16"},
                {tested(RUN.model(), 7, 0, 0, 0), "tests[0]: field 'test_records' must be 1 to 10000, found 0"},
                {tested(other, 2100, 2000, 500, 1000), "tests[0]: field 'test_correct' must be 500 to 1500"},
                {tested("resnet20", 7, 16, 7, 16), "tests[0]: field 'model' must be one of the runs' models [" + RUN.model() + ", " + other + "]"},
                {new ComparisonPlan.TestedWeights(RUN.model(), "w", T1, 7, 16, 7, 16), "tests[0]: field 'weights_sha256' must be a SHA-256"},
        };
        for (Object[] c : cases) {
            new ComparisonPlan("/data", runs, null, List.of((ComparisonPlan.TestedWeights) c[0])).write(dir);
            jresnet.UserException e = assertThrows(jresnet.UserException.class, () -> ComparisonPlan.read(dir), c[1].toString());
            assertTrue(e.getMessage().startsWith(file + ": " + c[1]), e.getMessage());
        }
        ComparisonPlan.TestedWeights fine = tested(RUN.model(), 7, 16, 7, 16);
        new ComparisonPlan("/data", runs, null, List.of(fine, fine)).write(dir);
        assertTrue(assertThrows(jresnet.UserException.class, () -> ComparisonPlan.read(dir)).getMessage()
                .startsWith(file + ": tests[1]: field 'model' must be a model no other entry of tests has"));
        new ComparisonPlan("/data", List.of(RUN, RUN), null, List.of()).write(dir);
        assertTrue(assertThrows(jresnet.UserException.class, () -> ComparisonPlan.read(dir)).getMessage()
                .startsWith(file + ": runs[1]: field 'model' must be a model no other run has, found \"" + RUN.model() + "\" (runs[0])"));
        new ComparisonPlan("/data", runs, null, List.of(fine, tested(other, 1500, 2000, 600, 1000))).write(dir);
        assertEquals(2, ComparisonPlan.read(dir).tests().size());
    }

    private static ComparisonPlan.TestedWeights tested(String model, long correct, int records, long exactCorrect, int exactRecords) {
        return new ComparisonPlan.TestedWeights(model, W1, T1, correct, records, exactCorrect, exactRecords);
    }
}
