package jresnet.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import jresnet.TestData;
import jresnet.data.Cifar10;
import jresnet.io.Json;
import jresnet.io.Npy;
import jresnet.io.Safetensors;
import jresnet.models.ModelZoo;
import jresnet.tensor.HostArray;
import jresnet.tensor.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #11's classes, each at the command line: results never overwritten, resume keeps its data,
 * non-finite values never silent, sizes checked before allocation, corrupt run state refused, and
 * every error one line naming what the user gave, without a Java class name.
 */
class ReliabilityTest {
    private static final String MODEL = "tutorial-resnet-1-w2";
    private final CliRun cli = new CliRun();

    private int run(String... args) { return cli.run(args); }

    /** One line "error: ..." that contains each fragment and no Java exception class name. */
    private void assertOneLineError(String... fragments) {
        String e = cli.err().strip();
        assertTrue(e.startsWith("error: ") || e.startsWith("stopped: "), e);
        assertEquals(1, e.lines().count(), e);
        for (String f : fragments) assertTrue(e.contains(f), "'" + f + "' not in: " + e);
        assertFalse(e.matches(".*(Exception|Error\\b|java\\.|\\tat ).*"), e);
    }

    private static String[] train(Path out, String... more) {
        List<String> args = new ArrayList<>(List.of("train", "--model", MODEL, "--epochs", "1", "--batch-size", "8",
                "--limit-train", "16", "--limit-test", "8", "--device", "cpu", "--data", TestData.cifar10().toString(),
                "--out", out.toString()));
        args.addAll(List.of(more));
        return args.toArray(String[]::new);
    }

    private static String[] resume(Path out, String... more) {
        List<String> args = new ArrayList<>(List.of("train", "--resume", out.toString(), "--device", "cpu"));
        args.addAll(List.of(more));
        return args.toArray(String[]::new);
    }

