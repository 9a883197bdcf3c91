package jresnet.backend;

import java.util.Locale;

/** Keras padding modes with TensorFlow's arithmetic. */
public enum Padding {
    SAME, VALID;

    public static Padding parse(String s) {
        if (s == null) throw new IllegalArgumentException("padding must be \"same\" or \"valid\", got null");
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "same" -> SAME;
            case "valid" -> VALID;
            default -> throw new IllegalArgumentException("padding must be \"same\" or \"valid\", got \"" + s + "\"");
        };
    }

    /** Output length along one axis. */
    public int outputSize(int in, int kernel, int stride) {
        return this == SAME ? (in + stride - 1) / stride : (in - kernel) / stride + 1;
    }

    /** Padding before the data along one axis (TensorFlow: floor of half the total). */
    public int padBefore(int in, int kernel, int stride) {
        return totalPad(in, kernel, stride) / 2;
    }

    /** Padding after the data: the odd extra row/column goes at the bottom/right. */
    public int padAfter(int in, int kernel, int stride) {
        int total = totalPad(in, kernel, stride);
        return total - total / 2;
    }

    private int totalPad(int in, int kernel, int stride) {
        if (this == VALID) return 0;
        return Math.max((outputSize(in, kernel, stride) - 1) * stride + kernel - in, 0);
    }

    public String keras() { return name().toLowerCase(Locale.ROOT); }
}
