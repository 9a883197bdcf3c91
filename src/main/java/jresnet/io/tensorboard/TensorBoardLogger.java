package jresnet.io.tensorboard;

import java.nio.file.Path;
import java.util.Map;

/**
 * Writes per-epoch scalars and weight histograms the way Keras's TensorBoard callback does with
 * histogram_freq=1, from Keras-style logs (name → value): {@code <runDir>/train} gets
 * {@code epoch_<name>} for every name and a histogram of every kernel and bias; {@code <runDir>/validation}
 * gets {@code epoch_<name>} for every {@code val_<name>}. The step is the 0-based epoch index Keras uses.
 */
public final class TensorBoardLogger implements AutoCloseable {
    /** Keras's prefix for validation logs. */
    public static final String VALIDATION_PREFIX = "val_";

    private final Path validationDir;
    private final EventFileWriter train;
    /** Opened on the first validated epoch, so that a run without validation shows no empty run. */
    private EventFileWriter validation;

    public TensorBoardLogger(Path runDir) {
        this.train = new EventFileWriter(runDir.resolve("train"));
        this.validationDir = runDir.resolve("validation");
    }

    /**
     * One epoch: {@code logs} in the order to write them (e.g. loss, accuracy, learning_rate,
     * images_per_second, val_loss, val_accuracy; an epoch without validation has no val_ names).
     * weights maps Keras names {@code <layer>.<param>} to values; {@code <layer>.kernel} and
     * {@code <layer>.bias} are logged as {@code <layer>/kernel_0} and {@code <layer>/bias_0}, others
     * (batch-norm parameters and statistics) are not.
     */
    public void onEpochEnd(long step, Map<String, Double> logs, Map<String, float[]> weights) {
        logs.forEach((name, value) -> {
            if (!name.startsWith(VALIDATION_PREFIX)) train.writeScalar(step, "epoch_" + name, value.floatValue());
        });
        for (Map.Entry<String, float[]> weight : weights.entrySet()) {
            String tag = histogramTag(weight.getKey());
            // TensorBoard has no representation for non-finite values (TensorFlow refuses them too), and a
            // diverged run should still be logged: such a weight simply gets no histogram that epoch.
            if (tag != null && allFinite(weight.getValue())) {
                train.writeHistogram(step, tag, Histogram.of(weight.getValue()));
            }
        }
        logs.forEach((name, value) -> {
            if (name.startsWith(VALIDATION_PREFIX)) {
                validation().writeScalar(step, "epoch_" + name.substring(VALIDATION_PREFIX.length()), value.floatValue());
            }
        });
    }

    /** The Keras tag of a kernel or bias ({@code conv2d/kernel:0} with ':' made '_'), null for other names. */
    static String histogramTag(String weightName) {
        int dot = weightName.lastIndexOf('.');
        if (dot <= 0) {
            return null;
        }
        String param = weightName.substring(dot + 1);
        if (!param.equals("kernel") && !param.equals("bias")) {
            return null;
        }
        return weightName.substring(0, dot) + "/" + param + "_0";
    }

    private static boolean allFinite(float[] values) {
        for (float v : values) if (!Float.isFinite(v)) return false;
        return true;
    }

    private EventFileWriter validation() {
        if (validation == null) {
            validation = new EventFileWriter(validationDir);
        }
        return validation;
    }

    @Override
    public void close() {
        try {
            train.close();
        } finally {
            if (validation != null) {
                validation.close();
            }
        }
    }
}