    private static Map<String, byte[]> snapshot(Path dir) throws IOException {
        Map<String, byte[]> files = new java.util.TreeMap<>();
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.filter(Files::isRegularFile).filter(p -> !p.getFileName().toString().equals(".lock")).toList()) {
                files.put(dir.relativize(p).toString(), Files.readAllBytes(p));
            }
        }
        return files;
    }

    private static void assertUnchanged(Map<String, byte[]> before, Path dir) throws IOException {
        Map<String, byte[]> after = snapshot(dir);
        assertEquals(before.keySet(), after.keySet());
        for (String f : before.keySet()) assertArrayEquals(before.get(f), after.get(f), f);
    }

    // ---- 1. earlier results are never overwritten

    @Test void trainRefusesAFinishedRunWhoseCheckpointWasRemoved(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("run");
        assertEquals(0, run(train(out)), cli.err());
        jresnet.io.AtomicFiles.deleteRecursively(out.resolve("checkpoint"));
        Files.delete(out.resolve("config.json"));
        Map<String, byte[]> before = snapshot(out);
        assertEquals(1, run(train(out)));
        assertOneLineError("--out " + out + " is not empty (best.safetensors is in the way)", "--resume " + out);
        assertUnchanged(before, out);
    }

    @Test void resumeRefusesToStartAgainOverResultsWhenTheCheckpointWasRemoved(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("run");
        assertEquals(0, run(train(out)), cli.err());
        jresnet.io.AtomicFiles.deleteRecursively(out.resolve("checkpoint"));
        Map<String, byte[]> before = snapshot(out);
        assertEquals(1, run(resume(out)));
        assertOneLineError("--resume " + out + ": no checkpoint/ to continue from", "best.safetensors");
        assertUnchanged(before, out);
    }

    /** The checkpoint is written first; what a stop right after it leaves out, the next resume writes from it. */
    @Test void resultsMissedAfterTheCheckpointAreRestoredOnResume(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("run");
        String[] twoEpochs = train(out);
        twoEpochs[4] = "2";
        assertEquals(0, run(twoEpochs), cli.err());
        Map<String, byte[]> finished = snapshot(out);
        assertEquals(0, run(resume(out)), cli.err());
        assertTrue(cli.out().contains("nothing to train"), cli.out());
        assertUnchanged(finished, out);

        String metrics = Files.readString(out.resolve("metrics.csv"));
        Files.writeString(out.resolve("metrics.csv"), metrics.substring(0, metrics.stripTrailing().lastIndexOf('\n') + 1));
        boolean lastEpochBest = Arrays.equals(Files.readAllBytes(out.resolve("best.safetensors")),
                Files.readAllBytes(out.resolve("checkpoint/weights.safetensors")));
        if (lastEpochBest) Files.delete(out.resolve("best.safetensors"));
        assertEquals(0, run(resume(out)), cli.err());
        assertTrue(cli.out().contains("restored " + out.resolve("metrics.csv")), cli.out());
        assertUnchanged(finished, out);

        // what a user changed is not a stop's leftover: kept, and said so
        Files.writeString(out.resolve("metrics.csv"), metrics + "# my note\n");
        Map<String, byte[]> edited = snapshot(out);
        assertEquals(0, run(resume(out)), cli.err());
        assertTrue(cli.out().contains("notice: " + out.resolve("metrics.csv") + " differs from the checkpoint's history; kept"), cli.out());
        assertUnchanged(edited, out);
    }

    /** A run that trains on would write over a metrics.csv changed by hand: it is moved aside, never over another file. */
    @Test void aMetricsFileChangedByHandSurvivesTrainingOn(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("run"), metrics = out.resolve("metrics.csv");
        assertEquals(0, run(train(out)), cli.err());
        String mine = Files.readString(metrics) + "# my note\n";
        Files.writeString(metrics, mine);
        assertEquals(0, run(resume(out, "--epochs", "2")), cli.err());
        Path aside = out.resolve("metrics.edited.csv");
        assertTrue(cli.out().contains("notice: " + metrics + " differs from the checkpoint's history; moved to " + aside), cli.out());
        assertEquals(mine, Files.readString(aside));
        assertEquals(3, Files.readAllLines(metrics).size(), "header and both epochs");

        // a second edit goes to the next free name; the first stays as it was
        String second = Files.readString(metrics) + "# another\n";
        Files.writeString(metrics, second);
        assertEquals(0, run(resume(out, "--epochs", "3")), cli.err());
        assertEquals(second, Files.readString(out.resolve("metrics.edited-2.csv")));
        assertEquals(mine, Files.readString(aside));
        assertEquals(4, Files.readAllLines(metrics).size());
    }

    /** --weights is recorded as an absolute path, as the data folder is: a later resume may run from anywhere. */
    @Test void initialWeightsAreRecordedAsAnAbsolutePath(@TempDir Path tmp) throws Exception {
        Path first = tmp.resolve("first"), second = tmp.resolve("second");
        assertEquals(0, run(train(first)), cli.err());
        Files.createDirectories(tmp.resolve("sub"));
        Path given = tmp.resolve("sub/../first/best.safetensors");
        assertEquals(0, run(train(second, "--weights", given.toString())), cli.err());
        JsonObject config = Json.parseObject(Files.readString(second.resolve("config.json")), "config.json");
        assertEquals(first.resolve("best.safetensors").toRealPath().toString(), config.get("initial_weights").getAsString());
    }

    /** A resume on another device is added to config.json's record of the devices that trained the run. */
    @Test void aResumeOnAnotherDeviceIsRecorded(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("run"), config = out.resolve("config.json");
        assertEquals(0, run(train(out)), cli.err());
        assertEquals("cpu", Json.parseObject(Files.readString(config), "c").get("device").getAsString());
        assertEquals(0, run("train", "--resume", out.toString(), "--epochs", "2", "--device", "reference"), cli.err());
        assertEquals("cpu+reference", Json.parseObject(Files.readString(config), "c").get("device").getAsString());
        assertEquals("cpu+reference", jresnet.train.TrainingRun.recordedDevice(out));
        assertEquals(0, run("train", "--resume", out.toString(), "--epochs", "3", "--device", "reference"), cli.err());
        assertEquals("cpu+reference", Json.parseObject(Files.readString(config), "c").get("device").getAsString());
    }

    /** config.json changed by hand to name another network must not load the checkpoint's weights into it. */
    @Test void resumeRefusesACheckpointOfAnotherModelThanConfigNames(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("run"), config = out.resolve("config.json");
        assertEquals(0, run(train(out)), cli.err());
        JsonObject edited = Json.parseObject(Files.readString(config), config.toString());
        edited.addProperty("model", "tutorial-plain-1-w2");
        Files.writeString(config, Json.pretty(edited));
        Map<String, byte[]> before = snapshot(out);
        assertEquals(1, run(resume(out, "--epochs", "2")));
        assertOneLineError(out.resolve("checkpoint/weights.safetensors") + ": holds weights of " + MODEL
                + " (its metadata says so), not of tutorial-plain-1-w2 as " + config + " says");
        assertFalse(cli.out().contains("Resuming"), cli.out());
        assertUnchanged(before, out);

        // another spelling of the same network is the same network, as for --weights
        edited.addProperty("model", MODEL.replace("-1-", "-01-"));
        Files.writeString(config, Json.pretty(edited));
        assertEquals(0, run(resume(out, "--epochs", "2")), cli.err());
    }

    /** The fast recipe's schedule spans the run: a longer resumed run records the total a fresh run of that length does. */
    @Test void resumingLongerRecordsTheReplannedSchedule(@TempDir Path tmp) throws Exception {
        Path resumed = tmp.resolve("resumed"), fresh = tmp.resolve("fresh");
        assertEquals(0, run(train(resumed, "--recipe", "fast")), cli.err());
        assertEquals(0, run(resume(resumed, "--epochs", "2")), cli.err());
        String[] twoEpochs = train(fresh, "--recipe", "fast");
        twoEpochs[4] = "2";
        assertEquals(0, run(twoEpochs), cli.err());
        JsonObject a = Json.parseObject(Files.readString(resumed.resolve("config.json")), "config.json");
        JsonObject b = Json.parseObject(Files.readString(fresh.resolve("config.json")), "config.json");
        assertEquals(2, a.get("epochs").getAsInt());
        assertEquals(b.get("optimizer"), a.get("optimizer"));
        assertEquals(4, a.getAsJsonObject("optimizer").get("total_iterations").getAsInt(), "2 epochs of 2 batches");
    }

    @Test void trainRefusesAFolderOfAnotherModelOrWithAnyFileAndNamesIt(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("run");
        assertEquals(0, run(train(out)), cli.err());
        Map<String, byte[]> before = snapshot(out);
        String[] other = train(out);
        other[2] = "tutorial-plain-1-w2";
        assertEquals(1, run(other));
        assertOneLineError(out + " holds a run of another model (" + MODEL + ", not tutorial-plain-1-w2)");
        assertEquals(1, run(train(out)));
        assertOneLineError(out + " already holds a run of " + MODEL, "--resume " + out);
        assertUnchanged(before, out);

        Path notes = tmp.resolve("notes");
        Files.createDirectories(notes);
        Files.writeString(notes.resolve("todo.txt"), "mine");
        assertEquals(1, run(train(notes)));
        assertOneLineError("todo.txt is in the way");
        assertEquals("mine", Files.readString(notes.resolve("todo.txt")));
        try (Stream<Path> left = Files.list(notes)) {
            assertEquals(List.of("todo.txt"), left.map(p -> p.getFileName().toString()).toList(), "not even a lock file");
        }
    }

    @Test void emptyOrFileOutIsRefused(@TempDir Path tmp) throws Exception {
        assertEquals(2, run(train(Path.of(""))));
        assertTrue(cli.err().startsWith("error: train: --out is empty"), cli.err());
        Path file = tmp.resolve("a-file");
        Files.writeString(file, "x");
        assertEquals(1, run(train(file)));
        assertOneLineError("--out " + file + ": is a file, not a folder");
        assertEquals("x", Files.readString(file));
    }

    @Test void predictRefusesAnOutputThatIsOneOfItsInputs(@TempDir Path tmp) throws Exception {
        Path w = tmp.resolve("w.safetensors"), x = tmp.resolve("x.npy");
        Safetensors.write(w, ModelZoo.create(MODEL).weights(), Map.of());
        Npy.write(x, new HostArray(Shape.of(2, 32, 32, 3), new float[2 * 32 * 32 * 3]));
        Files.createDirectories(tmp.resolve("sub"));
        Path link = tmp.resolve("link.safetensors");
        Files.createSymbolicLink(link, w);
        Path hardLink = tmp.resolve("hard.npy");
        Files.createLink(hardLink, x);
        byte[] weights = Files.readAllBytes(w), input = Files.readAllBytes(x);
        for (Path output : List.of(w, tmp.resolve("sub/../w.safetensors"), link, x, hardLink, tmp.resolve("./x.npy"))) {
            assertEquals(1, run("predict", "--model", MODEL, "--weights", w.toString(), "--input", x.toString(),
                    "--output", output.toString(), "--device", "reference"), output.toString());
            // a link is refused as a link (writing would replace it), whatever it points to
            assertOneLineError("--output " + output + (output.equals(link) ? ": is a symbolic link" : " is the same file as --"));
        }
        assertArrayEquals(weights, Files.readAllBytes(w));
        assertArrayEquals(input, Files.readAllBytes(x));
        assertEquals(1, run("predict", "--model", MODEL, "--weights", w.toString(), "--input", x.toString(),
                "--output", tmp.resolve("sub").toString(), "--device", "reference"));
        assertOneLineError("--output " + tmp.resolve("sub") + ": is a folder");

        // an earlier predictions file is replaced; any other file is kept
        Path predictions = tmp.resolve("p.npy"), notes = tmp.resolve("notes.npy");
        for (int i = 0; i < 2; i++) {
            assertEquals(0, run("predict", "--model", MODEL, "--weights", w.toString(), "--input", x.toString(),
                    "--output", predictions.toString(), "--device", "reference"), cli.err());
        }
        Files.writeString(notes, "my notes");
        assertEquals(1, run("predict", "--model", MODEL, "--weights", w.toString(), "--input", x.toString(),
                "--output", notes.toString(), "--device", "reference"));
        assertOneLineError("--output " + notes + " exists and is not an earlier predictions file (N, 10) of float32");
        assertEquals("my notes", Files.readString(notes));
        Path otherArray = tmp.resolve("images.npy");
        Files.copy(x, otherArray);
        assertEquals(1, run("predict", "--model", MODEL, "--weights", w.toString(), "--input", x.toString(),
                "--output", otherArray.toString(), "--device", "reference"));
        assertOneLineError("exists and is not an earlier predictions file");
        assertArrayEquals(input, Files.readAllBytes(otherArray));

        // checked before the work, named by the flag, no temporary file in the line
        for (Path under : List.of(notes.resolve("p.npy"), tmp.resolve("absent").resolve("p.npy"))) {
            assertEquals(1, run("predict", "--model", MODEL, "--weights", w.toString(), "--input", x.toString(),
                    "--output", under.toString(), "--device", "reference"));
            assertOneLineError("--output " + under + ": folder " + under.getParent().toAbsolutePath());
            assertFalse(cli.err().contains(".tmp-"), cli.err());
        }
    }

    @Test void compareRefusesDuplicateModelsAndANonEmptyFolder(@TempDir Path tmp) throws Exception {
        assertEquals(2, run("compare", "--models", "resnet20,resnet20", "--out", tmp.resolve("c").toString()));
        assertTrue(cli.err().startsWith("error: compare: --models names resnet20 twice"), cli.err());
        assertEquals(2, run("compare", "--models", "resnet20,", "--out", tmp.resolve("c").toString()));
        assertTrue(cli.err().startsWith("error: compare: --models has an empty name"), cli.err());
        Files.writeString(tmp.resolve("report.md"), "my report");
        assertEquals(1, run("compare", "--models", MODEL, "--epochs", "1", "--limit-train", "8", "--limit-test", "8",
                "--device", "cpu", "--data", TestData.cifar10().toString(), "--out", tmp.toString()));
        assertOneLineError("--out " + tmp + " is not empty (report.md is in the way)");
        assertEquals("my report", Files.readString(tmp.resolve("report.md")));

        // a run or a comparison there is named by what makes it one, not by its lock file
        Path run = tmp.resolve("run");
        assertEquals(0, run(train(run)), cli.err());
        Files.writeString(run.resolve(".lock"), "");
        assertEquals(1, run("compare", "--models", MODEL, "--out", run.toString(), "--device", "cpu"));
        assertOneLineError("(config.json is in the way): it holds a training run; continue it with train --resume " + run);
        Path comparison = tmp.resolve("cmp");
        Files.createDirectories(comparison);
        Files.writeString(comparison.resolve("compare.json"), "{}");
        assertEquals(1, run("compare", "--models", MODEL, "--out", comparison.toString(), "--device", "cpu"));
        assertOneLineError("(compare.json is in the way): it holds a comparison; continue it with compare --resume " + comparison);
        Files.writeString(comparison.resolve("report.md"), "my report");
        assertEquals(1, run(train(comparison)));
        assertOneLineError(comparison + " holds a comparison (compare.json); continue it with compare --resume " + comparison);
        assertEquals(1, run(resume(comparison)));
        assertOneLineError("no config.json (it holds a comparison; continue it with compare --resume " + comparison + ")");
    }

    // ---- 2. resume keeps the data folder

    @Test void resumeContinuesOnTheRecordedDataAndNoticesOtherData(@TempDir Path tmp) throws Exception {
        Path data = tmp.resolve("data"), other = tmp.resolve("other"), out = tmp.resolve("run");
        Files.createSymbolicLink(data, TestData.cifar10());
        Files.createDirectories(other);
        for (String f : Cifar10.TRAINING_FILES) Files.createSymbolicLink(other.resolve(f), TestData.cifar10().resolve(f));
        // same size, other records
        Files.createSymbolicLink(other.resolve(Cifar10.TEST_FILE), TestData.cifar10().resolve(Cifar10.TRAINING_FILES.get(0)));
        String[] args = train(out);
        args[args.length - 3] = data.toString();
        assertEquals(0, run(args), cli.err());
        JsonObject config = Json.parseObject(Files.readString(out.resolve("config.json")), "config.json");
        assertEquals(data.toAbsolutePath().toString(), config.get("data").getAsString());
        JsonObject testFile = config.getAsJsonObject("data_fingerprint").getAsJsonObject("files").getAsJsonObject(Cifar10.TEST_FILE);
        assertEquals(Cifar10.FILE_BYTES, testFile.get("bytes").getAsLong());
        assertEquals(64, testFile.get("first_last_sha256").getAsString().length());

        assertEquals(0, run(resume(out, "--epochs", "2")), cli.err());
        assertFalse(cli.out().contains("notice"), cli.out());
        assertEquals(0, run(resume(out, "--epochs", "3", "--data", other.toString())), cli.err());
        assertTrue(cli.out().contains("notice: " + other + " differs from the data this run started on (" + Cifar10.TEST_FILE
                + ": other size or content); continuing on it"), cli.out());

        Files.delete(data);
        assertEquals(1, run(resume(out, "--epochs", "4")));
        assertOneLineError(out.resolve("config.json") + ": the run's data folder " + data.toAbsolutePath() + " is gone",
                "--data DIR");
    }

    // ---- 3. non-finite values are never silent

    @Test void predictNamesANonFiniteInputRowAndEvaluateRefusesANonFiniteLoss(@TempDir Path tmp) throws Exception {
        Path w = tmp.resolve("w.safetensors"), x = tmp.resolve("x.npy");
        Map<String, HostArray> weights = new java.util.LinkedHashMap<>(ModelZoo.create(MODEL).weights());
        Safetensors.write(w, weights, Map.of());
        float[] pixels = new float[3 * 32 * 32 * 3];
        pixels[2 * 32 * 32 * 3 + 5] = Float.POSITIVE_INFINITY;
        Npy.write(x, new HostArray(Shape.of(3, 32, 32, 3), pixels));
        assertEquals(1, run("predict", "--model", MODEL, "--weights", w.toString(), "--input", x.toString(),
                "--output", tmp.resolve("p.npy").toString(), "--device", "reference"));
        assertOneLineError(x + ": row 2 holds Infinity at index [2, 0, 1, 2]");
        assertFalse(Files.exists(tmp.resolve("p.npy")));

        float[] kernel = weights.get("dense.kernel").data().clone();
        kernel[0] = 3e38f;
        kernel[1] = -3e38f;
        weights.put("dense.kernel", new HostArray(weights.get("dense.kernel").shape(), kernel));
        Path huge = tmp.resolve("huge.safetensors");
        Safetensors.write(huge, weights, Map.of());
        assertEquals(1, run("evaluate", "--model", MODEL, "--weights", huge.toString(), "--limit-test", "8", "--device",
                "reference", "--data", TestData.cifar10().toString()));
        assertOneLineError(huge + ": the model's outputs on the test images are not finite");
    }

    @Test void aNonFinitePixelMeanIsRefused(@TempDir Path tmp) throws Exception {
        Path w = tmp.resolve("w.safetensors");
        java.nio.ByteBuffer mean = java.nio.ByteBuffer.allocate(32 * 32 * 3 * 4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        mean.putFloat(4 * 7, Float.NaN);
        Safetensors.write(w, ModelZoo.create(MODEL).weights(),
                Map.of("pixel_mean", java.util.Base64.getEncoder().encodeToString(mean.array())));
        assertEquals(1, run("evaluate", "--model", MODEL, "--weights", w.toString(), "--device", "reference",
                "--data", TestData.cifar10().toString()));
        assertOneLineError(w + ": metadata 'pixel_mean'", "value 7 is NaN");
    }

    // ---- 4. sizes are checked before allocation

    @Test void hugeBatchSizesEndInAdviceNotInAJavaException(@TempDir Path tmp) throws Exception {
        assertEquals(1, run("train", "--model", "resnet30", "--batch-size", "100000", "--device", "cpu",
                "--data", TestData.cifar10().toString(), "--out", tmp.resolve("a").toString()));
        assertOneLineError("--batch-size 100000 is too large for resnet30", "try --batch-size 32767");
        assertFalse(Files.exists(tmp.resolve("a")), "nothing created");
        assertEquals(1, run("train", "--model", "resnet30", "--batch-size", "20000", "--device", "cpu",
                "--data", TestData.cifar10().toString(), "--out", tmp.resolve("b").toString()));
        assertOneLineError("out of host memory: resnet30 at batch size 20000 needs at least", "try --batch-size ");
        Path w = tmp.resolve("w.safetensors");
        Safetensors.write(w, ModelZoo.create("resnet30").weights(), Map.of());
        // no larger batch than there are test images
        assertEquals(0, run("evaluate", "--model", "resnet30", "--weights", w.toString(), "--batch-size", "2147483647",
                "--limit-test", "16", "--device", "cpu", "--data", TestData.cifar10().toString()), cli.err());
        assertTrue(cli.out().startsWith("16/16 - loss: "), cli.out());
        Path x = tmp.resolve("x.npy");
        Npy.write(x, new HostArray(Shape.of(2, 32, 32, 3), new float[2 * 32 * 32 * 3]));
        assertEquals(0, run("predict", "--model", "resnet30", "--weights", w.toString(), "--input", x.toString(),
                "--output", tmp.resolve("p.npy").toString(), "--batch-size", "2147483647", "--device", "cpu"), cli.err());
        assertEquals(1, run("bench", "--model", "resnet30", "--batch-size", "1000000", "--device", "cpu"));
        assertOneLineError("--batch-size 1000000 is too large for resnet30");
        assertEquals(2, run("train", "--model", MODEL, "--batch-size", "99999999999", "--out", tmp.resolve("c").toString()));
        assertTrue(cli.err().startsWith("error: --batch-size: 99999999999 is too large (at most 2147483647)"), cli.err());
        assertEquals(2, run("train", "--model", MODEL, "--limit-train", "99999999999999999999", "--out", tmp.resolve("c").toString()));
        assertTrue(cli.err().startsWith("error: --limit-train: 99999999999999999999 is too large for a whole number"), cli.err());
    }

    @Test void parametricModelsWithHugeDepthOrWidthAreRefusedBeforeBuilding() {
        for (String command : List.of("summary", "bench")) {
            assertEquals(1, run(command, "--model", "tutorial-resnet-2000000000-w8"));
            assertOneLineError("model 'tutorial-resnet-2000000000-w8'", "parameters in", "the Java heap holds");
            assertEquals(1, run(command, "--model", "tutorial-plain-1.1-w100000"));
            assertOneLineError("model 'tutorial-plain-1.1-w100000': a weight tensor would hold");
            assertEquals(2, run(command, "--model", "tutorial-resnet-1-w99999999999")); // no name of a network: a bad value
            assertOneLineError("model 'tutorial-resnet-1-w99999999999': 99999999999 is too large for a block count or width");
        }
        assertEquals(1, run("train", "--model", "tutorial-resnet-1.1.1.1-w60000", "--out", "never-created"));
        assertOneLineError("model 'tutorial-resnet-1.1.1.1-w60000'");
        assertFalse(Files.exists(Path.of("never-created")));
    }

    // ---- 6. every error names what the user gave and the reason in words

    @Test void aFolderAsWeightsOrInputIsNamed(@TempDir Path tmp) throws Exception {
        assertEquals(1, run("evaluate", "--model", MODEL, "--weights", tmp.toString(), "--device", "reference"));
        assertOneLineError(tmp + ": is a folder, not a file");
        Path w = tmp.resolve("w.safetensors");
        Safetensors.write(w, ModelZoo.create(MODEL).weights(), Map.of());
        assertEquals(1, run("predict", "--model", MODEL, "--weights", w.toString(), "--input", tmp.toString(),
                "--output", tmp.resolve("p.npy").toString(), "--device", "reference"));
        assertOneLineError(tmp + ": is a folder, not a file");
        Path run = tmp.resolve("run");
        assertEquals(1, run(train(run, "--weights", tmp.toString())));
        assertOneLineError("--weights " + tmp + ": is a folder, not a file");

        // a folder in the place of a checkpoint file is no missing file: the user would look for the wrong thing
        assertEquals(0, run(train(run)), cli.err());
        Path weights = run.resolve("checkpoint").resolve("weights.safetensors");
        Files.delete(weights);
        Files.createDirectory(weights);
        assertEquals(1, run(resume(run, "--epochs", "2")));
        assertOneLineError(weights + ": is a folder, not a file");
    }

    /** An --out that cannot be made or written is named with the flag and the path as given, before any work. */
    @Test void anOutUnderAFileIsNamed(@TempDir Path tmp) throws Exception {
        Path file = Files.writeString(tmp.resolve("a-file"), "x");
        for (Path out : List.of(file.resolve("run"), file.resolve("run").resolve("deeper"))) {
            assertEquals(1, run(train(out)));
            assertOneLineError("--out " + out + ": folder " + file + " is not a folder (it is a file)");
            assertEquals(1, run("compare", "--models", MODEL, "--epochs", "1", "--device", "cpu", "--data",
                    TestData.cifar10().toString(), "--out", out.toString()));
            assertOneLineError("--out " + out + ": folder " + file + " is not a folder (it is a file)");
        }
    }

    @Test void anOutOrRunInAReadOnlyFolderIsNamed(@TempDir Path tmp) throws Exception {
        Path locked = Files.createDirectory(tmp.resolve("locked"));
        Files.setPosixFilePermissions(locked, PosixFilePermissions.fromString("r-xr-xr-x"));
        assumeFalse(Files.isWritable(locked), "running as root: permissions do not bind");
        Path run = tmp.resolve("run");
        assertEquals(0, run(train(run)), cli.err());
        Files.setPosixFilePermissions(run, PosixFilePermissions.fromString("r-xr-xr-x"));
        try {
            for (Path out : List.of(locked, locked.resolve("run"))) {
                assertEquals(1, run(train(out)));
                assertOneLineError("--out " + out + ": folder " + locked + " is not writable");
            }
            assertEquals(1, run(resume(run, "--epochs", "2")));
            assertOneLineError("--resume " + run + ": folder " + run + " is not writable");
        } finally {
            Files.setPosixFilePermissions(run, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
    }

    @Test void npyHeaderBytesAreNeverEchoedRaw(@TempDir Path tmp) throws Exception {
        Path x = tmp.resolve("x.npy"), w = tmp.resolve("w.safetensors");
        Safetensors.write(w, ModelZoo.create(MODEL).weights(), Map.of());
        byte[] header = "{'descr': '<f4\u0000\u0007', 'fortran_order': False, 'shape': (1,), }\n".getBytes(StandardCharsets.ISO_8859_1);
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(10 + header.length + 4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0}).putShort((short) header.length).put(header);
        Files.write(x, b.array());
        assertEquals(1, run("predict", "--model", MODEL, "--weights", w.toString(), "--input", x.toString(),
                "--output", tmp.resolve("p.npy").toString(), "--device", "reference"));
        assertOneLineError(x + ": dtype '<f4\\x00\\x07' is not supported");
        assertFalse(cli.err().chars().anyMatch(c -> c < 0x20 && c != '\n'), cli.err());
    }

    // ---- 7. corrupt run state is refused, naming the file and the field

    @Test void everyFieldOfTheRunStateIsValidatedOnResume(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("run");
        assertEquals(0, run(train(out)), cli.err());
        Path config = out.resolve("config.json"), state = out.resolve("checkpoint/state.json");
        String goodConfig = Files.readString(config), goodState = Files.readString(state);
        Map<String, byte[]> before = snapshot(out);
        record Corruption(Path file, String field, String value, String message) {}
        for (Corruption c : List.of(
                new Corruption(state, "epoch", "-1", "field 'epoch' must be 0 or more, found -1"),
                new Corruption(state, "step", "7", "field 'step' must be from 0 to 1 (2 batches per epoch), found 7"),
                new Corruption(state, "iterations", "-3", "field 'iterations' must be from 0 to 2"),
                new Corruption(state, "seen", "\"many\"", "field 'seen' must be a whole number, found \"many\""),
                new Corruption(state, "loss_sum", "null", "field 'loss_sum' must be a finite number, 0 or more, found NaN"),
                new Corruption(state, "history", "[]", "field 'history' must be one entry per finished epoch (1), found 0 entries"),
                new Corruption(state, "optimizer", "\"sgd\"", "field 'optimizer' must be \"adam\" (the run's recipe), found \"sgd\""),
                new Corruption(config, "batch_size", "\"abc\"", "field 'batch_size' must be a whole number, found \"abc\""),
                new Corruption(config, "batch_size", "0", "field 'batch_size' must be at least 1, found 0"),
                new Corruption(config, "recipe", "\"fancy\"", "field 'recipe' must be one of keras, he2015, fast, found \"fancy\""),
                new Corruption(config, "model", "\"resnet31\"", "field 'model': unknown model 'resnet31'"),
                new Corruption(config, "on_nan", "\"ignore\"", "field 'on_nan' must be one of stop, skip-batch"),
                new Corruption(config, "seed", "1.5", "field 'seed' must be a whole number, found 1.5"))) {
            String text = c.file().equals(state) ? goodState : goodConfig;
            JsonObject corrupt = Json.parseObject(text, c.file().toString());
            corrupt.add(c.field(), com.google.gson.JsonParser.parseString(c.value()));
            Files.writeString(c.file(), Json.pretty(corrupt));
            assertEquals(1, run(resume(out, "--epochs", "2")), c.toString());
            assertOneLineError(c.file() + ": " + c.message());
            assertFalse(cli.err().contains("--recipe"), cli.err());
            Files.writeString(c.file(), text);
            assertUnchanged(before, out);
        }
        JsonObject missing = Json.parseObject(goodConfig, "config.json");
        missing.remove("limit_train");
        Files.writeString(config, Json.pretty(missing));
        assertEquals(1, run(resume(out)));
        assertOneLineError(config + ": field 'limit_train' is missing");
        Files.writeString(config, "{\"model\": ");
        assertEquals(1, run(resume(out)));
        assertOneLineError(config + ": malformed JSON");
        Files.writeString(config, goodConfig);

        Path optimizer = out.resolve("checkpoint/optimizer.safetensors");
        Map<String, HostArray> slots = new java.util.LinkedHashMap<>(Safetensors.read(optimizer).tensors());
        String slot = slots.keySet().iterator().next();
        float[] values = slots.get(slot).data().clone();
        values[1] = Float.NaN;
        slots.put(slot, new HostArray(slots.get(slot).shape(), values));
        Safetensors.write(optimizer, slots, Safetensors.read(optimizer).metadata());
        assertEquals(1, run(resume(out, "--epochs", "2")));
        assertOneLineError(optimizer + ": optimizer slot '" + slot + "' holds NaN at index ");
    }

    // ---- 8. smaller ones

    @Test void resumingAFinishedRunChangesNothing(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("run");
        assertEquals(0, run(train(out)), cli.err());
        Map<String, byte[]> before = snapshot(out);
        assertEquals(0, run(resume(out)), cli.err());
        assertTrue(cli.out().contains("the run has finished all 1 epochs; nothing to train"), cli.out());
        assertEquals(0, run(resume(out, "--epochs", "1")), cli.err());
        assertUnchanged(before, out);
        assertEquals(0, run(resume(out, "--epochs", "2")), cli.err());
        assertEquals(1, run(resume(out, "--epochs", "1")));
        assertOneLineError("--epochs 1: the run in " + out + " has already finished 2 epochs");
        assertTrue(Files.readString(out.resolve("config.json")).contains("\"epochs\": 2,"));
    }

    @Test void temporaryFilesOfAKilledRunAreRemoved(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("run");
        assertEquals(0, run(train(out)), cli.err());
        Path leftover = out.resolve(".metrics.csv.tmp-3fa2b"), leftoverDir = out.resolve(".checkpoint.tmp-9c1");
        Files.writeString(leftover, "half");
        Files.createDirectories(leftoverDir);
        Path mine = out.resolve("notes.tmp-1");
        Files.writeString(mine, "not ours");
        assertEquals(0, run(resume(out, "--epochs", "2")), cli.err());
        assertFalse(Files.exists(leftover));
        assertFalse(Files.exists(leftoverDir));
        assertTrue(Files.exists(mine), "only jresnet's own temporary names are removed");
    }

    @Test void aRunStoppedBeforeItsFirstCheckpointResumesFromTheStart(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("run");
        assertEquals(0, run(train(out)), cli.err());
        byte[] weights = Files.readAllBytes(out.resolve("checkpoint/weights.safetensors"));
        // what a kill during the first epoch leaves
        jresnet.io.AtomicFiles.deleteRecursively(out.resolve("checkpoint"));
        Files.delete(out.resolve("metrics.csv"));
        Files.delete(out.resolve("best.safetensors"));
        assertEquals(0, run(train(out)), cli.err());
        assertTrue(cli.out().contains("starting it again"), cli.out());
        assertArrayEquals(weights, Files.readAllBytes(out.resolve("checkpoint/weights.safetensors")));
        jresnet.io.AtomicFiles.deleteRecursively(out.resolve("checkpoint"));
        Files.delete(out.resolve("metrics.csv"));
        Files.delete(out.resolve("best.safetensors"));
        assertEquals(0, run(resume(out)), cli.err());
        assertTrue(cli.out().contains("Resuming " + MODEL + " from the start (no checkpoint yet)"), cli.out());
        assertArrayEquals(weights, Files.readAllBytes(out.resolve("checkpoint/weights.safetensors")));
    }
}
