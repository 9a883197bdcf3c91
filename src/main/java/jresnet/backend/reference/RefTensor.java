package jresnet.backend.reference;

import jresnet.tensor.Shape;
import jresnet.tensor.Tensor;

/** A host tensor of doubles: the reference backend keeps every value in double precision. */
public final class RefTensor implements Tensor {
    private final Shape shape;
    private final double[] data;

    RefTensor(Shape shape, double[] data) {
        this.shape = shape;
        this.data = data;
    }

    @Override public Shape shape() { return shape; }

    /** The values, in logical layout; a view's array is its owner's (only the first size() count). */
    public double[] data() { return data; }

    public int size() { return shape.elements(); }

    @Override public RefTensor withBatch(int n) {
        if (n > shape.dim(0)) throw new IllegalArgumentException("batch " + n + " exceeds " + shape);
        return new RefTensor(shape.withLeading(n), data);
    }

    @Override public void close() {}
}
