package jresnet.nn;

import java.util.Arrays;
import java.util.List;
import jresnet.tensor.Shape;

/**
 * A Keras-style layer: a callable that records nodes on symbolic tensors, describes its weights, and
 * computes through backend ops only (so one layer class serves every backend).
 */
public abstract class Layer {
    private final String name;

    protected Layer(String name) {
        this.name = name != null ? name : LayerNames.next(kerasClassName(), true);
    }

    public final String name() { return name; }

    /** The Keras class name, shown by summary(). */
    public abstract String kerasClassName();

    /** Records one application of this layer. */
    public SymbolicTensor apply(SymbolicTensor... inputs) {
        for (SymbolicTensor input : inputs) {
            if (input == null) throw new IllegalArgumentException(kerasClassName() + ".apply: an input is null");
        }
        return new Node(this, Arrays.asList(inputs)).output();
    }

    /** Output shape without the batch axis; throws IllegalArgumentException for unfit inputs. */
    public abstract Shape outputShape(List<Shape> inputShapes);

    /** The layer's weights for these input shapes, in Keras order. */
    public List<ParamSpec> params(List<Shape> inputShapes) { return List.of(); }

    /** Per-sample-independent state the backward pass needs (e.g. saved batch statistics). */
    public List<Shape> savedState(List<Shape> inputShapes) { return List.of(); }

    public abstract void forward(LayerContext c);

    public abstract void backward(LayerContext c);

    /** Where backward's input gradients live: how the executor hands out their buffers. */
    public enum InputGradients {
        /** One buffer per input. */
        SEPARATE,
        /** Every input's gradient is the same tensor: one buffer, written once through inputGradient(0). */
        ONE_BUFFER,
        /** Every input's gradient is the output gradient itself: backward has nothing to write. */
        OUTPUT_GRADIENT
    }

    /** How this layer's input gradients relate, with or without a ReLU fused after it (see {@link LayerContext#reluAfter}). */
    public InputGradients inputGradients(boolean reluAfter) { return InputGradients.SEPARATE; }

    protected static Shape single(List<Shape> inputShapes, String layer) {
        if (inputShapes.size() != 1) throw new IllegalArgumentException(layer + " takes one input, got " + inputShapes.size());
        return inputShapes.get(0);
    }
}
