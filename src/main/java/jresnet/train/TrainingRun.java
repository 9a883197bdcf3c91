package jresnet.train;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.CharacterCodingException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import jresnet.UserException;
import jresnet.backend.Backend;
import jresnet.data.BatchTransform;
import jresnet.data.DataFingerprint;
import jresnet.data.DataLocator;
import jresnet.data.Dataset;
import jresnet.io.AtomicFiles;
import jresnet.io.Checkpoint;
import jresnet.io.Json;
import jresnet.io.RunLock;
import jresnet.io.Safetensors;
import jresnet.models.ModelZoo;
import jresnet.nn.Executor;
import jresnet.nn.Model;
import jresnet.optim.Optimizer;

/**
 * One training run into a run folder: config.json with the full configuration, then the fit loop
 * with progress, metrics, checkpoints and TensorBoard logs; or the continuation of such a run from
 * its last complete checkpoint.
 */
public final class TrainingRun {
    public static final String CONFIG = "config.json";
    private static final List<String> ON_NAN = List.of("stop", "skip-batch");

    /** Everything that defines a run; written to config.json and read back on resume. */
    public record Config(String model, String recipe, int epochs, int batchSize, long seed, int limitTrain,
                         int limitTest, int validationSplit, @Json.Optional String initialWeights, String onNan) {

        public Recipe parsedRecipe() { return Recipe.parse(recipe); }

        public Config withEpochs(int n) {
            return new Config(model, recipe, n, batchSize, seed, limitTrain, limitTest, validationSplit, initialWeights, onNan);
        }

        public Config withInitialWeights(String path) {
            return new Config(model, recipe, epochs, batchSize, seed, limitTrain, limitTest, validationSplit, path, onNan);
        }

        /** Every field checked, naming source and field: a hand-edited or corrupt config.json must not start a bogus run. */
        public void validate(String source) {
            if (model.isEmpty()) throw bad(source, "model", "a model name", "\"\"");
            try {
                ModelZoo.create(model);
            } catch (UserException e) {
                throw new UserException(source + ": field 'model': " + e.getMessage());
            }
            if (java.util.Arrays.stream(Recipe.values()).noneMatch(r -> r.cliName().equals(recipe))) {
                throw bad(source, "recipe", "one of " + java.util.Arrays.stream(Recipe.values()).map(Recipe::cliName)
                        .collect(java.util.stream.Collectors.joining(", ")), "\"" + recipe + "\"");
            }
            if (epochs < 0) throw bad(source, "epochs", "0 (the recipe's length) or more", epochs);
            if (batchSize < 1) throw bad(source, "batch_size", "at least 1", batchSize);
            if (limitTrain < 0) throw bad(source, "limit_train", "0 (no limit) or more", limitTrain);
            if (limitTest < 0) throw bad(source, "limit_test", "0 (no limit) or more", limitTest);
            if (validationSplit < 0) throw bad(source, "validation_split", "0 (the test set) or more", validationSplit);
            if (!ON_NAN.contains(onNan)) throw bad(source, "on_nan", "one of stop, skip-batch", "\"" + onNan + "\"");
        }
    }

    /** The data folder a run trains on and its fingerprint, as config.json records them. */
    record RecordedData(@Json.Optional String data, @Json.Optional DataFingerprint dataFingerprint) {}

    /** The data a run trains and validates on. */
    public record Data(Dataset train, Dataset validation) {
        /** Training records (limited), and the test records or the last {@code split} training records as validation. */
        public static Data load(Path dir, Config c) throws IOException {
            Dataset train = jresnet.data.Cifar10.training(dir, c.limitTrain());
            if (c.validationSplit() > 0) {
                if (c.validationSplit() >= train.size()) {
                    throw new UserException("--val-split " + c.validationSplit() + " leaves no training data (" + train.size() + " records)");
                }
                int cut = train.size() - c.validationSplit();
                return new Data(train.slice(0, cut), train.slice(cut, train.size()));
            }
            return new Data(train, jresnet.data.Cifar10.test(dir, c.limitTest()));
        }
    }

