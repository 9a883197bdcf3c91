package jresnet.backend.cuda;

import static jcuda.driver.JCudaDriver.cuCtxSetCurrent;
import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDeviceGetCount;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRelease;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRetain;
import static jcuda.driver.JCudaDriver.cuInit;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoDAsync;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoH;
import static jcuda.driver.JCudaDriver.cuMemsetD32Async;
import static jcuda.driver.JCudaDriver.cuStreamCreate;
import static jcuda.driver.JCudaDriver.cuStreamDestroy;
import static jcuda.jcublas.JCublas2.cublasCreate;
import static jcuda.jcublas.JCublas2.cublasDestroy;
import static jcuda.jcublas.JCublas2.cublasSetMathMode;
import static jcuda.jcublas.JCublas2.cublasSetStream;
import static jcuda.jcublas.cublasMath.CUBLAS_DEFAULT_MATH;
import static jcuda.jcudnn.JCudnn.cudnnCreate;
import static jcuda.jcudnn.JCudnn.cudnnDestroy;
import static jcuda.jcudnn.JCudnn.cudnnSetStream;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUstream;
import jcuda.driver.CUstream_flags;
import jcuda.jcublas.cublasHandle;
import jcuda.jcudnn.cudnnHandle;
import jcuda.runtime.cudaStream_t;
import jresnet.UserException;
import jresnet.backend.Backend;
import jresnet.backend.ConvGeometry;
import jresnet.tensor.Shape;
import jresnet.tensor.Tensor;

/**
 * The CUDA backend: cuDNN convolutions and batch norm, cuBLAS SGEMM for dense layers, our kernels
 * (kernels/*.cu) for everything else. All device work is queued on one compute stream; tensors come
 * from a caching pool, so a training step allocates nothing from the driver after its first run.
 * Only {@link #softmaxCrossEntropy} and {@link #copyToHost} wait for the device.
 * TF32 is off everywhere (CUDNN_FMA_MATH, CUBLAS_DEFAULT_MATH).
 *
 * <p>This class owns the device, the memory and the host copies, and dispatches each op to its family:
 * {@link CudaConvolution}, {@link CudaBatchNorm}, {@link CudaElementwise}, {@link CudaPooling},
 * {@link CudaDense}, {@link CudaLoss}, {@link CudaOptimizers}.
 */
public final class CudaBackend implements Backend {
    private final CUdevice device = new CUdevice();
    private final CUcontext context = new CUcontext();
    private final CUstream stream = new CUstream();
    private final cudnnHandle cudnn = new cudnnHandle();
    private final cublasHandle cublas = new cublasHandle();
    private final DevicePool pool = new DevicePool();
    private final KernelModule kernels;
    private final PinnedStaging staging;
    /** What the op families share: stream, handles, kernels, pool. */
    private final CudaContext shared;
    private final CudaConvolution convolution;
    private final CudaBatchNorm batchNorm;
    private final CudaElementwise elementwise;
    private final CudaPooling pooling;
    private final CudaDense dense;
    private final CudaLoss loss;
    private final CudaOptimizers optimizers;
    private Thread boundThread;

    private CudaBackend(int ordinal) {
        CudaCheck.driver(cuInit(0), "cuInit");
        CudaCheck.driver(cuDeviceGet(device, ordinal), "cuDeviceGet(" + ordinal + ")");
        // The primary context is the one cuDNN and cuBLAS (runtime API) use as well.
        CudaCheck.driver(cuDevicePrimaryCtxRetain(context, device), "cuDevicePrimaryCtxRetain");
        bind();
        CudaCheck.driver(cuStreamCreate(stream, CUstream_flags.CU_STREAM_DEFAULT), "cuStreamCreate(compute)");
        CudaCheck.cudnn(cudnnCreate(cudnn), "cudnnCreate");
        CudaCheck.cudnn(cudnnSetStream(cudnn, new cudaStream_t(stream)), "cudnnSetStream");
        CudaCheck.cublas(cublasCreate(cublas), "cublasCreate");
        CudaCheck.cublas(cublasSetStream(cublas, new cudaStream_t(stream)), "cublasSetStream");
        CudaCheck.cublas(cublasSetMathMode(cublas, CUBLAS_DEFAULT_MATH), "cublasSetMathMode(CUBLAS_DEFAULT_MATH)");
        kernels = new KernelModule();
        staging = new PinnedStaging(pool, stream);
        shared = new CudaContext(stream, cudnn, cublas, kernels, pool);
        convolution = new CudaConvolution(shared);
        batchNorm = new CudaBatchNorm(shared);
        elementwise = new CudaElementwise(shared);
        pooling = new CudaPooling(shared);
        dense = new CudaDense(shared);
        loss = new CudaLoss(shared);
        optimizers = new CudaOptimizers(shared);
    }

