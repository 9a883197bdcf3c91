package jresnet.backend.cuda;

import static jcuda.driver.JCudaDriver.cuCtxSetCurrent;
import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDeviceGetCount;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRelease;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRetain;
import static jcuda.driver.JCudaDriver.cuInit;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoDAsync;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoH;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;
import static jcuda.driver.JCudaDriver.cuMemsetD32Async;
import static jcuda.driver.JCudaDriver.cuStreamCreate;
import static jcuda.driver.JCudaDriver.cuStreamDestroy;
import static jcuda.driver.JCudaDriver.cuStreamSynchronize;
import static jcuda.jcublas.JCublas2.cublasCreate;
import static jcuda.jcublas.JCublas2.cublasDestroy;
import static jcuda.jcublas.JCublas2.cublasSetMathMode;
import static jcuda.jcublas.JCublas2.cublasSetStream;
import static jcuda.jcublas.JCublas2.cublasSgemm;
import static jcuda.jcublas.cublasMath.CUBLAS_DEFAULT_MATH;
import static jcuda.jcublas.cublasOperation.CUBLAS_OP_N;
import static jcuda.jcublas.cublasOperation.CUBLAS_OP_T;
import static jcuda.jcudnn.JCudnn.cudnnBatchNormalizationBackward;
import static jcuda.jcudnn.JCudnn.cudnnBatchNormalizationForwardInference;
import static jcuda.jcudnn.JCudnn.cudnnBatchNormalizationForwardTraining;
import static jcuda.jcudnn.JCudnn.cudnnConvolutionBackwardData;
import static jcuda.jcudnn.JCudnn.cudnnConvolutionBackwardFilter;
import static jcuda.jcudnn.JCudnn.cudnnConvolutionForward;
import static jcuda.jcudnn.JCudnn.cudnnCreate;
import static jcuda.jcudnn.JCudnn.cudnnCreateTensorDescriptor;
import static jcuda.jcudnn.JCudnn.cudnnDeriveBNTensorDescriptor;
import static jcuda.jcudnn.JCudnn.cudnnDestroy;
import static jcuda.jcudnn.JCudnn.cudnnDestroyTensorDescriptor;
import static jcuda.jcudnn.JCudnn.cudnnSetStream;
import static jcuda.jcudnn.JCudnn.cudnnSetTensor4dDescriptor;
import static jcuda.jcudnn.cudnnBatchNormMode.CUDNN_BATCHNORM_SPATIAL;
import static jcuda.jcudnn.cudnnDataType.CUDNN_DATA_FLOAT;
import static jcuda.jcudnn.cudnnTensorFormat.CUDNN_TENSOR_NHWC;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUstream;
import jcuda.driver.CUstream_flags;
import jcuda.jcublas.cublasHandle;
import jcuda.jcudnn.cudnnHandle;
import jcuda.jcudnn.cudnnTensorDescriptor;
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
 */
public final class CudaBackend implements Backend {

    private static final int THREADS = 256;
    private static final int MAX_BLOCKS = 8192;
    private static final int COLUMN_TILE = 32, ROW_LANES = 8;

