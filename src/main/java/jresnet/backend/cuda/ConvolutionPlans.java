package jresnet.backend.cuda;

import static jcuda.jcudnn.JCudnn.cudnnCreateConvolutionDescriptor;
import static jcuda.jcudnn.JCudnn.cudnnCreateFilterDescriptor;
import static jcuda.jcudnn.JCudnn.cudnnCreateTensorDescriptor;
import static jcuda.jcudnn.JCudnn.cudnnDestroyConvolutionDescriptor;
import static jcuda.jcudnn.JCudnn.cudnnDestroyFilterDescriptor;
import static jcuda.jcudnn.JCudnn.cudnnDestroyTensorDescriptor;
import static jcuda.jcudnn.JCudnn.cudnnFindConvolutionBackwardDataAlgorithm;
import static jcuda.jcudnn.JCudnn.cudnnFindConvolutionBackwardFilterAlgorithm;
import static jcuda.jcudnn.JCudnn.cudnnFindConvolutionForwardAlgorithm;
import static jcuda.jcudnn.JCudnn.cudnnGetConvolution2dForwardOutputDim;
import static jcuda.jcudnn.JCudnn.cudnnSetConvolution2dDescriptor;
import static jcuda.jcudnn.JCudnn.cudnnSetConvolutionMathType;
import static jcuda.jcudnn.JCudnn.cudnnSetFilter4dDescriptor;
import static jcuda.jcudnn.JCudnn.cudnnSetTensor4dDescriptor;
import static jcuda.jcudnn.cudnnConvolutionMode.CUDNN_CROSS_CORRELATION;
import static jcuda.jcudnn.cudnnDataType.CUDNN_DATA_FLOAT;
import static jcuda.jcudnn.cudnnMathType.CUDNN_FMA_MATH;
import static jcuda.jcudnn.cudnnStatus.CUDNN_STATUS_SUCCESS;
import static jcuda.jcudnn.cudnnTensorFormat.CUDNN_TENSOR_NHWC;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.function.IntUnaryOperator;
import jcuda.jcudnn.cudnnConvolutionBwdDataAlgoPerf;
import jcuda.jcudnn.cudnnConvolutionBwdFilterAlgoPerf;
import jcuda.jcudnn.cudnnConvolutionDescriptor;
import jcuda.jcudnn.cudnnConvolutionFwdAlgoPerf;
import jcuda.jcudnn.cudnnFilterDescriptor;
import jcuda.jcudnn.cudnnHandle;
import jcuda.jcudnn.cudnnTensorDescriptor;
import jresnet.backend.ConvGeometry;

/**
 * cuDNN descriptors and algorithms per convolution geometry, made once and cached. TensorFlow's "same"
 * padding is asymmetric for stride 2 on even sizes (the odd row/column goes bottom/right); cuDNN pads
 * symmetrically, so such plans run on an explicitly zero-padded input with cuDNN padding 0.
 */
final class ConvolutionPlans implements AutoCloseable {

    /** The algorithm cuDNN chose for one direction of a plan and the workspace it needs. */
    static final class Choice {
        int algorithm = -1;
        long workspace;

        boolean made() { return algorithm >= 0; }
    }

    /** Descriptors of one geometry and the algorithm chosen per direction. */
    static final class Plan {
        final ConvGeometry geometry;
        final boolean explicitPadding;
        final int paddedH, paddedW;
        final cudnnTensorDescriptor x = new cudnnTensorDescriptor();
        final cudnnTensorDescriptor y = new cudnnTensorDescriptor();
        final cudnnFilterDescriptor w = new cudnnFilterDescriptor();
        final cudnnConvolutionDescriptor conv = new cudnnConvolutionDescriptor();
        final Choice forward = new Choice(), backwardData = new Choice(), backwardFilter = new Choice();

        Plan(ConvGeometry g) {
            geometry = g;
            explicitPadding = !g.symmetricPadding();
            paddedH = explicitPadding ? g.inH() + g.padTop() + g.padBottom() : g.inH();
            paddedW = explicitPadding ? g.inW() + g.padLeft() + g.padRight() : g.inW();
            String what = "convolution plan " + g;
            CudaCheck.cudnn(cudnnCreateTensorDescriptor(x), what);
            CudaCheck.cudnn(cudnnCreateTensorDescriptor(y), what);
            CudaCheck.cudnn(cudnnCreateFilterDescriptor(w), what);
            CudaCheck.cudnn(cudnnCreateConvolutionDescriptor(conv), what);
            CudaCheck.cudnn(cudnnSetTensor4dDescriptor(x, CUDNN_TENSOR_NHWC, CUDNN_DATA_FLOAT,
                    g.batch(), g.inC(), paddedH, paddedW), what + ": input descriptor");
            CudaCheck.cudnn(cudnnSetTensor4dDescriptor(y, CUDNN_TENSOR_NHWC, CUDNN_DATA_FLOAT,
                    g.batch(), g.outC(), g.outH(), g.outW()), what + ": output descriptor");
            CudaCheck.cudnn(cudnnSetFilter4dDescriptor(w, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NHWC,
                    g.outC(), g.inC(), g.kernelH(), g.kernelW()), what + ": filter descriptor");
            CudaCheck.cudnn(cudnnSetConvolution2dDescriptor(conv,
                    explicitPadding ? 0 : g.padTop(), explicitPadding ? 0 : g.padLeft(),
                    g.strideH(), g.strideW(), 1, 1, CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT), what);
            // TF32 off: results must match the float32 reference, not a 10-bit-mantissa product.
            CudaCheck.cudnn(cudnnSetConvolutionMathType(conv, CUDNN_FMA_MATH), what + ": math type");
            int[] n = new int[1], c = new int[1], h = new int[1], wd = new int[1];
            CudaCheck.cudnn(cudnnGetConvolution2dForwardOutputDim(conv, x, w, n, c, h, wd), what);
            if (n[0] != g.batch() || c[0] != g.outC() || h[0] != g.outH() || wd[0] != g.outW()) {
                throw new IllegalStateException(what + ": cuDNN computes output [" + n[0] + ", " + h[0] + ", "
                        + wd[0] + ", " + c[0] + "], the geometry says " + g.outputShape());
            }
        }