    /**
     * The backend on device 0.
     *
     * @throws UserException saying what is missing (driver, device, cuBLAS, cuDNN, kernels) and how to fix it
     */
    public static CudaBackend open() {
        CudaLibraries.load();
        KernelModule.image(); // throws, saying how to rebuild, when the jar carries no kernels
        int status = cuInit(0);
        if (status != 0) {
            throw new UserException("CUDA driver present but cuInit failed with error " + status
                    + ": check that the NVIDIA kernel module is loaded (nvidia-smi) and the device is visible");
        }
        int[] count = {0};
        CudaCheck.driver(cuDeviceGetCount(count), "cuDeviceGetCount");
        if (count[0] == 0) throw new UserException("CUDA driver found but no CUDA device: check nvidia-smi and CUDA_VISIBLE_DEVICES");
        return new CudaBackend(0);
    }

    /** True when {@link #open()} would succeed and training can run: for --device auto. */
    public static boolean available() {
        return Doctor.run().ok();
    }

    @Override public String name() { return "cuda"; }

    /** Pool statistics: bytes in use, bytes reserved from the driver, driver allocations, requests. */
    public DevicePool.Statistics poolStatistics() {
        return pool.statistics();
    }

    /** cuDNN algorithms chosen per geometry so far: {forward, backward data, backward filter}, -1 unused. */
    public Map<ConvGeometry, int[]> convolutionAlgorithms() {
        return convolution.chosenAlgorithms();
    }

    /** Makes the context current on the calling thread (JCuda calls are per thread). */
    private void bind() {
        Thread current = Thread.currentThread();
        if (current != boundThread) {
            CudaCheck.driver(cuCtxSetCurrent(context), "cuCtxSetCurrent");
            boundThread = current;
        }
    }

    // ---- memory ----

    @Override public CudaTensor allocate(Shape shape) {
        bind();
        return new CudaTensor(this, shape, pool.acquire(shape.size() * Float.BYTES), false);
    }

    @Override public CudaTensor allocateParameter(Shape shape) {
        bind();
        return new CudaTensor(this, shape, pool.acquire(shape.size() * Float.BYTES), shape.rank() == 4);
    }

    void release(DevicePool.Block block) {
        pool.release(block);
    }

    @Override public void copyFromHost(float[] src, Tensor dst) {
        bind();
        CudaTensor d = cuda(dst);
        requireLength(src.length, d, "copyFromHost");
        float[] values = d.kernelLayout() ? kerasToStoredKernel(src, d.shape()) : src;
        staging.upload(values, Math.toIntExact(d.elements()), d, "copyFromHost " + d.shape());
    }

    @Override public void copyToHost(Tensor src, float[] dst) {
        bind();
        CudaTensor s = cuda(src);
        requireLength(dst.length, s, "copyToHost");
        shared.sync("copyToHost " + s.shape());
        if (s.kernelLayout()) {
            float[] stored = new float[Math.toIntExact(s.elements())];
            CudaCheck.driver(cuMemcpyDtoH(Pointer.to(stored), s.ptr(), s.bytes()), "copyToHost " + s.shape());
            storedKernelToKeras(stored, s.shape(), dst);
        } else {
            CudaCheck.driver(cuMemcpyDtoH(Pointer.to(dst), s.ptr(), s.bytes()), "copyToHost " + s.shape());
        }
    }

    /** Host arrays may be longer than the tensor (a partial batch in a full-size buffer): the prefix is used. */
    private static void requireLength(int length, CudaTensor t, String op) {
        if (length < t.elements()) {
            throw new IllegalArgumentException(op + ": host array of " + length + " floats for tensor " + t.shape()
                    + " of " + t.elements());
        }
    }

    /** [kh, kw, in, out] -> [out, kh, kw, in]. */
    static float[] kerasToStoredKernel(float[] keras, Shape s) {
        int kh = s.dim(0), kw = s.dim(1), in = s.dim(2), out = s.dim(3);
        float[] stored = new float[s.elements()];
        for (int h = 0; h < kh; h++)
            for (int w = 0; w < kw; w++)
                for (int i = 0; i < in; i++)
                    for (int o = 0; o < out; o++)
                        stored[((o * kh + h) * kw + w) * in + i] = keras[((h * kw + w) * in + i) * out + o];
        return stored;
    }

