package jresnet.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import jresnet.io.Checkpoint;
import jresnet.io.FileDigest;
import jresnet.io.Safetensors;
import jresnet.tensor.HostArray;
import jresnet.tensor.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What resume does with the results beside a checkpoint: restores a stop's leftovers, never loses a user's file. */
class RestoreResultsTest {
    private final ByteArrayOutputStream printed = new ByteArrayOutputStream();
    private final PrintStream console = new PrintStream(printed, true, StandardCharsets.UTF_8);
    private final Checkpoint.Contents saved = new Checkpoint.Contents(Map.of("w", new HostArray(Shape.of(2), new float[] {1, 2})),
            Map.of("model", "m"), Map.of(), new JsonObject());

    private static TrainingState afterOneEpoch() {
        TrainingState state = new TrainingState();
        state.history.add(new EpochMetrics(0, 1.5, 0.4, 1.6, 0.5, 3, 100, 0.001));
        state.epoch = 1;
        return state;
    }

    /** Another file as best.safetensors: weights that are not this run's (other metadata). */
    private static byte[] foreignBest(Path best) throws Exception {
        Safetensors.write(best, Map.of("w", new HostArray(Shape.of(2), new float[] {7, 8})), Map.of("model", "other"));
        return Files.readAllBytes(best);
    }

    @Test void filesChangedByHandAreMovedAsideWhenTheRunTrainsOn(@TempDir Path run) throws Exception {
        Files.writeString(run.resolve(RunRecorder.METRICS), "my own table\n");
        byte[] mine = foreignBest(run.resolve(RunRecorder.BEST));
        RunRecorder.restoreResults(run, saved, afterOneEpoch(), true, console);
        assertEquals("my own table\n", Files.readString(run.resolve("metrics.edited.csv")));
        assertArrayEquals(mine, Files.readAllBytes(run.resolve("best.edited.safetensors")));
        assertEquals(2, Files.readAllLines(run.resolve(RunRecorder.METRICS)).size(), "the run's header and epoch 0");
        assertArrayEquals(new float[] {1, 2}, Safetensors.read(run.resolve(RunRecorder.BEST)).tensors().get("w").data());
        String out = printed.toString(StandardCharsets.UTF_8);
        assertTrue(out.contains("moved to " + run.resolve("metrics.edited.csv")), out);
        assertTrue(out.contains("moved to " + run.resolve("best.edited.safetensors")), out);
    }

    @Test void filesChangedByHandStayInPlaceWhenTheRunEndsHere(@TempDir Path run) throws Exception {
        Files.writeString(run.resolve(RunRecorder.METRICS), "my own table\n");
        byte[] mine = foreignBest(run.resolve(RunRecorder.BEST));
        RunRecorder.restoreResults(run, saved, afterOneEpoch(), false, console);
        assertEquals("my own table\n", Files.readString(run.resolve(RunRecorder.METRICS)));
        assertArrayEquals(mine, Files.readAllBytes(run.resolve(RunRecorder.BEST)));
        assertFalse(Files.exists(run.resolve("metrics.edited.csv")));
        assertTrue(printed.toString(StandardCharsets.UTF_8).contains("kept as it is"), printed.toString(StandardCharsets.UTF_8));
    }

    /** Two epochs, the first the best, whose weights the run wrote as best.safetensors (recorded by their SHA-256). */
    private static TrainingState secondEpochWorse(Path best) throws Exception {
        TrainingState state = afterOneEpoch();
        state.history.add(new EpochMetrics(1, 1.4, 0.45, 1.7, 0.4, 3, 100, 0.001));
        state.epoch = 2;
        Map<String, HostArray> first = Map.of("w", new HostArray(Shape.of(2), new float[] {3, 4}));
        Safetensors.write(best, first, Map.of("model", "m"));
        state.bestSha256 = Safetensors.sha256(first, Map.of("model", "m"));
        return state;
    }

    /** The same model's weights put in place by hand (same metadata and shapes) after a worse epoch. */
    @Test void aSameModelFileReplacedByHandIsMovedAsideWhenTheLastEpochIsNotTheBest(@TempDir Path run) throws Exception {
        Path best = run.resolve(RunRecorder.BEST);
        TrainingState state = secondEpochWorse(best);
        RunRecorder.restoreResults(run, saved, state, true, console);
        assertFalse(printed.toString(StandardCharsets.UTF_8).contains(RunRecorder.BEST), "the run's own file is left alone");

        Safetensors.write(best, Map.of("w", new HostArray(Shape.of(2), new float[] {5, 6})), Map.of("model", "m"));
        byte[] mine = Files.readAllBytes(best);
        RunRecorder.restoreResults(run, saved, state, true, console);
        assertArrayEquals(mine, Files.readAllBytes(run.resolve("best.edited.safetensors")));
        assertFalse(Files.exists(best), "the checkpoint holds the last epoch's weights, not the best epoch's");
        assertTrue(printed.toString(StandardCharsets.UTF_8).contains("moved to " + run.resolve("best.edited.safetensors")));
    }

