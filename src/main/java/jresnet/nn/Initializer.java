package jresnet.nn;

import java.util.SplittableRandom;
import jresnet.tensor.Shape;

/** Keras initializers, by their Keras names. */
public enum Initializer {
    /** U(−limit, limit) with limit = sqrt(6 / (fan_in + fan_out)). */
    GLOROT_UNIFORM,
    /** N(0, 2 / fan_in) truncated at two standard deviations, as Keras's he_normal. */
    HE_NORMAL,
    ZEROS,
    ONES;

    /**
     * Fans as Keras computes them: the last axis is fan_out, the one before fan_in, and any leading
     * axes (a convolution's receptive field) multiply both.
     */
    public float[] sample(Shape shape, SplittableRandom random) {
        float[] values = new float[shape.elements()];
        int rank = shape.rank();
        long receptive = 1;
        for (int i = 0; i < rank - 2; i++) receptive *= shape.dim(i);
        double fanIn = rank >= 2 ? receptive * shape.dim(rank - 2) : shape.dim(0);
        double fanOut = rank >= 2 ? receptive * shape.dim(rank - 1) : shape.dim(0);
        switch (this) {
            case GLOROT_UNIFORM -> {
                double limit = Math.sqrt(6 / (fanIn + fanOut));
                for (int i = 0; i < values.length; i++) values[i] = (float) ((random.nextDouble() * 2 - 1) * limit);
            }
            case HE_NORMAL -> {
                // Keras divides by the std of a standard normal truncated at ±2 so the variance stays 2/fan_in.
                double std = Math.sqrt(2 / fanIn) / 0.87962566103423978;
                for (int i = 0; i < values.length; i++) values[i] = (float) (truncatedNormal(random) * std);
            }
            case ZEROS -> { }
            case ONES -> java.util.Arrays.fill(values, 1f);
        }
        return values;
    }

    private static double truncatedNormal(SplittableRandom random) {
        while (true) {
            double u1 = random.nextDouble(), u2 = random.nextDouble();
            double z = Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
            if (Math.abs(z) <= 2) return z;
        }
    }
}