    private TrainingRun() {}

    /**
     * Starts a fresh run into {@code out}, which must be absent or empty: nothing a user made (an
     * earlier run's metrics, best weights, any file) is ever overwritten.
     */
    public static List<EpochMetrics> start(Config config, Backend backend, Path dataDir, Path out, PrintStream console,
                                           boolean terminal, Map<String, Object> environment) throws IOException {
        return start(config, backend, dataDir, out, console, terminal, environment, "jresnet train --resume " + out);
    }

    /** As above; a stop's line names {@code resumeCommand} as the way on (compare names its own). */
    public static List<EpochMetrics> start(Config config, Backend backend, Path dataDir, Path out, PrintStream console,
                                           boolean terminal, Map<String, Object> environment, String resumeCommand)
            throws IOException {
        if (out.toString().isEmpty()) throw new UserException("--out: the folder name is empty; name a folder for the run");
        if (Files.exists(out) && !Files.isDirectory(out)) {
            throw new UserException("--out " + out + ": is a file, not a folder; choose a folder for the run");
        }
        Model model = ModelZoo.create(config.model());
        BatchMemory.requireFits(model, config.batchSize(), backend);
        // checked before the lock file is made (a refused folder stays as it was) and again under the lock
        if (Files.isDirectory(out)) refuseUnlessEmpty(out, config);
        // the data and the weights too: a folder made for a run that cannot start would be left behind
        Data data = Data.load(dataDir, config);
        model.initializeWeights(config.seed());
        if (config.initialWeights() != null) {
            Path w = Path.of(config.initialWeights());
            setInitialWeights(model, w, "--weights " + w);
        }
        noticeFlagsTheDataMakesMoot(config, data, console);
        // from the data, and refused there (images that do not vary), before the folder is made
        Map<String, String> preprocessing = config.parsedRecipe().inferenceMetadata(data.train());
        Files.createDirectories(out);
        try (RunLock lock = RunLock.acquire(out, "wait for it or choose another --out")) {
            AtomicFiles.recoverDirectory(out.resolve(RunRecorder.CHECKPOINT));
            AtomicFiles.removeTemporaryFiles(out);
            if (refuseUnlessEmpty(out, config)) {
                console.printf("notice: %s holds this run, stopped before its first epoch ended; starting it again%n", out);
            }
            JsonObject json = Json.tree(config);
            json.addProperty("device", backend.name());
            json.add("optimizer", Json.tree(optimizer(config, data).config()));
            json.add("recipe_settings", Json.tree(config.parsedRecipe().settings()));
            Json.tree(environment).entrySet().forEach(e -> json.add(e.getKey(), e.getValue()));
            JsonObject recorded = Json.tree(new RecordedData(dataDir.toAbsolutePath().normalize().toString(), DataFingerprint.of(dataDir)));
            recorded.entrySet().forEach(e -> json.add(e.getKey(), e.getValue()));
            AtomicFiles.writeString(out.resolve(CONFIG), Json.pretty(json));
            return fit(config, model, backend, data, preprocessing, out, new TrainingState(), null, console, terminal, resumeCommand);
        }
    }

    /** A run that goes ahead, but not as its flags read: a batch larger than the training images, --limit-test beside --val-split. */
    private static void noticeFlagsTheDataMakesMoot(Config config, Data data, PrintStream console) {
        int images = data.train().size();
        if (config.batchSize() > images) {
            console.printf(Locale.ROOT, "notice: --batch-size %d is more than the %,d images trained on; each epoch is one batch of %,d%n",
                    config.batchSize(), images, images);
        }
        if (config.validationSplit() > 0 && config.limitTest() > 0) {
            console.printf(Locale.ROOT, "notice: with --val-split %d the validation images are the last %d training images; "
                    + "--limit-test %d does not choose them%n", config.validationSplit(), config.validationSplit(), config.limitTest());
        }
    }

