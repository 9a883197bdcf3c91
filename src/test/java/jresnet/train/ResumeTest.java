package jresnet.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import jresnet.TestData;
import jresnet.UserException;
import jresnet.backend.cpu.CpuBackend;
import jresnet.io.Checkpoint;
import com.google.gson.JsonObject;
import jresnet.io.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A run stopped after epoch k and resumed ends bit for bit where the uninterrupted run ends. */
class ResumeTest {
    private static final PrintStream QUIET = new PrintStream(new ByteArrayOutputStream());

    static TrainingRun.Config config(int epochs) {
        return new TrainingRun.Config("tutorial-resnet-1-w2", "keras", epochs, 16, 11, 40, 16, 0, null, "stop");
    }

    @Test void resumedRunEqualsUninterruptedRun(@TempDir Path tmp) throws Exception {
        Path data = TestData.cifar10();
        Path whole = tmp.resolve("whole"), split = tmp.resolve("split");
        List<EpochMetrics> expected;
        try (CpuBackend b = new CpuBackend()) {
            expected = TrainingRun.start(config(3), b, data, whole, QUIET, false, Map.of());
        }
        try (CpuBackend b = new CpuBackend()) {
            TrainingRun.start(config(1), b, data, split, QUIET, false, Map.of());
        }
        JsonObject saved = Json.parseObject(Files.readString(split.resolve("checkpoint/state.json")), "state.json");
        assertEquals(1, saved.get("epoch").getAsInt());
        assertEquals(3, saved.get("iterations").getAsInt(), "40 images in batches of 16");
        List<EpochMetrics> resumed;
        try (CpuBackend b = new CpuBackend()) {
            resumed = TrainingRun.resume(split, 3, b, data, QUIET, false);
        }
        assertArrayEquals(Files.readAllBytes(whole.resolve("checkpoint/weights.safetensors")),
                Files.readAllBytes(split.resolve("checkpoint/weights.safetensors")));
        assertArrayEquals(Files.readAllBytes(whole.resolve("checkpoint/optimizer.safetensors")),
                Files.readAllBytes(split.resolve("checkpoint/optimizer.safetensors")));
        assertEquals(3, resumed.size());
        for (int e = 0; e < 3; e++) {
            assertEquals(expected.get(e).loss(), resumed.get(e).loss(), 0, "epoch " + e);
            assertEquals(expected.get(e).valAccuracy(), resumed.get(e).valAccuracy(), 0);
        }
    }

    @Test void startRefusesAFolderHoldingARun(@TempDir Path tmp) throws Exception {
        try (CpuBackend b = new CpuBackend()) {
            TrainingRun.start(config(1), b, TestData.cifar10(), tmp, QUIET, false, Map.of());
            UserException e = assertThrows(UserException.class,
                    () -> TrainingRun.start(config(1), b, TestData.cifar10(), tmp, QUIET, false, Map.of()));
            assertTrue(e.getMessage().contains("--resume"), e.getMessage());
        }
        assertTrue(Files.isRegularFile(tmp.resolve("checkpoint").resolve(Checkpoint.WEIGHTS)));
        JsonObject config = Json.parseObject(Files.readString(tmp.resolve("config.json")), "config.json");
        assertEquals("tutorial-resnet-1-w2", config.get("model").getAsString());
        assertEquals("cpu", config.get("device").getAsString());
        assertEquals(11L, config.get("seed").getAsLong());
        assertEquals(0.001, config.getAsJsonObject("optimizer").get("learning_rate").getAsDouble());
    }
}
