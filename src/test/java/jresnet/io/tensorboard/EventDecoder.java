package jresnet.io.tensorboard;

import static jresnet.io.tensorboard.EventFields.*;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import jresnet.UserException;

/** Decodes Event protobuf bytes (as in TensorBoard event files) into {@link Event} records. */
public final class EventDecoder {
    private EventDecoder() {
    }

    /** Every event of an event file, each record's CRCs verified. */
    public static List<Event> readEvents(Path file) {
        List<byte[]> records = TfRecordReader.readAll(file);
        List<Event> events = new ArrayList<>(records.size());
        for (int i = 0; i < records.size(); i++) {
            try {
                events.add(decode(records.get(i)));
            } catch (UserException e) {
                throw new UserException("event file " + file + ", record " + i + ": " + e.getMessage(), e);
            }
        }
        return events;
    }

    public static Event decode(byte[] eventBytes) {
        ProtoReader in = new ProtoReader(eventBytes, "Event");
        double wallTime = 0;
        long step = 0;
        String fileVersion = null;
        List<SummaryValue> values = new ArrayList<>();
        while (in.hasNext()) {
            switch (in.nextField()) {
                case EVENT_WALL_TIME -> wallTime = in.doubleValue();
                case EVENT_STEP -> step = in.varintValue();
                // Both belong to the oneof 'what', where the last one on the wire wins.
                case EVENT_FILE_VERSION -> {
                    fileVersion = in.stringValue();
                    values.clear();
                }
                case EVENT_SUMMARY -> {
                    fileVersion = null;
                    values.addAll(decodeSummary(in.bytesValue()));
                }
                default -> in.skipValue();
            }
        }
        return new Event(wallTime, step, fileVersion, values);
    }

    private static List<SummaryValue> decodeSummary(byte[] summaryBytes) {
        ProtoReader in = new ProtoReader(summaryBytes, "Summary");
        List<SummaryValue> values = new ArrayList<>();
        while (in.hasNext()) {
            if (in.nextField() == SUMMARY_VALUE) {
                values.add(decodeValue(in.bytesValue()));
            } else {
                in.skipValue();
            }
        }
        return values;
    }

    private static SummaryValue decodeValue(byte[] valueBytes) {
        ProtoReader in = new ProtoReader(valueBytes, "Summary.Value");
        String tag = "";
        Float simpleValue = null;
        Histogram histogram = null;
        while (in.hasNext()) {
            switch (in.nextField()) {
                case VALUE_TAG -> tag = in.stringValue();
                case VALUE_SIMPLE_VALUE -> simpleValue = in.floatValue();
                case VALUE_HISTO -> histogram = decodeHistogram(in.bytesValue());
                default -> in.skipValue();
            }
        }
        if (simpleValue != null) {
            return new SummaryValue.Scalar(tag, simpleValue);
        }
        if (histogram != null) {
            return new SummaryValue.HistogramValue(tag, histogram);
        }
        return new SummaryValue.Other(tag);
    }

    private static Histogram decodeHistogram(byte[] histogramBytes) {
        ProtoReader in = new ProtoReader(histogramBytes, "HistogramProto");
        double min = 0;
        double max = 0;
        double num = 0;
        double sum = 0;
        double sumSquares = 0;
        DoubleList limits = new DoubleList();
        DoubleList counts = new DoubleList();
        while (in.hasNext()) {
            switch (in.nextField()) {
                case HISTO_MIN -> min = in.doubleValue();
                case HISTO_MAX -> max = in.doubleValue();
                case HISTO_NUM -> num = in.doubleValue();
                case HISTO_SUM -> sum = in.doubleValue();
                case HISTO_SUM_SQUARES -> sumSquares = in.doubleValue();
                case HISTO_BUCKET_LIMIT -> limits.addAll(in.doublesValue());
                case HISTO_BUCKET -> counts.addAll(in.doublesValue());
                default -> in.skipValue();
            }
        }
        if (limits.size() != counts.size()) {
            throw new UserException("malformed HistogramProto protobuf: " + limits.size() + " bucket limits but "
                    + counts.size() + " bucket counts");
        }
        return new Histogram(min, max, num, sum, sumSquares, limits.toArray(), counts.toArray());
    }

    /** Repeated fields may arrive in several packed chunks; this joins them. */
    private static final class DoubleList {
        private double[] values = new double[0];
        private int size;

        void addAll(double[] more) {
            if (size + more.length > values.length) {
                values = Arrays.copyOf(values, Math.max(2 * values.length, size + more.length));
            }
            System.arraycopy(more, 0, values, size, more.length);
            size += more.length;
        }

        int size() {
            return size;
        }

        double[] toArray() {
            return Arrays.copyOf(values, size);
        }
    }
}