    /**
     * Names what is in the way when out is not empty, and what to do instead. The one folder taken
     * as it is holds the same run killed before its first epoch ended (returns true): nothing of it
     * is worth keeping.
     */
    private static boolean refuseUnlessEmpty(Path out, Config config) throws IOException {
        TreeSet<String> entries = entriesBesideTheLock(out);
        if (entries.isEmpty()) return false;
        Path configFile = out.resolve(CONFIG);
        if (Files.isRegularFile(out.resolve(ComparisonPlan.FILE))) {
            throw new UserException(out + " holds a comparison (" + ComparisonPlan.FILE + "); continue it with compare --resume "
                    + out + " or choose another --out");
        }
        if (Files.isRegularFile(configFile)) {
            String model = recordedModel(configFile);
            if (STARTED_ONLY.containsAll(entries) && config.equals(recordedConfig(configFile))) return true;
            if (config.model().equals(model)) {
                throw new UserException(out + " already holds a run of " + model + " (" + CONFIG
                        + (Files.isDirectory(out.resolve(RunRecorder.CHECKPOINT)) ? ", " + RunRecorder.CHECKPOINT + "/" : "")
                        + "); continue it with --resume " + out + " or choose another --out");
            }
            throw new UserException(out + " holds a run of another model (" + (model == null ? "unreadable " + CONFIG : model)
                    + ", not " + config.model() + "); choose another --out");
        }
        throw new UserException("--out " + out + " is not empty (" + entries.first() + " is in the way); choose a new or "
                + "empty folder, or --resume " + out + " if it holds a run");
    }

    /**
     * Without a checkpoint a run starts again from its first epoch, which would overwrite whatever it
     * wrote after one (best.safetensors, metrics.csv): a run killed before its first epoch ended holds
     * none of that, so anything more means the checkpoint was removed, and the results stay as they are.
     */
    private static void refuseResultsWithoutCheckpoint(Path out) throws IOException {
        TreeSet<String> entries = entriesBesideTheLock(out);
        entries.removeAll(STARTED_ONLY);
        if (!entries.isEmpty()) {
            throw new UserException("--resume " + out + ": no " + RunRecorder.CHECKPOINT + "/ to continue from, but the run has "
                    + "results (" + String.join(", ", entries) + ") that starting again would overwrite; train it anew "
                    + "with another --out");
        }
    }

    /** Refuses {@code out} unless it is a folder with a run's config.json (checked again by resume, under its lock). */
    public static void requireRunFolder(Path out) {
        if (!Files.isDirectory(out)) {
            throw new UserException("--resume " + out + (Files.exists(out) ? ": is a file, not a run folder" : ": no such folder"));
        }
        if (!Files.isRegularFile(out.resolve(CONFIG))) {
            throw new UserException("--resume " + out + ": no " + CONFIG + (Files.isRegularFile(out.resolve(ComparisonPlan.FILE))
                    ? " (it holds a comparison; continue it with compare --resume " + out + ")" : " (not a run folder)"));
        }
    }

    /**
     * The device the run in {@code runDir} trained on as its config.json records it ("cpu", or
     * "cpu+cuda" where a resume went on on another), null where it records none.
     */
    public static String recordedDevice(Path runDir) {
        Path configFile = runDir.resolve(CONFIG);
        try {
            JsonElement device = Json.parseObject(Files.readString(configFile), configFile.toString()).get("device");
            return device != null && device.isJsonPrimitive() ? device.getAsString() : null;
        } catch (IOException | RuntimeException unreadable) {
            return null;
        }
    }

