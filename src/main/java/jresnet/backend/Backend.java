package jresnet.backend;

import jresnet.tensor.Shape;
import jresnet.tensor.Tensor;

/**
 * The op set every backend implements, one name per op. Activations are NHWC ([N, features] for
 * dense layers), parameters use Keras layouts (conv kernel [kh, kw, in, out], dense kernel [in, out]).
 * Host arrays passed in or out are always in those logical layouts. Outputs are overwritten, never
 * accumulated; every output tensor is distinct from every input unless an op says otherwise.
 * Shape checks and padding arithmetic happen before a call ({@link ConvGeometry}); backends only
 * do the arithmetic.
 *
 * <p>To add an op, in this order:
 * <ol>
 *   <li>the layer in {@code jresnet.nn} that needs it, calling it through its {@code LayerContext};
 *   <li>the method here, with its contract: layouts, what is overwritten, what may alias;
 *   <li>{@code reference/ReferenceBackend}: the plain double-precision loops every other backend is
 *       checked against;
 *   <li>{@code cpu/CpuBackend};
 *   <li>{@code cuda/CudaBackend}, with {@code kernels/<op>.cu} where cuDNN and cuBLAS do not have the
 *       op (the emulated device compiles every kernel file for the CPU by itself), and a stand-in in
 *       {@code src/test/native/emulated-device} for each cuDNN or cuBLAS function it newly calls;
 *   <li>one test in {@code BackendContractTest} (src/test): it runs the op on every backend against
 *       the reference, over shared shape tables.
 * </ol>
 */
public interface Backend extends AutoCloseable {

    /** "reference", "cpu" or "cuda". */
    String name();

    /** Bits of the SIMD vectors this backend's kernels use; 0 where that does not apply (scalar code, a GPU). */
    default int vectorBits() { return 0; }

    /** How the backend fitted its kernels to this machine, in one line for {@code bench}; empty if it has no choice. */
    default String kernelChoices() { return ""; }

    // ---- memory ----

    /** A new activation or scratch tensor; contents undefined. */
    Tensor allocate(Shape shape);

    /** A new parameter-shaped tensor (weights, their gradients, optimizer slots); contents undefined. */
    Tensor allocateParameter(Shape shape);

    void copyFromHost(float[] src, Tensor dst);

    void copyToHost(Tensor src, float[] dst);

    void fill(Tensor t, float value);

    void copy(Tensor src, Tensor dst);

    /** Blocks until all queued work is done (a no-op on synchronous backends). */
    default void synchronize() {}

    // ---- convolution ----

    /** y = conv(x, kernel) + bias; bias may be null. */
    void conv2dForward(Tensor x, Tensor kernel, Tensor bias, Tensor y, ConvGeometry g);

    /** dx = gradient of the convolution with respect to its input. */
    void conv2dBackwardData(Tensor dy, Tensor kernel, Tensor dx, ConvGeometry g);

    /** dKernel (and dBias, unless null) = gradients with respect to the kernel and bias. */
    void conv2dBackwardFilter(Tensor x, Tensor dy, Tensor dKernel, Tensor dBias, ConvGeometry g);

    // ---- batch normalization over all axes but the last (channels) ----

    /**
     * Training forward with batch statistics: y = gamma (x - mean) / sqrt(var + eps) + beta with the
     * biased batch variance; saves mean and 1/sqrt(var + eps) for the backward pass; updates
     * movingMean ← momentum·movingMean + (1−momentum)·mean and movingVariance likewise with the
     * unbiased variance.
     */
    void batchNormTrainForward(Tensor x, Tensor gamma, Tensor beta, Tensor movingMean, Tensor movingVariance,
                               Tensor y, Tensor savedMean, Tensor savedInvStd, double momentum, double epsilon);

    /** Inference forward with the moving statistics. */
    void batchNormInferForward(Tensor x, Tensor gamma, Tensor beta, Tensor movingMean, Tensor movingVariance,
                               Tensor y, double epsilon);

