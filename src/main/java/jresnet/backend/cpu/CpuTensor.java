package jresnet.backend.cpu;

import jresnet.tensor.Shape;
import jresnet.tensor.Tensor;

/** A float32 host tensor in logical layout (NHWC activations, Keras parameter layouts). */
public final class CpuTensor implements Tensor {
    private final Shape shape;
    private final float[] data;

    CpuTensor(Shape shape, float[] data) {
        this.shape = shape;
        this.data = data;
    }

    @Override public Shape shape() { return shape; }

    /** The values; a view's array is its owner's, of which only the first size() count. */
    public float[] data() { return data; }

    public int size() { return shape.elements(); }

    @Override public CpuTensor withBatch(int n) {
        if (n > shape.dim(0)) throw new IllegalArgumentException("batch " + n + " exceeds " + shape);
        return n == shape.dim(0) ? this : new CpuTensor(shape.withLeading(n), data);
    }

    @Override public void close() {}

    /** The array behind a tensor of the CPU backend. */
    static float[] array(Tensor t) { return ((CpuTensor) t).data; }

    /** How many of {@link #array}'s values are the tensor's. */
    static int elements(Tensor t) { return t.shape().elements(); }
}
