package jresnet.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import jresnet.UserException;
import jresnet.backend.Backend;
import jresnet.backend.DeviceOutOfMemoryException;
import jresnet.backend.cuda.Doctor;
import jresnet.backend.cuda.DoctorReport;
import jresnet.data.BatchTransform;
import jresnet.data.Cifar10;
import jresnet.data.DataLocator;
import jresnet.data.JpegRoundTrip;
import jresnet.data.Dataset;
import jresnet.export.OnnxExport;
import jresnet.io.AtomicFiles;
import jresnet.io.Checkpoint;
import jresnet.io.FileDigest;
import jresnet.io.FileErrors;
import jresnet.io.Npy;
import jresnet.io.Safetensors;
import jresnet.models.ModelZoo;
import jresnet.nn.Executor;
import jresnet.nn.Model;
import jresnet.report.ComparisonReport;
import jresnet.report.ModelRun;
import jresnet.tensor.HostArray;
import jresnet.train.BatchMemory;
import jresnet.train.ComparisonPlan;
import jresnet.train.Benchmark;
import jresnet.train.EpochMetrics;
import jresnet.train.OpProfile;
import jresnet.train.Recipe;
import jresnet.train.RunRecorder;
import jresnet.train.TestSetAccuracy;
import jresnet.train.Trainer;
import jresnet.train.TrainingRun;

/** The jresnet command line. Exit codes: 0 success, 1 error, 2 bad usage, 130 interrupted. */
public final class Main {
    private static final String USAGE = """
            usage: jresnet <command> [flags]
              summary  --model M
              train    --model M --out DIR [--epochs N] [--batch-size 128] [--limit-train N] [--limit-test N]
                       [--seed S] [--weights W] [--recipe keras|he2015|fast] [--val-split N] [--on-nan stop|skip-batch]
                       [--device auto|cuda|cpu|reference] [--data DIR]
              train    --resume DIR [--epochs N] [--device D] [--data DIR]
              evaluate --model M --weights W [--limit-test N] [--tta none|flip] [--jpeg-quality Q] [--batch-size 128]
                       [--device D] [--data DIR]
              predict  --model M --weights W --input X.npy --output P.npy [--batch-size 128] [--device D]
              export   --model M --weights W --output MODEL.onnx [--opset 17] [--overwrite] [--data DIR]
              bench    --model M [--device D] [--batch-size 128] [--steps 20] [--warmup 3] [--seed S] [--profile]
              doctor   (CUDA driver, device, cuBLAS/cuDNN, kernels: exit 0 only when CUDA training can run)
              compare  [--models resnet30,plain30] [--quick] [--epochs N] [--out DIR] [--limit-train N] [--limit-test N]
                       [--seed S] [--batch-size 128] [--recipe R] [--val-split N] [--device D] [--data DIR]
              compare  --resume DIR [--epochs N] [--device D] [--data DIR]
            every command also takes --debug (stack traces on errors)
            models: %s,
                    and tutorial-resnet-B1.B2...-wW / tutorial-plain-B1.B2...-wW: the tutorial's network with 1 to 4
                    stages of B blocks each, the first W filters wide (resnet30 is tutorial-resnet-2.5.5.2-w64)""";

    private final PrintStream out, err;
    /** The batch size of the command being run, for out-of-memory advice. */
    private int batchSize = 128;

