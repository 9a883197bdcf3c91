package jresnet.train;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import jresnet.UserException;
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
                             @Json.Optional List<TestedWeights> tests) {
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
    }

    public ComparisonPlan {
        tests = tests == null ? List.of() : List.copyOf(tests);
    }

    /** A plan whose report is not written yet. */
    public ComparisonPlan(String data, List<TrainingRun.Config> runs) { this(data, runs, null, List.of()); }

    /** The plan with the SHA-256 of report.md as the comparison wrote it: a later rewrite tells the user's notes from it. */
    public ComparisonPlan withReport(String sha256) { return new ComparisonPlan(data, runs, sha256, tests); }

    /** The plan with every run {@code epochs} long. */
    public ComparisonPlan withEpochs(int epochs) {
        return new ComparisonPlan(data, runs.stream().map(c -> c.withEpochs(epochs)).toList(), reportSha256, tests);
    }

    /**
     * The test accuracy recorded for {@code model} where it was measured on these very weights and test
     * file (the loss is not kept: NaN); null where it was not. The records evaluated are the run's own
     * limit, which the plan fixes.
     */
    public TestSetAccuracy.Result testedBefore(String model, String weightsSha256, String testFileSha256) {
        for (TestedWeights t : tests) {
            if (t.model().equals(model) && t.weightsSha256().equals(weightsSha256) && t.testFileSha256().equals(testFileSha256)) {
                return t.result();
            }
        }
        return null;
    }

    /** The plan with {@code model}'s test accuracy on these weights and test file in place of any earlier one. */
    public ComparisonPlan withTest(String model, String weightsSha256, String testFileSha256, TestSetAccuracy.Result result) {
        List<TestedWeights> kept = new ArrayList<>(tests.stream().filter(t -> !t.model().equals(model)).toList());
        kept.add(new TestedWeights(model, weightsSha256, testFileSha256, result.all().correct(), result.all().total(),
                result.exact().correct(), result.exact().total()));
        return new ComparisonPlan(data, runs, reportSha256, kept);
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
        for (int i = 0; i < plan.runs().size(); i++) plan.runs().get(i).validate(file + ": runs[" + i + "]");
        return plan;
    }
}
