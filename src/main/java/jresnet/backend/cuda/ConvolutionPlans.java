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
import static jcuda.jcudnn.cudnnMathType.CUDNN_TENSOR_OP_MATH;
import static jcuda.jcudnn.cudnnMathType.CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION;
import static jcuda.jcudnn.cudnnTensorFormat.CUDNN_TENSOR_NHWC;

import java.util.HashMap;
import java.util.Map;
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

    /** Descriptors of one geometry and the algorithm chosen per direction (-1: not chosen yet). */
    static final class Plan {
        final ConvGeometry geometry;
        final boolean explicitPadding;
        final int paddedH, paddedW;
        final cudnnTensorDescriptor x = new cudnnTensorDescriptor();
        final cudnnTensorDescriptor y = new cudnnTensorDescriptor();
        final cudnnFilterDescriptor w = new cudnnFilterDescriptor();
        final cudnnConvolutionDescriptor conv = new cudnnConvolutionDescriptor();
        int forwardAlgorithm = -1, backwardDataAlgorithm = -1, backwardFilterAlgorithm = -1;
        long forwardWorkspace, backwardDataWorkspace, backwardFilterWorkspace;

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

    /** The fastest forward algorithm by cuDNN's own measurement, chosen on first use. */
    void chooseForward(Plan p) {
        if (p.forwardAlgorithm >= 0) return;
        cudnnConvolutionFwdAlgoPerf[] perf = new cudnnConvolutionFwdAlgoPerf[CANDIDATES];
        for (int i = 0; i < perf.length; i++) perf[i] = new cudnnConvolutionFwdAlgoPerf();
        int[] count = new int[1];
        String what = "cudnnFindConvolutionForwardAlgorithm " + p.geometry;
        CudaCheck.cudnn(cudnnFindConvolutionForwardAlgorithm(handle, p.x, p.w, p.conv, p.y, perf.length, count, perf), what);
        for (int i = 0; i < count[0]; i++) {
            if (usable(perf[i].status, perf[i].mathType)) {
                p.forwardAlgorithm = perf[i].algo;
                p.forwardWorkspace = perf[i].memory;
                return;
            }
        }
        throw new IllegalStateException(what + ": no algorithm without tensor-op math succeeded");
    }

    void chooseBackwardData(Plan p) {
        if (p.backwardDataAlgorithm >= 0) return;
        cudnnConvolutionBwdDataAlgoPerf[] perf = new cudnnConvolutionBwdDataAlgoPerf[CANDIDATES];
        for (int i = 0; i < perf.length; i++) perf[i] = new cudnnConvolutionBwdDataAlgoPerf();
        int[] count = new int[1];
        String what = "cudnnFindConvolutionBackwardDataAlgorithm " + p.geometry;
        CudaCheck.cudnn(cudnnFindConvolutionBackwardDataAlgorithm(handle, p.w, p.y, p.conv, p.x, perf.length, count, perf), what);
        for (int i = 0; i < count[0]; i++) {
            if (usable(perf[i].status, perf[i].mathType)) {
                p.backwardDataAlgorithm = perf[i].algo;
                p.backwardDataWorkspace = perf[i].memory;
                return;
            }
        }
        throw new IllegalStateException(what + ": no algorithm without tensor-op math succeeded");
    }

    void chooseBackwardFilter(Plan p) {
        if (p.backwardFilterAlgorithm >= 0) return;
        cudnnConvolutionBwdFilterAlgoPerf[] perf = new cudnnConvolutionBwdFilterAlgoPerf[CANDIDATES];
        for (int i = 0; i < perf.length; i++) perf[i] = new cudnnConvolutionBwdFilterAlgoPerf();
        int[] count = new int[1];
        String what = "cudnnFindConvolutionBackwardFilterAlgorithm " + p.geometry;
        CudaCheck.cudnn(cudnnFindConvolutionBackwardFilterAlgorithm(handle, p.x, p.y, p.conv, p.w, perf.length, count, perf), what);
        for (int i = 0; i < count[0]; i++) {
            if (usable(perf[i].status, perf[i].mathType)) {
                p.backwardFilterAlgorithm = perf[i].algo;
                p.backwardFilterWorkspace = perf[i].memory;
                return;
            }
        }
        throw new IllegalStateException(what + ": no algorithm without tensor-op math succeeded");
    }

    private static boolean usable(int status, int mathType) {
        return status == 0 && mathType != CUDNN_TENSOR_OP_MATH && mathType != CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION;
    }

    /** The algorithms chosen so far, for diagnostics: geometry -> forward/backward-data/backward-filter. */
    Map<ConvGeometry, int[]> chosenAlgorithms() {
        Map<ConvGeometry, int[]> out = new HashMap<>();
        plans.forEach((g, p) -> out.put(g, new int[] {p.forwardAlgorithm, p.backwardDataAlgorithm, p.backwardFilterAlgorithm}));
        return out;
    }

    @Override public void close() {
        plans.values().forEach(Plan::destroy);
        plans.clear();
    }
}