    /**
     * The epochs the run in {@code runDir} has finished by its checkpoint: 0 without one, -1 when its
     * state cannot be read (resume then says why).
     */
    public static int finishedEpochs(Path runDir) {
        Path stateFile = runDir.resolve(RunRecorder.CHECKPOINT).resolve(Checkpoint.STATE);
        if (!Files.exists(stateFile)) return 0;
        try {
            return Json.parseObject(Files.readString(stateFile), stateFile.toString()).get("history").getAsJsonArray().size();
        } catch (IOException | RuntimeException unreadable) {
            return -1;
        }
    }

    /** The names in folder {@code out}, sorted, its lock file left out. */
    private static TreeSet<String> entriesBesideTheLock(Path out) throws IOException {
        TreeSet<String> entries = new TreeSet<>();
        try (DirectoryStream<Path> listing = Files.newDirectoryStream(out)) {
            for (Path p : listing) entries.add(p.getFileName().toString());
        }
        entries.remove(RunLock.FILE);
        return entries;
    }

    /** What a run folder holds before its first epoch ends. */
    private static final List<String> STARTED_ONLY = List.of(CONFIG, "tensorboard");

    private static Config recordedConfig(Path configFile) {
        try {
            return Json.bind(Json.parseObject(Files.readString(configFile), configFile.toString()), Config.class, configFile.toString());
        } catch (IOException | UserException unreadable) {
            return null;
        }
    }

    private static String recordedModel(Path configFile) {
        try {
            JsonElement model = Json.parseObject(Files.readString(configFile), configFile.toString()).get("model");
            return model instanceof JsonPrimitive p && p.isString() ? p.getAsString() : null;
        } catch (IOException | UserException unreadable) {
            return null;
        }
    }

    /**
     * Continues the run in {@code out} from its last complete checkpoint (or from the start when it
     * never finished an epoch); {@code epochs} > 0 sets a new length. dataDir null: the folder the run
     * recorded.
     */
    public static List<EpochMetrics> resume(Path out, int epochs, Backend backend, Path dataDir, PrintStream console,
                                            boolean terminal) throws IOException {
        return resume(out, epochs, backend, dataDir, console, terminal, "jresnet train --resume " + out);
    }

