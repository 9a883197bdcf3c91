package jresnet.train;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import jresnet.UserException;
import jresnet.backend.Backend;
import jresnet.data.BatchTransform;
import jresnet.data.Dataset;
import jresnet.io.AtomicFiles;
import jresnet.io.Checkpoint;
import jresnet.io.Json;
import jresnet.io.RunLock;
import jresnet.io.Safetensors;
import jresnet.models.ModelZoo;
import jresnet.nn.Executor;
import jresnet.nn.Model;

/**
 * One training run into a run folder: config.json with the full configuration, then the fit loop
 * with progress, metrics, checkpoints and TensorBoard logs; or the continuation of such a run from
 * its last complete checkpoint.
 */
public final class TrainingRun {
    public static final String CONFIG = "config.json";

    /** Everything that defines a run; written to config.json and read back on resume. */
    public record Config(String model, String recipe, int epochs, int batchSize, long seed, int limitTrain,
                         int limitTest, int validationSplit, String initialWeights, String onNan) {

        Map<String, Object> toJson() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("model", model);
            m.put("recipe", recipe);
            m.put("epochs", epochs);
            m.put("batch_size", batchSize);
            m.put("seed", seed);
            m.put("limit_train", limitTrain);
            m.put("limit_test", limitTest);
            m.put("validation_split", validationSplit);
            m.put("initial_weights", initialWeights);
            m.put("on_nan", onNan);
            return m;
        }

        static Config fromJson(Map<String, Object> m, Path file) {
            try {
                return new Config((String) m.get("model"), (String) m.get("recipe"), num(m, "epochs"), num(m, "batch_size"),
                        ((Number) m.get("seed")).longValue(), num(m, "limit_train"), num(m, "limit_test"),
                        num(m, "validation_split"), (String) m.get("initial_weights"), (String) m.get("on_nan"));
            } catch (ClassCastException | NullPointerException e) {
                throw new UserException(file + ": not a jresnet run configuration (" + e.getMessage() + ")");
            }
        }

        private static int num(Map<String, Object> m, String key) { return ((Number) m.get(key)).intValue(); }

        public Recipe parsedRecipe() { return Recipe.parse(recipe); }
    }

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

    /** Starts a fresh run into {@code out}, which must not hold another run's checkpoint. */
    public static List<EpochMetrics> start(Config config, Backend backend, Path dataDir, Path out, PrintStream console,
                                           boolean terminal, Map<String, Object> environment) throws IOException {
        Files.createDirectories(out);
        try (RunLock lock = RunLock.acquire(out)) {
            AtomicFiles.recoverDirectory(out.resolve(RunRecorder.CHECKPOINT));
            if (Files.exists(out.resolve(RunRecorder.CHECKPOINT))) {
                throw new UserException(out + " already holds a run (" + RunRecorder.CHECKPOINT + "/); continue it with "
                        + "--resume " + out + " or choose another --out");
            }
            Map<String, Object> json = new LinkedHashMap<>(config.toJson());
            json.put("device", backend.name());
            json.put("optimizer", config.parsedRecipe().optimizer().config());
            json.putAll(environment);
            AtomicFiles.writeString(out.resolve(CONFIG), Json.write(json, true));
            Model model = ModelZoo.create(config.model());
            model.initializeWeights(config.seed());
            if (config.initialWeights() != null) {
                Path w = Path.of(config.initialWeights());
                model.setWeights(Safetensors.read(w).tensors(), w.toString());
            }
            return fit(config, model, backend, dataDir, out, new TrainingState(), null, console, terminal);
        }
    }

    /** Continues the run in {@code out} from its last complete checkpoint; {@code epochs} > 0 overrides the length. */
    public static List<EpochMetrics> resume(Path out, int epochs, Backend backend, Path dataDir, PrintStream console,
                                            boolean terminal) throws IOException {
        Path configFile = out.resolve(CONFIG);
        if (!Files.isRegularFile(configFile)) throw new UserException("--resume " + out + ": no " + CONFIG + " (not a run folder)");
        try (RunLock lock = RunLock.acquire(out)) {
            AtomicFiles.recoverDirectory(out.resolve(RunRecorder.CHECKPOINT));
            Map<String, Object> recorded;
            try {
                recorded = Json.parseObject(Files.readString(configFile));
            } catch (IllegalArgumentException e) {
                throw new UserException(configFile + ": not valid JSON: " + e.getMessage());
            }
            Config config = Config.fromJson(recorded, configFile);
            if (epochs > 0 && epochs != config.epochs()) {
                recorded.put("epochs", epochs);
                AtomicFiles.writeString(configFile, Json.write(recorded, true));
                config = new Config(config.model(), config.recipe(), epochs, config.batchSize(), config.seed(),
                        config.limitTrain(), config.limitTest(), config.validationSplit(), config.initialWeights(), config.onNan());
            }
            Path dir = out.resolve(RunRecorder.CHECKPOINT);
            Checkpoint.Contents saved = Checkpoint.load(dir);
            Model model = ModelZoo.create(config.model());
            model.setWeights(saved.weights(), dir.resolve(Checkpoint.WEIGHTS).toString());
            TrainingState state = TrainingState.fromJson(saved.state());
            console.printf("Resuming %s from %s: epoch %d, step %d%n", config.model(), dir, state.epoch + 1, state.step);
            return fit(config, model, backend, dataDir, out, state, saved, console, terminal);
        }
    }

    private static List<EpochMetrics> fit(Config config, Model model, Backend backend, Path dataDir, Path out,
                                          TrainingState state, Checkpoint.Contents saved, PrintStream console,
                                          boolean terminal) throws IOException {
        Data data = Data.load(dataDir, config);
        Recipe recipe = config.parsedRecipe();
        int epochs = config.epochs() > 0 ? config.epochs()
                : recipe.defaultEpochs(BatchLoader.batches(data.train().size(), config.batchSize()));
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("format", "jresnet");
        metadata.put("model", config.model());
        metadata.putAll(recipe.inferenceMetadata(data.train()));
        BatchTransform trainTransform = recipe.trainTransform(metadata);
        BatchTransform validationTransform = Recipe.inferenceTransform(metadata, "recipe " + recipe.cliName());
        try (Executor executor = new Executor(model, backend, config.batchSize());
             RunRecorder recorder = new RunRecorder(out, executor, metadata)) {
            executor.attachOptimizer(recipe.optimizer());
            if (saved != null) {
                executor.restoreOptimizerState(saved.optimizer(), state.iterations,
                        out.resolve(RunRecorder.CHECKPOINT).resolve(Checkpoint.OPTIMIZER).toString());
            }
            List<Callback> callbacks = new ArrayList<>(List.of(new ProgressBar(console, terminal), recorder));
            Trainer trainer = new Trainer(executor, config.batchSize(), config.seed(), trainTransform, validationTransform,
                    Trainer.NonFinitePolicy.valueOf(config.onNan().toUpperCase(java.util.Locale.ROOT).replace('-', '_')),
                    callbacks);
            Interrupts.onInterrupt(() -> trainer.requestStop("interrupted"));
            try {
                return trainer.fit(data.train(), data.validation(), epochs, state);
            } finally {
                Interrupts.clear();
            }
        }
    }
}
