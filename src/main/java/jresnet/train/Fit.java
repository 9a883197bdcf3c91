package jresnet.train;

import java.util.List;
import jresnet.backend.Backend;
import jresnet.data.Dataset;
import jresnet.nn.Executor;
import jresnet.nn.Model;
import jresnet.tensor.Shape;

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
     * per-epoch metrics. As Keras's fit, a second call goes on from where the optimizer stood after the
     * first ({@link Model#optimizerState}); {@link Model#compile} starts it again.
     */
    public static List<EpochMetrics> fit(Model model, Backend backend, Dataset train, Dataset validation, int epochs,
                                         int batchSize, long seed, Callback... callbacks) {
        if (model.optimizer() == null) throw new IllegalStateException("compile the model before fit");
        if (epochs < 0) throw new IllegalArgumentException("fit needs epochs of 0 or more, got " + epochs);
        if (train.size() == 0) throw new IllegalArgumentException("fit needs training images; the dataset is empty");
        requireFits(model, train, batchSize, "training");
        if (validation != null) requireFits(model, validation, batchSize, "validation");
        try (Executor executor = new Executor(model, backend, batchSize)) {
            executor.attachOptimizer(model.optimizer());
            Model.OptimizerState before = model.optimizerState();
            if (before != null) executor.restoreOptimizerState(before.slots(), before.iterations(), model.name() + "'s optimizer");
            Trainer trainer = new Trainer(executor, batchSize, seed, null, null, Trainer.NonFinitePolicy.STOP,
                    List.of(callbacks));
            try {
                return trainer.fit(train, validation, epochs, new TrainingState());
            } finally {
                executor.pullWeights();
                model.keepOptimizerState(new Model.OptimizerState(executor.optimizerState(), executor.iterations()));
            }
        }
    }

    /** {mean loss, accuracy} over a dataset, with the moving statistics. */
    public static double[] evaluate(Model model, Backend backend, Dataset data, int batchSize) {
        if (data.size() == 0) throw new IllegalArgumentException("evaluate needs images; the dataset is empty");
        requireFits(model, data, batchSize, "evaluated");
        try (Executor executor = new Executor(model, backend, batchSize)) {
            return Trainer.evaluate(executor, data, batchSize, null);
        }
    }

    /**
     * A dataset holds CIFAR-10 records: 32 x 32 x 3 images and labels 0-9. A model of another input
     * shape would read them wrongly, and one with fewer outputs than a label has no class for it.
     */
    private static void requireFits(Model model, Dataset data, int batchSize, String role) {
        if (batchSize < 1) throw new IllegalArgumentException("the batch size must be at least 1, got " + batchSize);
        Shape images = Shape.of(Dataset.HEIGHT, Dataset.WIDTH, Dataset.CHANNELS);
        if (!model.input().shape().equals(images)) {
            throw new IllegalArgumentException("model " + model.name() + " takes inputs of shape " + model.input().shape()
                    + ", but the " + role + " images are " + images);
        }
        int classes = model.output().shape().dim(-1);
        for (int i = 0; i < data.size(); i++) {
            int label = data.label(i);
            if (label < 0 || label >= classes) {
                throw new IllegalArgumentException("label " + label + " of " + role + " record " + i + " is outside 0.." + (classes - 1)
                        + ": model " + model.name() + " has " + classes + " outputs");
            }
        }
    }
}