    /**
     * Gradients of the training forward; savedMean/savedInvStd come from it, epsilon is the one it used
     * (cuDNN's backward asks for it).
     */
    void batchNormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor savedMean, Tensor savedInvStd,
                           Tensor dx, Tensor dGamma, Tensor dBeta, double epsilon);

    /** The tutorial's relu_bn: batch normalization of relu(x), training forward. */
    void reluBatchNormTrainForward(Tensor x, Tensor gamma, Tensor beta, Tensor movingMean, Tensor movingVariance,
                                   Tensor y, Tensor savedMean, Tensor savedInvStd, double momentum, double epsilon);

    void reluBatchNormInferForward(Tensor x, Tensor gamma, Tensor beta, Tensor movingMean, Tensor movingVariance,
                                   Tensor y, double epsilon);

    /** Gradients of relu_bn; x is the input before the ReLU. */
    void reluBatchNormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor savedMean, Tensor savedInvStd,
                               Tensor dx, Tensor dGamma, Tensor dBeta);

    /**
     * He et al.'s BN → ReLU in one pass: y = relu(batch normalization of x), training forward; statistics,
     * saved and moving, as {@link #batchNormTrainForward}.
     */
    void batchNormReluTrainForward(Tensor x, Tensor gamma, Tensor beta, Tensor movingMean, Tensor movingVariance,
                                   Tensor y, Tensor savedMean, Tensor savedInvStd, double momentum, double epsilon);

    void batchNormReluInferForward(Tensor x, Tensor gamma, Tensor beta, Tensor movingMean, Tensor movingVariance,
                                   Tensor y, double epsilon);

    /**
     * Gradients of batchNormRelu: x is its input and y its output, whose sign is the ReLU's decision
     * (dy passes where y &gt; 0); otherwise as {@link #batchNormBackward}.
     */
    void batchNormReluBackward(Tensor x, Tensor y, Tensor dy, Tensor gamma, Tensor savedMean, Tensor savedInvStd,
                               Tensor dx, Tensor dGamma, Tensor dBeta, double epsilon);

    /**
     * He et al.'s BN → Add → ReLU in one step: y = relu(batch normalization of x + shortcut), the
     * normalized x never stored; training forward, statistics as {@link #batchNormTrainForward}.
     */
    void batchNormAddReluTrainForward(Tensor x, Tensor shortcut, Tensor gamma, Tensor beta, Tensor movingMean,
                                      Tensor movingVariance, Tensor y, Tensor savedMean, Tensor savedInvStd,
                                      double momentum, double epsilon);

    void batchNormAddReluInferForward(Tensor x, Tensor shortcut, Tensor gamma, Tensor beta, Tensor movingMean,
                                      Tensor movingVariance, Tensor y, double epsilon);

    /**
     * Gradients of batchNormAddRelu, y its output: dShortcut = dy where y &gt; 0, else 0 (the sum's
     * gradient, which reaches the shortcut unchanged); dx, dGamma and dBeta as {@link #batchNormBackward}
     * of that gradient.
     */
    void batchNormAddReluBackward(Tensor x, Tensor y, Tensor dy, Tensor gamma, Tensor savedMean, Tensor savedInvStd,
                                  Tensor dx, Tensor dShortcut, Tensor dGamma, Tensor dBeta, double epsilon);

    // ---- elementwise ----

    void reluForward(Tensor x, Tensor y);

    /** dx = dy where x > 0, else 0. */
    void reluBackward(Tensor x, Tensor dy, Tensor dx);

    /** out = a + b; out may be a or b. */
    void add(Tensor a, Tensor b, Tensor out);

    /**
     * He et al.'s Add → ReLU in one pass: y = relu(a + b); y may be a or b. Its gradient, the same for both
     * branches, is reluBackward on y (relu(a + b) &gt; 0 exactly where a + b is).
     */
    void addReluForward(Tensor a, Tensor b, Tensor y);

    /** Row-major reshape [N, ...] to [N, features] in NHWC order (Keras Flatten, channels_last). */
    void flatten(Tensor x, Tensor y);

    /** The inverse of {@link #flatten}, for gradients. */
    void unflatten(Tensor dy, Tensor dx);

    // ---- pooling (valid padding; g.outC == g.inC) ----

    void averagePoolForward(Tensor x, Tensor y, ConvGeometry g);

    void averagePoolBackward(Tensor dy, Tensor dx, ConvGeometry g);

    /**
     * He et al.'s option-A shortcut: y[n, i, j, c] = x[n, i·stride, j·stride, c − padBefore] where that
     * channel exists, else 0. y's channel count is x's plus the padding on both sides.
     */
    void subsampleChannelPadForward(Tensor x, Tensor y, int stride, int padBefore);

    void subsampleChannelPadBackward(Tensor dy, Tensor dx, int stride, int padBefore);

    // ---- dense ----

    /** y[N, out] = x[N, in] · kernel[in, out] + bias. */
    void denseForward(Tensor x, Tensor kernel, Tensor bias, Tensor y);

    /** dx (unless null), dKernel and dBias from dy. */
    void denseBackward(Tensor x, Tensor kernel, Tensor dy, Tensor dx, Tensor dKernel, Tensor dBias);

    // ---- loss ----

    /**
     * Softmax cross-entropy from logits [N, classes] and labels [N] (class indices stored as floats)
     * against targets smoothed by {@code labelSmoothing} = e (Szegedy et al. 2016): per sample
     * loss = (1−e)·(−log p_label) + e·mean_k(−log p_k). Writes dLogits = (softmax − ((1−e)·onehot + e/classes)) / N
     * unless dLogits is null. e = 0 is the plain cross-entropy, computed exactly as without smoothing.
     * Returns {sum of per-sample losses, number of samples whose argmax (first maximum) equals the label}.
     */
    double[] softmaxCrossEntropy(Tensor logits, Tensor labels, Tensor dLogits, double labelSmoothing);

    /** The plain cross-entropy: {@link #softmaxCrossEntropy(Tensor, Tensor, Tensor, double)} without smoothing. */
    default double[] softmaxCrossEntropy(Tensor logits, Tensor labels, Tensor dLogits) {
        return softmaxCrossEntropy(logits, labels, dLogits, 0);
    }

    /** Row-wise softmax. */
    void softmax(Tensor logits, Tensor probabilities);

    // ---- optimizers: one call updates every parameter ----

    /**
     * Adam (Keras form): m ← β1 m + (1−β1) g; v ← β2 v + (1−β2) g²; w ← w − lrT · m / (sqrt(v) + ε),
     * where the caller passes lrT = lr · sqrt(1−β2^t) / (1−β1^t).
     */
    void adamUpdate(Tensor[] params, Tensor[] grads, Tensor[] m, Tensor[] v,
                    double lrT, double beta1, double beta2, double epsilon);

    /**
     * SGD with momentum and L2 weight decay (the PyTorch form He et al.'s recipe is usually run with):
     * g' = g + wd·w; velocity ← momentum·velocity + g'; then w ← w − lr·velocity, or with Nesterov
     * momentum w ← w − lr·(g' + momentum·velocity).
     */
    void sgdUpdate(Tensor[] params, Tensor[] grads, Tensor[] velocity,
                   double lr, double momentum, double weightDecay, boolean nesterov);

    /** Heavy-ball momentum: {@link #sgdUpdate(Tensor[], Tensor[], Tensor[], double, double, double, boolean)} without Nesterov. */
    default void sgdUpdate(Tensor[] params, Tensor[] grads, Tensor[] velocity,
                           double lr, double momentum, double weightDecay) {
        sgdUpdate(params, grads, velocity, lr, momentum, weightDecay, false);
    }

    /** Frees backend-wide resources (handles, pools); tensors must be closed first. */
    @Override void close();
}