    Main(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    public static void main(String[] argv) {
        System.exit(new Main(System.out, System.err).run(argv));
    }

    int run(String[] argv) {
        boolean debug = Arrays.asList(argv).contains("--debug");
        String[] args = Arrays.stream(argv).filter(a -> !a.equals("--debug")).toArray(String[]::new);
        try {
            if (args.length == 0) { // a mistake: the usage goes with the error exit, to stderr
                err.println(usage());
                return 2;
            }
            // help asked for anywhere (jresnet train --help) is help, not an unknown flag
            if (args[0].equals("help") || Arrays.stream(args).anyMatch(a -> a.equals("--help") || a.equals("-h"))) {
                out.println(usage());
                return 0;
            }
            return switch (args[0]) {
                case "summary" -> summary(args);
                case "train" -> train(args);
                case "evaluate" -> evaluate(args);
                case "predict" -> predict(args);
                case "export" -> export(args);
                case "compare" -> compare(args);
                case "bench" -> bench(args);
                case "doctor" -> doctor(args);
                default -> throw new UsageException("unknown command '" + args[0] + "'");
            };
        } catch (UsageException e) {
            // one line, as every error: the usage text is a --help away
            errorLine("error: " + e.getMessage() + " (jresnet --help lists the commands and their flags)");
            return 2;
        } catch (Trainer.Stopped e) {
            errorLine("stopped: " + e.getMessage());
            if (debug) e.printStackTrace(err);
            return e.exitCode();
        } catch (UserException e) {
            errorLine("error: " + e.getMessage());
            if (debug) e.printStackTrace(err);
            return 1;
        } catch (IOException e) {
            errorLine("error: " + FileErrors.describe(e));
            if (debug) e.printStackTrace(err);
            return 1;
        } catch (UncheckedIOException e) {
            // the wrapper's message says what was being written when the cause does not name its file
            IOException cause = e.getCause();
            errorLine("error: " + (cause instanceof FileSystemException f && f.getFile() != null ? FileErrors.describe(cause)
                    : e.getMessage() + ": " + FileErrors.reason(cause)));
            if (debug) e.printStackTrace(err);
            return 1;
        } catch (DeviceOutOfMemoryException e) {
            errorLine("error: " + e.getMessage() + " at batch size " + batchSize + "; try --batch-size " + Math.max(1, batchSize / 2));
            return 1;
        } catch (OutOfMemoryError e) {
            errorLine("error: out of host memory (" + e.getMessage() + ") at batch size " + batchSize + "; try --batch-size "
                    + Math.max(1, batchSize / 2) + " or a larger heap (JRESNET_JAVA_OPTS=-Xmx...)");
            return 1;
        } catch (RuntimeException e) {
            // A bug, not bad input: its message without Java's class name, and where to look further.
            errorLine("error: internal error" + (e.getMessage() == null ? "" : ": " + e.getMessage())
                    + (debug ? "" : " (run with --debug for the stack trace)"));
            if (debug) e.printStackTrace(err);
            return 1;
        }
    }

    /**
     * Prints a one-line error with control characters shown as \xNN: a file name the user gave may
     * hold a line break or a terminal escape, which would break the one line or reach the terminal.
     */
    private void errorLine(String line) {
        StringBuilder shown = new StringBuilder(line.length());
        line.codePoints().forEach(c -> {
            if (Character.isISOControl(c)) shown.append(String.format(Locale.ROOT, "\\x%02x", c));
            else shown.appendCodePoint(c);
        });
        err.println(shown);
    }

    /** Each command's flags that take a value; the usage above lists every one (MainTest checks). */
    static final Map<String, Set<String>> VALUED_FLAGS = Map.of(
            "summary", Set.of("model"),
            "train", Set.of("model", "out", "epochs", "batch-size", "limit-train", "limit-test", "seed", "weights", "recipe",
                    "val-split", "on-nan", "device", "data", "resume"),
            "evaluate", Set.of("model", "weights", "limit-test", "tta", "batch-size", "device", "data", "jpeg-quality"),
            "predict", Set.of("model", "weights", "input", "output", "batch-size", "device"),
            "export", Set.of("model", "weights", "output", "opset", "data"),
            "bench", Set.of("model", "device", "batch-size", "steps", "warmup", "seed"),
            "doctor", Set.of(),
            "compare", Set.of("models", "epochs", "out", "limit-train", "limit-test", "seed", "batch-size", "recipe", "device",
                    "data", "val-split", "resume"));
    /** Each command's flags that take no value. */
    static final Map<String, Set<String>> SWITCHES = Map.of("export", Set.of("overwrite"), "bench", Set.of("profile"),
            "compare", Set.of("quick"));

    private static Args args(String command, String[] argv) {
        return new Args(command, argv, 1, VALUED_FLAGS.get(command), SWITCHES.getOrDefault(command, Set.of()));
    }

    private static String usage() { return String.format(USAGE, String.join(", ", ModelZoo.names())); }

    private int summary(String[] argv) {
        Args a = args("summary", argv);
        out.print(ModelZoo.create(modelName(a, "summary")).summary());
        return 0;
    }

    private int train(String[] argv) throws IOException {
        Args a = args("train", argv);
        batchSize = a.integer("batch-size", 128, 1);
        if (a.has("resume")) {
            for (String f : List.of("model", "out", "batch-size", "limit-train", "limit-test", "seed", "weights", "recipe", "val-split", "on-nan")) {
                if (a.has(f)) throw new UsageException("train --resume takes the run's own configuration; --" + f + " cannot change it");
            }
            Path runDir = a.path("resume");
            int epochs = a.integer("epochs", 0, 1);
            String device = device(a);
            Path data = a.has("data") ? DataLocator.resolve(a.string("data", null)) : null;
            TrainingRun.requireRunFolder(runDir); // before the device's notice, so that a mistyped folder is the one line
            AtomicFiles.requireCreatableFolder("--resume", runDir);
            try (Backend backend = Devices.open(device, err)) {
                TrainingRun.resume(runDir, epochs, backend, data, out, System.console() != null);
            }
            return 0;
        }
        String model = modelName(a, "train");
        ModelZoo.create(model); // a network too large for the heap is refused before the data is looked for
        Path runDir = outFolder(a, "train");
        TrainingRun.Config config = config(a, model, a.integer("epochs", 0, 1));
        String device = device(a);
        noticeLimitsBeyondTheData(a);
        checkTrainingImages(config);
        AtomicFiles.requireCreatableFolder("--out", runDir);
        Path data = DataLocator.resolve(a.string("data", null));
        try (Backend backend = Devices.open(device, err)) {
            TrainingRun.start(config, backend, data, runDir, out, System.console() != null, environment());
        }
        return 0;
    }

    /**
     * A notice for --limit-train or --limit-test above what CIFAR-10 has: they then mean all of it,
     * which a user who typed 60000 for the whole set may not have meant.
     */
    private void noticeLimitsBeyondTheData(Args a) {
        noticeLimitBeyond(a, "limit-train", Cifar10.TRAINING_RECORDS, "training");
        noticeLimitBeyond(a, "limit-test", Cifar10.RECORDS_PER_FILE, "test");
    }

    private void noticeLimitBeyond(Args a, String flag, int images, String set) {
        int limit = a.integer(flag, 0, 1);
        if (limit > images) {
            err.printf(Locale.ROOT, "notice: --%s %d is more than CIFAR-10's %,d %s images; all of them are used%n", flag, limit, images, set);
        }
    }

    /**
     * --val-split against the training images the limits leave, before any data is read: a split that
     * leaves none is a bad value. (What runs, but not as the flags read, TrainingRun notices.)
     */
    private static void checkTrainingImages(TrainingRun.Config c) {
        int available = Cifar10.TRAINING_RECORDS, images = Cifar10.trainingRecords(c.limitTrain());
        if (c.validationSplit() >= images) {
            String from = images < available ? "the --limit-train " + images : String.format(Locale.ROOT, "CIFAR-10's %,d", available);
            throw new UsageException("--val-split " + c.validationSplit() + " leaves no training data: the validation images are the last of "
                    + from + " training images");
        }
    }

    private static String device(Args a) { return a.choice("device", "auto", Devices.NAMES); }

    /** --out as given. */
    private static Path outFolder(Args a, String command) {
        return Path.of(command.equals("compare") ? a.string("out", "runs/compare") : a.required(command, "out"));
    }

    private static TrainingRun.Config config(Args a, String model, int epochs) throws IOException {
        String weights = a.string("weights", null);
        TrainingRun.Config given = new TrainingRun.Config(model,
                a.choice("recipe", Recipe.defaultFor(model).cliName(), Recipe.cliNames()), epochs,
                a.integer("batch-size", 128, 1), a.longValue("seed", 0), a.integer("limit-train", 0, 1),
                a.integer("limit-test", 0, 1), a.integer("val-split", 0, 1), weights,
                a.choice("on-nan", "stop", "stop", "skip-batch"));
        if (weights == null) return given;
        // after the values above: a mistyped flag is the usage error whatever the files are. Recorded as
        // the file's real path, as the data folder is recorded absolute: a resume from another folder
        // must read the same file ("lnk/../x" resolved as the system does, not as text)
        return given.withInitialWeights(weightsFile(weights).toRealPath().toString());
    }

    private static Map<String, Object> environment() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("jresnet_version", jresnet.Version.current());
        m.put("java_version", System.getProperty("java.version"));
        m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
        m.put("processors", Runtime.getRuntime().availableProcessors());
        return m;
    }

