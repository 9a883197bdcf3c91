package jresnet.train;

import com.google.gson.annotations.SerializedName;

/**
 * What one epoch of training measured. valLoss/valAccuracy are NaN when the epoch had no validation.
 * imagesPerSecond counts training images only.
 */
public record EpochMetrics(int epoch, double loss, double accuracy, double valLoss, double valAccuracy,
                           double seconds, @SerializedName("images_per_s") double imagesPerSecond,
                           double learningRate) {
}
