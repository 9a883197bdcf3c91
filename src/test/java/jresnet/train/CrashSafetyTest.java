package jresnet.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import jresnet.TestData;
import jresnet.TestSeeds;
import jresnet.io.AtomicFiles;
import jresnet.io.CacheFolder;
import jresnet.io.Checkpoint;
import com.google.gson.JsonObject;
import jresnet.io.Json;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * Training in a child JVM, killed with SIGKILL at random moments (checkpoint writes included): every
 * time the last complete checkpoint loads and the run resumes. Ctrl-C (SIGINT) stops after the
 * current step with a checkpoint, and resuming it ends bit for bit like an uninterrupted run.
 */
class CrashSafetyTest {
    private static final String MODEL = "tutorial-resnet-1-w2";
    private static final Pattern EPOCH_LINE = Pattern.compile("Epoch (\\d+)/\\d+");

    private static List<String> command(String... args) {
        List<String> c = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "-D" + CacheFolder.PROPERTY + "=" + CacheFolder.root(),
                "-cp", System.getProperty("java.class.path"), "jresnet.cli.Main"));
        c.addAll(List.of(args));
        return c;
    }

    private static List<String> train(Path out, int epochs, int limitTrain) {
        return train(out, epochs, limitTrain, "keras");
    }

    private static List<String> train(Path out, int epochs, int limitTrain, String recipe) {
        return command("train", "--model", MODEL, "--epochs", String.valueOf(epochs), "--batch-size", "8",
                "--limit-train", String.valueOf(limitTrain), "--limit-test", "8", "--seed", "5", "--device", "cpu",
                "--recipe", recipe, "--data", TestData.cifar10().toString(), "--out", out.toString());
    }

    private static List<String> resume(Path out, int epochs) {
        return command("train", "--resume", out.toString(), "--epochs", String.valueOf(epochs), "--device", "cpu",
                "--data", TestData.cifar10().toString());
    }

    private static Process start(List<String> command, Path log) throws IOException {
        return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    private static int runToEnd(List<String> command, Path log) throws Exception {
        Process p = start(command, log);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "child did not finish: " + Files.readString(log));
        return p.exitValue();
    }

    /**
     * Each kill comes once the run has begun a random number of epochs (1 to 3), after a random pause that
     * lands it anywhere in that epoch, checkpoint writes included. What is checked does not depend on how fast
     * the machine is: a checkpoint is written before the next "Epoch E" line is printed, so after a kill the
     * checkpoint holds at least the E − 1 epochs done when the last line seen was "Epoch E".
     */
    @Test void killedAtRandomMomentsAlwaysLeavesALoadableCheckpoint(@TempDir Path tmp) throws Exception {
        long seed = TestSeeds.next();
        SplittableRandom random = new SplittableRandom(seed);
        Path out = tmp.resolve("run"), log = tmp.resolve("log.txt");
        int checkpointed = 0;
        for (int kill = 0; kill < 8; kill++) {
            // a folder with a run in it is continued with --resume, also before its first checkpoint
            List<String> cmd = Files.exists(out.resolve("config.json")) ? resume(out, 400) : train(out, 400, 24);
            Process p = start(cmd, log);
            // the last kill comes after an epoch has ended, so the run is resumed from a checkpoint at least once
            int epochLines = kill == 7 ? 2 + random.nextInt(2) : 1 + random.nextInt(3);
            int lastEpochBegun = Integer.parseInt(awaitLines(p, log, EPOCH_LINE, epochLines).group(1));
            Thread.sleep(random.nextInt(1000));
            p.destroyForcibly();
            assertTrue(p.waitFor(30, TimeUnit.SECONDS));
            // what the next run does first, under its lock
            if (Files.isDirectory(out)) AtomicFiles.recoverDirectory(out.resolve("checkpoint"));
            int epochsDone = lastEpochBegun - 1;
            String context = "kill " + (kill + 1) + " after \"Epoch " + lastEpochBegun + "/\" (seed " + seed + ")";
            if (epochsDone > 0) assertTrue(Files.exists(out.resolve("checkpoint")), "no checkpoint, " + context);
            if (Files.exists(out.resolve("checkpoint"))) {
                Checkpoint.Contents c = Checkpoint.load(out.resolve("checkpoint"));
                assertTrue(c.weights().containsKey("conv2d.kernel"), context);
                int epoch = c.state().get("epoch").getAsInt();
                assertTrue(epoch >= Math.max(epochsDone, checkpointed), "checkpoint at epoch " + epoch + ", " + context);
                checkpointed = epoch;
            }
        }
        assertEquals(0, runToEnd(resume(out, checkpointed + 1), log), Files.readString(log));
        assertTrue(Files.readString(log).contains("Resuming " + MODEL), Files.readString(log));
    }

    /**
     * Waits until the child has printed {@code count} lines that match {@code line}; returns the last one,
     * matched. Fails if the child ends first, or has not got there within two minutes (a hung child: the
     * wait is for progress, however slow the machine).
     */
    private static Matcher awaitLines(Process child, Path log, Pattern line, int count) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (true) {
            List<Matcher> seen = Files.readAllLines(log).stream().map(line::matcher).filter(Matcher::matches).toList();
            if (seen.size() >= count) return seen.get(seen.size() - 1);
            assertTrue(child.isAlive(), "child ended before line " + count + " like " + line + ": " + Files.readString(log));
            assertTrue(System.nanoTime() < deadline, "no line " + count + " like " + line + " in two minutes: " + Files.readString(log));
            Thread.sleep(10);
        }
    }

    /** Ctrl-C and SIGTERM (timeout, Docker, job schedulers) alike: a checkpoint at the step, one line, exit 128 + signal. */
    @ParameterizedTest
    // the fast recipe too: its cosine schedule, label smoothing and normalisation must come back on resume
    @CsvSource({"INT, 130, interrupted (Ctrl-C), keras", "TERM, 143, terminated (SIGTERM), keras", "INT, 130, interrupted (Ctrl-C), fast"})
    void interruptCheckpointsMidEpochAndResumesExactly(String signal, int exitCode, String reason, String recipe, @TempDir Path tmp)
            throws Exception {
        // A child inherits an ignored SIGINT (a build started in the background by a shell); then the
        // JVM leaves Ctrl-C alone and there is nothing to test.
        Assumptions.assumeFalse(signal.equals("INT") && sigintIgnored(), "SIGINT is ignored in this process and its children");
        Path whole = tmp.resolve("whole"), split = tmp.resolve("split"), log = tmp.resolve("log.txt");
        assertEquals(0, runToEnd(train(whole, 2, 400, recipe), log), Files.readString(log));

        Process p = start(train(split, 2, 400, recipe), log);
        awaitLines(p, log, Pattern.compile(" *3/50 \\[.*"), 1);
        new ProcessBuilder("kill", "-" + signal, String.valueOf(p.pid())).start().waitFor();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        String printed = Files.readString(log, StandardCharsets.UTF_8);
        assertEquals(exitCode, p.exitValue(), printed);
        List<String> stopLines = printed.lines().filter(l -> l.contains("stopped") || l.contains("interrupt")).toList();
        assertEquals(1, stopLines.size(), printed);
        assertTrue(stopLines.get(0).matches("stopped: " + java.util.regex.Pattern.quote(reason)
                + " at epoch 1, step (\\d+); checkpoint \\(at epoch 1, step \\1\\) is in .*; continue with: jresnet train --resume .*"),
                stopLines.get(0));
        JsonObject state = Json.parseObject(Files.readString(split.resolve("checkpoint/state.json")), "state.json");
        assertTrue(state.get("step").getAsInt() > 0 || state.get("epoch").getAsInt() > 0, printed);

        assertEquals(0, runToEnd(resume(split, 2), log), Files.readString(log));
        // stopped inside the first epoch: no metrics row existed, so none was restored
        assertFalse(Files.readString(log).contains("restored"), Files.readString(log));
        assertArrayEquals(Files.readAllBytes(whole.resolve("checkpoint/weights.safetensors")),
                Files.readAllBytes(split.resolve("checkpoint/weights.safetensors")));
        List<String> a = Files.readAllLines(whole.resolve("metrics.csv")), b = Files.readAllLines(split.resolve("metrics.csv"));
        for (int i = 0; i < a.size(); i++) {
            // equal but for the timing columns
            assertEquals(a.get(i).split(",", -1).length, b.get(i).split(",", -1).length);
            assertEquals(String.join(",", List.of(a.get(i).split(",", -1)).subList(0, 6)),
                    String.join(",", List.of(b.get(i).split(",", -1)).subList(0, 6)));
        }
    }

    /** A stopped comparison names compare --resume (not train --resume) as the way on, and that finishes it. */
    @Test void stoppedComparisonNamesCompareResume(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("compare"), log = tmp.resolve("log.txt");
        Process p = start(command("compare", "--models", MODEL + ",tutorial-plain-1-w2", "--epochs", "1", "--batch-size", "8",
                "--limit-train", "400", "--limit-test", "8", "--seed", "5", "--device", "cpu",
                "--data", TestData.cifar10().toString(), "--out", out.toString()), log);
        awaitLines(p, log, Pattern.compile(" *3/50 \\[.*"), 1);
        new ProcessBuilder("kill", "-TERM", String.valueOf(p.pid())).start().waitFor();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        String printed = Files.readString(log, StandardCharsets.UTF_8);
        assertEquals(143, p.exitValue(), printed);
        List<String> stopLines = printed.lines().filter(l -> l.startsWith("stopped")).toList();
        assertEquals(1, stopLines.size(), printed);
        assertTrue(stopLines.get(0).endsWith("; continue with: jresnet compare --resume " + out), stopLines.get(0));
        assertEquals(0, runToEnd(command("compare", "--resume", out.toString(), "--device", "cpu"), log), Files.readString(log));
        assertTrue(Files.isRegularFile(out.resolve("report.md")), Files.readString(log));
    }

    /** Whether this process ignores SIGINT (Linux: bit 2 of SigIgn in /proc/self/status); false where that cannot be read. */
    private static boolean sigintIgnored() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("SigIgn:")) return (Long.parseUnsignedLong(line.substring(7).trim(), 16) & 0x2) != 0;
            }
        } catch (IOException | RuntimeException unreadable) {
            return false;
        }
        return false;
    }

    @Test void secondRunInTheSameFolderIsRefused(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("run"), log = tmp.resolve("log.txt"), log2 = tmp.resolve("log2.txt");
        Process first = start(train(out, 400, 24), log);
        try {
            awaitLines(first, log, EPOCH_LINE, 1);
            assertEquals(1, runToEnd(resume(out, 400), log2));
            assertTrue(Files.readString(log2).contains("is in use by another run (process " + first.pid()),
                    Files.readString(log2));
            assertTrue(Files.readString(log2).contains("; wait for it to end, then resume"), Files.readString(log2));
        } finally {
            first.destroyForcibly().waitFor();
        }
    }
}