    /** Where the last epoch is the best, a same-model file put in place by hand is moved aside, not overwritten. */
    @Test void aSameModelFileReplacedByHandIsMovedAsideWhenTheLastEpochIsTheBest(@TempDir Path run) throws Exception {
        Path best = run.resolve(RunRecorder.BEST);
        TrainingState state = afterOneEpoch();
        state.bestSha256 = Safetensors.sha256(saved.weights(), saved.metadata());
        Safetensors.write(best, Map.of("w", new HostArray(Shape.of(2), new float[] {5, 6})), Map.of("model", "m"));
        byte[] mine = Files.readAllBytes(best);
        RunRecorder.restoreResults(run, saved, state, true, console);
        assertArrayEquals(mine, Files.readAllBytes(run.resolve("best.edited.safetensors")));
        assertArrayEquals(new float[] {1, 2}, Safetensors.read(best).tensors().get("w").data());
        assertEquals(state.bestSha256, FileDigest.sha256(best), "restored as the run wrote it");

        // a stop before the file was written: restored, and then as the run wrote it
        Files.delete(best);
        printed.reset();
        RunRecorder.restoreResults(run, saved, state, true, console);
        assertEquals(state.bestSha256, FileDigest.sha256(best));
        assertTrue(printed.toString(StandardCharsets.UTF_8).startsWith("restored " + best), printed.toString(StandardCharsets.UTF_8));
    }

    /**
     * A stop between the checkpoint of a best epoch and its best.safetensors leaves the run's earlier
     * best in place: restored over, whether the run trains on or not, and not taken for a user's file.
     */
    @Test void theRunsEarlierBestLeftByAStopIsRestoredOver(@TempDir Path run) throws Exception {
        for (boolean trainsOn : new boolean[] {false, true}) {
            Path best = run.resolve(RunRecorder.BEST);
            Map<String, HostArray> first = Map.of("w", new HostArray(Shape.of(2), new float[] {3, 4}));
            Safetensors.write(best, first, saved.metadata());
            TrainingState state = afterOneEpoch();
            state.history.add(new EpochMetrics(1, 1.4, 0.45, 1.7, 0.6, 3, 100, 0.001)); // the second epoch is the best
            state.epoch = 2;
            state.earlierBestSha256 = Safetensors.sha256(first, saved.metadata());
            state.bestSha256 = Safetensors.sha256(saved.weights(), saved.metadata());
            printed.reset();
            RunRecorder.restoreResults(run, saved, state, trainsOn, console);
            assertArrayEquals(new float[] {1, 2}, Safetensors.read(best).tensors().get("w").data());
            assertTrue(printed.toString(StandardCharsets.UTF_8).contains("restored " + best), printed.toString(StandardCharsets.UTF_8));
            assertFalse(Files.exists(run.resolve("best.edited.safetensors")));
        }
    }

    /** A checkpoint inside an epoch still knows best.safetensors' bytes. */
    @Test void aFileReplacedByHandIsMovedAsideFromACheckpointInsideAnEpoch(@TempDir Path run) throws Exception {
        Path best = run.resolve(RunRecorder.BEST);
        TrainingState state = secondEpochWorse(best);
        state.step = 5;
        Files.write(best, new byte[] {1, 2, 3});
        RunRecorder.restoreResults(run, saved, state, true, console);
        assertArrayEquals(new byte[] {1, 2, 3}, Files.readAllBytes(run.resolve("best.edited.safetensors")));
        assertFalse(Files.exists(best));
    }

    /** A checkpoint inside the first epoch has no rows: nothing to restore, and nothing said to be. */
    @Test void aCheckpointInsideTheFirstEpochRestoresNothing(@TempDir Path run) throws Exception {
        TrainingState state = new TrainingState();
        state.step = 3;
        RunRecorder.restoreResults(run, saved, state, true, console);
        assertFalse(Files.exists(run.resolve(RunRecorder.METRICS)));
        assertEquals("", printed.toString(StandardCharsets.UTF_8));
    }
}