    /** A model with the weights of --weights, and the inference preprocessing recorded with them. */
    private record Trained(Model model, BatchTransform preprocessing) {}

    private static Trained trained(Args a, String command) throws IOException {
        return trained(modelName(a, command), weightsFile(a.required(command, "weights")));
    }

    /** --model, refused as a bad value (exit 2) where it names no network, before anything is built or read. */
    private static String modelName(Args a, String command) {
        return knownModel(a.required(command, "model"), "");
    }

    /** {@code name}, refused as a bad flag value where it names no network; {@code flag} prefixes the line. */
    private static String knownModel(String name, String flag) {
        String unknown = ModelZoo.whyUnknown(name);
        if (unknown != null) throw new UsageException(flag + unknown);
        return name;
    }

    /** --weights, named with the flag where it is no file (missing, a folder). */
    private static Path weightsFile(String weights) {
        String why = FileErrors.notAFile(Path.of(weights));
        if (why != null) throw new UserException("--weights " + weights + ": " + why);
        return Path.of(weights);
    }

    private static Trained trained(String name, Path w) throws IOException {
        Model model = ModelZoo.create(name);
        Safetensors.File file = Safetensors.read(w);
        ModelZoo.requireWeightsOf(model, file.metadata(), w.toString());
        model.setWeights(file.tensors(), w.toString());
        return new Trained(model, Recipe.inferenceTransform(file.metadata(), w.toString()));
    }

