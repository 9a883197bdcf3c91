package jresnet.nn;

import java.util.List;
import jresnet.tensor.Shape;

/** Keras Flatten (channels_last order). */
public final class Flatten extends Layer {
    public Flatten() { super(null); }

    @Override public String kerasClassName() { return "Flatten"; }

    @Override public Shape outputShape(List<Shape> inputShapes) {
        return Shape.of(single(inputShapes, name()).elements());
    }

    @Override public void forward(LayerContext c) { c.backend().flatten(c.input(0), c.output()); }

    @Override public void backward(LayerContext c) { c.backend().unflatten(c.outputGradient(), c.inputGradient(0)); }
}
