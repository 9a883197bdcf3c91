package jresnet.train;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import jresnet.UserException;
import jresnet.data.Cifar10;
import jresnet.io.AtomicFiles;
import jresnet.io.Json;

/**
 * What a {@code compare} trains, written to its folder before the first run starts, so that
 * {@code compare --resume} can finish a comparison that outlived one session: the runs in order
 * (one sub-folder per model, each with its own config.json once it has started), the data folder,
 * the SHA-256 of the report.md it last wrote (null before it wrote one), and the test accuracy of
 * each model's final weights once measured, so that a resume finds it again instead of evaluating
 * weights that have not changed (minutes per model for the deep networks on a CPU).
 */
public record ComparisonPlan(String data, List<TrainingRun.Config> runs, @Json.Optional String reportSha256,
                             @Json.Optional List<TestedWeights> tests, @Json.Optional boolean reportOutdated) {
    public static final String FILE = "compare.json";

    /**
     * The test accuracy of one model's final weights: the weights file and the test file it was
     * measured on (SHA-256 of each), and the counts on all records evaluated and on the exact ones.
     */
    public record TestedWeights(String model, String weightsSha256, String testFileSha256, long testCorrect, int testRecords,
                                long exactCorrect, int exactRecords) {
        TestSetAccuracy.Result result() {
            return new TestSetAccuracy.Result(new TestSetAccuracy.Count(testCorrect, testRecords),
                    new TestSetAccuracy.Count(exactCorrect, exactRecords), Double.NaN);
        }

        /** Refuses counts that no evaluation gives: the exact records are the first up to 1000 of those evaluated. */
        private void validate(String source) {
            for (String[] digest : new String[][] {{"weights_sha256", weightsSha256}, {"test_file_sha256", testFileSha256}}) {
                if (!digest[1].matches("[0-9a-f]{64}")) throw TrainingRun.bad(source, digest[0], "a SHA-256 in 64 hexadecimal digits", "\"" + digest[1] + "\"");
            }
            if (testRecords < 1 || testRecords > Cifar10.RECORDS_PER_FILE) {
                throw TrainingRun.bad(source, "test_records", "1 to " + Cifar10.RECORDS_PER_FILE, testRecords);
            }
            int exact = Math.min(testRecords, TestSetAccuracy.EXACT_RECORDS);
            if (exactRecords != exact) throw TrainingRun.bad(source, "exact_records", exact + " (the first of " + testRecords + " records, up to "
                    + TestSetAccuracy.EXACT_RECORDS + ")", exactRecords);
            if (exactCorrect < 0 || exactCorrect > exactRecords) throw TrainingRun.bad(source, "exact_correct", "0 to " + exactRecords, exactCorrect);
            long otherRecords = testRecords - exactRecords, lowest = exactCorrect, highest = exactCorrect + otherRecords;
            if (testCorrect < lowest || testCorrect > highest) {
                throw TrainingRun.bad(source, "test_correct", lowest + " to " + highest + " (exact_correct plus up to the " + otherRecords + " other records)",
                        testCorrect);
            }
        }
    }

    public ComparisonPlan {
        tests = tests == null ? List.of() : List.copyOf(tests);
    }

    /** A plan whose report is not written yet. */
    public ComparisonPlan(String data, List<TrainingRun.Config> runs) { this(data, runs, null, List.of()); }

    /** A plan whose report, if written, says what its runs and test figures say. */
    public ComparisonPlan(String data, List<TrainingRun.Config> runs, String reportSha256, List<TestedWeights> tests) {
        this(data, runs, reportSha256, tests, false);
    }

    /**
     * The plan with the SHA-256 of report.md as the comparison wrote it (a later rewrite tells the user's
     * notes from it), and so no longer out of date.
     */
    public ComparisonPlan withReport(String sha256) { return new ComparisonPlan(data, runs, sha256, tests, false); }

    /**
     * The plan marked as having a report that no longer says what its runs do (a run trained, a test
     * figure changed): kept in the file, so that a resume after a stop before the report was written
     * writes it anew, though it then finds nothing to train and nothing changed.
     */
    public ComparisonPlan withReportOutdated() { return new ComparisonPlan(data, runs, reportSha256, tests, true); }

    /** The plan with every run {@code epochs} long. */
    public ComparisonPlan withEpochs(int epochs) {
        return new ComparisonPlan(data, runs.stream().map(c -> c.withEpochs(epochs)).toList(), reportSha256, tests, reportOutdated);
    }

    /**
     * The test accuracy recorded for {@code model} where it was measured on these very weights and test
     * file, on the records the run's limit names (the loss is not kept: NaN); null where it was not.
     */
    public TestSetAccuracy.Result testedBefore(String model, String weightsSha256, String testFileSha256) {
        int records = runs.stream().filter(r -> r.model().equals(model)).mapToInt(r -> Cifar10.testRecords(r.limitTest())).findFirst().orElse(-1);
        for (TestedWeights t : tests) {
            if (t.model().equals(model) && t.weightsSha256().equals(weightsSha256) && t.testFileSha256().equals(testFileSha256)
                    && t.testRecords() == records) {
                return t.result();
            }
        }
        return null;
    }

    /** The test accuracy last recorded for {@code model}, whichever weights and test file it was measured on; null if none. */
    public TestSetAccuracy.Result recordedTest(String model) {
        return tests.stream().filter(t -> t.model().equals(model)).map(TestedWeights::result).findFirst().orElse(null);
    }

    /** The plan with {@code model}'s test accuracy on these weights and test file in place of any earlier one. */
    public ComparisonPlan withTest(String model, String weightsSha256, String testFileSha256, TestSetAccuracy.Result result) {
        List<TestedWeights> kept = new ArrayList<>(tests.stream().filter(t -> !t.model().equals(model)).toList());
        kept.add(new TestedWeights(model, weightsSha256, testFileSha256, result.all().correct(), result.all().total(),
                result.exact().correct(), result.exact().total()));
        return new ComparisonPlan(data, runs, reportSha256, kept, reportOutdated);
    }

    public void write(Path outDir) throws IOException {
        Files.createDirectories(outDir);
        AtomicFiles.writeString(outDir.resolve(FILE), Json.pretty(this));
    }

    /** The plan of a compare folder, every run's configuration checked as train --resume checks it. */
    public static ComparisonPlan read(Path outDir) throws IOException {
        if (!Files.isDirectory(outDir)) {
            throw new UserException("--resume " + outDir + (Files.exists(outDir) ? ": is a file, not a compare folder" : ": no such folder"));
        }
        Path file = outDir.resolve(FILE);
        if (!Files.isRegularFile(file)) {
            throw new UserException("--resume " + outDir + ": no " + FILE + " (not a compare folder; a single run continues with train --resume)");
        }
        ComparisonPlan plan = Json.bind(Json.parseObject(Files.readString(file), file.toString()), ComparisonPlan.class, file.toString());
        if (plan.runs().isEmpty()) throw new UserException(file + ": field 'runs' is empty");
        Map<String, Integer> runOf = new LinkedHashMap<>();
        for (int i = 0; i < plan.runs().size(); i++) {
            TrainingRun.Config run = plan.runs().get(i);
            run.validate(file + ": runs[" + i + "]");
            Integer earlier = runOf.putIfAbsent(run.model(), i);
            if (earlier != null) throw TrainingRun.bad(file + ": runs[" + i + "]", "model", "a model no other run has", "\"" + run.model() + "\" (runs[" + earlier + "])");
        }
        Set<String> tested = new HashSet<>();
        for (int i = 0; i < plan.tests().size(); i++) {
            TestedWeights t = plan.tests().get(i);
            String source = file + ": tests[" + i + "]";
            if (!runOf.containsKey(t.model())) throw TrainingRun.bad(source, "model", "one of the runs' models " + runOf.keySet(), "\"" + t.model() + "\"");
            if (!tested.add(t.model())) throw TrainingRun.bad(source, "model", "a model no other entry of tests has", "\"" + t.model() + "\"");
            t.validate(source);
        }
        return plan;
    }
}
