package jresnet.train;

import com.google.gson.annotations.SerializedName;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What one epoch of training measured. valLoss/valAccuracy are NaN when the epoch had no validation.
 * imagesPerSecond counts training images only.
 */
public record EpochMetrics(int epoch, double loss, double accuracy, double valLoss, double valAccuracy,
                           double seconds, @SerializedName("images_per_s") double imagesPerSecond,
                           double learningRate) {
    /**
     * Keras-style logs, in the order TensorBoard gets them: loss, accuracy, learning_rate,
     * images_per_second, then val_loss and val_accuracy where the epoch measured them.
     */
    public Map<String, Double> logs() {
        Map<String, Double> logs = new LinkedHashMap<>();
        logs.put("loss", loss);
        logs.put("accuracy", accuracy);
        logs.put("learning_rate", learningRate);
        logs.put("images_per_second", imagesPerSecond);
        if (!Double.isNaN(valLoss)) logs.put("val_loss", valLoss);
        if (!Double.isNaN(valAccuracy)) logs.put("val_accuracy", valAccuracy);
        return logs;
    }
}
