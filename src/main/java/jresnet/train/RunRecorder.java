package jresnet.train;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import jresnet.io.AtomicFiles;
import jresnet.io.Checkpoint;
import jresnet.io.FileDigest;
import jresnet.io.Safetensors;
import jresnet.io.tensorboard.TensorBoardLogger;
import jresnet.nn.Executor;
import jresnet.tensor.HostArray;

/**
 * Writes a run folder as training goes: the checkpoint after every epoch (and on an interrupt), then
 * metrics.csv and best.safetensors when validation accuracy improves, and TensorBoard event files.
 * Every file is replaced atomically, so a crash leaves the previous complete version. The checkpoint
 * comes first: metrics.csv and best.safetensors follow from it ({@link #restoreResults}), so a run
 * without a checkpoint has no results that starting it again would overwrite.
 */
public final class RunRecorder implements Callback, AutoCloseable {
    public static final String METRICS = "metrics.csv";
    public static final String CHECKPOINT = "checkpoint";
    public static final String BEST = "best.safetensors";

    private final Path runDir;
    private final Executor executor;
    private final Map<String, String> metadata;
    private final TensorBoardLogger tensorBoard;
    /** Where the checkpoint on disk stands ("after epoch 3", "at epoch 4, step 17"); null while there is none. */
    private String checkpointed;

    /** checkpointed: where the run folder's checkpoint stands when recording begins, null when it has none. */
    public RunRecorder(Path runDir, Executor executor, Map<String, String> metadata, String checkpointed) throws IOException {
        this.runDir = runDir;
        this.checkpointed = checkpointed;
        this.executor = executor;
        this.metadata = metadata;
        this.tensorBoard = new TensorBoardLogger(runDir.resolve("tensorboard").resolve(executor.model().name()));
    }

    @Override public void onEpochEnd(EpochMetrics m, TrainingState state) {
        try {
            executor.pullWeights();
            Map<String, HostArray> weights = executor.model().weights();
            requireFinite(weights, "after epoch " + (m.epoch() + 1));
            if (lastEpochIsBest(state)) {
                state.earlierBestSha256 = state.bestSha256;
                state.bestSha256 = Safetensors.sha256(weights, metadata);
            }
            saveCheckpoint(state, "after epoch " + state.epoch);
            writeResults(runDir, state, weights, metadata);
            Map<String, float[]> raw = new LinkedHashMap<>();
            weights.forEach((k, v) -> raw.put(k, v.data()));
            tensorBoard.onEpochEnd(m.epoch(), m.logs(), raw);
        } catch (IOException e) {
            throw new UncheckedIOException("writing run folder " + runDir + ": " + e.getMessage(), e);
        }
    }

    /** A mid-epoch stop (Ctrl-C) checkpoints where it stands; a non-finite loss keeps the last good one. */
    @Override public void onInterrupted(TrainingState state, String reason) {
        if (reason.startsWith("non-finite")) return;
        try {
            executor.pullWeights();
            String where = "at epoch " + (state.epoch + 1) + ", step " + state.step;
            requireFinite(executor.model().weights(), where);
            saveCheckpoint(state, where);
        } catch (IOException e) {
            throw new UncheckedIOException("writing checkpoint in " + runDir + ": " + e.getMessage(), e);
        }
    }

    /**
     * The loss is checked every step, but a non-finite gradient can still reach the weights through a
     * finite loss; such weights must never replace the last good checkpoint.
     */
    private static void requireFinite(Map<String, HostArray> weights, String when) {
        for (Map.Entry<String, HostArray> e : weights.entrySet()) {
            for (float v : e.getValue().data()) {
                if (!Float.isFinite(v)) {
                    throw new Trainer.Stopped("non-finite weight " + e.getKey() + " " + when + " (a gradient was not finite)");
                }
            }
        }
    }

    private void saveCheckpoint(TrainingState state, String where) throws IOException {
        Checkpoint.save(runDir.resolve(CHECKPOINT), executor.model().weights(), executor.optimizerState(),
                state.saved(executor.optimizer().name()), metadata);
        checkpointed = where;
    }

    /** Where the checkpoint on disk stands ("after epoch 3", "at epoch 4, step 17"); null when there is none. */
    public String checkpointed() { return checkpointed; }

