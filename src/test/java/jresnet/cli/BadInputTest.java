package jresnet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import jresnet.TestData;
import jresnet.io.Safetensors;
import jresnet.models.ModelZoo;
import jresnet.tensor.HostArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad input gives one line naming the file or flag, exit 1 or 2, and no stack trace. */
class BadInputTest {
    private final CliRun cli = new CliRun();

    private int run(String... args) { return cli.run(args); }

    private String out() { return cli.out(); }

    private String err() { return cli.err(); }

    private void assertOneLineError(String mustContain) {
        String e = err().strip();
        assertTrue(e.startsWith("error: ") || e.startsWith("stopped: "), e);
        assertTrue(e.contains(mustContain), e);
        assertEquals(1, e.lines().count(), e);
        assertFalse(e.contains("\tat "), e);
    }

    /** Writes weights with element 0 of one tensor replaced. */
    private static void writeWith(Map<String, HostArray> weights, String tensor, float value, Path file) throws Exception {
        Map<String, HostArray> w = new java.util.LinkedHashMap<>(weights);
        float[] values = w.get(tensor).data().clone();
        values[0] = value;
        w.put(tensor, new HostArray(w.get(tensor).shape(), values));
        Safetensors.write(file, w, Map.of());
    }

    @Test void nonFiniteLossStopsNamingEpochAndStep(@TempDir Path tmp) throws Exception {
        String name = "tutorial-resnet-1-w2";
        Path bad = tmp.resolve("nan.safetensors");
        writeWith(ModelZoo.create(name).weights(), "dense.kernel", Float.NaN, bad);
        Path out = tmp.resolve("run");
        assertEquals(1, run("train", "--model", name, "--epochs", "1", "--batch-size", "8", "--limit-train", "16",
                "--limit-test", "8", "--weights", bad.toString(), "--device", "reference", "--data",
                TestData.cifar10().toString(), "--out", out.toString()));
        assertOneLineError("non-finite loss NaN at epoch 1, step 1");
        assertFalse(Files.exists(out.resolve("checkpoint")), "no checkpoint from a non-finite run");

        // skip-batch leaves out every batch here (the weights themselves are NaN), and such weights are
        // never checkpointed
        assertEquals(1, run("train", "--model", name, "--epochs", "1", "--batch-size", "8", "--limit-train", "16",
                "--limit-test", "8", "--weights", bad.toString(), "--on-nan", "skip-batch", "--device", "reference",
                "--data", TestData.cifar10().toString(), "--out", tmp.resolve("skip").toString()));
        assertTrue(out().contains("warning: skipped batch: non-finite loss NaN at epoch 1, step 2"));
        assertOneLineError("non-finite weight dense.kernel after epoch 1");
        assertFalse(Files.exists(tmp.resolve("skip").resolve("checkpoint")));
    }

    /**
     * A weight that no loss sees (a batch-norm moving statistic) turns non-finite: the loss stays
     * finite, but the epoch's weights must not replace the checkpoint the run continued from.
     */
    @Test void nonFiniteWeightsNeverReachACheckpoint(@TempDir Path tmp) throws Exception {
        String name = "tutorial-resnet-1-w2";
        Path out = tmp.resolve("run"), weights = out.resolve("checkpoint/weights.safetensors");
        assertEquals(0, run("train", "--model", name, "--epochs", "1", "--batch-size", "8", "--limit-train", "16",
                "--limit-test", "8", "--device", "reference", "--data", TestData.cifar10().toString(), "--out", out.toString()));
        writeWith(Safetensors.read(weights).tensors(), "batch_normalization.moving_variance", Float.POSITIVE_INFINITY, weights);
        byte[] kept = Files.readAllBytes(weights), keptState = Files.readAllBytes(out.resolve("checkpoint/state.json"));
        assertEquals(1, run("train", "--resume", out.toString(), "--epochs", "2", "--device", "reference", "--data",
                TestData.cifar10().toString()));
        assertOneLineError("non-finite weight batch_normalization.moving_variance after epoch 2");
        assertTrue(java.util.Arrays.equals(kept, Files.readAllBytes(weights)), "checkpoint replaced");
        assertTrue(java.util.Arrays.equals(keptState, Files.readAllBytes(out.resolve("checkpoint/state.json"))));
        assertEquals(2, Files.readAllLines(out.resolve("metrics.csv")).size(), "header and epoch 1 only");
    }

    @Test void missingWeightsFileAndCorruptHeader(@TempDir Path tmp) throws Exception {
        assertEquals(1, run("evaluate", "--model", "resnet30", "--weights", tmp.resolve("none.safetensors").toString(),
                "--device", "reference"));
        assertOneLineError("none.safetensors");
        Path corrupt = tmp.resolve("corrupt.safetensors");
        Files.write(corrupt, new byte[] {8, 0, 0, 0, 0, 0, 0, 0, '{', '"', 'a', ':', ' ', ' ', ' ', ' '});
        assertEquals(1, run("evaluate", "--model", "resnet30", "--weights", corrupt.toString(), "--device", "reference"));
        assertOneLineError("corrupt.safetensors");
    }

    @Test void unwritableOutputFolder(@TempDir Path tmp) throws Exception {
        Path file = tmp.resolve("a-file");
        Files.writeString(file, "not a folder");
        assertEquals(1, run("train", "--model", "tutorial-resnet-1-w2", "--epochs", "1", "--limit-train", "8",
                "--device", "reference", "--data", TestData.cifar10().toString(), "--out", file.resolve("run").toString()));
        assertOneLineError("a-file");
    }

    @Test void missingDataFolder(@TempDir Path tmp) {
        assertEquals(1, run("train", "--model", "tutorial-resnet-1-w2", "--epochs", "1", "--device", "reference",
                "--data", tmp.resolve("nowhere").toString(), "--out", tmp.resolve("run").toString()));
        assertOneLineError("nowhere");
    }

    @Test void badNpyInput(@TempDir Path tmp) throws Exception {
        Path w = tmp.resolve("w.safetensors");
        Safetensors.write(w, ModelZoo.create("tutorial-resnet-1-w2").weights(), Map.of());
        Path npy = tmp.resolve("x.npy");
        Files.write(npy, "not numpy at all".getBytes(StandardCharsets.US_ASCII));
        assertEquals(1, run("predict", "--model", "tutorial-resnet-1-w2", "--weights", w.toString(), "--input",
                npy.toString(), "--output", tmp.resolve("p.npy").toString(), "--device", "reference"));
        assertOneLineError("x.npy");
    }
}
