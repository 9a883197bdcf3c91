package jresnet.tensor;

import java.util.Arrays;

/** An immutable list of dimensions. Activations are NHWC (or [N, features]); parameters use Keras layouts. */
public final class Shape {
    private final int[] dims;

    private Shape(int[] dims) {
        for (int d : dims) {
            if (d <= 0) throw new IllegalArgumentException("dimensions must be positive: " + Arrays.toString(dims));
        }
        this.dims = dims;
    }

    public static Shape of(int... dims) {
        return new Shape(dims.clone());
    }

    public int rank() { return dims.length; }

    public int dim(int axis) { return dims[axis < 0 ? dims.length + axis : axis]; }

    public int[] dims() { return dims.clone(); }

    public long size() {
        long n = 1;
        for (int d : dims) n *= d;
        return n;
    }

    /** Number of elements as an int, for host arrays. */
    public int elements() { return Math.toIntExact(size()); }

    /** The position of the element at flat (C-order) index flat, for messages: "[0, 2, 1]". */
    public String indexString(long flat) {
        long[] index = new long[dims.length];
        for (int axis = dims.length - 1; axis >= 0; axis--) {
            index[axis] = flat % dims[axis];
            flat /= dims[axis];
        }
        return Arrays.toString(index);
    }

    /** This shape with a leading batch axis of n. */
    public Shape withBatch(int n) {
        int[] out = new int[dims.length + 1];
        out[0] = n;
        System.arraycopy(dims, 0, out, 1, dims.length);
        return new Shape(out);
    }

    /** This shape with its leading axis replaced by n. */
    public Shape withLeading(int n) {
        int[] out = dims.clone();
        out[0] = n;
        return new Shape(out);
    }

    /** This shape without its leading axis. */
    public Shape dropLeading() {
        return new Shape(Arrays.copyOfRange(dims, 1, dims.length));
    }

    @Override public boolean equals(Object o) { return o instanceof Shape s && Arrays.equals(dims, s.dims); }

    @Override public int hashCode() { return Arrays.hashCode(dims); }

    /** Keras style: (32, 32, 3). */
    @Override public String toString() {
        StringBuilder b = new StringBuilder("(");
        for (int i = 0; i < dims.length; i++) {
            if (i > 0) b.append(", ");
            b.append(dims[i]);
        }
        if (dims.length == 1) b.append(',');
        return b.append(')').toString();
    }
}
