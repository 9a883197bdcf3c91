package jresnet.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import jresnet.TestData;
import jresnet.data.Cifar10;
import jresnet.data.Dataset;
import jresnet.io.Npy;
import jresnet.io.Safetensors;
import jresnet.models.ModelZoo;
import jresnet.tensor.HostArray;
import jresnet.tensor.Shape;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code jresnet export}: what a user runs after training, and one-line refusals that keep their files. */
class ExportCliTest {
    private static final String MODEL = "tutorial-resnet-1-w2";
    private final CliRun cli = new CliRun();

    private void assertOneLineError(int code, int exit, String mustContain) {
        String e = cli.err().strip();
        assertEquals(code, exit, e);
        assertTrue(e.startsWith("error: "), e);
        assertTrue(e.contains(mustContain), e);
        if (code == 1) assertEquals(1, e.lines().count(), e);
        assertFalse(e.contains("Exception"), e);
    }

    private int export(Path weights, Path output, String... more) {
        List<String> args = new java.util.ArrayList<>(List.of("export", "--model", MODEL, "--weights", weights.toString(),
                "--output", output.toString(), "--data", TestData.cifar10().toString()));
        args.addAll(List.of(more));
        return cli.run(args.toArray(String[]::new));
    }

    private static Path weights(Path dir) throws Exception {
        Path w = dir.resolve("w.safetensors");
        Safetensors.write(w, ModelZoo.create(MODEL).weights(), Map.of());
        return w;
    }