    private int evaluate(String[] argv) throws IOException {
        Args a = args("evaluate", argv);
        batchSize = a.integer("batch-size", 128, 1);
        String device = device(a);
        boolean flipTta = a.choice("tta", "none", "none", "flip").equals("flip");
        int jpegQuality = a.integer("jpeg-quality", 0, 1);
        if (jpegQuality > 100) throw new UsageException("--jpeg-quality: must be 1 to 100, got " + jpegQuality);
        // every flag checked before the data is looked for, which may start a 170 MB download
        int limitTest = a.integer("limit-test", 0, 1);
        noticeLimitsBeyondTheData(a);
        Trained trained = trained(a, "evaluate");
        Dataset test = Cifar10.test(DataLocator.resolve(a.string("data", null)), limitTest);
        // no batch larger than the test set: its buffers would only be sized for images that are not there
        int batch = batchSize = Math.min(batchSize, test.size());
        try (Backend backend = Devices.open(device, err)) {
            BatchMemory.requireFits(trained.model(), batch, backend);
            TestSetAccuracy.Result r, flipped = null;
            List<String> reencodedLines = List.of();
            try (Executor ex = new Executor(trained.model(), backend, batch)) {
                r = TestSetAccuracy.evaluate(ex, test, batch, trained.preprocessing(), false);
                if (flipTta) flipped = TestSetAccuracy.evaluate(ex, test, batch, trained.preprocessing(), true);
                if (jpegQuality > 0) {
                    Dataset reencoded = JpegRoundTrip.apply(test, jpegQuality);
                    reencodedLines = new ArrayList<>();
                    JpegRoundTrip.Distortion d = JpegRoundTrip.distortion(test, reencoded);
                    String prefix = "JPEG quality " + jpegQuality + " re-encoded: ";
                    reencodedLines.add(prefix + d.describe());
                    reencodedLines.addAll(TestSetAccuracy.evaluate(ex, reencoded, batch, trained.preprocessing(), false).lines(prefix));
                    if (flipTta) {
                        reencodedLines.addAll(TestSetAccuracy.evaluate(ex, reencoded, batch, trained.preprocessing(), true)
                                .lines(prefix + "flip TTA "));
                    }
                }
            }
            double loss = r.lossSum() / test.size();
            if (!Double.isFinite(loss)) {
                throw new UserException(a.string("weights", null) + ": the model's outputs on the test images are not finite "
                        + "(loss " + loss + "); the weights are finite but too large for float32");
            }
            out.printf(Locale.ROOT, "%d/%d - loss: %.4f - accuracy: %.4f%n", test.size(), test.size(), loss, r.all().accuracy());
            r.lines("").forEach(out::println);
            if (flipped != null) flipped.lines("flip TTA ").forEach(out::println);
            reencodedLines.forEach(out::println);
        }
        return 0;
    }

