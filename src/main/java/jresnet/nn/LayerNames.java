package jresnet.nn;

import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Keras's automatic layer names: the snake_case class name with a per-class counter in creation
 * order (conv2d, conv2d_1, ...; inputs count from 1: input_1). Like Keras, the counters are global
 * until {@link #reset()} (Keras's clear_session). Model builders count from zero inside {@link #fresh}
 * so that their names are reproducible, and leave the counters of a graph being built meanwhile as
 * they were.
 */
public final class LayerNames {
    private static final Map<String, Integer> COUNTERS = new HashMap<>();

    private LayerNames() {}

    public static synchronized void reset() { COUNTERS.clear(); }

    /** Runs {@code build} with the counters from zero, as after {@link #reset()}, then puts back the counters it found. */
    public static synchronized <T> T fresh(Supplier<T> build) {
        Map<String, Integer> found = new HashMap<>(COUNTERS);
        COUNTERS.clear();
        try {
            return build.get();
        } finally {
            COUNTERS.clear();
            COUNTERS.putAll(found);
        }
    }

    static synchronized String next(String kerasClassName, boolean zeroBased) {
        String base = snakeCase(kerasClassName);
        int n = COUNTERS.merge(base, 1, Integer::sum) - (zeroBased ? 1 : 0);
        return n == 0 ? base : base + "_" + n;
    }

    /** Keras's to_snake_case: "Conv2D" → "conv2d", "ReLU" → "re_lu", "BatchNormalization" → "batch_normalization". */
    static String snakeCase(String name) {
        String s = name.replaceAll("(.)([A-Z][a-z0-9]+)", "$1_$2");
        return s.replaceAll("([a-z])([A-Z])", "$1_$2").toLowerCase(java.util.Locale.ROOT);
    }
}
