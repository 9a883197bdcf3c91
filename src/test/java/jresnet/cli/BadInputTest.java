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
        // finite weights so large that the first forward pass overflows float32
        Path huge = tmp.resolve("huge.safetensors");
        writeWith(ModelZoo.create(name).weights(), "dense.kernel", 3e38f, huge);
        Path out = tmp.resolve("run");
        assertEquals(1, run("train", "--model", name, "--epochs", "1", "--batch-size", "8", "--limit-train", "16",
                "--limit-test", "8", "--weights", huge.toString(), "--device", "reference", "--data",
                TestData.cifar10().toString(), "--out", out.toString()));
        assertOneLineError("non-finite loss");
        assertTrue(err().contains("at epoch 1, step 1; no checkpoint was written"), err());
        assertFalse(Files.exists(out.resolve("checkpoint")), "no checkpoint from a non-finite run");

        assertEquals(1, run("train", "--model", name, "--epochs", "1", "--batch-size", "8", "--limit-train", "16",
                "--limit-test", "8", "--weights", huge.toString(), "--on-nan", "skip-batch", "--device", "reference",
                "--data", TestData.cifar10().toString(), "--out", tmp.resolve("skip").toString()));
        assertTrue(out().contains("warning: skipped batch: non-finite loss"), out());
        assertTrue(out().contains("1/2 [") && out().contains(" - no batch trained yet (skipped)"), out());
        assertFalse(out().contains("loss: 0.0000"), "a skipped batch is no result of 0: " + out());
        assertOneLineError("every batch of epoch 1 had a non-finite loss and was skipped");
        assertFalse(Files.exists(tmp.resolve("skip").resolve("checkpoint")));
    }

    /**
     * A net and its plain twin share every tensor name and shape, so only the model named in the file's
     * metadata tells resnet weights from plain ones: every command that takes --weights refuses them.
     */
    @Test void weightsSavedFromTheTwinNetworkAreRefused(@TempDir Path tmp) throws Exception {
        String resnet = "tutorial-resnet-1-w2", plain = "tutorial-plain-1-w2";
        Path fromPlain = tmp.resolve("plain.safetensors");
        Safetensors.write(fromPlain, ModelZoo.create(plain).weights(), Map.of(ModelZoo.WEIGHTS_MODEL_KEY, plain));
        Path input = tmp.resolve("x.npy");
        jresnet.io.Npy.write(input, new HostArray(jresnet.tensor.Shape.of(1, 32, 32, 3), new float[32 * 32 * 3]));
        String data = TestData.cifar10().toString(), expected = "holds weights of " + plain;

        assertEquals(1, run("evaluate", "--model", resnet, "--weights", fromPlain.toString(), "--limit-test", "8",
                "--device", "reference", "--data", data));
        assertOneLineError(fromPlain + ": " + expected);
        Path predictions = tmp.resolve("p.npy");
        assertEquals(1, run("predict", "--model", resnet, "--weights", fromPlain.toString(), "--input", input.toString(),
                "--output", predictions.toString(), "--device", "reference"));
        assertOneLineError(expected);
        assertFalse(Files.exists(predictions));
        Path onnx = tmp.resolve("m.onnx");
        assertEquals(1, run("export", "--model", resnet, "--weights", fromPlain.toString(), "--output", onnx.toString(),
                "--data", data));
        assertOneLineError(expected);
        assertFalse(Files.exists(onnx));
        assertEquals(1, run("train", "--model", resnet, "--epochs", "1", "--batch-size", "8", "--limit-train", "16",
                "--limit-test", "8", "--weights", fromPlain.toString(), "--device", "reference", "--data", data,
                "--out", tmp.resolve("run").toString()));
        assertOneLineError(expected);
        assertFalse(Files.exists(tmp.resolve("run")), "a run that cannot start leaves no folder behind");

        // the model it names, and another spelling of the same network, take it
        assertEquals(0, run("predict", "--model", plain, "--weights", fromPlain.toString(), "--input", input.toString(),
                "--output", predictions.toString(), "--device", "reference"), err());
        assertEquals(0, run("predict", "--model", "tutorial-plain-01-w2", "--weights", fromPlain.toString(), "--input",
                input.toString(), "--output", tmp.resolve("q.npy").toString(), "--device", "reference"), err());
    }

    /** Weights are checked on load: a non-finite value or a negative variance is named with its tensor and index. */
    @Test void nonFiniteOrNegativeVarianceWeightsAreRefusedOnLoad(@TempDir Path tmp) throws Exception {
        String name = "tutorial-resnet-1-w2";
        Map<String, HostArray> weights = ModelZoo.create(name).weights();
        Path nan = tmp.resolve("nan.safetensors"), inf = tmp.resolve("inf.safetensors"), negative = tmp.resolve("neg.safetensors");
        writeWith(weights, "dense.kernel", Float.NaN, nan);
        writeWith(weights, "conv2d.kernel", Float.NEGATIVE_INFINITY, inf);
        writeWith(weights, "batch_normalization.moving_variance", -0.5f, negative);
        assertEquals(1, run("evaluate", "--model", name, "--weights", nan.toString(), "--device", "reference"));
        assertOneLineError(nan + ": tensor 'dense.kernel' holds NaN at index [0, 0]");
        assertEquals(1, run("predict", "--model", name, "--weights", inf.toString(), "--input", "x.npy", "--output",
                tmp.resolve("p.npy").toString(), "--device", "reference"));
        assertOneLineError(inf + ": tensor 'conv2d.kernel' holds -Infinity at index [0, 0, 0, 0]");
        assertEquals(1, run("train", "--model", name, "--weights", negative.toString(), "--epochs", "1", "--device",
                "reference", "--data", TestData.cifar10().toString(), "--out", tmp.resolve("run").toString()));
        assertOneLineError(negative + ": tensor 'batch_normalization.moving_variance' holds a negative variance -0.5 at index [0]");
        assertFalse(Files.exists(tmp.resolve("run").resolve("config.json")), "nothing written for refused weights");
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
        assertFalse(Files.exists(tmp.resolve("run")), "a run that cannot start leaves no folder behind");
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
