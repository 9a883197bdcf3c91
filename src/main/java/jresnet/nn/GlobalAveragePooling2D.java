package jresnet.nn;

import java.util.List;
import jresnet.backend.ConvGeometry;
import jresnet.backend.Padding;
import jresnet.tensor.Shape;

/**
 * Keras GlobalAveragePooling2D: the mean over height and width, (h, w, c) → (c). Runs as one
 * average-pool window over the whole image; the [N, c] output has the same memory layout as the
 * pool's [N, 1, 1, c], so backends index it through the geometry.
 */
public final class GlobalAveragePooling2D extends Layer {
    public GlobalAveragePooling2D() { super(null); }

    public GlobalAveragePooling2D(String name) { super(name); }

    @Override public String kerasClassName() { return "GlobalAveragePooling2D"; }

    private static ConvGeometry geometry(Shape batchInput) {
        return ConvGeometry.of(batchInput, batchInput.dim(1), batchInput.dim(2), batchInput.dim(3), 1, Padding.VALID);
    }

    @Override public Shape outputShape(List<Shape> inputShapes) {
        Shape in = single(inputShapes, name());
        if (in.rank() != 3) throw new IllegalArgumentException(name() + " expects (h, w, channels), got " + in);
        return Shape.of(in.dim(2));
    }

    @Override public void forward(LayerContext c) {
        c.backend().averagePoolForward(c.input(0), c.output(), geometry(c.input(0).shape()));
    }

    @Override public void backward(LayerContext c) {
        c.backend().averagePoolBackward(c.outputGradient(), c.inputGradient(0), geometry(c.input(0).shape()));
    }
}