    /** Train with the he2015 recipe, predict, export: ONNX Runtime gives predict's probabilities. */
    @Test void exportOfATrainedRunGivesPredictsProbabilities(@TempDir Path tmp) throws Exception {
        Path data = TestData.cifar10();
        assertEquals(0, cli.run("train", "--model", MODEL, "--recipe", "he2015", "--epochs", "1", "--batch-size", "16",
                "--limit-train", "64", "--limit-test", "16", "--device", "cpu", "--data", data.toString(),
                "--out", tmp.resolve("run").toString()), cli.err());
        Path weights = tmp.resolve("run/best.safetensors"), onnx = tmp.resolve("model.onnx");
        assertEquals(0, cli.run("export", "--model", MODEL, "--weights", weights.toString(), "--output", onnx.toString(),
                "--data", data.toString()), cli.err());
        assertTrue(cli.out().startsWith("wrote " + onnx + ": " + MODEL + ", ONNX opset 17"), cli.out());
        assertTrue(cli.out().contains("the pixel mean subtracted in the graph"), cli.out());
        try (Stream<Path> files = Files.list(tmp)) {
            assertEquals(List.of("model.onnx", "run"), files.map(p -> p.getFileName().toString()).sorted().toList(), "no temporary file left");
        }

        int n = 5;
        float[] images = new float[n * Dataset.IMAGE_BYTES];
        Dataset test = Cifar10.test(data, n);
        for (int i = 0; i < n; i++) test.copyImageNhwc(i, images, i * Dataset.IMAGE_BYTES);
        Path input = tmp.resolve("x.npy"), predicted = tmp.resolve("p.npy");
        Npy.write(input, new HostArray(Shape.of(n, 32, 32, 3), images.clone()));
        assertEquals(0, cli.run("predict", "--model", MODEL, "--weights", weights.toString(), "--input", input.toString(),
                "--output", predicted.toString(), "--device", "reference"), cli.err());
        float[] expected = Npy.read(predicted).data();

        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession session = env.createSession(onnx.toString());
             OnnxTensor x = OnnxTensor.createTensor(env, FloatBuffer.wrap(images), new long[] {n, 32, 32, 3});
             OrtSession.Result result = session.run(Map.of("images", x))) {
            assertEquals("he2015", session.getMetadata().getCustomMetadataValue("recipe").orElseThrow());
            float[][] probabilities = (float[][]) result.get("probabilities").orElseThrow().getValue();
            for (int i = 0; i < n; i++) {
                for (int k = 0; k < 10; k++) assertEquals(expected[i * 10 + k], probabilities[i][k], 1e-5, "image " + i + " class " + k);
            }
        }
    }

    @Test void existingOutputIsKeptUnlessOverwriteIsGiven(@TempDir Path tmp) throws Exception {
        Path w = weights(tmp), onnx = tmp.resolve("model.onnx");
        Files.writeString(onnx, "the user's own file");
        assertOneLineError(1, export(w, onnx), "--output " + onnx + " already exists; pass --overwrite to replace it");
        assertEquals("the user's own file", Files.readString(onnx));

        assertEquals(0, export(w, onnx, "--overwrite"), cli.err());
        assertTrue(Files.size(onnx) > 1000);
    }

    @Test void outputThatIsTheWeightsFileIsRefusedEvenWithOverwrite(@TempDir Path tmp) throws Exception {
        Path w = weights(tmp);
        byte[] before = Files.readAllBytes(w);
        assertOneLineError(1, export(w, w, "--overwrite"), "is the same file as --weights " + w);
        Path alias = tmp.resolve("sub/../w.safetensors");
        Files.createDirectories(tmp.resolve("sub"));
        assertOneLineError(1, export(w, alias, "--overwrite"), "is the same file as --weights");
        assertArrayEquals(before, Files.readAllBytes(w));
    }

    /**
     * The result is renamed over its target, which would replace a symbolic link, a device or a pipe
     * with a file (export --overwrite once turned /dev/null into one); a value ending in '/' names a folder.
     */
    @Test void outputsThatAreNotPlainFilesAreRefusedEvenWithOverwrite(@TempDir Path tmp) throws Exception {
        Path w = weights(tmp), target = Files.writeString(tmp.resolve("target.txt"), "the user's own file");
        Path link = Files.createSymbolicLink(tmp.resolve("link.onnx"), target);
        assertOneLineError(1, export(w, link, "--overwrite"), "--output " + link + ": is a symbolic link");
        assertTrue(Files.isSymbolicLink(link));
        assertEquals("the user's own file", Files.readString(target));

        Path fifo = tmp.resolve("fifo");
        Assumptions.assumeTrue(new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor() == 0, "mkfifo");
        assertOneLineError(1, export(w, fifo, "--overwrite"), "--output " + fifo + ": is not a regular file (a device, pipe or socket)");
        assertFalse(Files.isRegularFile(fifo));
        String x = tmp.resolve("x.npy").toString();
        for (String[] command : new String[][] {
                {"predict", "--model", MODEL, "--weights", w.toString(), "--input", x, "--output", fifo.toString()},
                {"predict", "--model", MODEL, "--weights", w.toString(), "--input", x, "--output", link.toString()}}) {
            assertOneLineError(1, cli.run(command), "--output " + command[8] + ": is ");
        }

        String folder = tmp.resolve("new-folder") + "/";
        assertOneLineError(1, cli.run("export", "--model", MODEL, "--weights", w.toString(), "--output", folder),
                "--output " + folder + ": ends in '/', so it names a folder");
        assertOneLineError(1, cli.run("predict", "--model", MODEL, "--weights", w.toString(), "--input", x, "--output", folder),
                "ends in '/'");
        assertFalse(Files.exists(tmp.resolve("new-folder")));
    }

    @Test void unwritableOutputsAreNamed(@TempDir Path tmp) throws Exception {
        Path w = weights(tmp);
        assertOneLineError(1, export(w, tmp.resolve("missing/model.onnx")), "folder " + tmp.resolve("missing") + " does not exist");
        assertOneLineError(1, export(w, tmp), "is a folder");
        Path file = Files.writeString(tmp.resolve("plain-file"), "x");
        assertOneLineError(1, export(w, file.resolve("model.onnx")), "is not a folder");
    }

    @Test void readOnlyFolderIsNamed(@TempDir Path tmp) throws Exception {
        Path w = weights(tmp);
        Path locked = Files.createDirectory(tmp.resolve("locked"));
        Files.setPosixFilePermissions(locked, PosixFilePermissions.fromString("r-xr-xr-x"));
        assumeFalse(Files.isWritable(locked), "running as root: permissions do not bind");
        assertOneLineError(1, export(w, locked.resolve("model.onnx")), "is not writable");
    }

    @Test void unfitWeightsNameTheTensor(@TempDir Path tmp) throws Exception {
        Path onnx = tmp.resolve("model.onnx");
        Map<String, HostArray> weights = new LinkedHashMap<>(ModelZoo.create(MODEL).weights());
        weights.put("dense.kernel", new HostArray(Shape.of(3, 10), new float[30]));
        Path w = tmp.resolve("w.safetensors");
        Safetensors.write(w, weights, Map.of());
        assertOneLineError(1, export(w, onnx), "tensor 'dense.kernel' has shape (3, 10), model " + MODEL + " expects (128, 10)");

        Path other = tmp.resolve("resnet20.safetensors");
        Safetensors.write(other, ModelZoo.create("resnet20").weights(), Map.of());
        assertOneLineError(1, export(other, onnx), "does not belong to model " + MODEL);
        assertOneLineError(1, export(tmp.resolve("absent.safetensors"), onnx), "--weights " + tmp.resolve("absent.safetensors") + ": is missing");
        assertFalse(Files.exists(onnx));
    }

    @Test void badFlagsAreUsageErrors(@TempDir Path tmp) throws Exception {
        Path w = weights(tmp), onnx = tmp.resolve("model.onnx");
        assertOneLineError(2, cli.run("export", "--model", "resnet31", "--weights", w.toString(), "--output", onnx.toString()),
                "unknown model 'resnet31'");
        assertOneLineError(2, export(w, onnx, "--opset", "12"), "--opset: must be at least 13, got 12");
        assertOneLineError(2, export(w, onnx, "--opset", "24"), "--opset: must be at most 23, got 24");
        assertOneLineError(2, export(w, onnx, "--opset", "latest"), "--opset: expected a whole number, got 'latest'");
        assertOneLineError(2, cli.run("export", "--model", MODEL, "--weights", w.toString()), "export: --output is required");
        assertFalse(Files.exists(onnx));

        assertEquals(0, export(w, onnx, "--opset", "13"), cli.err());
        assertTrue(cli.out().contains("ONNX opset 13"), cli.out());
    }

    @Test void missingClassNamesAreNamed(@TempDir Path tmp) throws Exception {
        Path w = weights(tmp), onnx = tmp.resolve("model.onnx");
        Path data = Files.createDirectory(tmp.resolve("cifar"));
        assertOneLineError(1, cli.run("export", "--model", MODEL, "--weights", w.toString(), "--output", onnx.toString(),
                "--data", data.toString()), data.resolve("batches.meta.txt") + " is missing");
        assertFalse(Files.exists(onnx));
    }
}