    private final CUdevice device = new CUdevice();
    private final CUcontext context = new CUcontext();
    private final CUstream stream = new CUstream();
    private final cudnnHandle cudnn = new cudnnHandle();
    private final cublasHandle cublas = new cublasHandle();
    private final DevicePool pool = new DevicePool();
    private final KernelModule kernels;
    private final ConvolutionPlans convolutions;
    private final PinnedStaging staging;
    private final Map<Shape, cudnnTensorDescriptor[]> batchNormDescriptors = new HashMap<>();
    private final OptimizerTables optimizerTables = new OptimizerTables();
    private final DevicePool.Block lossResult;
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
        convolutions = new ConvolutionPlans(cudnn);
        staging = new PinnedStaging(pool, stream);
        lossResult = pool.acquire(2 * Double.BYTES);
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
        return convolutions.chosenAlgorithms();
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
        sync("copyToHost " + s.shape());
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
        sync("synchronize");
    }

    private void sync(String what) {
        CudaCheck.driver(cuStreamSynchronize(stream), what + ": cuStreamSynchronize (a queued kernel may have failed)");
    }

    // ---- convolution ----

    @Override public void conv2dForward(Tensor x, Tensor kernel, Tensor bias, Tensor y, ConvGeometry g) {
        bind();
        ConvolutionPlans.Plan p = convolutions.plan(g);
        convolutions.chooseForward(p);
        ConvolutionPlans.Choice c = p.forward;
        convolve(p, cuda(x), false, c, "conv2dForward", (xSide, workspace) -> cudnnConvolutionForward(cudnn, one(),
                p.x, xSide, p.w, cuda(kernel).ptr(), p.conv, c.algorithm, workspace, c.workspace, zero(), p.y, cuda(y).ptr()));
        if (bias != null) {
            CudaTensor out = cuda(y);
            kernels.launch("bias_add", blocks(out.elements()), 1, THREADS, 1, stream, out, cuda(bias), out.elements(), g.outC());
        }
    }

    @Override public void conv2dBackwardData(Tensor dy, Tensor kernel, Tensor dx, ConvGeometry g) {
        bind();
        ConvolutionPlans.Plan p = convolutions.plan(g);
        convolutions.chooseBackwardData(p);
        ConvolutionPlans.Choice c = p.backwardData;
        convolve(p, cuda(dx), true, c, "conv2dBackwardData", (xSide, workspace) -> cudnnConvolutionBackwardData(cudnn,
                one(), p.w, cuda(kernel).ptr(), p.y, cuda(dy).ptr(), p.conv, c.algorithm, workspace, c.workspace, zero(),
                p.x, xSide));
    }

    @Override public void conv2dBackwardFilter(Tensor x, Tensor dy, Tensor dKernel, Tensor dBias, ConvGeometry g) {
        bind();
        ConvolutionPlans.Plan p = convolutions.plan(g);
        convolutions.chooseBackwardFilter(p);
        ConvolutionPlans.Choice c = p.backwardFilter;
        convolve(p, cuda(x), false, c, "conv2dBackwardFilter", (xSide, workspace) -> cudnnConvolutionBackwardFilter(cudnn,
                one(), p.x, xSide, p.y, cuda(dy).ptr(), p.conv, c.algorithm, workspace, c.workspace, zero(), p.w,
                cuda(dKernel).ptr()));
        if (dBias != null) columnSums(cuda(dy), g.batch() * g.outH() * g.outW(), g.outC(), cuda(dBias));
    }

    /** One cuDNN convolution call, given the buffer to use on the x side and the workspace. */
    private interface CudnnConvolution {
        int run(Pointer xSide, Pointer workspace);
    }

    /**
     * Runs call with the algorithm's workspace, on x or, where TF padding is asymmetric, on a padded
     * copy of it: padded before the call when the call reads x, cropped into x after when it writes x.
     */
    private void convolve(ConvolutionPlans.Plan p, CudaTensor x, boolean writesX, ConvolutionPlans.Choice choice,
                          String op, CudnnConvolution call) {
        DevicePool.Block padded = !p.explicitPadding ? null : writesX ? pool.acquire(paddedBytes(p)) : padInput(x, p);
        DevicePool.Block workspace = pool.acquire(choice.workspace);
        try {
            CudaCheck.cudnn(call.run(padded != null ? padded.ptr : x.ptr(), workspace.ptr),
                    op + " " + p.geometry + " algorithm " + choice.algorithm);
            if (padded != null && writesX) {
                ConvGeometry g = p.geometry;
                kernels.launch("crop_nhwc", blocks(x.elements()), 1, THREADS, 1, stream, padded.ptr, x,
                        g.batch(), g.inH(), g.inW(), g.inC(), p.paddedH, p.paddedW, g.padTop(), g.padLeft());
            }
        } finally {
            pool.release(workspace);
            if (padded != null) pool.release(padded);
        }
    }

    private long paddedBytes(ConvolutionPlans.Plan p) {
        ConvGeometry g = p.geometry;
        return (long) g.batch() * p.paddedH * p.paddedW * g.inC() * Float.BYTES;
    }

    private DevicePool.Block padInput(CudaTensor x, ConvolutionPlans.Plan p) {
        ConvGeometry g = p.geometry;
        DevicePool.Block padded = pool.acquire(paddedBytes(p));
        long n = (long) g.batch() * p.paddedH * p.paddedW * g.inC();
        kernels.launch("pad_nhwc", blocks(n), 1, THREADS, 1, stream, x, padded.ptr,
                g.batch(), g.inH(), g.inW(), g.inC(), p.paddedH, p.paddedW, g.padTop(), g.padLeft());
        return padded;
    }

    // ---- batch normalization: cuDNN, spatial mode over NHWC ----

    /** {x/y descriptor, per-channel descriptor} for an activation shape (rank 2 = [N, C] as N x C x 1 x 1). */
    private cudnnTensorDescriptor[] batchNormDescriptors(Shape shape) {
        return batchNormDescriptors.computeIfAbsent(shape, s -> {
            cudnnTensorDescriptor data = new cudnnTensorDescriptor(), channels = new cudnnTensorDescriptor();
            String what = "batch norm descriptors " + s;
            CudaCheck.cudnn(cudnnCreateTensorDescriptor(data), what);
            CudaCheck.cudnn(cudnnCreateTensorDescriptor(channels), what);
            int n = s.dim(0), c = s.dim(-1);
            int h = s.rank() == 4 ? s.dim(1) : 1, w = s.rank() == 4 ? s.dim(2) : 1;
            if (s.rank() != 4 && s.rank() != 2) throw new IllegalArgumentException(what + ": expected rank 2 or 4");
            CudaCheck.cudnn(cudnnSetTensor4dDescriptor(data, CUDNN_TENSOR_NHWC, CUDNN_DATA_FLOAT, n, c, h, w), what);
            CudaCheck.cudnn(cudnnDeriveBNTensorDescriptor(channels, data, CUDNN_BATCHNORM_SPATIAL), what);
            return new cudnnTensorDescriptor[] {data, channels};
        });
    }

    @Override public void batchNormTrainForward(Tensor x, Tensor gamma, Tensor beta, Tensor movingMean,
                                                Tensor movingVariance, Tensor y, Tensor savedMean,
                                                Tensor savedInvStd, double momentum, double epsilon) {
        bind();
        cudnnTensorDescriptor[] d = batchNormDescriptors(x.shape());
        // cuDNN's running update is new = (1 - factor) old + factor batch: factor = 1 - momentum.
        CudaCheck.cudnn(cudnnBatchNormalizationForwardTraining(cudnn, CUDNN_BATCHNORM_SPATIAL, one(), zero(),
                d[0], cuda(x).ptr(), d[0], cuda(y).ptr(), d[1], cuda(gamma).ptr(), cuda(beta).ptr(), 1 - momentum,
                cuda(movingMean).ptr(), cuda(movingVariance).ptr(), epsilon, cuda(savedMean).ptr(),
                cuda(savedInvStd).ptr()), "batchNormTrainForward " + x.shape());
    }

    @Override public void batchNormInferForward(Tensor x, Tensor gamma, Tensor beta, Tensor movingMean,
                                                Tensor movingVariance, Tensor y, double epsilon) {
        bind();
        cudnnTensorDescriptor[] d = batchNormDescriptors(x.shape());
        CudaCheck.cudnn(cudnnBatchNormalizationForwardInference(cudnn, CUDNN_BATCHNORM_SPATIAL, one(), zero(),
                d[0], cuda(x).ptr(), d[0], cuda(y).ptr(), d[1], cuda(gamma).ptr(), cuda(beta).ptr(),
                cuda(movingMean).ptr(), cuda(movingVariance).ptr(), epsilon), "batchNormInferForward " + x.shape());
    }

    @Override public void batchNormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor savedMean, Tensor savedInvStd,
                                            Tensor dx, Tensor dGamma, Tensor dBeta, double epsilon) {
        bind();
        cudnnTensorDescriptor[] d = batchNormDescriptors(x.shape());
        CudaCheck.cudnn(cudnnBatchNormalizationBackward(cudnn, CUDNN_BATCHNORM_SPATIAL, one(), zero(), one(), zero(),
                d[0], cuda(x).ptr(), d[0], cuda(dy).ptr(), d[0], cuda(dx).ptr(), d[1], cuda(gamma).ptr(),
                cuda(dGamma).ptr(), cuda(dBeta).ptr(), epsilon, cuda(savedMean).ptr(), cuda(savedInvStd).ptr()),
                "batchNormBackward " + x.shape());
    }

    // ---- relu_bn: our fused kernels (kernels/relu_bn.cu) ----

    /** Rows per chunk of a column reduction: enough chunks to fill the device, each worth a block. */
    private static int rowsPerChunk(int rows) {
        return Math.max(64, (rows + 511) / 512);
    }

    @Override public void reluBatchNormTrainForward(Tensor x, Tensor gamma, Tensor beta, Tensor movingMean,
                                                    Tensor movingVariance, Tensor y, Tensor savedMean,
                                                    Tensor savedInvStd, double momentum, double epsilon) {
        bind();
        CudaTensor in = cuda(x);
        int channels = x.shape().dim(-1);
        int rows = Math.toIntExact(in.elements() / channels);
        reduceColumns(rows, channels, 2, "relu_bn_stat_partials", new Object[] {in}, "relu_bn_stat_finalize",
                rows, channels, (float) momentum, (float) epsilon, cuda(savedMean), cuda(savedInvStd),
                cuda(movingMean), cuda(movingVariance));
        kernels.launch("relu_bn_train_apply", blocks(in.elements()), 1, THREADS, 1, stream, in, cuda(y),
                cuda(gamma), cuda(beta), cuda(savedMean), cuda(savedInvStd), in.elements(), channels);
    }

    @Override public void reluBatchNormInferForward(Tensor x, Tensor gamma, Tensor beta, Tensor movingMean,
                                                    Tensor movingVariance, Tensor y, double epsilon) {
        bind();
        CudaTensor in = cuda(x);
        kernels.launch("relu_bn_infer", blocks(in.elements()), 1, THREADS, 1, stream, in, cuda(y), cuda(gamma),
                cuda(beta), cuda(movingMean), cuda(movingVariance), (float) epsilon, in.elements(), x.shape().dim(-1));
    }

    @Override public void reluBatchNormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor savedMean,
                                                Tensor savedInvStd, Tensor dx, Tensor dGamma, Tensor dBeta) {
        bind();
        CudaTensor in = cuda(x);
        int channels = x.shape().dim(-1);
        int rows = Math.toIntExact(in.elements() / channels);
        reduceColumns(rows, channels, 2, "relu_bn_grad_partials",
                new Object[] {in, cuda(dy), cuda(savedMean), cuda(savedInvStd)}, "relu_bn_grad_finalize",
                channels, cuda(dGamma), cuda(dBeta));
        kernels.launch("relu_bn_backward_apply", blocks(in.elements()), 1, THREADS, 1, stream, in, cuda(dy),
                cuda(gamma), cuda(savedMean), cuda(savedInvStd), cuda(dGamma), cuda(dBeta), cuda(dx), in.elements(),
                channels, rows);
    }

    // ---- elementwise ----

    @Override public void reluForward(Tensor x, Tensor y) {
        bind();
        CudaTensor in = cuda(x);
        kernels.launch("relu_forward", blocks(in.elements()), 1, THREADS, 1, stream, in, cuda(y), in.elements());
    }

    @Override public void reluBackward(Tensor x, Tensor dy, Tensor dx) {
        bind();
        CudaTensor in = cuda(x);
        kernels.launch("relu_backward", blocks(in.elements()), 1, THREADS, 1, stream, in, cuda(dy), cuda(dx), in.elements());
    }

    @Override public void add(Tensor a, Tensor b, Tensor out) {
        bind();
        CudaTensor o = cuda(out);
        kernels.launch("residual_add", blocks(o.elements()), 1, THREADS, 1, stream, cuda(a), cuda(b), o, o.elements());
    }

    /** NHWC storage is already row-major [N, features]: flattening is a copy. */
    @Override public void flatten(Tensor x, Tensor y) {
        copyActivation(x, y, "flatten");
    }

    @Override public void unflatten(Tensor dy, Tensor dx) {
        copyActivation(dy, dx, "unflatten");
    }

    private void copyActivation(Tensor src, Tensor dst, String op) {
        bind();
        CudaTensor s = cuda(src), d = cuda(dst);
        if (s.elements() != d.elements()) throw new IllegalArgumentException(op + " " + s.shape() + " -> " + d.shape());
        CudaCheck.driver(cuMemcpyDtoDAsync(d.ptr(), s.ptr(), s.bytes(), stream), op + " " + s.shape());
    }

    // ---- pooling ----

    @Override public void averagePoolForward(Tensor x, Tensor y, ConvGeometry g) {
        bind();
        requireValidPooling(g, "averagePoolForward");
        long n = (long) g.batch() * g.outH() * g.outW() * g.inC();
        kernels.launch("avg_pool_forward", blocks(n), 1, THREADS, 1, stream, cuda(x), cuda(y), g.batch(), g.inH(),
                g.inW(), g.inC(), g.kernelH(), g.kernelW(), g.strideH(), g.strideW(), g.outH(), g.outW());
    }

    @Override public void averagePoolBackward(Tensor dy, Tensor dx, ConvGeometry g) {
        bind();
        requireValidPooling(g, "averagePoolBackward");
        long n = (long) g.batch() * g.inH() * g.inW() * g.inC();
        kernels.launch("avg_pool_backward", blocks(n), 1, THREADS, 1, stream, cuda(dy), cuda(dx), g.batch(), g.inH(),
                g.inW(), g.inC(), g.kernelH(), g.kernelW(), g.strideH(), g.strideW(), g.outH(), g.outW());
    }

    private static void requireValidPooling(ConvGeometry g, String op) {
        if (g.padTop() + g.padBottom() + g.padLeft() + g.padRight() != 0 || g.outC() != g.inC()) {
            throw new IllegalArgumentException(op + ": pooling must use valid padding and keep the channels, got " + g);
        }
    }

    @Override public void subsampleChannelPadForward(Tensor x, Tensor y, int stride, int padBefore) {
        bind();
        Shape in = x.shape(), out = y.shape();
        kernels.launch("subsample_channel_pad_forward", blocks(out.size()), 1, THREADS, 1, stream, cuda(x), cuda(y),
                in.dim(0), in.dim(1), in.dim(2), in.dim(3), out.dim(1), out.dim(2), out.dim(3), stride, padBefore);
    }

    @Override public void subsampleChannelPadBackward(Tensor dy, Tensor dx, int stride, int padBefore) {
        bind();
        Shape out = dy.shape(), in = dx.shape();
        kernels.launch("subsample_channel_pad_backward", blocks(in.size()), 1, THREADS, 1, stream, cuda(dy), cuda(dx),
                in.dim(0), in.dim(1), in.dim(2), in.dim(3), out.dim(1), out.dim(2), out.dim(3), stride, padBefore);
    }

    // ---- dense: row-major [N, in] x [in, out] is column-major out x N = K^T-shaped GEMMs ----

    @Override public void denseForward(Tensor x, Tensor kernel, Tensor bias, Tensor y) {
        bind();
        int rows = x.shape().dim(0), in = kernel.shape().dim(0), out = kernel.shape().dim(1);
        String what = "denseForward x " + x.shape() + " kernel " + kernel.shape();
        CudaCheck.cublas(cublasSgemm(cublas, CUBLAS_OP_N, CUBLAS_OP_N, out, rows, in, one(), cuda(kernel).ptr(), out,
                cuda(x).ptr(), in, zero(), cuda(y).ptr(), out), what);
        if (bias != null) {
            CudaTensor o = cuda(y);
            kernels.launch("bias_add", blocks(o.elements()), 1, THREADS, 1, stream, o, cuda(bias), o.elements(), out);
        }
    }

    @Override public void denseBackward(Tensor x, Tensor kernel, Tensor dy, Tensor dx, Tensor dKernel, Tensor dBias) {
        bind();
        int rows = x.shape().dim(0), in = kernel.shape().dim(0), out = kernel.shape().dim(1);
        String what = "denseBackward x " + x.shape() + " kernel " + kernel.shape();
        if (dx != null) {
            CudaCheck.cublas(cublasSgemm(cublas, CUBLAS_OP_T, CUBLAS_OP_N, in, rows, out, one(), cuda(kernel).ptr(),
                    out, cuda(dy).ptr(), out, zero(), cuda(dx).ptr(), in), what + ": dx");
        }
        CudaCheck.cublas(cublasSgemm(cublas, CUBLAS_OP_N, CUBLAS_OP_T, out, in, rows, one(), cuda(dy).ptr(), out,
                cuda(x).ptr(), in, zero(), cuda(dKernel).ptr(), out), what + ": dKernel");
        if (dBias != null) columnSums(cuda(dy), rows, out, cuda(dBias));
    }

    /** out[c] = sum over rows of values[row, c], in double per chunk. */
    private void columnSums(CudaTensor values, int rows, int channels, CudaTensor out) {
        reduceColumns(rows, channels, 1, "column_sum_partials", new Object[] {values}, "column_sum_finalize", channels, out);
    }

    /**
     * A reduction over the rows of [rows, channels] data in two launches, deterministic and without
     * atomics: the partials kernel (leading..., rows, channels, rowsPerChunk, partial) writes `sums`
     * doubles per chunk of rows and channel into a pooled buffer; the finalize kernel (partial, chunks,
     * trailing...) combines the chunks per channel.
     */
    private void reduceColumns(int rows, int channels, int sums, String partials, Object[] leading, String finalize,
                               Object... trailing) {
        int perChunk = rowsPerChunk(rows), chunks = (rows + perChunk - 1) / perChunk;
        DevicePool.Block partial = pool.acquire((long) chunks * sums * channels * Double.BYTES);
        try {
            Object[] partialArgs = Arrays.copyOf(leading, leading.length + 4);
            partialArgs[leading.length] = rows;
            partialArgs[leading.length + 1] = channels;
            partialArgs[leading.length + 2] = perChunk;
            partialArgs[leading.length + 3] = partial.ptr;
            kernels.launch(partials, (channels + COLUMN_TILE - 1) / COLUMN_TILE, chunks, COLUMN_TILE, ROW_LANES, stream,
                    partialArgs);
            Object[] finalizeArgs = new Object[trailing.length + 2];
            finalizeArgs[0] = partial.ptr;
            finalizeArgs[1] = chunks;
            System.arraycopy(trailing, 0, finalizeArgs, 2, trailing.length);
            kernels.launch(finalize, (channels + THREADS - 1) / THREADS, 1, THREADS, 1, stream, finalizeArgs);
        } finally {
            pool.release(partial);
        }
    }

    // ---- loss ----

    @Override public double[] softmaxCrossEntropy(Tensor logits, Tensor labels, Tensor dLogits, double labelSmoothing) {
        bind();
        int rows = logits.shape().dim(0), classes = logits.shape().dim(1);
        String what = "softmaxCrossEntropy " + logits.shape();
        kernels.launch("softmax_xent", 1, 1, THREADS, 1, stream, cuda(logits), cuda(labels),
                dLogits == null ? null : cuda(dLogits), rows, classes, (float) labelSmoothing, lossResult.ptr);
        sync(what);
        double[] result = new double[2];
        CudaCheck.driver(cuMemcpyDtoH(Pointer.to(result), lossResult.ptr, 2L * Double.BYTES), what + ": read back");
        return result;
    }

    @Override public void softmax(Tensor logits, Tensor probabilities) {
        bind();
        int rows = logits.shape().dim(0), classes = logits.shape().dim(1);
        kernels.launch("softmax_rows", blocks(rows), 1, THREADS, 1, stream, cuda(logits), cuda(probabilities), rows, classes);
    }

    // ---- optimizers: one launch for all parameters ----

    @Override public void adamUpdate(Tensor[] params, Tensor[] grads, Tensor[] m, Tensor[] v,
                                     double lrT, double beta1, double beta2, double epsilon) {
        bind();
        OptimizerTables.Table table = optimizerTables.table(interleave(params, grads, m, v), 4);
        kernels.launch("adam_update", table.gridX, params.length, THREADS, 1, stream, table.slots.ptr, table.sizes.ptr,
                (float) lrT, (float) beta1, (float) beta2, (float) epsilon);
    }

    @Override public void sgdUpdate(Tensor[] params, Tensor[] grads, Tensor[] velocity,
                                    double lr, double momentum, double weightDecay, boolean nesterov) {
        bind();
        OptimizerTables.Table table = optimizerTables.table(interleave(params, grads, velocity), 3);
        kernels.launch("sgd_update", table.gridX, params.length, THREADS, 1, stream, table.slots.ptr, table.sizes.ptr,
                (float) lr, (float) momentum, (float) weightDecay, nesterov ? 1 : 0);
    }

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

    /**
     * Device tables of pointers and sizes for the optimizer kernels, uploaded once per distinct list of
     * tensors (an optimizer passes the same tensors every step).
     */
    private final class OptimizerTables {
        final class Table {
            final List<CudaTensor> tensors;
            final DevicePool.Block slots, sizes;
            final int gridX;

            Table(List<CudaTensor> tensors, int perParameter) {
                this.tensors = tensors;
                int count = tensors.size() / perParameter;
                long[] sizeArray = new long[count];
                long largest = 0;
                CUdeviceptr[] pointers = new CUdeviceptr[tensors.size()];
                for (int i = 0; i < tensors.size(); i++) pointers[i] = tensors.get(i).ptr();
                for (int k = 0; k < count; k++) {
                    sizeArray[k] = tensors.get(k * perParameter).elements();
                    largest = Math.max(largest, sizeArray[k]);
                }
                slots = pool.acquire((long) pointers.length * Long.BYTES);
                sizes = pool.acquire((long) count * Long.BYTES);
                // Synchronous copies: Pointer.to(pointers) is a host array of the device addresses.
                CudaCheck.driver(cuMemcpyHtoD(slots.ptr, Pointer.to(pointers), (long) pointers.length * Long.BYTES),
                        "optimizer pointer table");
                CudaCheck.driver(cuMemcpyHtoD(sizes.ptr, Pointer.to(sizeArray), (long) count * Long.BYTES),
                        "optimizer size table");
                gridX = blocks(largest);
            }
        }

        private final Map<List<CudaTensor>, Table> tables = new HashMap<>();

        Table table(List<CudaTensor> tensors, int perParameter) {
            if (tensors.size() / perParameter > 65535) throw new IllegalArgumentException("more than 65535 parameters");
            return tables.computeIfAbsent(tensors, t -> new Table(t, perParameter));
        }

        void close() {
            for (Table t : tables.values()) {
                pool.release(t.slots);
                pool.release(t.sizes);
            }
            tables.clear();
        }
    }

    // ---- helpers ----

    private static int blocks(long n) {
        return (int) Math.max(1, Math.min(MAX_BLOCKS, (n + THREADS - 1) / THREADS));
    }

    private static Pointer one() { return Pointer.to(new float[] {1f}); }

    private static Pointer zero() { return Pointer.to(new float[] {0f}); }

    private CudaTensor cuda(Tensor t) {
        if (!(t instanceof CudaTensor c) || c.owner() != this) {
            throw new IllegalArgumentException("tensor " + (t == null ? null : t.shape()) + " does not belong to this CUDA backend");
        }
        return c;
    }

    @Override public void close() {
        bind();
        sync("close");
        staging.close();
        optimizerTables.close();
        pool.release(lossResult);
        for (cudnnTensorDescriptor[] d : batchNormDescriptors.values()) {
            for (cudnnTensorDescriptor t : d) CudaCheck.cudnn(cudnnDestroyTensorDescriptor(t), "close: batch norm descriptor");
        }
        batchNormDescriptors.clear();
        convolutions.close();
        kernels.close();
        CudaCheck.cublas(cublasDestroy(cublas), "close: cublasDestroy");
        CudaCheck.cudnn(cudnnDestroy(cudnn), "close: cudnnDestroy");
        CudaCheck.driver(cuStreamDestroy(stream), "close: cuStreamDestroy");
        pool.close();
        CudaCheck.driver(cuDevicePrimaryCtxRelease(device), "close: cuDevicePrimaryCtxRelease");
    }
}
