package jresnet.backend.cuda;

import static jcuda.jcudnn.JCudnn.cudnnConvolutionBackwardData;
import static jcuda.jcudnn.JCudnn.cudnnConvolutionBackwardFilter;
import static jcuda.jcudnn.JCudnn.cudnnConvolutionForward;
import static jresnet.backend.cuda.CudaContext.one;
import static jresnet.backend.cuda.CudaContext.zero;

import java.util.Map;
import jcuda.Pointer;
import jresnet.backend.ConvGeometry;

/**
 * Convolutions on CUDA: cuDNN with the algorithm it measures fastest per geometry and direction
 * ({@link ConvolutionPlans}), our kernels for the bias (kernels/bias.cu) and for TensorFlow's
 * asymmetric "same" padding, which cuDNN cannot express (kernels/same_pad.cu).
 */
final class CudaConvolution implements AutoCloseable {
    private final CudaContext device;
    private final ConvolutionPlans plans;

    CudaConvolution(CudaContext device) {
        this.device = device;
        this.plans = new ConvolutionPlans(device.cudnn);
    }

    /** cuDNN algorithms chosen per geometry so far: {forward, backward data, backward filter}, -1 unused. */
    Map<ConvGeometry, int[]> chosenAlgorithms() {
        return plans.chosenAlgorithms();
    }

    void forward(CudaTensor x, CudaTensor kernel, CudaTensor bias, CudaTensor y, ConvGeometry g) {
        ConvolutionPlans.Plan p = plans.plan(g);
        plans.chooseForward(p);
        ConvolutionPlans.Choice c = p.forward;
        convolve(p, x, false, c, "conv2dForward", (xSide, workspace) -> cudnnConvolutionForward(device.cudnn, one(),
                p.x, xSide, p.w, kernel.ptr(), p.conv, c.algorithm, workspace, c.workspace, zero(), p.y, y.ptr()));
        if (bias != null) device.launchOver(y.elements(), "bias_add", y, bias, y.elements(), g.outC());
    }

    void backwardData(CudaTensor dy, CudaTensor kernel, CudaTensor dx, ConvGeometry g) {
        ConvolutionPlans.Plan p = plans.plan(g);
        plans.chooseBackwardData(p);
        ConvolutionPlans.Choice c = p.backwardData;
        convolve(p, dx, true, c, "conv2dBackwardData", (xSide, workspace) -> cudnnConvolutionBackwardData(device.cudnn,
                one(), p.w, kernel.ptr(), p.y, dy.ptr(), p.conv, c.algorithm, workspace, c.workspace, zero(), p.x, xSide));
    }

    void backwardFilter(CudaTensor x, CudaTensor dy, CudaTensor dKernel, CudaTensor dBias, ConvGeometry g) {
        ConvolutionPlans.Plan p = plans.plan(g);
        plans.chooseBackwardFilter(p);
        ConvolutionPlans.Choice c = p.backwardFilter;
        convolve(p, x, false, c, "conv2dBackwardFilter", (xSide, workspace) -> cudnnConvolutionBackwardFilter(
                device.cudnn, one(), p.x, xSide, p.y, dy.ptr(), p.conv, c.algorithm, workspace, c.workspace, zero(),
                p.w, dKernel.ptr()));
        if (dBias != null) device.columnSums(dy, g.batch() * g.outH() * g.outW(), g.outC(), dBias);
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
        DevicePool.Block padded = !p.explicitPadding ? null : writesX ? device.pool.acquire(paddedBytes(p)) : padInput(x, p);
        DevicePool.Block workspace = device.pool.acquire(choice.workspace);
        try {
            CudaCheck.cudnn(call.run(padded != null ? padded.ptr : x.ptr(), workspace.ptr),
                    op + " " + p.geometry + " algorithm " + choice.algorithm);
            if (padded != null && writesX) {
                ConvGeometry g = p.geometry;
                device.launchOver(x.elements(), "crop_nhwc", padded.ptr, x,
                        g.batch(), g.inH(), g.inW(), g.inC(), p.paddedH, p.paddedW, g.padTop(), g.padLeft());
            }
        } finally {
            device.pool.release(workspace);
            if (padded != null) device.pool.release(padded);
        }
    }

    private static long paddedBytes(ConvolutionPlans.Plan p) {
        ConvGeometry g = p.geometry;
        return (long) g.batch() * p.paddedH * p.paddedW * g.inC() * Float.BYTES;
    }

    private DevicePool.Block padInput(CudaTensor x, ConvolutionPlans.Plan p) {
        ConvGeometry g = p.geometry;
        DevicePool.Block padded = device.pool.acquire(paddedBytes(p));
        long n = (long) g.batch() * p.paddedH * p.paddedW * g.inC();
        device.launchOver(n, "pad_nhwc", x, padded.ptr,
                g.batch(), g.inH(), g.inW(), g.inC(), p.paddedH, p.paddedW, g.padTop(), g.padLeft());
        return padded;
    }

    @Override public void close() {
        plans.close();
    }
}