    /** As above; a stop's line names {@code resumeCommand} as the way on (compare names its own). */
    public static List<EpochMetrics> resume(Path out, int epochs, Backend backend, Path dataDir, PrintStream console,
                                            boolean terminal, String resumeCommand) throws IOException {
        Path configFile = out.resolve(CONFIG);
        requireRunFolder(out);
        try (RunLock lock = RunLock.acquire(out, "wait for it to end, then resume")) {
            AtomicFiles.recoverDirectory(out.resolve(RunRecorder.CHECKPOINT));
            AtomicFiles.removeTemporaryFiles(out);
            if (!Files.isDirectory(out.resolve(RunRecorder.CHECKPOINT), LinkOption.NOFOLLOW_LINKS)) refuseResultsWithoutCheckpoint(out);
            JsonObject recorded = Json.parseObject(readText(configFile), configFile.toString());
            Config config = Json.bind(recorded, Config.class, configFile.toString());
            config.validate(configFile.toString());
            Model model = ModelZoo.create(config.model());
            BatchMemory.requireFits(model, config.batchSize(), backend);
            Data data = Data.load(dataFolder(recorded, configFile, dataDir, console), config);
            int steps = BatchLoader.batches(data.train().size(), config.batchSize());
            int recordedEpochs = epochsOf(config, steps);

            Path dir = out.resolve(RunRecorder.CHECKPOINT);
            Checkpoint.Contents saved = null;
            TrainingState state = new TrainingState();
            if (Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
                saved = Checkpoint.load(dir);
                requireCheckpointOf(model, saved, dir.resolve(Checkpoint.WEIGHTS), configFile);
                Path stateFile = dir.resolve(Checkpoint.STATE);
                TrainingState.Saved s = Json.bind(saved.state(), TrainingState.Saved.class, stateFile.toString());
                validate(s, stateFile.toString(), steps, config.batchSize(), recordedEpochs,
                        config.parsedRecipe().optimizer().name());
                state = TrainingState.of(s);
                model.setWeights(saved.weights(), dir.resolve(Checkpoint.WEIGHTS).toString());
                requireFinite(saved.optimizer(), dir.resolve(Checkpoint.OPTIMIZER));
            } else {
                model.initializeWeights(config.seed());
                if (config.initialWeights() != null) {
                    Path w = Path.of(config.initialWeights());
                    setInitialWeights(model, w, CONFIG + " initial_weights " + w);
                }
            }
            int target = epochs > 0 ? epochs : recordedEpochs;
            if (epochs > 0 && epochs < state.epoch) {
                throw new UserException("--epochs " + epochs + ": the run in " + out + " has already finished " + state.epoch
                        + " epochs");
            }
            if (saved != null) RunRecorder.restoreResults(out, saved, state, state.epoch < target, console);
            if (state.epoch >= target) {
                console.printf("%s: the run has finished all %d epochs; nothing to train (--epochs N to train longer)%n",
                        out, state.epoch);
                return state.history;
            }
            boolean lengthened = epochs > 0 && epochs != recordedEpochs;
            if (lengthened) {
                config = config.withEpochs(epochs);
                recorded.addProperty("epochs", epochs);
                // the fast recipe's schedule spans the whole run: its recorded length must follow
                recorded.add("optimizer", Json.tree(optimizer(config, data).config()));
            }
            // the devices that trained the run, in order: a resume on another one is added to the record
            JsonElement device = recorded.get("device");
            boolean onAnotherDevice = device != null && device.isJsonPrimitive() && !device.getAsString().endsWith(backend.name());
            if (onAnotherDevice) recorded.addProperty("device", device.getAsString() + "+" + backend.name());
            if (lengthened || onAnotherDevice) AtomicFiles.writeString(configFile, Json.pretty(recorded));
            console.printf("Resuming %s from %s: epoch %d, step %d%n", config.model(),
                    saved == null ? "the start (no checkpoint yet)" : dir, state.epoch + 1, state.step);
            return fit(config, model, backend, data, config.parsedRecipe().inferenceMetadata(data.train()), out, state, saved,
                    console, terminal, resumeCommand);
        }
    }

    /**
     * The recorded folder unless --data names another; a one-line notice when the data differs from
     * what the run started on. Runs from before the folder was recorded look the data up as a fresh
     * run would.
     */
    private static Path dataFolder(JsonObject recorded, Path configFile, Path dataFlag, PrintStream console) throws IOException {
        RecordedData data = Json.bind(recorded, RecordedData.class, configFile.toString());
        if (data.data() == null) return dataFlag != null ? dataFlag : DataLocator.resolve(null);
        Path folder = dataFlag != null ? dataFlag : Path.of(data.data());
        if (dataFlag == null && !Files.isDirectory(folder)) {
            throw new UserException(configFile + ": the run's data folder " + folder + " is gone; give its new place with --data DIR");
        }
        if (data.dataFingerprint() != null && Files.isDirectory(folder)) {
            List<String> differing = data.dataFingerprint().differences(DataFingerprint.of(folder));
            if (!differing.isEmpty()) {
                console.printf("notice: %s differs from the data this run started on (%s: other size or content); "
                        + "continuing on it%n", folder, String.join(", ", differing));
            }
        }
        return folder;
    }

    private static String readText(Path file) throws IOException {
        try {
            return Files.readString(file);
        } catch (CharacterCodingException e) {
            throw new UserException(file + ": not UTF-8 text (corrupt?)");
        }
    }

    private static int epochsOf(Config config, int steps) {
        return config.epochs() > 0 ? config.epochs() : config.parsedRecipe().defaultEpochs(steps);
    }

    /** The recipe's optimizer for this run's length (the fast recipe's schedule spans the whole run). */
    private static Optimizer optimizer(Config config, Data data) {
        int steps = BatchLoader.batches(data.train().size(), config.batchSize());
        return config.parsedRecipe().optimizer(steps, epochsOf(config, steps));
    }

