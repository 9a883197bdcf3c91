package jresnet.train;

import java.util.List;
import jresnet.data.BatchTransform;
import jresnet.data.Dataset;
import jresnet.data.EpochOrder;
import jresnet.nn.Executor;

/**
 * Keras's fit loop over an {@link Executor}: per epoch a seeded shuffle, batches through a
 * {@link BatchLoader}, one optimizer update per batch, validation with the moving statistics, and
 * callbacks. Stops cleanly after the current step when asked to (Ctrl-C) or when the loss is not
 * finite (per {@link NonFinitePolicy}).
 */
public final class Trainer {
    public enum NonFinitePolicy { STOP, SKIP_BATCH }

    /** Thrown when training stopped before finishing; the callbacks have already seen the state. */
    public static final class Stopped extends RuntimeException {
        private final int exitCode;

        public Stopped(String message) { this(message, 1); }

        /** exitCode: what the command exits with (130 for Ctrl-C, 143 for SIGTERM, 1 for a failure). */
        public Stopped(String message, int exitCode) {
            super(message);
            this.exitCode = exitCode;
        }

        public int exitCode() { return exitCode; }
    }

    private final Executor executor;
    private final int batchSize;
    private final long seed;
    private final BatchTransform transform, validationTransform;
    private final NonFinitePolicy nonFinite;
    private final List<Callback> callbacks;
    private volatile String stopRequest;
    private volatile int stopExitCode = 1;

    /** transform/validationTransform preprocess training/validation batches; null for none. */
    public Trainer(Executor executor, int batchSize, long seed, BatchTransform transform,
                   BatchTransform validationTransform, NonFinitePolicy nonFinite, List<Callback> callbacks) {
        this.executor = executor;
        this.batchSize = batchSize;
        this.seed = seed;
        this.transform = transform;
        this.validationTransform = validationTransform;
        this.nonFinite = nonFinite;
        this.callbacks = List.copyOf(callbacks);
        if (nonFinite == NonFinitePolicy.SKIP_BATCH) executor.keepStatisticsOfSkippedSteps();
    }

    /** Asks the loop to stop after the step in progress (safe from any thread, e.g. a signal handler). */
    public void requestStop(String reason) { requestStop(reason, 1); }

    /** As {@link #requestStop(String)}, with the exit code the stop should end the command with. */
    public void requestStop(String reason, int exitCode) {
        stopExitCode = exitCode;
        stopRequest = reason;
    }

    /** Trains until {@code epochs} epochs are done, continuing from {@code state}; returns the history. */
    public List<EpochMetrics> fit(Dataset train, Dataset validation, int epochs, TrainingState state) {
        int steps = BatchLoader.batches(train.size(), batchSize);
        while (state.epoch < epochs) {
            callbacks.forEach(c -> c.onEpochBegin(state.epoch, epochs, steps));
            long started = System.nanoTime();
            int[] order = EpochOrder.permutation(seed, state.epoch, train.size());
            try (BatchLoader loader = new BatchLoader(train, order, batchSize, transform, seed, state.epoch, state.step)) {
                while (loader.hasNext()) {
                    BatchLoader.Batch batch = loader.next();
                    double[] result = executor.trainStep(batch.images(), batch.labels(), batch.size());
                    if (!Double.isFinite(result[0])) {
                        String where = "non-finite loss " + result[0] + " at epoch " + (state.epoch + 1)
                                + ", step " + (state.step + 1);
                        if (nonFinite == NonFinitePolicy.STOP) {
                            state.seconds += seconds(started);
                            callbacks.forEach(c -> c.onInterrupted(state, where));
                            throw new Stopped(where);
                        }
                        callbacks.forEach(c -> c.onBatchSkipped(where));
                    } else {
                        state.lossSum += result[0];
                        state.correct += (long) result[1];
                        state.seen += batch.size();
                    }
                    state.step++;
                    state.iterations = executor.iterations();
                    // NaN until a batch of the epoch has trained: every one so far may have been skipped
                    double meanLoss = state.seen == 0 ? Double.NaN : state.lossSum / state.seen;
                    double meanAccuracy = state.seen == 0 ? Double.NaN : (double) state.correct / state.seen;
                    callbacks.forEach(c -> c.onStepEnd(state.step, steps, meanLoss, meanAccuracy));
                    String stop = stopRequest;
                    if (stop != null && loader.hasNext()) {
                        state.seconds += seconds(started);
                        callbacks.forEach(c -> c.onInterrupted(state, stop));
                        throw new Stopped(stop + " at epoch " + (state.epoch + 1) + ", step " + state.step, stopExitCode);
                    }
                }
            }
            if (state.seen == 0) {
                callbacks.forEach(c -> c.onInterrupted(state, "non-finite loss in every batch"));
                throw new Stopped("every batch of epoch " + (state.epoch + 1) + " had a non-finite loss and was skipped; "
                        + "these weights cannot train");
            }
            double trainSeconds = state.seconds + seconds(started);
            double[] val = validation == null || validation.size() == 0 ? new double[] {Double.NaN, Double.NaN}
                    : evaluate(executor, validation, batchSize, validationTransform);
            EpochMetrics m = new EpochMetrics(state.epoch, state.lossSum / Math.max(state.seen, 1),
                    (double) state.correct / Math.max(state.seen, 1), val[0], val[1], trainSeconds,
                    state.seen / trainSeconds, executor.optimizer().learningRate(Math.max(state.iterations, 1)));
            state.history.add(m);
            state.epoch++;
            state.step = 0;
            state.lossSum = 0;
            state.correct = 0;
            state.seen = 0;
            state.seconds = 0;
            callbacks.forEach(c -> c.onEpochEnd(m, state));
            String stop = stopRequest;
            if (stop != null && state.epoch < epochs) throw new Stopped(stop + " after epoch " + state.epoch, stopExitCode);
        }
        return state.history;
    }

    /** Mean loss and accuracy over a dataset in inference mode, in order. */
    public static double[] evaluate(Executor executor, Dataset data, int batchSize, BatchTransform transform) {
        double[] sums = evaluationSums(executor, data, batchSize, transform);
        return new double[] {sums[0] / data.size(), sums[1] / data.size()};
    }

    /** Summed loss and number correct over a dataset in inference mode, in order. */
    static double[] evaluationSums(Executor executor, Dataset data, int batchSize, BatchTransform transform) {
        int[] order = new int[data.size()];
        for (int i = 0; i < order.length; i++) order[i] = i;
        double lossSum = 0, correct = 0;
        try (BatchLoader loader = new BatchLoader(data, order, Math.min(batchSize, executor.capacity()), transform, 0, 0, 0)) {
            while (loader.hasNext()) {
                BatchLoader.Batch b = loader.next();
                double[] r = executor.evaluateBatch(b.images(), b.labels(), b.size());
                lossSum += r[0];
                correct += r[1];
            }
        }
        return new double[] {lossSum, correct};
    }

    private static double seconds(long startedNanos) { return (System.nanoTime() - startedNanos) / 1e9; }
}
