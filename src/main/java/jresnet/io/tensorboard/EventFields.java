package jresnet.io.tensorboard;

/**
 * Field numbers of tensorflow/core/util/event.proto (Event) and tensorflow/core/framework/summary.proto
 * (Summary, Summary.Value, HistogramProto).
 */
final class EventFields {
    static final int EVENT_WALL_TIME = 1;
    static final int EVENT_STEP = 2;
    static final int EVENT_FILE_VERSION = 3;
    static final int EVENT_SUMMARY = 5;

    static final int SUMMARY_VALUE = 1;

    static final int VALUE_TAG = 1;
    static final int VALUE_SIMPLE_VALUE = 2;
    static final int VALUE_HISTO = 5;

    static final int HISTO_MIN = 1;
    static final int HISTO_MAX = 2;
    static final int HISTO_NUM = 3;
    static final int HISTO_SUM = 4;
    static final int HISTO_SUM_SQUARES = 5;
    static final int HISTO_BUCKET_LIMIT = 6;
    static final int HISTO_BUCKET = 7;

    private EventFields() {
    }
}