    /** Every field of state.json against the run it belongs to: a corrupt one must not train on or write bogus metrics. */
    static void validate(TrainingState.Saved s, String source, int steps, int batchSize, int epochs, String optimizer) {
        if (s.epoch() < 0) throw bad(source, "epoch", "0 or more", s.epoch());
        if (s.step() < 0 || s.step() >= steps) {
            throw bad(source, "step", "from 0 to " + (steps - 1) + " (" + steps + " batches per epoch)", s.step());
        }
        long updatesSoFar = (long) s.epoch() * steps + s.step();
        if (s.iterations() < 0 || s.iterations() > updatesSoFar) {
            throw bad(source, "iterations", "from 0 to " + updatesSoFar + " (the batches before epoch " + (s.epoch() + 1)
                    + ", step " + s.step() + ")", s.iterations());
        }
        long maxSeen = (long) s.step() * batchSize;
        if (s.seen() < 0 || s.seen() > maxSeen) throw bad(source, "seen", "from 0 to " + maxSeen, s.seen());
        if (s.correct() < 0 || s.correct() > s.seen()) throw bad(source, "correct", "from 0 to seen (" + s.seen() + ")", s.correct());
        if (!(s.lossSum() >= 0) || Double.isInfinite(s.lossSum())) throw bad(source, "loss_sum", "a finite number, 0 or more", s.lossSum());
        if (!(s.seconds() >= 0) || Double.isInfinite(s.seconds())) throw bad(source, "seconds", "a finite number, 0 or more", s.seconds());
        if (s.history().size() != s.epoch()) {
            throw bad(source, "history", "one entry per finished epoch (" + s.epoch() + ")", s.history().size() + " entries");
        }
        for (int i = 0; i < s.history().size(); i++) {
            EpochMetrics m = s.history().get(i);
            String field = "history[" + i + "].";
            if (m.epoch() != i) throw bad(source, field + "epoch", String.valueOf(i), m.epoch());
            if (!(m.loss() >= 0) || Double.isInfinite(m.loss())) throw bad(source, field + "loss", "a finite number, 0 or more", m.loss());
            if (!(m.accuracy() >= 0 && m.accuracy() <= 1)) throw bad(source, field + "accuracy", "from 0 to 1", m.accuracy());
            if (!Double.isNaN(m.valAccuracy()) && !(m.valAccuracy() >= 0 && m.valAccuracy() <= 1)) {
                throw bad(source, field + "val_accuracy", "from 0 to 1, or null", m.valAccuracy());
            }
        }
        if (s.optimizer() != null && !s.optimizer().equals(optimizer)) {
            throw bad(source, "optimizer", "\"" + optimizer + "\" (the run's recipe)", "\"" + s.optimizer() + "\"");
        }
    }

    /**
     * A checkpoint holds the weights of the model it was written for; config.json changed by hand to
     * name another would load them into that model and save them as its own.
     */
    private static void requireCheckpointOf(Model model, Checkpoint.Contents saved, Path weights, Path configFile) {
        String savedFrom = saved.metadata().get(ModelZoo.WEIGHTS_MODEL_KEY);
        if (ModelZoo.savedFromAnother(model, savedFrom)) {
            throw new UserException(weights + ": holds weights of " + savedFrom + " (its metadata says so), not of " + model.name()
                    + " as " + configFile + " says; set its \"model\" back to " + savedFrom + ", or train " + model.name()
                    + " anew with another --out");
        }
    }

    /** Optimizer slots feed every later update: one non-finite value would spread to all weights. */
    private static void requireFinite(Map<String, jresnet.tensor.HostArray> slots, Path file) {
        for (Map.Entry<String, jresnet.tensor.HostArray> e : slots.entrySet()) {
            float[] v = e.getValue().data();
            for (int i = 0; i < v.length; i++) {
                if (!Float.isFinite(v[i])) {
                    throw new UserException(file + ": optimizer slot '" + e.getKey() + "' holds " + v[i] + " at index "
                            + e.getValue().shape().indexString(i));
                }
            }
        }
    }

