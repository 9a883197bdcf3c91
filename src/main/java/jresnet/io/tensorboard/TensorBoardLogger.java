package jresnet.io.tensorboard;

import java.nio.file.Path;
import java.util.Map;

import jresnet.train.EpochMetrics;

/**
 * Writes per-epoch scalars and weight histograms the way Keras's TensorBoard callback does with
 * histogram_freq=1: {@code <runDir>/train} gets epoch_loss, epoch_accuracy, epoch_learning_rate,
 * epoch_images_per_second and a histogram of every kernel and bias; {@code <runDir>/validation} gets
 * epoch_loss and epoch_accuracy of epochs that were validated. The step is {@link EpochMetrics#epoch()},
 * taken as the 0-based epoch index Keras uses.
 */
public final class TensorBoardLogger implements AutoCloseable {
    private final Path validationDir;
    private final EventFileWriter train;
    /** Opened on the first validated epoch, so that a run without validation shows no empty run. */
    private EventFileWriter validation;

    public TensorBoardLogger(Path runDir) {
        this.train = new EventFileWriter(runDir.resolve("train"));
        this.validationDir = runDir.resolve("validation");
    }

    /**
     * weights maps Keras names {@code <layer>.<param>} to values; {@code <layer>.kernel} and
     * {@code <layer>.bias} are logged as {@code <layer>/kernel_0} and {@code <layer>/bias_0}, others
     * (batch-norm parameters and statistics) are not.
     */
    public void onEpochEnd(EpochMetrics metrics, Map<String, float[]> weights) {
        long step = metrics.epoch();
        train.writeScalar(step, "epoch_loss", (float) metrics.loss());
        train.writeScalar(step, "epoch_accuracy", (float) metrics.accuracy());
        train.writeScalar(step, "epoch_learning_rate", (float) metrics.learningRate());
        train.writeScalar(step, "epoch_images_per_second", (float) metrics.imagesPerSecond());
        for (Map.Entry<String, float[]> weight : weights.entrySet()) {
            String tag = histogramTag(weight.getKey());
            // TensorBoard has no representation for non-finite values (TensorFlow refuses them too), and a
            // diverged run should still be logged: such a weight simply gets no histogram that epoch.
            if (tag != null && allFinite(weight.getValue())) {
                train.writeHistogram(step, tag, Histogram.of(weight.getValue()));
            }
        }
        writeValidation(step, "epoch_loss", metrics.valLoss());
        writeValidation(step, "epoch_accuracy", metrics.valAccuracy());
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

    private void writeValidation(long step, String tag, double value) {
        if (Double.isNaN(value)) {
            return;
        }
        if (validation == null) {
            validation = new EventFileWriter(validationDir);
        }
        validation.writeScalar(step, tag, (float) value);
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
