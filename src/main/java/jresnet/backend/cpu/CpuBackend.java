package jresnet.backend.cpu;

import static jresnet.backend.cpu.CpuTensor.array;
import static jresnet.backend.cpu.CpuTensor.elements;

import java.util.Arrays;
import jresnet.backend.Backend;
import jresnet.backend.ConvGeometry;
import jresnet.tensor.Shape;
import jresnet.tensor.Tensor;

/**
 * The fast CPU backend: float32 NHWC arrays, Vector-API kernels fitted to the JVM's vector width
 * ({@link Vectors}, {@link Sgemm}), every heavy op shared out over all available processors by one
 * {@link WorkerPool}. This class only dispatches; each op family lives in its own file. Scratch
 * buffers belong to the families and only grow, so steady-state steps allocate nothing of tensor
 * size. Ops are called from one thread at a time (the scratch is shared).
 */
public final class CpuBackend implements Backend {
    private final WorkerPool pool;
    private final ConvolutionRule rule;
    private final CpuConvolution convolution;
    private final CpuBatchNorm batchNorm;
    private final CpuElementwise elementwise;
    private final CpuPooling pooling;
    private final CpuDense dense;
    private final CpuOptimizers optimizers;

    public CpuBackend() { this(TuningStore.NONE); }

    /**
     * A backend on all processors that keeps what it measures about this machine in {@code store}
     * (the first backend of a JVM measures, or reads the store, before it returns).
     */
    public CpuBackend(TuningStore store) { this(Runtime.getRuntime().availableProcessors(), ConvolutionRule.MEASURED, store); }

    /** A backend on {@code threads} threads (tests use this to check the parallel split). */
    public CpuBackend(int threads) { this(threads, ConvolutionRule.MEASURED, TuningStore.NONE); }

    /** A backend whose convolutions follow {@code rule} (tests and benchmarks compare the algorithms). */
    CpuBackend(int threads, ConvolutionRule rule) { this(threads, rule, TuningStore.NONE); }

    private CpuBackend(int threads, ConvolutionRule rule, TuningStore store) {
        if (threads < 1) throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        SgemmTuning.chooseWith(store);
        pool = new WorkerPool(threads);
        ChannelSums sums = new ChannelSums(pool);
        convolution = new CpuConvolution(pool, sums, rule);
        this.rule = rule;
        batchNorm = new CpuBatchNorm(pool, sums);
        elementwise = new CpuElementwise(pool);
        pooling = new CpuPooling(pool);
        dense = new CpuDense(pool);
        optimizers = new CpuOptimizers(pool);
    }

    @Override public String name() { return "cpu"; }

    @Override public int vectorBits() { return Vectors.BITS; }

    @Override public String kernelChoices() {
        return Vectors.BITS + "-bit vectors (" + Vectors.LANES + " floats), "
                + (Vectors.FUSED_MULTIPLY_ADD ? "fused multiply-add" : "no FMA instruction: multiply then add")
                + "; " + Sgemm.describe() + "; convolutions: " + rule.describe() + "; " + pool.threads() + " threads";
    }

    public int threads() { return pool.threads(); }

    // ---- memory ----

    @Override public CpuTensor allocate(Shape shape) { return new CpuTensor(shape, new float[shape.elements()]); }

    @Override public CpuTensor allocateParameter(Shape shape) { return allocate(shape); }

    @Override public void copyFromHost(float[] src, Tensor dst) { System.arraycopy(src, 0, array(dst), 0, elements(dst)); }

    @Override public void copyToHost(Tensor src, float[] dst) { System.arraycopy(array(src), 0, dst, 0, elements(src)); }

    @Override public void fill(Tensor t, float value) { Arrays.fill(array(t), 0, elements(t), value); }

    @Override public void copy(Tensor src, Tensor dst) { elementwise.copy(src, dst); }

    // ---- convolution ----

    @Override public void conv2dForward(Tensor x, Tensor kernel, Tensor bias, Tensor y, ConvGeometry g) {
        convolution.conv2dForward(x, kernel, bias, y, g);
    }

