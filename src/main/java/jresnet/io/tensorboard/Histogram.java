package jresnet.io.tensorboard;

import java.util.Arrays;

/**
 * TensorFlow's HistogramProto: bucket i counts the values between bucketLimits[i-1] (min for i = 0)
 * and bucketLimits[i]. The arrays are shared, not copied; treat them as read-only.
 */
public record Histogram(double min, double max, double num, double sum, double sumSquares,
                        double[] bucketLimits, double[] bucketCounts) {
    /** TensorFlow 2's tf.summary.histogram default. */
    public static final int DEFAULT_BUCKET_COUNT = 30;

    public Histogram {
        if (bucketLimits.length != bucketCounts.length) {
            throw new IllegalArgumentException("histogram needs one limit per bucket, found "
                    + bucketLimits.length + " limits and " + bucketCounts.length + " counts");
        }
    }

    public static Histogram of(float[] values) {
        return of(values, DEFAULT_BUCKET_COUNT);
    }

    /**
     * bucketCount equal-width buckets from the smallest to the largest value, the last one closed on
     * the right (as TF2's tf.summary.histogram); a single bucket when all values are equal; none when
     * there are no values. Values must be finite, as TensorFlow requires.
     */
    public static Histogram of(float[] values, int bucketCount) {
        if (bucketCount < 1) {
            throw new IllegalArgumentException("histogram bucket count must be at least 1, found " + bucketCount);
        }
        if (values.length == 0) {
            return new Histogram(0, 0, 0, 0, 0, new double[0], new double[0]);
        }
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        double sum = 0;
        double sumSquares = 0;
        for (int i = 0; i < values.length; i++) {
            double value = values[i];
            if (!Double.isFinite(value)) {
                throw new IllegalArgumentException("histogram values must be finite, found " + value
                        + " at index " + i);
            }
            min = Math.min(min, value);
            max = Math.max(max, value);
            sum += value;
            sumSquares += value * value;
        }
        if (min == max) {
            return new Histogram(min, max, values.length, sum, sumSquares,
                    new double[] {max}, new double[] {values.length});
        }
        double width = (max - min) / bucketCount;
        double[] counts = new double[bucketCount];
        for (float value : values) {
            counts[bucketIndex(value, min, width, bucketCount)]++;
        }
        double[] limits = new double[bucketCount];
        for (int i = 0; i < bucketCount - 1; i++) {
            limits[i] = min + (i + 1) * width;
        }
        limits[bucketCount - 1] = max;
        return new Histogram(min, max, values.length, sum, sumSquares, limits, counts);
    }

    /** The bucket TF2 puts a value in: floor of the offset in widths, the maximum joining the last bucket. */
    static int bucketIndex(double value, double min, double width, int bucketCount) {
        return Math.min((int) Math.floor((value - min) / width), bucketCount - 1);
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof Histogram h
                && Double.compare(min, h.min) == 0 && Double.compare(max, h.max) == 0
                && Double.compare(num, h.num) == 0 && Double.compare(sum, h.sum) == 0
                && Double.compare(sumSquares, h.sumSquares) == 0
                && Arrays.equals(bucketLimits, h.bucketLimits) && Arrays.equals(bucketCounts, h.bucketCounts);
    }

    @Override
    public int hashCode() {
        int hash = Double.hashCode(min);
        hash = 31 * hash + Double.hashCode(max);
        hash = 31 * hash + Double.hashCode(num);
        hash = 31 * hash + Double.hashCode(sum);
        hash = 31 * hash + Double.hashCode(sumSquares);
        hash = 31 * hash + Arrays.hashCode(bucketLimits);
        return 31 * hash + Arrays.hashCode(bucketCounts);
    }

    @Override
    public String toString() {
        return "Histogram[min=" + min + ", max=" + max + ", num=" + num + ", sum=" + sum + ", sumSquares="
                + sumSquares + ", bucketLimits=" + Arrays.toString(bucketLimits) + ", bucketCounts="
                + Arrays.toString(bucketCounts) + "]";
    }
}
