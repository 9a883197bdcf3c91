package jresnet.io.tensorboard;

import static jresnet.io.tensorboard.EventFields.*;

/** Serializes an {@link Event} to the protobuf bytes TensorBoard reads, without a protobuf library. */
public final class EventEncoder {
    private EventEncoder() {
    }

    public static byte[] encode(Event event) {
        ProtoWriter out = new ProtoWriter()
                .doubleField(EVENT_WALL_TIME, event.wallTime())
                .varintField(EVENT_STEP, event.step());
        if (event.fileVersion() != null) {
            out.stringField(EVENT_FILE_VERSION, event.fileVersion());
        } else {
            ProtoWriter summary = new ProtoWriter();
            for (SummaryValue value : event.values()) {
                summary.bytesField(SUMMARY_VALUE, encodeValue(value));
            }
            out.bytesField(EVENT_SUMMARY, summary.toByteArray());
        }
        return out.toByteArray();
    }

    private static byte[] encodeValue(SummaryValue value) {
        ProtoWriter out = new ProtoWriter().stringField(VALUE_TAG, value.tag());
        if (value instanceof SummaryValue.Scalar scalar) {
            out.floatField(VALUE_SIMPLE_VALUE, scalar.value());
        } else if (value instanceof SummaryValue.HistogramValue histogram) {
            out.bytesField(VALUE_HISTO, encodeHistogram(histogram.histogram()));
        } else {
            throw new IllegalArgumentException("cannot encode summary value '" + value.tag()
                    + "': only scalars and histograms are supported, found " + value);
        }
        return out.toByteArray();
    }

    private static byte[] encodeHistogram(Histogram histogram) {
        return new ProtoWriter()
                .doubleField(HISTO_MIN, histogram.min())
                .doubleField(HISTO_MAX, histogram.max())
                .doubleField(HISTO_NUM, histogram.num())
                .doubleField(HISTO_SUM, histogram.sum())
                .doubleField(HISTO_SUM_SQUARES, histogram.sumSquares())
                .packedDoublesField(HISTO_BUCKET_LIMIT, histogram.bucketLimits())
                .packedDoublesField(HISTO_BUCKET, histogram.bucketCounts())
                .toByteArray();
    }
}
