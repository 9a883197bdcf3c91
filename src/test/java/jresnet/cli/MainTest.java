package jresnet.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import jresnet.TestData;
import jresnet.backend.reference.ReferenceBackend;
import jresnet.io.Npy;
import jresnet.io.Safetensors;
import jresnet.models.ModelZoo;
import jresnet.nn.Executor;
import jresnet.nn.Model;
import jresnet.tensor.HostArray;
import jresnet.tensor.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MainTest {
    private final CliRun cli = new CliRun();

    private int run(String... args) { return cli.run(args); }

    private String out() { return cli.out(); }

    private String err() { return cli.err(); }

    @Test void summaryPrintsKerasTotals() {
        assertEquals(0, run("summary", "--model", "plain30"));
        assertTrue(out().contains("Total params: 15,447,062"), out());
        assertTrue(out().contains("Trainable params: 15,434,640"));
        assertTrue(out().contains("Non-trainable params: 12,422"));
    }

    @Test void badFlagsAreUsageErrors() {
        assertEquals(2, run("summary", "--modle", "resnet30"));
        assertTrue(err().contains("unknown flag --modle"), err());
        assertEquals(2, run("train", "--model", "resnet30", "--out", "x", "--epochs", "zero"));
        assertTrue(err().contains("--epochs: expected a whole number, got 'zero'"), err());
        assertEquals(2, run("train", "--model", "resnet30", "--out", "x", "--batch-size", "0"));
        assertEquals(2, run("frobnicate"));
        assertEquals(2, run("train", "--model", "resnet30", "--device", "tpu", "--out", "x"));
        // --flag=value works for valued flags; a switch given a value names the switch, not an unknown flag
        assertEquals(2, run("summary", "--model=resnet30", "--epochs=3"));
        assertTrue(err().contains("unknown flag --epochs"), err());
        // a recipe is a choice like --device: exact, and a usage error otherwise
        for (String recipe : new String[] {"bogus", "Fast"}) {
            assertEquals(2, run("train", "--model", "resnet20", "--out", "x", "--recipe", recipe));
            assertTrue(err().contains("--recipe: expected one of keras|he2015|fast, got '" + recipe + "'"), err());
        }
        assertEquals(2, run("compare", "--quick=yes"));
        assertTrue(err().contains("compare: --quick is a switch and takes no value, got '--quick=yes'"), err());
    }

    @Test void usageErrorsAreOneLineAndHelpWorksAfterACommand() {
        for (String[] bad : new String[][] {{"train", "--model", "resnet30", "--out", "x", "--epochs", "0"},
                {"train", "--resume", ""}, {"compare", "--resume", " "}, {"frobnicate"},
                {"export", "--model", "resnet20", "--weights", "w", "--output", "o", "--overwrite", "--overwrite"}}) {
            assertEquals(2, run(bad), String.join(" ", bad));
            assertTrue(err().startsWith("error: ") && err().contains("jresnet --help"), err());
            assertEquals(1, err().strip().lines().count(), err());
        }
        assertEquals(2, run("train", "--resume", ""));
        assertTrue(err().contains("--resume is empty"), err());
        assertEquals(2, run("export", "--model", "resnet20", "--overwrite", "--overwrite"));
        assertTrue(err().contains("--overwrite given twice"), err());
        // checked before --device auto looks for CUDA, whose notice would come first
        assertEquals(1, run("train", "--resume", "no-such-run-folder"));
        assertEquals("error: --resume no-such-run-folder: no such folder", err().strip());
        assertEquals(2, run());
        assertTrue(err().startsWith("usage: jresnet") && out().isEmpty(), err());
        for (String help : new String[] {"--help", "-h"}) {
            assertEquals(0, run("train", help));
            assertTrue(out().startsWith("usage: jresnet"), out());
        }
    }

    /**
     * An empty value is a usage error naming its flag, whatever the flag: before, an empty --data fell
     * back to JRESNET_DATA or a download, and an empty --weights or --model ended in a file or model
     * error (exit 1) that named nothing.
     */
    @Test void anEmptyValueIsAUsageErrorForEveryFlag(@TempDir Path tmp) throws Exception {
        for (Map.Entry<String, Set<String>> command : Main.VALUED_FLAGS.entrySet()) {
            for (String flag : command.getValue()) {
                for (String[] empty : new String[][] {{"--" + flag, ""}, {"--" + flag + "="}, {"--" + flag, " "}}) {
                    String[] args = new String[empty.length + 1];
                    args[0] = command.getKey();
                    System.arraycopy(empty, 0, args, 1, empty.length);
                    assertEquals(2, run(args), String.join(" ", args));
                    assertEquals("error: " + command.getKey() + ": --" + flag + " is empty; give it a value "
                            + "(jresnet --help lists the commands and their flags)", err().strip());
                }
            }
        }
        // amid otherwise complete command lines, as a user writes them: nothing is read, made or downloaded
        Path data = TestData.cifar10(), w = tmp.resolve("w.safetensors"), run = tmp.resolve("run"), onnx = tmp.resolve("m.onnx");
        Safetensors.write(w, ModelZoo.create("tutorial-resnet-1-w2").weights(), Map.of());
        String[] model = {"--model", "tutorial-resnet-1-w2"};
        for (String[] bad : new String[][] {
                {"train", model[0], model[1], "--out", run.toString(), "--epochs", "1", "--device", "reference", "--data", ""},
                {"train", model[0], model[1], "--out", run.toString(), "--data", data.toString(), "--weights", ""},
                {"train", "--model", "", "--out", run.toString(), "--data", data.toString()},
                {"evaluate", model[0], model[1], "--weights", w.toString(), "--device", "reference", "--data", ""},
                {"evaluate", model[0], model[1], "--weights", "", "--data", data.toString()},
                {"export", model[0], model[1], "--weights", w.toString(), "--output", onnx.toString(), "--data", ""},
                {"compare", "--models", "tutorial-resnet-1-w2", "--out", run.toString(), "--data", ""}}) {
            assertEquals(2, run(bad), String.join(" ", bad));
            assertTrue(err().startsWith("error: " + bad[0] + ": --"), err());
            assertEquals(1, err().strip().lines().count(), err());
            assertFalse(Files.exists(run) || Files.exists(onnx), String.join(" ", bad));
        }
    }

    /**
     * Every flag's value is checked before any file is read, the device opened or the data looked for:
     * without --data that is a download, whose failure (exit 1) used to hide evaluate's and compare's
     * usage error.
     */
    @Test void flagsAreCheckedBeforeFilesDeviceAndData(@TempDir Path tmp) throws Exception {
        String model = "tutorial-resnet-1-w2";
        Path w = tmp.resolve("w.safetensors"), missing = tmp.resolve("missing.safetensors"), out = tmp.resolve("out");
        Safetensors.write(w, ModelZoo.create(model).weights(), Map.of());
        String atLeastOne = ": must be at least 1, got 0";
        Map<String[], String> cases = Map.of(
                new String[] {"evaluate", "--model", model, "--weights", w.toString(), "--limit-test", "0"}, "--limit-test" + atLeastOne,
                new String[] {"evaluate", "--model", model, "--weights", missing.toString(), "--limit-test", "0"},
                "--limit-test" + atLeastOne,
                new String[] {"train", "--model", model, "--out", out.toString(), "--weights", missing.toString(), "--val-split", "0"},
                "--val-split" + atLeastOne,
                new String[] {"compare", "--models", model, "--out", out.toString(), "--limit-test", "0"}, "--limit-test" + atLeastOne,
                new String[] {"compare", "--quick", "--models", model, "--out", out.toString(), "--seed", "x"},
                "--seed: expected a whole number, got 'x'",
                new String[] {"bench", "--model", model, "--device", "reference", "--steps", "1", "--seed", "x"},
                "--seed: expected a whole number, got 'x'");
        for (Map.Entry<String[], String> c : cases.entrySet()) {
            String command = String.join(" ", c.getKey());
            assertEquals(2, run(c.getKey()), command + ": " + err());
            assertTrue(err().startsWith("error: " + c.getValue() + " (jresnet --help"), command + ": " + err());
            assertEquals(1, err().strip().lines().count(), command + ": " + err());
            assertEquals("", out(), command);
            assertFalse(Files.exists(out), command);
        }
    }

    /** --help lists every flag a command accepts on that command's lines, and no flag it refuses. */
    @Test void helpListsEachCommandsFlags() {
        assertEquals(0, run("--help"));
        Map<String, Set<String>> listed = new HashMap<>();
        Set<String> commands = new TreeSet<>();
        String command = null;
        for (String line : out().lines().toList()) {
            Matcher start = Pattern.compile("^  (\\w+) ").matcher(line);
            if (start.find()) commands.add(command = start.group(1));
            else if (!line.startsWith("   ")) command = null; // the lines after the commands
            if (command == null) continue;
            Matcher flag = Pattern.compile("--([\\w-]+)").matcher(line);
            while (flag.find()) listed.computeIfAbsent(command, c -> new TreeSet<>()).add(flag.group(1));
        }
        for (String c : Main.VALUED_FLAGS.keySet()) {
            Set<String> accepted = new TreeSet<>(Main.VALUED_FLAGS.get(c));
            accepted.addAll(Main.SWITCHES.getOrDefault(c, Set.of()));
            assertEquals(accepted, listed.getOrDefault(c, Set.of()), c);
        }
        assertEquals(new TreeSet<>(Main.VALUED_FLAGS.keySet()), commands);
    }

    /** A name of no network is a bad flag value, as --device tpu is: exit 2, before any file is read. */
    @Test void unknownModelIsAOneLineUsageError() {
        for (String[] command : new String[][] {{"summary", "--model", "resnet31"},
                {"evaluate", "--model", "resnet31", "--weights", "no-such.safetensors"},
                {"train", "--model", "resnet31", "--out", "x"}, {"bench", "--model", "resnet31"},
                {"compare", "--models", "resnet20,resnet31"}, {"summary", "--model", "tutorial-resnet-1.1.1.1.1-w2"}}) {
            assertEquals(2, run(command), String.join(" ", command));
            assertTrue(err().startsWith("error: ") && err().contains("resnet31") || err().contains("1 to 4 stages"), err());
            assertEquals(1, err().strip().lines().count(), err());
        }
        assertEquals(2, run("summary", "--model", "resnet31"));
        assertTrue(err().startsWith("error: unknown model 'resnet31'"), err());
        assertFalse(Files.exists(Path.of("x")));
    }

    /** Train a tiny model into a run folder, then predict from its checkpoint: equals Model's own predictions. */
    @Test void predictFromCheckpointEqualsExecutorPredictions(@TempDir Path tmp) throws Exception {
        Path data = TestData.cifar10();
        String model = "tutorial-resnet-1-w2";
        assertEquals(0, run("train", "--model", model, "--epochs", "1", "--batch-size", "16", "--limit-train", "48",
                "--limit-test", "16", "--device", "reference", "--data", data.toString(), "--out", tmp.resolve("run").toString()), err());
        assertTrue(out().contains("Epoch 1/1"), out());
        Path weights = tmp.resolve("run/checkpoint/weights.safetensors");
        assertTrue(Files.isRegularFile(weights));
        assertTrue(Files.readString(tmp.resolve("run/metrics.csv")).lines().count() == 2);

        float[] images = new float[5 * 32 * 32 * 3];
        java.util.SplittableRandom random = new java.util.SplittableRandom();
        for (int i = 0; i < images.length; i++) images[i] = random.nextInt(256);
        Path input = tmp.resolve("x.npy"), output = tmp.resolve("p.npy");
        Npy.write(input, new HostArray(Shape.of(5, 32, 32, 3), images));
        assertEquals(0, run("predict", "--model", model, "--weights", weights.toString(), "--input", input.toString(),
                "--output", output.toString(), "--device", "reference"), err());
        HostArray predicted = Npy.read(output);
        assertEquals(Shape.of(5, 10), predicted.shape());

        Model m = ModelZoo.create(model);
        m.setWeights(Safetensors.read(weights).tensors(), weights.toString());
        try (ReferenceBackend b = new ReferenceBackend(); Executor ex = new Executor(m, b, 5)) {
            assertArrayEquals(ex.predictBatch(images, 5), predicted.data());
        }
        for (int n = 0; n < 5; n++) {
            double sum = 0;
            for (int j = 0; j < 10; j++) sum += predicted.data()[n * 10 + j];
            assertEquals(1, sum, 1e-5);
        }
        assertEquals(0, run("evaluate", "--model", model, "--weights", weights.toString(), "--limit-test", "20",
                "--device", "reference", "--data", data.toString()), err());
        assertTrue(out().matches("(?s)20/20 - loss: \\d+\\.\\d{4} - accuracy: (0\\.\\d{4})\\s*"
                + "test accuracy on records 0-19 \\(a limited test set\\): \\1 \\(\\d+/20\\)\\s*"
                + "test accuracy on records 0-19 \\(bit-exact\\): \\1 \\(\\d+/20\\), 95% Wilson interval 0\\.\\d{4}-[01]\\.\\d{4}\\s*"), out());
        assertEquals(0, run("evaluate", "--model", model, "--weights", weights.toString(), "--limit-test", "20", "--tta", "flip",
                "--device", "reference", "--data", data.toString()), err());
        assertTrue(out().contains("\nflip TTA test accuracy on records 0-19 (a limited test set): "), out());
        assertTrue(out().contains("\nflip TTA test accuracy on records 0-19 (bit-exact): "), out());
        assertEquals(2, run("evaluate", "--model", model, "--weights", weights.toString(), "--tta", "crop"));
        assertTrue(err().contains("--tta"), err());
        assertEquals(0, run("evaluate", "--model", model, "--weights", weights.toString(), "--limit-test", "20", "--jpeg-quality", "75",
                "--device", "reference", "--data", data.toString()), err());
        assertTrue(out().matches("(?s).*\nJPEG quality 75 re-encoded: images differ by \\d+\\.\\d\\d levels on average \\(largest \\d+\\), PSNR \\d+\\.\\d dB over all values, \\d+\\.\\d dB on average per image\n"
                + "JPEG quality 75 re-encoded: test accuracy on records 0-19 \\(a limited test set\\): .*"
                + "\nJPEG quality 75 re-encoded: test accuracy on records 0-19 \\(bit-exact\\): .*"), out());
        assertFalse(out().contains("flip TTA"), out());
        // both: the re-encoded images get their flip TTA figures too
        assertEquals(0, run("evaluate", "--model", model, "--weights", weights.toString(), "--limit-test", "20", "--jpeg-quality", "75",
                "--tta", "flip", "--device", "reference", "--data", data.toString()), err());
        assertTrue(out().contains("\nflip TTA test accuracy on records 0-19 (bit-exact): "), out());
        assertTrue(out().contains("\nJPEG quality 75 re-encoded: flip TTA test accuracy on records 0-19 (bit-exact): "), out());
        assertEquals(2, run("evaluate", "--model", model, "--weights", weights.toString(), "--jpeg-quality", "101"));
        assertTrue(err().startsWith("error: --jpeg-quality: must be 1 to 100, got 101"), err());
    }

    /** compare --recipe fast: both models with the same recipe and seed, each config.json with the recipe's settings, the test figures in the report. */
    @Test void compareWithTheFastRecipe(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("cmp");
        assertEquals(0, run("compare", "--models", "tutorial-resnet-1-w2,tutorial-plain-1-w2", "--recipe", "fast", "--epochs", "1",
                "--batch-size", "16", "--limit-train", "48", "--limit-test", "16", "--device", "cpu",
                "--data", TestData.cifar10().toString(), "--out", out.toString()), err());
        for (String m : new String[] {"tutorial-resnet-1-w2", "tutorial-plain-1-w2"}) {
            com.google.gson.JsonObject config = jresnet.io.Json.parseObject(Files.readString(out.resolve(m).resolve("config.json")), m);
            assertEquals("fast", config.get("recipe").getAsString());
            assertEquals(0L, config.get("seed").getAsLong());
            assertEquals(0.1, config.getAsJsonObject("recipe_settings").get("label_smoothing").getAsDouble());
            assertEquals(3L, config.getAsJsonObject("optimizer").get("total_iterations").getAsLong(),
                    "48 images in batches of 16, one epoch");
            assertTrue(out().contains(m + ": test accuracy on records 0-15 (a limited test set): "), out());
            assertTrue(out().contains(m + ": test accuracy on records 0-15 (bit-exact): "), out());
        }
        assertTrue(Files.readString(out.resolve("report.md")).contains("## Test accuracy of the final weights"));
        assertEquals(3, Files.readAllLines(out.resolve("test-accuracy.csv")).size());
    }

    /**
     * A comparison cut short after its first model (the second model's folder never made, no report)
     * is finished by compare --resume: the finished run is kept as it is, the second one trained,
     * and the report is the one the uninterrupted comparison wrote (the CPU backend is deterministic).
     */
    @Test void compareResumeFinishesAComparisonCutShort(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("cmp");
        String resnet = "tutorial-resnet-1-w2", plain = "tutorial-plain-1-w2";
        assertEquals(0, compareOneEpoch(out, resnet + "," + plain, 48), err());
        String testCsv = Files.readString(out.resolve("test-accuracy.csv"));
        String plainMetrics = Files.readString(out.resolve(plain).resolve("metrics.csv"));
        byte[] resnetWeights = Files.readAllBytes(out.resolve(resnet).resolve("checkpoint/weights.safetensors"));
        jresnet.io.AtomicFiles.deleteRecursively(out.resolve(plain));
        Files.delete(out.resolve("test-accuracy.csv"));
        Files.delete(out.resolve("report.md"));

        assertEquals(0, run("compare", "--resume", out.toString(), "--device", "cpu"), err());
        assertTrue(out().contains(resnet + ": the run has finished all 1 epochs; nothing to train"), out());
        // the finished model's weights were evaluated by the first compare: not again (nor the retrained
        // model's, as the CPU backend trained them to the same bits)
        assertTrue(out().contains(resnet + ": test accuracy as measured before on these weights and this test file"), out());
        assertArrayEquals(resnetWeights, Files.readAllBytes(out.resolve(resnet).resolve("checkpoint/weights.safetensors")));
        assertEquals(testCsv, Files.readString(out.resolve("test-accuracy.csv")));
        assertEquals(withoutTimes(plainMetrics), withoutTimes(Files.readString(out.resolve(plain).resolve("metrics.csv"))));
        assertTrue(Files.isRegularFile(out.resolve("report.md")));

        // finished: the report, notes added to it included, stays as it is; only a missing file of it is written
        String notes = Files.readString(out.resolve("report.md")) + "\nmy notes\n";
        Files.writeString(out.resolve("report.md"), notes);
        assertEquals(0, run("compare", "--resume", out.toString(), "--device", "cpu"), err());
        assertTrue(out().contains("the report is kept as it is"), out());
        assertEquals(notes, Files.readString(out.resolve("report.md")));
        Files.delete(out.resolve("comparison.csv"));
        assertEquals(0, run("compare", "--resume", out.toString(), "--device", "cpu"), err());
        assertTrue(out().contains("only its missing files written: comparison.csv"), out());
        assertTrue(Files.isRegularFile(out.resolve("comparison.csv")));
        assertEquals(notes, Files.readString(out.resolve("report.md")));

        // a figure recorded for other weights than the checkpoint's is measured again and the record mended;
        // where the new figure differs from the recorded one, the report's files are written anew
        Path plan = out.resolve("compare.json");
        String plainSha = jresnet.io.FileDigest.sha256(out.resolve(plain).resolve("checkpoint/weights.safetensors"));
        com.google.gson.JsonObject edited = jresnet.io.Json.parseObject(Files.readString(plan), "compare.json");
        com.google.gson.JsonObject plainTest = null;
        for (com.google.gson.JsonElement t : edited.getAsJsonArray("tests")) {
            if (t.getAsJsonObject().get("model").getAsString().equals(plain)) plainTest = t.getAsJsonObject();
        }
        assertEquals(plainSha, plainTest.get("weights_sha256").getAsString());
        plainTest.addProperty("weights_sha256", "0".repeat(64));
        // 48 records, all of them exact: another count that an evaluation could have given
        long correct = plainTest.get("test_correct").getAsLong(), another = correct == 0 ? 1 : correct - 1;
        plainTest.addProperty("test_correct", another);
        plainTest.addProperty("exact_correct", another);
        Files.writeString(plan, edited.toString());
        assertEquals(0, run("compare", "--resume", out.toString(), "--device", "cpu"), err());
        assertTrue(out().contains(resnet + ": test accuracy as measured before"), out());
        assertFalse(out().contains(plain + ": test accuracy as measured before"), out());
        assertTrue(out().contains("test figures differ from those recorded: the report written anew"), out());
        assertEquals(testCsv, Files.readString(out.resolve("test-accuracy.csv")));
        assertEquals(notes, Files.readString(out.resolve("report.edited.md")), "the notes moved aside, not lost");
        assertFalse(Files.readString(out.resolve("report.md")).contains("my notes"));
        assertTrue(Files.readString(plan).contains(plainSha), Files.readString(plan));
        // the same figure measured again on other weights changes nothing that was written
        Files.writeString(plan, Files.readString(plan).replace(plainSha, "0".repeat(64)));
        String report = Files.readString(out.resolve("report.md"));
        assertEquals(0, run("compare", "--resume", out.toString(), "--device", "cpu"), err());
        assertFalse(out().contains(plain + ": test accuracy as measured before"), out());
        assertTrue(out().contains("the report is kept as it is"), out());
        assertEquals(report, Files.readString(out.resolve("report.md")));
        assertFalse(jresnet.io.Json.parseObject(Files.readString(plan), "compare.json").get("report_outdated").getAsBoolean());

        // marked out of date, as a compare stopped between a run's training and its report leaves it
        Files.writeString(plan, Files.readString(plan).replace("\"report_outdated\": false", "\"report_outdated\": true"));
        Files.delete(out.resolve("report.md"));
        assertEquals(0, run("compare", "--resume", out.toString(), "--device", "cpu"), err());
        assertTrue(out().contains("an earlier compare stopped before it wrote the report: written anew"), out());
        assertEquals(report, Files.readString(out.resolve("report.md")));
        assertFalse(jresnet.io.Json.parseObject(Files.readString(plan), "compare.json").get("report_outdated").getAsBoolean());

        assertEquals(2, run("compare", "--resume", out.toString(), "--models", resnet));
        assertTrue(err().startsWith("error: compare --resume takes the comparison's own configuration; --models cannot change it"), err());
        assertEquals(1, run("compare", "--resume", tmp.resolve("none").toString(), "--device", "cpu"));
        assertTrue(err().startsWith("error: --resume " + tmp.resolve("none") + ": no such folder"), err());
        assertEquals(1, run("compare", "--resume", out.resolve(resnet).toString(), "--device", "cpu"));
        assertTrue(err().startsWith("error: --resume " + out.resolve(resnet) + ": no compare.json (not a compare folder"), err());
    }

    /**
     * compare --resume --epochs N records the new length in compare.json, so that a plain --resume
     * after a stop trains every model to it, also one the lengthened comparison had not reached; a
     * length below what a run has finished is refused and changes nothing.
     */
    @Test void compareResumeWithMoreEpochsLengthensEveryRun(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("cmp");
        String resnet = "tutorial-resnet-1-w2", plain = "tutorial-plain-1-w2";
        assertEquals(0, compareOneEpoch(out, resnet + "," + plain, 32), err());
        Path plan = out.resolve("compare.json");
        // as compare --resume --epochs 2 leaves it when stopped before it reached the second model
        Files.writeString(plan, Files.readString(plan).replace("\"epochs\": 1", "\"epochs\": 2"));
        assertEquals(0, run("compare", "--resume", out.toString(), "--device", "cpu"), err());
        assertTrue(out().contains("Resuming " + resnet) && out().contains("Resuming " + plain), out());
        assertEquals(List.of(2, 2), epochsInComparison(out));

        String lengthened = Files.readString(plan);
        assertEquals(1, run("compare", "--resume", out.toString(), "--epochs", "1", "--device", "cpu"));
        assertTrue(err().startsWith("error: --epochs 1: the run in " + out.resolve(resnet) + " has already finished 2 epochs"), err());
        assertEquals(lengthened, Files.readString(plan));

        // notes added to the report survive a resume that writes it anew
        Path report = out.resolve("report.md");
        String noted = Files.readString(report) + "\nMy notes on this comparison.\n";
        Files.writeString(report, noted);
        assertEquals(0, run("compare", "--resume", out.toString(), "--epochs", "3", "--device", "cpu"), err());
        assertEquals(List.of(3, 3), epochsInComparison(out));
        assertEquals(noted, Files.readString(out.resolve("report.edited.md")));
        assertTrue(out().contains("notice: " + report + " differs from the report this comparison wrote"), out());
        assertFalse(Files.readString(report).contains("My notes"));
        assertEquals(jresnet.io.FileDigest.sha256(report),
                jresnet.io.Json.parseObject(Files.readString(plan), "compare.json").get("report_sha256").getAsString());
        for (com.google.gson.JsonElement r : jresnet.io.Json.parseObject(Files.readString(plan), "compare.json").getAsJsonArray("runs")) {
            assertEquals(3, r.getAsJsonObject().get("epochs").getAsInt(), Files.readString(plan));
        }
    }

    /** The epochs column of comparison.csv, model by model. */
    private static List<Integer> epochsInComparison(Path compareDir) throws IOException {
        List<String> rows = Files.readAllLines(compareDir.resolve("comparison.csv"));
        int column = List.of(rows.get(0).split(",")).indexOf("epochs");
        assertTrue(column >= 0, rows.get(0));
        return rows.stream().skip(1).map(r -> Integer.parseInt(r.split(",")[column])).toList();
    }

    /** Limits above CIFAR-10's 50,000 / 10,000 images mean all of them, with a notice naming the flag; limits within say nothing. */
    @Test void limitsBeyondTheDataAreNoticed(@TempDir Path tmp) throws Exception {
        String missing = tmp.resolve("no-data").toString();
        assertEquals(1, run("train", "--model", "tutorial-resnet-1-w2", "--out", tmp.resolve("r").toString(),
                "--limit-train", "60000", "--limit-test", "10001", "--data", missing));
        assertTrue(err().contains("notice: --limit-train 60000 is more than CIFAR-10's 50,000 training images; all of them are used\n"), err());
        assertTrue(err().contains("notice: --limit-test 10001 is more than CIFAR-10's 10,000 test images; all of them are used\n"), err());
        assertEquals(1, run("evaluate", "--model", "tutorial-resnet-1-w2", "--weights", tmp.resolve("none.safetensors").toString(),
                "--limit-test", "20000", "--data", missing));
        assertTrue(err().contains("notice: --limit-test 20000 is more than CIFAR-10's 10,000 test images"), err());
        assertEquals(1, run("train", "--model", "tutorial-resnet-1-w2", "--out", tmp.resolve("r").toString(),
                "--limit-train", "50000", "--limit-test", "10000", "--data", missing));
        assertFalse(err().contains("notice: --limit"), err());
    }

    /** A name with a line break or a terminal escape is shown escaped: the error stays one line, and nothing reaches the terminal raw. */
    @Test void controlCharactersInAnErrorAreShownEscaped(@TempDir Path tmp) {
        String odd = tmp.resolve("red\u001b[31m\nname.safetensors").toString();
        assertEquals(1, run("evaluate", "--model", "tutorial-resnet-1-w2", "--weights", odd));
        assertEquals(1, err().strip().lines().count(), err());
        assertTrue(err().contains("red\\x1b[31m\\x0aname.safetensors"), err());
        assertFalse(err().contains("\u001b"), err());
    }

    /** --device cuda where CUDA cannot run: the line names the flag, then why. */
    @Test void cudaThatCannotOpenNamesTheDeviceFlag() {
        org.junit.jupiter.api.Assumptions.assumeFalse(jresnet.backend.cuda.CudaBackend.available(), "a machine without CUDA");
        assertEquals(1, run("bench", "--model", "tutorial-resnet-1-w2", "--device", "cuda", "--steps", "1", "--warmup", "0"));
        assertTrue(err().startsWith("error: --device cuda: "), err());
        assertEquals(1, err().strip().lines().count(), err());
    }

    /** --val-split is taken from the training images the limits leave; flags the split or the data size make moot are noticed. */
    @Test void valSplitAndBatchSizeAreCheckedAgainstTheTrainingImages(@TempDir Path tmp) throws Exception {
        String missing = tmp.resolve("no-data").toString(), out = tmp.resolve("r").toString();
        assertEquals(2, run("train", "--model", "tutorial-resnet-1-w2", "--out", out, "--limit-train", "256", "--val-split", "256"));
        assertTrue(err().contains("--val-split 256 leaves no training data: the validation images are the last of the --limit-train 256 "
                + "training images"), err());
        assertEquals(2, run("compare", "--models", "tutorial-resnet-1-w2", "--out", out, "--val-split", "50000"));
        assertTrue(err().contains("the last of CIFAR-10's 50,000 training images"), err());
        assertEquals(2, run("compare", "--quick", "--out", out, "--val-split", "20000"));
        assertTrue(err().contains("the last of the --limit-train 20000 training images"), err());
        assertFalse(Files.exists(tmp.resolve("r")));

        assertEquals(0, run("train", "--model", "tutorial-resnet-1-w2", "--out", out, "--limit-train", "24", "--val-split", "8",
                "--batch-size", "1000", "--limit-test", "64", "--epochs", "1", "--device", "reference", "--data", TestData.cifar10().toString()), err());
        assertTrue(out().contains("notice: --batch-size 1000 is more than the 16 images trained on; each epoch is one batch of 16\n"), out());
        assertTrue(out().contains("notice: with --val-split 8 the validation images are the last 8 training images; --limit-test 64 does not choose them\n"), out());
        assertEquals(0, run("train", "--model", "tutorial-resnet-1-w2", "--out", tmp.resolve("r2").toString(), "--limit-train", "16",
                "--batch-size", "16", "--limit-test", "8", "--epochs", "1", "--device", "reference", "--data", TestData.cifar10().toString()), err());
        assertFalse(out().contains("notice: --"), out());
    }

    /** Two spellings of one network in --models are trained as asked, with a notice that they are the same network. */
    @Test void compareNoticesTwoNamesOfOneNetwork(@TempDir Path tmp) throws Exception {
        assertEquals(0, compareOneEpoch(tmp.resolve("cmp"), "tutorial-resnet-1-w2,tutorial-plain-1-w2,tutorial-resnet-01-w2", 16), err());
        assertTrue(err().contains("notice: --models: tutorial-resnet-1-w2 and tutorial-resnet-01-w2 name the same network; it is trained twice\n"), err());
        assertFalse(err().contains("tutorial-plain-1-w2 and"), err());
    }

    /** compare of {@code models} for one epoch of the fast recipe on {@code images} training images, on the CPU. */
    private int compareOneEpoch(Path out, String models, int images) {
        return run("compare", "--models", models, "--recipe", "fast", "--epochs", "1", "--batch-size", "16",
                "--limit-train", String.valueOf(images), "--limit-test", "16", "--device", "cpu",
                "--data", TestData.cifar10().toString(), "--out", out.toString());
    }

    /** metrics.csv without its two timing columns (seconds, images_per_s). */
    private static String withoutTimes(String metricsCsv) {
        return metricsCsv.lines().map(l -> l.replaceAll(",[^,]*,[^,]*$", "")).reduce("", (a, b) -> a + b + "\n");
    }

    @Test void predictRejectsWrongShape(@TempDir Path tmp) throws Exception {
        Path input = tmp.resolve("x.npy");
        Npy.write(input, new HostArray(Shape.of(2, 32, 32), new float[2 * 32 * 32]));
        Model m = ModelZoo.create("tutorial-resnet-1-w2");
        Path w = tmp.resolve("w.safetensors");
        Safetensors.write(w, m.weights(), java.util.Map.of());
        assertEquals(1, run("predict", "--model", "tutorial-resnet-1-w2", "--weights", w.toString(), "--input",
                input.toString(), "--output", tmp.resolve("p.npy").toString(), "--device", "reference"));
        assertTrue(err().contains("x.npy"), err());
        assertTrue(!Files.exists(tmp.resolve("p.npy")));
    }

    /** Pixels outside 0-255, or all within 0-1, are used as given, each with a notice naming the file; raw pixels get none. */
    @Test void predictNoticesPixelsThatAreNotRawValues(@TempDir Path tmp) throws Exception {
        Model m = ModelZoo.create("tutorial-resnet-1-w2");
        Path w = tmp.resolve("w.safetensors");
        Safetensors.write(w, m.weights(), java.util.Map.of());
        java.util.SplittableRandom random = new java.util.SplittableRandom();
        float[] raw = new float[2 * 32 * 32 * 3], standardised = new float[raw.length], scaled = new float[raw.length];
        for (int i = 0; i < raw.length; i++) {
            raw[i] = i == 0 ? 0f : i == 1 ? 255f : random.nextInt(256);
            standardised[i] = (raw[i] - 120f) / 64f;
            scaled[i] = raw[i] / 255f;
        }
        String[] notices = {null, "holds values from -1.875 to 2.1093", "holds values from 0.0 to 1.0 only"};
        float[][] inputs = {raw, standardised, scaled};
        for (int k = 0; k < inputs.length; k++) {
            Path input = tmp.resolve("x" + k + ".npy"), output = tmp.resolve("p" + k + ".npy");
            Npy.write(input, new HostArray(Shape.of(2, 32, 32, 3), inputs[k]));
            assertEquals(0, run("predict", "--model", "tutorial-resnet-1-w2", "--weights", w.toString(), "--input",
                    input.toString(), "--output", output.toString(), "--device", "reference"), err());
            assertEquals(Shape.of(2, 10), Npy.read(output).shape());
            if (notices[k] == null) {
                assertFalse(err().contains("notice:"), err());
            } else {
                assertTrue(err().contains("notice: " + input + " " + notices[k]), err());
            }
        }
    }

    @Test void weightsOfAnotherModelAreRefusedByName(@TempDir Path tmp) throws Exception {
        Path w = tmp.resolve("w.safetensors");
        Safetensors.write(w, ModelZoo.create("tutorial-resnet-1-w2").weights(), java.util.Map.of());
        assertEquals(1, run("evaluate", "--model", "tutorial-resnet-1-w4", "--weights", w.toString(), "--device", "reference",
                "--data", TestData.cifar10().toString(), "--limit-test", "4"));
        assertTrue(err().contains("w.safetensors: tensor 'conv2d.kernel' has shape (3, 3, 3, 2), model tutorial-resnet-1-w4 expects (3, 3, 3, 4)"), err());
    }
}
