package jresnet.optim;

import java.util.Map;

/** The learning rate of each update, and its parameters for the run configuration. */
public interface LearningRateSchedule {
    /** The learning rate of update number {@code iteration} (1-based). */
    double at(long iteration);

    /** The schedule's parameters, merged into the optimizer's configuration. */
    Map<String, Object> config();
}
