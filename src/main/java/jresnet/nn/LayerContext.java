package jresnet.nn;

import jresnet.backend.Backend;
import jresnet.tensor.Tensor;

/** What one layer sees while it runs: the backend and the current batch's buffers. */
public interface LayerContext {
    Backend backend();

    boolean training();

    Tensor input(int i);

    Tensor output();

    /** A weight by suffix ("kernel", "moving_mean", ...). */
    Tensor param(String suffix);

    /** The gradient of a trainable weight; backward overwrites it. */
    Tensor paramGradient(String suffix);

    /** State tensor i from {@link Layer#savedState}. */
    Tensor saved(int i);

    Tensor outputGradient();

    /** False where nothing upstream needs it (the model input): layers may skip computing it. */
    boolean needsInputGradient(int i);

    /** The buffer backward overwrites with the gradient of input i (a scratch buffer when not needed). */
    Tensor inputGradient(int i);

    /** True when a ReLU was fused in front of this layer: input(0) is the ReLU's input. */
    boolean reluBefore();

    /**
     * True when the ReLU after this layer was fused into it: output() and outputGradient() are the ReLU's
     * (the layer's own output is never stored).
     */
    boolean reluAfter();

    /**
     * True when a residual Add and the ReLU after it were fused into this layer (He et al.'s BN → Add →
     * ReLU): input(1) is the Add's other input, inputGradient(1) its gradient, and reluAfter() holds.
     */
    boolean addAfter();
}