        void destroy() {
            String what = "destroying convolution plan " + geometry;
            CudaCheck.cudnn(cudnnDestroyTensorDescriptor(x), what);
            CudaCheck.cudnn(cudnnDestroyTensorDescriptor(y), what);
            CudaCheck.cudnn(cudnnDestroyFilterDescriptor(w), what);
            CudaCheck.cudnn(cudnnDestroyConvolutionDescriptor(conv), what);
        }
    }

    private static final int CANDIDATES = 16;

    private final cudnnHandle handle;
    private final Map<ConvGeometry, Plan> plans = new HashMap<>();

    ConvolutionPlans(cudnnHandle handle) {
        this.handle = handle;
    }

    Plan plan(ConvGeometry g) {
        return plans.computeIfAbsent(g, Plan::new);
    }

    /**
     * The fastest algorithm per direction by cuDNN's own measurement, chosen on first use. The
     * descriptor's CUDNN_FMA_MATH already keeps tensor-op (TF32) algorithms out of the results; JCudnn
     * does not copy the results' mathType back, so it could not be checked here anyway.
     */
    void chooseForward(Plan p) {
        if (p.forward.made()) return;
        cudnnConvolutionFwdAlgoPerf[] perf = new cudnnConvolutionFwdAlgoPerf[CANDIDATES];
        Arrays.setAll(perf, i -> new cudnnConvolutionFwdAlgoPerf());
        int[] count = new int[1];
        String what = "cudnnFindConvolutionForwardAlgorithm " + p.geometry;
        CudaCheck.cudnn(cudnnFindConvolutionForwardAlgorithm(handle, p.x, p.w, p.conv, p.y, perf.length, count, perf), what);
        int i = firstSucceeded(count[0], k -> perf[k].status, what);
        p.forward.algorithm = perf[i].algo;
        p.forward.workspace = perf[i].memory;
    }

    void chooseBackwardData(Plan p) {
        if (p.backwardData.made()) return;
        cudnnConvolutionBwdDataAlgoPerf[] perf = new cudnnConvolutionBwdDataAlgoPerf[CANDIDATES];
        Arrays.setAll(perf, i -> new cudnnConvolutionBwdDataAlgoPerf());
        int[] count = new int[1];
        String what = "cudnnFindConvolutionBackwardDataAlgorithm " + p.geometry;
        CudaCheck.cudnn(cudnnFindConvolutionBackwardDataAlgorithm(handle, p.w, p.y, p.conv, p.x, perf.length, count, perf), what);
        int i = firstSucceeded(count[0], k -> perf[k].status, what);
        p.backwardData.algorithm = perf[i].algo;
        p.backwardData.workspace = perf[i].memory;
    }

    void chooseBackwardFilter(Plan p) {
        if (p.backwardFilter.made()) return;
        cudnnConvolutionBwdFilterAlgoPerf[] perf = new cudnnConvolutionBwdFilterAlgoPerf[CANDIDATES];
        Arrays.setAll(perf, i -> new cudnnConvolutionBwdFilterAlgoPerf());
        int[] count = new int[1];
        String what = "cudnnFindConvolutionBackwardFilterAlgorithm " + p.geometry;
        CudaCheck.cudnn(cudnnFindConvolutionBackwardFilterAlgorithm(handle, p.x, p.y, p.conv, p.w, perf.length, count, perf), what);
        int i = firstSucceeded(count[0], k -> perf[k].status, what);
        p.backwardFilter.algorithm = perf[i].algo;
        p.backwardFilter.workspace = perf[i].memory;
    }

    /** The index of the first result (cuDNN sorts them fastest first) whose trial run succeeded. */
    private static int firstSucceeded(int count, IntUnaryOperator status, String what) {
        for (int i = 0; i < count; i++) {
            if (status.applyAsInt(i) == CUDNN_STATUS_SUCCESS) return i;
        }
        throw new IllegalStateException(what + ": none of the " + count + " algorithms cuDNN tried succeeded");
    }

    /** The algorithms chosen so far, for diagnostics: geometry -> forward/backward-data/backward-filter. */
    Map<ConvGeometry, int[]> chosenAlgorithms() {
        Map<ConvGeometry, int[]> out = new HashMap<>();
        plans.forEach((g, p) -> out.put(g, new int[] {p.forward.algorithm, p.backwardData.algorithm, p.backwardFilter.algorithm}));
        return out;
    }

    @Override public void close() {
        plans.values().forEach(Plan::destroy);
        plans.clear();
    }
}