    /** The test accuracy of a finished run's last checkpoint, on the test records its configuration names. */
    private static TestSetAccuracy.Result testAccuracy(String model, Path runDir, TrainingRun.Config config, Backend backend,
                                                       Path data) throws IOException {
        Trained trained = trained(model, runDir.resolve(RunRecorder.CHECKPOINT).resolve(Checkpoint.WEIGHTS));
        Dataset test = Cifar10.test(data, config.limitTest());
        try (Executor ex = new Executor(trained.model(), backend, config.batchSize())) {
            return TestSetAccuracy.evaluate(ex, test, config.batchSize(), trained.preprocessing(), false);
        }
    }

    private int predict(String[] argv) throws IOException {
        Args a = args("predict", argv);
        batchSize = a.integer("batch-size", 128, 1);
        String device = device(a);
        Trained trained = trained(a, "predict");
        Path input = a.requiredPath("predict", "input"), output = OutputPaths.requireFileTarget("--output", a.required("predict", "output"));
        OutputPaths.requireNotAnInput("--output", output, Map.of("--weights", Path.of(a.required("predict", "weights")), "--input", input));
        OutputPaths.requireReplaceable("--output", output, Main::isPredictions, "an earlier predictions file (N, 10) of float32");
        AtomicFiles.requireWritableFolder("--output", output);
        HostArray x = Npy.read(input);
        Npy.requireShape(x, input, -1, 32, 32, 3);
        requireFiniteRows(x, input + ": row %d holds %s at index %s; images must be finite pixel values (0-255)");
        noticeUnusualPixels(x, input);
        if (trained.preprocessing() != null) trained.preprocessing().apply(x.data(), x.shape().dim(0), null);
        HostArray probabilities;
        try (Backend backend = Devices.open(device, err)) {
            int batch = Math.min(batchSize, x.shape().dim(0));
            BatchMemory.requireFits(trained.model(), batch, backend);
            probabilities = trained.model().predict(backend, x, batch);
        }
        requireFiniteRows(probabilities, "the probabilities of row %d hold %s at index %s (the weights are finite but overflow "
                + "float32 on this image); nothing written to " + output);
        Npy.write(output, probabilities);
        out.printf("wrote %s: %s probabilities%n", output, probabilities.shape());
        return 0;
    }

    private static boolean isPredictions(Path file) {
        try {
            return Npy.isFloat32WithShape(file, -1, 10);
        } catch (IOException | UserException unreadable) {
            return false;
        }
    }

    /**
     * predict takes raw pixels as CIFAR-10 stores them (the weights' own preprocessing follows). Images
     * standardised or scaled to 0-1 beforehand still give probabilities, of an input the network never
     * saw, so they are used as they are but not in silence.
     */
    private void noticeUnusualPixels(HostArray images, Path input) {
        float min = Float.POSITIVE_INFINITY, max = Float.NEGATIVE_INFINITY;
        for (float v : images.data()) {
            min = Math.min(min, v);
            max = Math.max(max, v);
        }
        if (min < 0f || max > 255f) {
            err.printf("notice: %s holds values from %s to %s, outside the 0-255 of raw pixels that predict takes; "
                    + "they are used as they are%n", input, min, max);
        } else if (max <= 1f) {
            err.printf("notice: %s holds values from %s to %s only; predict takes raw pixels 0-255, so images scaled "
                    + "to 0-1 look almost black to the network%n", input, min, max);
        }
    }

