package jresnet.report;

import java.util.List;

import jresnet.train.EpochMetrics;
import jresnet.train.TestSetAccuracy;

/**
 * One trained model as the comparison report sees it: its epochs in training order, and the test
 * accuracy of its final weights (null when not measured).
 */
public record ModelRun(String model, long params, String device, List<EpochMetrics> epochs, TestSetAccuracy.Result test) {
    public ModelRun {
        if (model == null || model.isBlank()) {
            throw new IllegalArgumentException("model run needs a model name, found '" + model + "'");
        }
        if (device == null) {
            throw new IllegalArgumentException("model run '" + model + "' needs a device description, found null");
        }
        epochs = List.copyOf(epochs);
        if (epochs.isEmpty()) {
            throw new IllegalArgumentException("model run '" + model + "' has no epochs");
        }
    }

    /** A run whose final weights were not evaluated on the test set. */
    public ModelRun(String model, long params, String device, List<EpochMetrics> epochs) {
        this(model, params, device, epochs, null);
    }
}
