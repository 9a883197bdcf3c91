package jresnet.nn;

import java.util.List;
import jresnet.tensor.Shape;

/**
 * Keras BatchNormalization over the channel axis: momentum 0.99, epsilon 1e-3; batch statistics in
 * training, moving statistics in inference. When the executor fuses a preceding ReLU into it, it runs
 * the tutorial's relu_bn as one op; when it fuses the following ReLU, He et al.'s BN → ReLU; when it
 * fuses the residual Add after it and that Add's ReLU, He et al.'s BN → Add → ReLU.
 */
public final class BatchNormalization extends Layer {
    private final double momentum, epsilon;

    public BatchNormalization() {
        this(0.99, 1e-3, null);
    }

    public BatchNormalization(double momentum, double epsilon, String name) {
        super(name);
        if (!(momentum >= 0 && momentum <= 1) || !(epsilon > 0 && Double.isFinite(epsilon))) {
            throw new IllegalArgumentException("BatchNormalization needs a momentum in [0, 1] and a positive epsilon, got "
                    + momentum + ", " + epsilon);
        }
        this.momentum = momentum;
        this.epsilon = epsilon;
    }

    @Override public String kerasClassName() { return "BatchNormalization"; }

    public double epsilon() { return epsilon; }

    @Override public Shape outputShape(List<Shape> inputShapes) { return single(inputShapes, name()); }

    @Override public List<ParamSpec> params(List<Shape> inputShapes) {
        Shape channels = Shape.of(inputShapes.get(0).dim(-1));
        return List.of(new ParamSpec("gamma", channels, true, Initializer.ONES),
                new ParamSpec("beta", channels, true, Initializer.ZEROS),
                new ParamSpec("moving_mean", channels, false, Initializer.ZEROS),
                new ParamSpec("moving_variance", channels, false, Initializer.ONES));
    }

    /** The batch mean and 1/sqrt(var + eps) saved by the training forward for backward. */
    @Override public List<Shape> savedState(List<Shape> inputShapes) {
        Shape channels = Shape.of(inputShapes.get(0).dim(-1));
        return List.of(channels, channels);
    }

    @Override public void forward(LayerContext c) {
        var b = c.backend();
        if (c.addAfter()) {
            if (c.training()) {
                b.batchNormAddReluTrainForward(c.input(0), c.input(1), c.param("gamma"), c.param("beta"),
                        c.param("moving_mean"), c.param("moving_variance"), c.output(), c.saved(0), c.saved(1), momentum, epsilon);
            } else {
                b.batchNormAddReluInferForward(c.input(0), c.input(1), c.param("gamma"), c.param("beta"),
                        c.param("moving_mean"), c.param("moving_variance"), c.output(), epsilon);
            }
        } else if (c.reluAfter()) {
            if (c.training()) {
                b.batchNormReluTrainForward(c.input(0), c.param("gamma"), c.param("beta"), c.param("moving_mean"),
                        c.param("moving_variance"), c.output(), c.saved(0), c.saved(1), momentum, epsilon);
            } else {
                b.batchNormReluInferForward(c.input(0), c.param("gamma"), c.param("beta"), c.param("moving_mean"),
                        c.param("moving_variance"), c.output(), epsilon);
            }
        } else if (c.training() && c.reluBefore()) {
            b.reluBatchNormTrainForward(c.input(0), c.param("gamma"), c.param("beta"), c.param("moving_mean"),
                    c.param("moving_variance"), c.output(), c.saved(0), c.saved(1), momentum, epsilon);
        } else if (c.training()) {
            b.batchNormTrainForward(c.input(0), c.param("gamma"), c.param("beta"), c.param("moving_mean"),
                    c.param("moving_variance"), c.output(), c.saved(0), c.saved(1), momentum, epsilon);
        } else if (c.reluBefore()) {
            b.reluBatchNormInferForward(c.input(0), c.param("gamma"), c.param("beta"), c.param("moving_mean"),
                    c.param("moving_variance"), c.output(), epsilon);
        } else {
            b.batchNormInferForward(c.input(0), c.param("gamma"), c.param("beta"), c.param("moving_mean"),
                    c.param("moving_variance"), c.output(), epsilon);
        }
    }

    @Override public void backward(LayerContext c) {
        if (c.addAfter()) {
            c.backend().batchNormAddReluBackward(c.input(0), c.output(), c.outputGradient(), c.param("gamma"), c.saved(0),
                    c.saved(1), c.inputGradient(0), c.inputGradient(1), c.paramGradient("gamma"), c.paramGradient("beta"), epsilon);
        } else if (c.reluAfter()) {
            c.backend().batchNormReluBackward(c.input(0), c.output(), c.outputGradient(), c.param("gamma"), c.saved(0),
                    c.saved(1), c.inputGradient(0), c.paramGradient("gamma"), c.paramGradient("beta"), epsilon);
        } else if (c.reluBefore()) {
            c.backend().reluBatchNormBackward(c.input(0), c.outputGradient(), c.param("gamma"), c.saved(0), c.saved(1),
                    c.inputGradient(0), c.paramGradient("gamma"), c.paramGradient("beta"));
        } else {
            c.backend().batchNormBackward(c.input(0), c.outputGradient(), c.param("gamma"), c.saved(0), c.saved(1),
                    c.inputGradient(0), c.paramGradient("gamma"), c.paramGradient("beta"), epsilon);
        }
    }
}
