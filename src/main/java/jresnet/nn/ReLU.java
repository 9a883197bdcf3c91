package jresnet.nn;

import java.util.List;
import jresnet.tensor.Shape;

/** Keras ReLU layer. */
public final class ReLU extends Layer {
    public ReLU() { super(null); }

    public ReLU(String name) { super(name); }

    @Override public String kerasClassName() { return "ReLU"; }

    @Override public Shape outputShape(List<Shape> inputShapes) { return single(inputShapes, name()); }

    @Override public void forward(LayerContext c) { c.backend().reluForward(c.input(0), c.output()); }

    @Override public void backward(LayerContext c) {
        c.backend().reluBackward(c.input(0), c.outputGradient(), c.inputGradient(0));
    }
}
