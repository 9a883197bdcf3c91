package jresnet.io.tensorboard;

/** One Summary.Value of an event: a scalar, a histogram, or a kind this package does not decode. */
public sealed interface SummaryValue {
    String tag();

    /** Summary.Value.simple_value. */
    record Scalar(String tag, float value) implements SummaryValue {
    }

    /** Summary.Value.histo. */
    record HistogramValue(String tag, Histogram histogram) implements SummaryValue {
    }

    /** A value of another kind (image, audio, tensor, ...), kept by tag only, so that none goes unseen. */
    record Other(String tag) implements SummaryValue {
    }
}
