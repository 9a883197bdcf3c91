package jresnet.train;

/**
 * What one epoch of training measured. valLoss/valAccuracy are NaN when the epoch had no validation.
 * imagesPerSecond counts training images only.
 */
public record EpochMetrics(int epoch, double loss, double accuracy, double valLoss, double valAccuracy,
                           double seconds, double imagesPerSecond, double learningRate) {
}