    /**
     * Writes what a checkpoint at an epoch's end implies where a stop came between the checkpoint and
     * them: metrics.csv from its history when the file is missing or one epoch behind, best.safetensors
     * from its weights when its epoch is the best so far and the file is missing or not as the run wrote
     * it. Anything else there was changed by hand: kept as it is when the run ends here, moved aside
     * ({@link AtomicFiles#moveAside}) when it trains on ({@code trainsOn}), since a later epoch would
     * write over it; a notice says which. A checkpoint inside an epoch holds no epoch's final weights,
     * and one inside the first epoch no metrics rows.
     */
    public static void restoreResults(Path runDir, Checkpoint.Contents saved, TrainingState state, boolean trainsOn,
                                      PrintStream console) throws IOException {
        Path metrics = runDir.resolve(METRICS), best = runDir.resolve(BEST);
        String held = Files.isRegularFile(metrics) ? Files.readString(metrics) : null;
        boolean behind = held == null || state.step == 0 && !state.history.isEmpty()
                && held.equals(metricsCsv(state.history.subList(0, state.history.size() - 1)));
        if (!behind && !held.equals(metricsCsv(state.history))) {
            if (keptOrMovedAside(metrics, "differs from the checkpoint's history", trainsOn, console) && !state.history.isEmpty()) {
                writeMetrics(runDir, state);
            }
        } else if (behind && !state.history.isEmpty()) {
            writeMetrics(runDir, state);
            console.printf("restored %s from the checkpoint (the run stopped before writing it)%n", metrics);
        }
        boolean restorable = state.step == 0 && lastEpochIsBest(state);
        if (state.bestSha256 != null) {
            // the checkpoint knows the file's bytes: the run's latest best, or (a stop between the
            // checkpoint and the file) its earlier one, else a file put there by hand
            String heldSha256 = Files.isRegularFile(best) ? FileDigest.sha256(best) : null;
            boolean gone = !Files.exists(best, LinkOption.NOFOLLOW_LINKS);
            boolean earlier = heldSha256 != null && heldSha256.equals(state.earlierBestSha256);
            if (restorable && (gone || earlier)) {
                restoreBest(best, saved, console);
            } else if (!gone && !state.bestSha256.equals(heldSha256)
                    && keptOrMovedAside(best, "is not this run's best weights as it wrote them", trainsOn, console) && restorable) {
                Safetensors.write(best, saved.weights(), saved.metadata());
            }
            return;
        }
        // a checkpoint written before the file's SHA-256 was recorded: an earlier best of this run has
        // the same metadata and shapes
        if (!restorable) return;
        Safetensors.File heldBest = readable(best);
        boolean earlierBest = heldBest != null && heldBest.metadata().equals(saved.metadata()) && sameShapes(heldBest.tensors(), saved.weights());
        if (heldBest == null && !Files.exists(best) || earlierBest && !sameValues(heldBest.tensors(), saved.weights())) {
            restoreBest(best, saved, console);
        } else if (!earlierBest && keptOrMovedAside(best, "is not this run's best weights as it writes them", trainsOn, console)) {
            Safetensors.write(best, saved.weights(), saved.metadata());
        }
    }

    /** best.safetensors from the checkpoint's weights, where a stop came before the run wrote it. */
    private static void restoreBest(Path best, Checkpoint.Contents saved, PrintStream console) throws IOException {
        Safetensors.write(best, saved.weights(), saved.metadata());
        console.printf("restored %s from the checkpoint (the run stopped before writing it)%n", best);
    }

    /**
     * A file changed by hand: kept in place when the run ends here, moved aside when it trains on;
     * the notice says which. Returns whether it was moved, so the run's own file is written anew.
     */
    private static boolean keptOrMovedAside(Path file, String how, boolean trainsOn, PrintStream console) throws IOException {
        if (!trainsOn) {
            console.printf("notice: %s %s; kept as it is%n", file, how);
            return false;
        }
        Path aside = AtomicFiles.moveAside(file);
        console.printf("notice: %s %s; moved to %s, where training on cannot overwrite it; the run writes its own %s%n",
                file, how, aside, file.getFileName());
        return true;
    }

    /** metrics.csv, and best.safetensors from {@code weights} if the last epoch is the best. */
    private static void writeResults(Path runDir, TrainingState state, Map<String, HostArray> weights,
                                     Map<String, String> metadata) throws IOException {
        writeMetrics(runDir, state);
        if (lastEpochIsBest(state)) Safetensors.write(runDir.resolve(BEST), weights, metadata);
    }

    private static boolean lastEpochIsBest(TrainingState state) {
        if (state.history.isEmpty()) return false;
        double last = state.history.get(state.history.size() - 1).valAccuracy();
        double best = state.history.stream().mapToDouble(EpochMetrics::valAccuracy).filter(Double::isFinite)
                .max().orElse(Double.NaN);
        return Double.isFinite(last) && last >= best;
    }

    /** The weights file at {@code file}, or null where there is none or it cannot be read. */
    private static Safetensors.File readable(Path file) {
        if (!Files.isRegularFile(file)) return null;
        try {
            return Safetensors.read(file);
        } catch (IOException | RuntimeException unreadable) {
            return null;
        }
    }

    private static boolean sameShapes(Map<String, HostArray> a, Map<String, HostArray> b) {
        return a.keySet().equals(b.keySet()) && a.keySet().stream().allMatch(k -> a.get(k).shape().equals(b.get(k).shape()));
    }

    private static boolean sameValues(Map<String, HostArray> a, Map<String, HostArray> b) {
        return a.keySet().stream().allMatch(k -> Arrays.equals(a.get(k).data(), b.get(k).data()));
    }

    private static void writeMetrics(Path runDir, TrainingState state) throws IOException {
        AtomicFiles.writeString(runDir.resolve(METRICS), metricsCsv(state.history));
    }

    private static String metricsCsv(List<EpochMetrics> history) {
        StringBuilder csv = new StringBuilder("epoch,loss,accuracy,val_loss,val_accuracy,learning_rate,seconds,images_per_s\n");
        for (EpochMetrics e : history) {
            csv.append(String.format(Locale.ROOT, "%d,%s,%s,%s,%s,%s,%.3f,%.1f%n", e.epoch(), num(e.loss()),
                    num(e.accuracy()), num(e.valLoss()), num(e.valAccuracy()), num(e.learningRate()), e.seconds(),
                    e.imagesPerSecond()));
        }
        return csv.toString();
    }

    private static String num(double v) { return Double.isFinite(v) ? Double.toString(v) : ""; }

    @Override public void close() throws IOException { tensorBoard.close(); }
}
