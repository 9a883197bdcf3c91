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

    /**
     * The gradient reaches both branches unchanged, so both get one tensor: the output gradient itself, or
     * with a fused ReLU, that gradient masked where the output is 0 (relu(a + b) &gt; 0 exactly where a + b
     * is, so this is reluBackward on the stored output). No copies.
     */
    @Override public InputGradients inputGradients(boolean reluAfter) {
        return reluAfter ? InputGradients.ONE_BUFFER : InputGradients.OUTPUT_GRADIENT;
    }

    @Override public void backward(LayerContext c) {
        if (c.reluAfter()) c.backend().reluBackward(c.output(), c.outputGradient(), c.inputGradient(0));
    }
}