    @Override public void conv2dBackwardData(Tensor dy, Tensor kernel, Tensor dx, ConvGeometry g) {
        convolution.conv2dBackwardData(dy, kernel, dx, g);
    }

    @Override public void conv2dBackwardFilter(Tensor x, Tensor dy, Tensor dKernel, Tensor dBias, ConvGeometry g) {
        convolution.conv2dBackwardFilter(x, dy, dKernel, dBias, g);
    }

    // ---- batch normalization ----

    @Override public void batchNormTrainForward(Tensor x, Tensor gamma, Tensor beta, Tensor movingMean,
                                                Tensor movingVariance, Tensor y, Tensor savedMean,
                                                Tensor savedInvStd, double momentum, double epsilon) {
        batchNorm.trainForward(x, null, gamma, beta, movingMean, movingVariance, y, savedMean, savedInvStd, momentum, epsilon,
                CpuBatchNorm.Relu.NONE);
    }

    @Override public void batchNormInferForward(Tensor x, Tensor gamma, Tensor beta, Tensor movingMean,
                                                Tensor movingVariance, Tensor y, double epsilon) {
        batchNorm.inferForward(x, null, gamma, beta, movingMean, movingVariance, y, epsilon, CpuBatchNorm.Relu.NONE);
    }

    @Override public void batchNormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor savedMean, Tensor savedInvStd,
                                            Tensor dx, Tensor dGamma, Tensor dBeta, double epsilon) {
        batchNorm.backward(x, null, dy, gamma, savedMean, savedInvStd, dx, null, dGamma, dBeta, CpuBatchNorm.Relu.NONE);
    }

    @Override public void reluBatchNormTrainForward(Tensor x, Tensor gamma, Tensor beta, Tensor movingMean,
                                                    Tensor movingVariance, Tensor y, Tensor savedMean,
                                                    Tensor savedInvStd, double momentum, double epsilon) {
        batchNorm.trainForward(x, null, gamma, beta, movingMean, movingVariance, y, savedMean, savedInvStd, momentum, epsilon,
                CpuBatchNorm.Relu.BEFORE);
    }

    @Override public void reluBatchNormInferForward(Tensor x, Tensor gamma, Tensor beta, Tensor movingMean,
                                                    Tensor movingVariance, Tensor y, double epsilon) {
        batchNorm.inferForward(x, null, gamma, beta, movingMean, movingVariance, y, epsilon, CpuBatchNorm.Relu.BEFORE);
    }

    @Override public void reluBatchNormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor savedMean,
                                                Tensor savedInvStd, Tensor dx, Tensor dGamma, Tensor dBeta) {
        batchNorm.backward(x, null, dy, gamma, savedMean, savedInvStd, dx, null, dGamma, dBeta, CpuBatchNorm.Relu.BEFORE);
    }

    @Override public void batchNormReluTrainForward(Tensor x, Tensor gamma, Tensor beta, Tensor movingMean,
                                                    Tensor movingVariance, Tensor y, Tensor savedMean,
                                                    Tensor savedInvStd, double momentum, double epsilon) {
        batchNorm.trainForward(x, null, gamma, beta, movingMean, movingVariance, y, savedMean, savedInvStd, momentum, epsilon,
                CpuBatchNorm.Relu.AFTER);
    }

    @Override public void batchNormReluInferForward(Tensor x, Tensor gamma, Tensor beta, Tensor movingMean,
                                                    Tensor movingVariance, Tensor y, double epsilon) {
        batchNorm.inferForward(x, null, gamma, beta, movingMean, movingVariance, y, epsilon, CpuBatchNorm.Relu.AFTER);
    }

    @Override public void batchNormReluBackward(Tensor x, Tensor y, Tensor dy, Tensor gamma, Tensor savedMean,
                                                Tensor savedInvStd, Tensor dx, Tensor dGamma, Tensor dBeta, double epsilon) {
        batchNorm.backward(x, y, dy, gamma, savedMean, savedInvStd, dx, null, dGamma, dBeta, CpuBatchNorm.Relu.AFTER);
    }

    @Override public void batchNormAddReluTrainForward(Tensor x, Tensor shortcut, Tensor gamma, Tensor beta,
                                                       Tensor movingMean, Tensor movingVariance, Tensor y,
                                                       Tensor savedMean, Tensor savedInvStd, double momentum, double epsilon) {
        batchNorm.trainForward(x, shortcut, gamma, beta, movingMean, movingVariance, y, savedMean, savedInvStd, momentum,
                epsilon, CpuBatchNorm.Relu.AFTER);
    }

    @Override public void batchNormAddReluInferForward(Tensor x, Tensor shortcut, Tensor gamma, Tensor beta,
                                                       Tensor movingMean, Tensor movingVariance, Tensor y, double epsilon) {
        batchNorm.inferForward(x, shortcut, gamma, beta, movingMean, movingVariance, y, epsilon, CpuBatchNorm.Relu.AFTER);
    }

    @Override public void batchNormAddReluBackward(Tensor x, Tensor y, Tensor dy, Tensor gamma, Tensor savedMean,
                                                   Tensor savedInvStd, Tensor dx, Tensor dShortcut, Tensor dGamma,
                                                   Tensor dBeta, double epsilon) {
        batchNorm.backward(x, y, dy, gamma, savedMean, savedInvStd, dx, dShortcut, dGamma, dBeta, CpuBatchNorm.Relu.AFTER);
    }

    // ---- elementwise ----

    @Override public void reluForward(Tensor x, Tensor y) { elementwise.reluForward(x, y); }

    @Override public void reluBackward(Tensor x, Tensor dy, Tensor dx) { elementwise.reluBackward(x, dy, dx); }

    @Override public void add(Tensor a, Tensor b, Tensor out) { elementwise.add(a, b, out); }

    @Override public void addReluForward(Tensor a, Tensor b, Tensor y) { elementwise.addReluForward(a, b, y); }

    @Override public void flatten(Tensor x, Tensor y) { elementwise.copy(x, y); }

    @Override public void unflatten(Tensor dy, Tensor dx) { elementwise.copy(dy, dx); }

    // ---- pooling and shortcuts ----

    @Override public void averagePoolForward(Tensor x, Tensor y, ConvGeometry g) { pooling.averagePoolForward(x, y, g); }

    @Override public void averagePoolBackward(Tensor dy, Tensor dx, ConvGeometry g) { pooling.averagePoolBackward(dy, dx, g); }

    @Override public void subsampleChannelPadForward(Tensor x, Tensor y, int stride, int padBefore) {
        pooling.subsampleChannelPadForward(x, y, stride, padBefore);
    }

    @Override public void subsampleChannelPadBackward(Tensor dy, Tensor dx, int stride, int padBefore) {
        pooling.subsampleChannelPadBackward(dy, dx, stride, padBefore);
    }

    // ---- dense ----

    @Override public void denseForward(Tensor x, Tensor kernel, Tensor bias, Tensor y) { dense.denseForward(x, kernel, bias, y); }

    @Override public void denseBackward(Tensor x, Tensor kernel, Tensor dy, Tensor dx, Tensor dKernel, Tensor dBias) {
        dense.denseBackward(x, kernel, dy, dx, dKernel, dBias);
    }

    // ---- loss ----

    @Override public double[] softmaxCrossEntropy(Tensor logits, Tensor labels, Tensor dLogits, double labelSmoothing) {
        return CpuSoftmax.softmaxCrossEntropy(logits, labels, dLogits, labelSmoothing);
    }

    @Override public void softmax(Tensor logits, Tensor probabilities) { CpuSoftmax.softmax(logits, probabilities); }

    // ---- optimizers ----

    @Override public void adamUpdate(Tensor[] params, Tensor[] grads, Tensor[] m, Tensor[] v,
                                     double lrT, double beta1, double beta2, double epsilon) {
        optimizers.adamUpdate(params, grads, m, v, lrT, beta1, beta2, epsilon);
    }

    @Override public void sgdUpdate(Tensor[] params, Tensor[] grads, Tensor[] velocity,
                                    double lr, double momentum, double weightDecay, boolean nesterov) {
        optimizers.sgdUpdate(params, grads, velocity, lr, momentum, weightDecay, nesterov);
    }

    @Override public void close() { pool.close(); }
}
