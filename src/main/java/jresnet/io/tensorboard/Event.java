package jresnet.io.tensorboard;

import java.util.List;

/**
 * TensorFlow's Event as far as scalars and histograms need it. fileVersion is null unless this is the
 * file's first event; values is empty unless the event carries a summary.
 */
public record Event(double wallTime, long step, String fileVersion, List<SummaryValue> values) {
    /** What TensorFlow 2 writes into the first record of every event file. */
    public static final String FILE_VERSION = "brain.Event:2";

    public Event {
        values = List.copyOf(values);
        if (fileVersion != null && !values.isEmpty()) {
            throw new IllegalArgumentException("an event holds either a file version or a summary, not both");
        }
    }

    public static Event fileVersion(double wallTime) {
        return new Event(wallTime, 0, FILE_VERSION, List.of());
    }

    public static Event summary(double wallTime, long step, List<SummaryValue> values) {
        return new Event(wallTime, step, null, values);
    }
}