    /** "SOURCE: field 'FIELD' must be EXPECTED, found FOUND": a hand-edited run file's error line. */
    static UserException bad(String source, String field, String expected, Object found) {
        return new UserException(source + ": field '" + field + "' must be " + expected + ", found " + found);
    }

    /** The model's weights from the file {@code w} (train --weights), refused when saved from another network. */
    private static void setInitialWeights(Model model, Path w, String source) throws IOException {
        Safetensors.File file = Safetensors.read(w);
        ModelZoo.requireWeightsOf(model, file.metadata(), source);
        model.setWeights(file.tensors(), source);
    }

    /** Trains on; {@code preprocessing} is the recipe's {@link Recipe#inferenceMetadata} of the training images. */
    private static List<EpochMetrics> fit(Config config, Model model, Backend backend, Data data, Map<String, String> preprocessing, Path out,
                                          TrainingState state, Checkpoint.Contents saved, PrintStream console,
                                          boolean terminal, String resumeCommand) throws IOException {
        Recipe recipe = config.parsedRecipe();
        int epochs = epochsOf(config, BatchLoader.batches(data.train().size(), config.batchSize()));
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("format", "jresnet");
        metadata.put(ModelZoo.WEIGHTS_MODEL_KEY, config.model());
        metadata.put(Recipe.METADATA_KEY, recipe.cliName());
        metadata.putAll(preprocessing);
        BatchTransform trainTransform = recipe.trainTransform(metadata);
        BatchTransform validationTransform = Recipe.inferenceTransform(metadata, "recipe " + recipe.cliName());
        String checkpointed = saved == null ? null : state.step == 0 ? "after epoch " + state.epoch
                : "at epoch " + (state.epoch + 1) + ", step " + state.step;
        try (Executor executor = new Executor(model, backend, config.batchSize());
             RunRecorder recorder = new RunRecorder(out, executor, metadata, checkpointed)) {
            executor.attachOptimizer(optimizer(config, data));
            executor.useLabelSmoothing(recipe.labelSmoothing());
            if (saved != null) {
                executor.restoreOptimizerState(saved.optimizer(), state.iterations,
                        out.resolve(RunRecorder.CHECKPOINT).resolve(Checkpoint.OPTIMIZER).toString());
            }
            List<Callback> callbacks = new ArrayList<>(List.of(new ProgressBar(console, terminal), recorder));
            Trainer trainer = new Trainer(executor, config.batchSize(), config.seed(), trainTransform, validationTransform,
                    Trainer.NonFinitePolicy.valueOf(config.onNan().toUpperCase(Locale.ROOT).replace('-', '_')),
                    callbacks);
            Interrupts.stopOnSignal(trainer);
            try {
                return trainer.fit(data.train(), data.validation(), epochs, state);
            } catch (Trainer.Stopped stopped) {
                throw new Trainer.Stopped(stopped.getMessage() + afterStop(stopped, recorder.checkpointed(), out, resumeCommand),
                        stopped.exitCode());
            } finally {
                Interrupts.clear();
            }
        }
    }

    /** What the run folder holds after a stop, and how to go on: the stop's one line must not claim a checkpoint that is not there. */
    private static String afterStop(Trainer.Stopped stopped, String checkpointed, Path out, String resumeCommand) {
        if (checkpointed == null) {
            return "; no checkpoint was written (none is due before the first epoch ends); start again with: " + resumeCommand;
        }
        boolean signal = stopped.exitCode() != 1;
        return (signal ? "; checkpoint " : "; the last good checkpoint ") + "(" + checkpointed + ") is in "
                + out.resolve(RunRecorder.CHECKPOINT) + "; continue with: " + resumeCommand;
    }
}