    /** The first non-finite value of a batch of rows, reported by row (format: row, value, index). */
    private static void requireFiniteRows(HostArray rows, String format) {
        float[] v = rows.data();
        int perRow = v.length / rows.shape().dim(0);
        for (int i = 0; i < v.length; i++) {
            if (!Float.isFinite(v[i])) throw new UserException(String.format(format, i / perRow, v[i], rows.shape().indexString(i)));
        }
    }

    private int export(String[] argv) throws IOException {
        Args a = args("export", argv);
        int opset = a.integer("opset", OnnxExport.DEFAULT_OPSET, OnnxExport.MIN_OPSET);
        if (opset > OnnxExport.MAX_OPSET) throw new UsageException("--opset: must be at most " + OnnxExport.MAX_OPSET + ", got " + opset);
        String model = modelName(a, "export");
        Path output = OutputPaths.requireFileTarget("--output", a.required("export", "output"));
        String given = a.required("export", "weights");
        OutputPaths.requireNotAnInput("--output", output, Map.of("--weights", Path.of(given)));
        Path weights = weightsFile(given);
        out.println(OnnxExport.run(new OnnxExport.Request(model, weights, output, opset, a.has("overwrite"), a.string("data", null))));
        return 0;
    }

    private int bench(String[] argv) {
        Args a = args("bench", argv);
        batchSize = a.integer("batch-size", 128, 1);
        String name = modelName(a, "bench");
        String device = device(a);
        int batch = batchSize, steps = a.integer("steps", 20, 1), warmup = a.integer("warmup", 3, 0);
        long seed = a.longValue("seed", 0);
        if ((long) steps * Double.BYTES > Runtime.getRuntime().maxMemory() / 4) {
            throw new UsageException("--steps " + steps + ": too many step times to keep in the Java heap");
        }
        Model model = ModelZoo.create(name);
        try (Backend backend = Devices.open(device, err)) {
            BatchMemory.requireFits(model, batch, backend);
            out.printf("bench %s on %s: batch %d, %d warm-up + %d timed training step%s%n", name, backend.name(), batch, warmup, steps,
                    steps == 1 ? "" : "s");
            if (!backend.kernelChoices().isEmpty()) out.println("kernels: " + backend.kernelChoices());
            OpProfile profile = a.has("profile") ? new OpProfile(backend) : null;
            Benchmark.Result r = Benchmark.run(model, profile == null ? backend : profile.backend(),
                    Recipe.defaultFor(name).optimizer(), batch, warmup, steps, seed, profile);
            if (profile != null) profile.table().forEach(out::println);
            out.println(r.toJson());
        }
        return 0;
    }

    private int doctor(String[] argv) {
        args("doctor", argv);
        DoctorReport report = Doctor.run();
        report.lines().forEach(out::println);
        out.println(report.ok() ? "CUDA training can run here." : "CUDA training cannot run here (the CPU backend can: --device cpu).");
        return report.ok() ? 0 : 1;
    }

    private int compare(String[] argv) throws IOException {
        Args a = args("compare", argv);
        batchSize = a.integer("batch-size", 128, 1);
        if (a.has("resume")) return resumeComparison(a);
        boolean quick = a.has("quick");
        List<String> models = List.of(a.string("models", quick ? "resnet20,plain20" : "resnet30,plain30").split(",", -1));
        List<Model> built = new ArrayList<>();
        for (String m : models) {
            if (m.isBlank()) throw new UsageException("compare: --models has an empty name: '" + a.string("models", "") + "'");
            if (models.indexOf(m) != models.lastIndexOf(m)) {
                throw new UsageException("compare: --models names " + m + " twice; each model is one run folder");
            }
            Model model = ModelZoo.create(knownModel(m, "--models: ")); // also one too large for the heap, before the data is looked for
            for (Model earlier : built) {
                if (ModelZoo.sameNetwork(earlier, model)) {
                    err.printf("notice: --models: %s and %s name the same network; it is trained twice%n", earlier.name(), m);
                }
            }
            built.add(model);
        }
        Path outDir = outFolder(a, "compare");
        int epochs = a.integer("epochs", quick ? QUICK_EPOCHS : 0, 1);
        String device = device(a);
        // every flag checked before the data is looked for, which may start a 170 MB download
        List<TrainingRun.Config> configs = new ArrayList<>();
        for (String m : models) configs.add(quick ? quickLimits(config(a, m, epochs), a) : config(a, m, epochs));
        noticeLimitsBeyondTheData(a);
        checkTrainingImages(configs.get(0));
        OutputPaths.requireEmptyFolder("--out", outDir);
        AtomicFiles.requireCreatableFolder("--out", outDir);
        Path data = DataLocator.resolve(a.string("data", null));
        ComparisonPlan plan = new ComparisonPlan(data.toAbsolutePath().normalize().toString(), configs);
        try (Backend backend = Devices.open(device, err)) {
            plan.write(outDir);
            return runComparison(plan, outDir, backend, data, null);
        }
    }