    static void storedKernelToKeras(float[] stored, Shape s, float[] keras) {
        int kh = s.dim(0), kw = s.dim(1), in = s.dim(2), out = s.dim(3);
        for (int h = 0; h < kh; h++)
            for (int w = 0; w < kw; w++)
                for (int i = 0; i < in; i++)
                    for (int o = 0; o < out; o++)
                        keras[((h * kw + w) * in + i) * out + o] = stored[((o * kh + h) * kw + w) * in + i];
    }

    @Override public void fill(Tensor t, float value) {
        bind();
        CudaTensor c = cuda(t);
        CudaCheck.driver(cuMemsetD32Async(c.ptr(), Float.floatToRawIntBits(value), c.elements(), stream),
                "fill " + c.shape());
    }

    @Override public void copy(Tensor src, Tensor dst) {
        bind();
        CudaTensor s = cuda(src), d = cuda(dst);
        if (s.elements() != d.elements() || s.kernelLayout() != d.kernelLayout()) {
            throw new IllegalArgumentException("copy " + s.shape() + " -> " + d.shape() + ": sizes or layouts differ");
        }
        CudaCheck.driver(cuMemcpyDtoDAsync(d.ptr(), s.ptr(), s.bytes(), stream), "copy " + s.shape());
    }

    @Override public void synchronize() {
        bind();
        shared.sync("synchronize");
    }

    // ---- convolution ----

    @Override public void conv2dForward(Tensor x, Tensor kernel, Tensor bias, Tensor y, ConvGeometry g) {
        bind();
        convolution.forward(cuda(x), cuda(kernel), cudaOrNull(bias), cuda(y), g);
    }

    @Override public void conv2dBackwardData(Tensor dy, Tensor kernel, Tensor dx, ConvGeometry g) {
        bind();
        convolution.backwardData(cuda(dy), cuda(kernel), cuda(dx), g);
    }

    @Override public void conv2dBackwardFilter(Tensor x, Tensor dy, Tensor dKernel, Tensor dBias, ConvGeometry g) {
        bind();
        convolution.backwardFilter(cuda(x), cuda(dy), cuda(dKernel), cudaOrNull(dBias), g);
    }

    // ---- batch normalization ----

    @Override public void batchNormTrainForward(Tensor x, Tensor gamma, Tensor beta, Tensor movingMean,
                                                Tensor movingVariance, Tensor y, Tensor savedMean,
                                                Tensor savedInvStd, double momentum, double epsilon) {
        bind();
        batchNorm.trainForward(cuda(x), cuda(gamma), cuda(beta), cuda(movingMean), cuda(movingVariance), cuda(y),
                cuda(savedMean), cuda(savedInvStd), momentum, epsilon);
    }

    @Override public void batchNormInferForward(Tensor x, Tensor gamma, Tensor beta, Tensor movingMean,
                                                Tensor movingVariance, Tensor y, double epsilon) {
        bind();
        batchNorm.inferForward(cuda(x), cuda(gamma), cuda(beta), cuda(movingMean), cuda(movingVariance), cuda(y), epsilon);
    }

