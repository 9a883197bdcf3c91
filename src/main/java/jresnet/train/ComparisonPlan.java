package jresnet.train;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import jresnet.UserException;
import jresnet.io.AtomicFiles;
import jresnet.io.Json;

/**
 * What a {@code compare} trains, written to its folder before the first run starts, so that
 * {@code compare --resume} can finish a comparison that outlived one session: the runs in order
 * (one sub-folder per model, each with its own config.json once it has started), the data folder,
 * and the SHA-256 of the report.md it last wrote (null before it wrote one).
 */
public record ComparisonPlan(String data, List<TrainingRun.Config> runs, @Json.Optional String reportSha256) {
    public static final String FILE = "compare.json";

    /** A plan whose report is not written yet. */
    public ComparisonPlan(String data, List<TrainingRun.Config> runs) { this(data, runs, null); }

    /** The plan with the SHA-256 of report.md as the comparison wrote it: a later rewrite tells the user's notes from it. */
    public ComparisonPlan withReport(String sha256) { return new ComparisonPlan(data, runs, sha256); }

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