    /** compare --resume DIR: every run of the plan continued (or started, if it never was), then the report. */
    private int resumeComparison(Args a) throws IOException {
        for (String f : List.of("models", "out", "batch-size", "limit-train", "limit-test", "seed", "recipe", "val-split")) {
            if (a.has(f)) throw new UsageException("compare --resume takes the comparison's own configuration; --" + f + " cannot change it");
        }
        if (a.has("quick")) throw new UsageException("compare --resume takes the comparison's own configuration; --quick cannot change it");
        Path outDir = a.path("resume");
        int epochs = a.integer("epochs", 0, 1);
        String device = device(a);
        ComparisonPlan plan = ComparisonPlan.read(outDir);
        AtomicFiles.requireCreatableFolder("--resume", outDir);
        Path dataFlag = a.has("data") ? DataLocator.resolve(a.string("data", null)) : null;
        Path data = dataFlag != null ? dataFlag : Path.of(plan.data());
        if (!Files.isDirectory(data)) {
            throw new UserException(outDir.resolve(ComparisonPlan.FILE) + ": the comparison's data folder " + data
                    + " is gone; give its new place with --data DIR");
        }
        if (epochs > 0) plan = lengthened(plan, outDir, epochs);
        try (Backend backend = Devices.open(device, err)) {
            return runComparison(plan, outDir, backend, data, dataFlag);
        }
    }

    /**
     * The plan with every run {@code epochs} long, written to compare.json before any run trains, so
     * that a comparison stopped after the new length began continues to it on a plain --resume, for
     * every model, not only for those that had started it. Refused while a run has finished more.
     */
    private static ComparisonPlan lengthened(ComparisonPlan plan, Path outDir, int epochs) throws IOException {
        for (TrainingRun.Config config : plan.runs()) {
            int finished = TrainingRun.finishedEpochs(outDir.resolve(config.model()));
            if (finished > epochs) {
                throw new UserException("--epochs " + epochs + ": the run in " + outDir.resolve(config.model())
                        + " has already finished " + finished + " epochs");
            }
        }
        ComparisonPlan longer = plan.withEpochs(epochs);
        longer.write(outDir);
        return longer;
    }

