package jresnet.nn;

import java.util.List;
import jresnet.backend.ConvGeometry;
import jresnet.backend.Padding;
import jresnet.tensor.Shape;

/** Keras AveragePooling2D(pool_size) with strides defaulting to the pool size, valid padding. */
public final class AveragePooling2D extends Layer {
    private final int poolSize, strides;

    public AveragePooling2D(int poolSize) { this(poolSize, poolSize, null); }

    public AveragePooling2D(int poolSize, int strides, String name) {
        super(name);
        if (poolSize <= 0 || strides <= 0) {
            throw new IllegalArgumentException("AveragePooling2D needs a positive pool_size and strides, got " + poolSize + ", " + strides);
        }
        this.poolSize = poolSize;
        this.strides = strides;
    }

    @Override public String kerasClassName() { return "AveragePooling2D"; }

    public int poolSize() { return poolSize; }

    public int strides() { return strides; }

    private ConvGeometry geometry(Shape batchInput) {
        return ConvGeometry.of(batchInput, poolSize, poolSize, batchInput.dim(3), strides, Padding.VALID);
    }

    @Override public Shape outputShape(List<Shape> inputShapes) {
        Shape in = single(inputShapes, name());
        if (in.rank() != 3) throw new IllegalArgumentException(name() + " expects (h, w, channels), got " + in);
        return geometry(in.withBatch(1)).outputShape().dropLeading();
    }

    @Override public void forward(LayerContext c) {
        c.backend().averagePoolForward(c.input(0), c.output(), geometry(c.input(0).shape()));
    }

    @Override public void backward(LayerContext c) {
        c.backend().averagePoolBackward(c.outputGradient(), c.inputGradient(0), geometry(c.input(0).shape()));
    }
}