    @Override public void batchNormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor savedMean, Tensor savedInvStd,
                                            Tensor dx, Tensor dGamma, Tensor dBeta, double epsilon) {
        bind();
        batchNorm.backward(cuda(x), cuda(dy), cuda(gamma), cuda(savedMean), cuda(savedInvStd), cuda(dx), cuda(dGamma),
                cuda(dBeta), epsilon);
    }

    @Override public void reluBatchNormTrainForward(Tensor x, Tensor gamma, Tensor beta, Tensor movingMean,
                                                    Tensor movingVariance, Tensor y, Tensor savedMean,
                                                    Tensor savedInvStd, double momentum, double epsilon) {
        bind();
        batchNorm.reluTrainForward(cuda(x), cuda(gamma), cuda(beta), cuda(movingMean), cuda(movingVariance), cuda(y),
                cuda(savedMean), cuda(savedInvStd), momentum, epsilon);
    }

    @Override public void reluBatchNormInferForward(Tensor x, Tensor gamma, Tensor beta, Tensor movingMean,
                                                    Tensor movingVariance, Tensor y, double epsilon) {
        bind();
        batchNorm.reluInferForward(cuda(x), cuda(gamma), cuda(beta), cuda(movingMean), cuda(movingVariance), cuda(y),
                epsilon);
    }

    @Override public void reluBatchNormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor savedMean,
                                                Tensor savedInvStd, Tensor dx, Tensor dGamma, Tensor dBeta) {
        bind();
        batchNorm.reluBackward(cuda(x), cuda(dy), cuda(gamma), cuda(savedMean), cuda(savedInvStd), cuda(dx),
                cuda(dGamma), cuda(dBeta));
    }

    @Override public void batchNormReluTrainForward(Tensor x, Tensor gamma, Tensor beta, Tensor movingMean,
                                                    Tensor movingVariance, Tensor y, Tensor savedMean,
                                                    Tensor savedInvStd, double momentum, double epsilon) {
        bind();
        batchNorm.trainForwardRelu(cuda(x), cuda(gamma), cuda(beta), cuda(movingMean), cuda(movingVariance), cuda(y),
                cuda(savedMean), cuda(savedInvStd), momentum, epsilon);
    }

    @Override public void batchNormReluInferForward(Tensor x, Tensor gamma, Tensor beta, Tensor movingMean,
                                                    Tensor movingVariance, Tensor y, double epsilon) {
        bind();
        batchNorm.inferForwardRelu(cuda(x), cuda(gamma), cuda(beta), cuda(movingMean), cuda(movingVariance), cuda(y),
                epsilon);
    }

    @Override public void batchNormReluBackward(Tensor x, Tensor y, Tensor dy, Tensor gamma, Tensor savedMean,
                                                Tensor savedInvStd, Tensor dx, Tensor dGamma, Tensor dBeta, double epsilon) {
        bind();
        batchNorm.backwardRelu(cuda(x), cuda(y), cuda(dy), cuda(gamma), cuda(savedMean), cuda(savedInvStd), cuda(dx),
                cuda(dGamma), cuda(dBeta));
    }

    @Override public void batchNormAddReluTrainForward(Tensor x, Tensor shortcut, Tensor gamma, Tensor beta,
                                                       Tensor movingMean, Tensor movingVariance, Tensor y,
                                                       Tensor savedMean, Tensor savedInvStd, double momentum, double epsilon) {
        bind();
        batchNorm.trainForward(cuda(x), cuda(gamma), cuda(beta), cuda(movingMean), cuda(movingVariance), cuda(y),
                cuda(savedMean), cuda(savedInvStd), momentum, epsilon);
        elementwise.addReluForward(cuda(y), cuda(shortcut), cuda(y));
    }

    @Override public void batchNormAddReluInferForward(Tensor x, Tensor shortcut, Tensor gamma, Tensor beta,
                                                       Tensor movingMean, Tensor movingVariance, Tensor y, double epsilon) {
        bind();
        batchNorm.inferForward(cuda(x), cuda(gamma), cuda(beta), cuda(movingMean), cuda(movingVariance), cuda(y), epsilon);
        elementwise.addReluForward(cuda(y), cuda(shortcut), cuda(y));
    }

    /** cuDNN's batch norm and the ReLU's kernel one after the other: on the GPU these passes are not what costs. */
    @Override public void batchNormAddReluBackward(Tensor x, Tensor y, Tensor dy, Tensor gamma, Tensor savedMean,
                                                   Tensor savedInvStd, Tensor dx, Tensor dShortcut, Tensor dGamma,
                                                   Tensor dBeta, double epsilon) {
        bind();
        elementwise.reluBackward(cuda(y), cuda(dy), cuda(dShortcut));
        batchNorm.backward(cuda(x), cuda(dShortcut), cuda(gamma), cuda(savedMean), cuda(savedInvStd), cuda(dx),
                cuda(dGamma), cuda(dBeta), epsilon);
    }

    // ---- elementwise ----

    @Override public void reluForward(Tensor x, Tensor y) {
        bind();
        elementwise.reluForward(cuda(x), cuda(y));
    }

    @Override public void reluBackward(Tensor x, Tensor dy, Tensor dx) {
        bind();
        elementwise.reluBackward(cuda(x), cuda(dy), cuda(dx));
    }

    @Override public void add(Tensor a, Tensor b, Tensor out) {
        bind();
        elementwise.add(cuda(a), cuda(b), cuda(out));
    }

    @Override public void addReluForward(Tensor a, Tensor b, Tensor y) {
        bind();
        elementwise.addReluForward(cuda(a), cuda(b), cuda(y));
    }

    @Override public void flatten(Tensor x, Tensor y) {
        bind();
        elementwise.copyActivation(cuda(x), cuda(y), "flatten");
    }

    @Override public void unflatten(Tensor dy, Tensor dx) {
        bind();
        elementwise.copyActivation(cuda(dy), cuda(dx), "unflatten");
    }

    // ---- pooling ----

    @Override public void averagePoolForward(Tensor x, Tensor y, ConvGeometry g) {
        bind();
        pooling.averageForward(cuda(x), cuda(y), g);
    }

    @Override public void averagePoolBackward(Tensor dy, Tensor dx, ConvGeometry g) {
        bind();
        pooling.averageBackward(cuda(dy), cuda(dx), g);
    }

    @Override public void subsampleChannelPadForward(Tensor x, Tensor y, int stride, int padBefore) {
        bind();
        pooling.subsampleChannelPadForward(cuda(x), cuda(y), stride, padBefore);
    }

    @Override public void subsampleChannelPadBackward(Tensor dy, Tensor dx, int stride, int padBefore) {
        bind();
        pooling.subsampleChannelPadBackward(cuda(dy), cuda(dx), stride, padBefore);
    }

    // ---- dense ----

    @Override public void denseForward(Tensor x, Tensor kernel, Tensor bias, Tensor y) {
        bind();
        dense.forward(cuda(x), cuda(kernel), cudaOrNull(bias), cuda(y));
    }

    @Override public void denseBackward(Tensor x, Tensor kernel, Tensor dy, Tensor dx, Tensor dKernel, Tensor dBias) {
        bind();
        dense.backward(cuda(x), cuda(kernel), cuda(dy), cudaOrNull(dx), cuda(dKernel), cudaOrNull(dBias));
    }

    // ---- loss ----

    @Override public double[] softmaxCrossEntropy(Tensor logits, Tensor labels, Tensor dLogits, double labelSmoothing) {
        bind();
        return loss.softmaxCrossEntropy(cuda(logits), cuda(labels), cudaOrNull(dLogits), labelSmoothing);
    }

    @Override public void softmax(Tensor logits, Tensor probabilities) {
        bind();
        loss.softmax(cuda(logits), cuda(probabilities));
    }

    // ---- optimizers ----

    @Override public void adamUpdate(Tensor[] params, Tensor[] grads, Tensor[] m, Tensor[] v,
                                     double lrT, double beta1, double beta2, double epsilon) {
        bind();
        optimizers.adam(interleave(params, grads, m, v), lrT, beta1, beta2, epsilon);
    }

    @Override public void sgdUpdate(Tensor[] params, Tensor[] grads, Tensor[] velocity,
                                    double lr, double momentum, double weightDecay, boolean nesterov) {
        bind();
        optimizers.sgd(interleave(params, grads, velocity), lr, momentum, weightDecay, nesterov);
    }

    /** Per parameter its tensor from each array, in order; sizes must agree. */
    private List<CudaTensor> interleave(Tensor[]... arrays) {
        List<CudaTensor> out = new ArrayList<>();
        for (int i = 0; i < arrays[0].length; i++) {
            for (Tensor[] a : arrays) {
                if (a[i].shape().size() != arrays[0][i].shape().size()) {
                    throw new IllegalArgumentException("optimizer update: parameter " + i + " " + arrays[0][i].shape()
                            + " paired with " + a[i].shape());
                }
                out.add(cuda(a[i]));
            }
        }
        return out;
    }

    // ---- helpers ----

    private CudaTensor cuda(Tensor t) {
        if (!(t instanceof CudaTensor c) || c.owner() != this) {
            throw new IllegalArgumentException("tensor " + (t == null ? null : t.shape()) + " does not belong to this CUDA backend");
        }
        return c;
    }

    /** For the optional tensors of an op (a bias, a gradient not wanted). */
    private CudaTensor cudaOrNull(Tensor t) {
        return t == null ? null : cuda(t);
    }

    @Override public void close() {
        bind();
        shared.sync("close");
        staging.close();
        optimizers.close();
        loss.close();
        batchNorm.close();
        convolution.close();
        kernels.close();
        CudaCheck.cublas(cublasDestroy(cublas), "close: cublasDestroy");
        CudaCheck.cudnn(cudnnDestroy(cudnn), "close: cudnnDestroy");
        CudaCheck.driver(cuStreamDestroy(stream), "close: cuStreamDestroy");
        pool.close();
        CudaCheck.driver(cuDevicePrimaryCtxRelease(device), "close: cuDevicePrimaryCtxRelease");
    }
}