    /**
     * Trains the plan's models one after the other into their sub-folders, then writes the report. A
     * sub-folder that holds a run is continued from its checkpoint, on the data it recorded unless
     * dataFlag names another folder, to the plan's length (a run that a lengthened plan had not yet
     * reached is lengthened here).
     */
    private int runComparison(ComparisonPlan plan, Path outDir, Backend backend, Path data, Path dataFlag)
            throws IOException {
        List<ModelRun> runs = new ArrayList<>();
        boolean trained = false, testsChanged = false, outdatedBefore = plan.reportOutdated();
        // a missing test file is left to the evaluation, which names it in the data's words
        Path testFile = data.resolve(Cifar10.TEST_FILE);
        String testFileSha256 = Files.isRegularFile(testFile) ? FileDigest.sha256(testFile) : "";
        for (TrainingRun.Config config : plan.runs()) {
            String m = config.model();
            Path runDir = outDir.resolve(m);
            out.printf("== %s (%s recipe) on %s%n", m, config.recipe(), backend.name());
            // the way on after a stop is the whole comparison's, which also trains the models after this one
            String resumeCommand = "jresnet compare --resume " + outDir;
            boolean recorded = Files.isRegularFile(runDir.resolve(TrainingRun.CONFIG));
            int finishedBefore = recorded ? TrainingRun.finishedEpochs(runDir) : -1;
            // a run that starts trains; one that goes on is marked once it returns, below
            if (!recorded) plan = markReportOutdated(plan, outDir);
            List<EpochMetrics> history = recorded
                    ? TrainingRun.resume(runDir, config.epochs(), backend, dataFlag, out, System.console() != null, resumeCommand)
                    : TrainingRun.start(config, backend, data, runDir, out,
                            System.console() != null, environment(), resumeCommand);
            if (history.size() != finishedBefore) {
                trained = true;
                plan = markReportOutdated(plan, outDir);
            }
            String device = TrainingRun.recordedDevice(runDir);
            String weightsSha256 = FileDigest.sha256(runDir.resolve(RunRecorder.CHECKPOINT).resolve(Checkpoint.WEIGHTS));
            TestSetAccuracy.Result test = plan.testedBefore(m, weightsSha256, testFileSha256);
            if (test == null) {
                TestSetAccuracy.Result earlier = plan.recordedTest(m);
                test = testAccuracy(m, runDir, config, backend, data);
                // other weights or another test file measured otherwise: the report's test figures are out of date
                boolean changed = earlier != null && !(earlier.all().equals(test.all()) && earlier.exact().equals(test.exact()));
                testsChanged |= changed;
                plan = plan.withTest(m, weightsSha256, testFileSha256, test);
                if (changed) plan = plan.withReportOutdated();
                plan.write(outDir);
            } else {
                out.printf("%s: test accuracy as measured before on these weights and this test file%n", m);
            }
            runs.add(new ModelRun(m, ModelZoo.create(m).countParams(), device == null ? backend.name() : device, history, test));
        }
        Path report = outDir.resolve("report.md");
        out.print(ComparisonReport.table(runs));
        boolean rewrite = trained || testsChanged || outdatedBefore;
        // a report the user added notes to is moved aside before the new one replaces it
        if (rewrite && Files.isRegularFile(report) && plan.reportSha256() != null
                && !plan.reportSha256().equals(FileDigest.sha256(report))) {
            Path aside = AtomicFiles.moveAside(report);
            out.printf("notice: %s differs from the report this comparison wrote (notes added?); moved to %s, and the "
                    + "report written anew%n", report, aside);
        }
        // every run had finished and measured as before: the report already says all this, and may hold the user's notes
        List<String> written = ComparisonReport.write(outDir, runs, !rewrite);
        if (written.contains("report.md")) plan.withReport(FileDigest.sha256(report)).write(outDir);
        out.println("report: " + report + (trained ? ""
                : testsChanged ? " (every run had finished, but test figures differ from those recorded: the report written anew)"
                : outdatedBefore ? " (every run had finished, but an earlier compare stopped before it wrote the report: written anew)"
                : written.isEmpty() ? " (every run had finished; the report is kept as it is)"
                : " (every run had finished; only its missing files written: " + String.join(", ", written) + ")"));
        return 0;
    }

    /** The plan marked, in its file too, as having a report that is out of date (once; a marked plan as it is). */
    private static ComparisonPlan markReportOutdated(ComparisonPlan plan, Path outDir) throws IOException {
        if (plan.reportOutdated()) return plan;
        ComparisonPlan marked = plan.withReportOutdated();
        marked.write(outDir);
        return marked;
    }

    /** compare --quick: a few epochs on a subset, sized to finish in minutes on two CPU cores. */
    static final int QUICK_EPOCHS = 3;

    private static TrainingRun.Config quickLimits(TrainingRun.Config c, Args a) {
        return new TrainingRun.Config(c.model(), c.recipe(), c.epochs(), c.batchSize(), c.seed(),
                a.integer("limit-train", 20_000, 1), a.integer("limit-test", 5_000, 1), c.validationSplit(),
                c.initialWeights(), c.onNan());
    }
}
