package jresnet.nn;

import java.util.List;
import jresnet.tensor.Shape;

/**
 * Keras Dense(units, activation) with activation null/"linear" or "softmax". A softmax Dense computes
 * logits: the executor applies the softmax for predictions and fuses it into the cross-entropy for
 * training, as Keras does for a softmax output, so it must be the model's output.
 */
public final class Dense extends Layer {
    private final int units;
    private final boolean softmax;

    /** Dense(units) with Keras's default activation: none (linear). */
    public Dense(int units) { this(units, null, null); }

    public Dense(int units, String activation) { this(units, activation, null); }

    public Dense(int units, String activation, String name) {
        super(name);
        if (units <= 0) throw new IllegalArgumentException("Dense needs positive units, got " + units);
        this.units = units;
        this.softmax = switch (activation == null ? "linear" : activation) {
            case "linear" -> false;
            case "softmax" -> true;
            default -> throw new IllegalArgumentException("Dense activation must be linear or softmax, got " + activation);
        };
    }

    @Override public String kerasClassName() { return "Dense"; }

    public boolean softmax() { return softmax; }

    @Override public Shape outputShape(List<Shape> inputShapes) {
        Shape in = single(inputShapes, name());
        if (in.rank() != 1) throw new IllegalArgumentException(name() + " expects a flat input, got " + in + " (add Flatten)");
        return Shape.of(units);
    }

    @Override public List<ParamSpec> params(List<Shape> inputShapes) {
        return List.of(new ParamSpec("kernel", Shape.of(inputShapes.get(0).dim(0), units), true, Initializer.GLOROT_UNIFORM),
                new ParamSpec("bias", Shape.of(units), true, Initializer.ZEROS));
    }

    @Override public void forward(LayerContext c) {
        c.backend().denseForward(c.input(0), c.param("kernel"), c.param("bias"), c.output());
    }

    @Override public void backward(LayerContext c) {
        c.backend().denseBackward(c.input(0), c.param("kernel"), c.outputGradient(),
                c.needsInputGradient(0) ? c.inputGradient(0) : null, c.paramGradient("kernel"), c.paramGradient("bias"));
    }
}
