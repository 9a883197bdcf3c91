package jresnet.train;

import java.util.List;
import jresnet.backend.Backend;
import jresnet.data.Dataset;
import jresnet.nn.Executor;
import jresnet.nn.Model;

/**
 * Keras's {@code model.fit} and {@code model.evaluate} for a {@link Model} compiled with
 * {@link Model#compile}: {@code Fit.fit(model, backend, train, validation, epochs, batchSize, seed)}.
 * They live here rather than on Model because they run the {@link Trainer}: the model package stays
 * free of training.
 */
public final class Fit {
    private Fit() {}

    /**
     * Trains for {@code epochs} on {@code train} (shuffled per epoch from {@code seed}), validating on
     * {@code validation} (may be null) after each epoch; the weights end up in the model. Returns the
     * per-epoch metrics.
     */
    public static List<EpochMetrics> fit(Model model, Backend backend, Dataset train, Dataset validation, int epochs,
                                         int batchSize, long seed, Callback... callbacks) {
        if (model.optimizer() == null) throw new IllegalStateException("compile the model before fit");
        try (Executor executor = new Executor(model, backend, batchSize)) {
            executor.attachOptimizer(model.optimizer());
            Trainer trainer = new Trainer(executor, batchSize, seed, null, null, Trainer.NonFinitePolicy.STOP,
                    List.of(callbacks));
            try {
                return trainer.fit(train, validation, epochs, new TrainingState());
            } finally {
                executor.pullWeights();
            }
        }
    }

    /** {mean loss, accuracy} over a dataset, with the moving statistics. */
    public static double[] evaluate(Model model, Backend backend, Dataset data, int batchSize) {
        try (Executor executor = new Executor(model, backend, batchSize)) {
            return Trainer.evaluate(executor, data, batchSize, null);
        }
    }
}
