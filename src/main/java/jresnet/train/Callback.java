package jresnet.train;

/** Hooks into the fit loop, called on the training thread. */
public interface Callback {
    default void onEpochBegin(int epoch, int epochs, int steps) {}

    /** After each step: running means over the epoch so far (NaN while every batch of it was skipped). */
    default void onStepEnd(int step, int steps, double meanLoss, double meanAccuracy) {}

    /** A batch was left out (non-finite loss under the skip-batch policy); no update was applied. */
    default void onBatchSkipped(String reason) {}

    default void onEpochEnd(EpochMetrics metrics, TrainingState state) {}

    /** Training stopped early (interrupt, non-finite loss) after the step that just ran. */
    default void onInterrupted(TrainingState state, String reason) {}
}
