package jresnet.nn;

import java.util.List;
import jresnet.tensor.Shape;

/** Keras Add of two tensors of equal shape: the residual connection. The executor may fuse the ReLU after it. */
public final class Add extends Layer {
    public Add() { super(null); }

    public Add(String name) { super(name); }

    @Override public String kerasClassName() { return "Add"; }

    @Override public Shape outputShape(List<Shape> inputShapes) {
        if (inputShapes.size() != 2 || !inputShapes.get(0).equals(inputShapes.get(1))) {
            throw new IllegalArgumentException(name() + " needs two inputs of one shape, got " + inputShapes);
        }
        return inputShapes.get(0);
    }

    /** With the ReLU after it fused in (He et al.'s blocks), the sum itself is never stored. */
    @Override public void forward(LayerContext c) {
        if (c.reluAfter()) {
            c.backend().addReluForward(c.input(0), c.input(1), c.output());
        } else {
            c.backend().add(c.input(0), c.input(1), c.output());
        }
    }

    /** The gradient reaches both branches unchanged (masked by the fused ReLU's decisions, if any). */
    @Override public void backward(LayerContext c) {
        if (c.reluAfter()) {
            c.backend().addReluBackward(c.output(), c.outputGradient(), c.inputGradient(0), c.inputGradient(1));
            return;
        }
        for (int i = 0; i < 2; i++) {
            if (c.needsInputGradient(i)) c.backend().copy(c.outputGradient(), c.inputGradient(i));
        }
    }
}
