package jresnet.nn;

import java.util.List;
import jresnet.tensor.Shape;

/** The model input; the executor writes each batch into its output. */
public final class InputLayer extends Layer {
    private final Shape shape;

    InputLayer(Shape shape, String name) {
        super(name != null ? name : LayerNames.next("Input", false));
        this.shape = shape;
    }

    @Override public String kerasClassName() { return "InputLayer"; }

    @Override public Shape outputShape(List<Shape> inputShapes) { return shape; }

    @Override public void forward(LayerContext c) {}

    @Override public void backward(LayerContext c) {}
}
