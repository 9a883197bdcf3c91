package jresnet.backend.cuda;

import jresnet.backend.ConvGeometry;
import jresnet.tensor.Shape;

/**
 * Average pooling (kernels/avg_pool.cu) and He et al.'s option-A shortcut, subsampling with zero
 * channels padded on (kernels/subsample_channel_pad.cu), on CUDA.
 */
final class CudaPooling {
    private final CudaContext device;

    CudaPooling(CudaContext device) {
        this.device = device;
    }

    void averageForward(CudaTensor x, CudaTensor y, ConvGeometry g) {
        requireValidPooling(g, "averagePoolForward");
        long n = (long) g.batch() * g.outH() * g.outW() * g.inC();
        device.launchOver(n, "avg_pool_forward", x, y, g.batch(), g.inH(), g.inW(), g.inC(), g.kernelH(), g.kernelW(),
                g.strideH(), g.strideW(), g.outH(), g.outW());
    }

    void averageBackward(CudaTensor dy, CudaTensor dx, ConvGeometry g) {
        requireValidPooling(g, "averagePoolBackward");
        long n = (long) g.batch() * g.inH() * g.inW() * g.inC();
        device.launchOver(n, "avg_pool_backward", dy, dx, g.batch(), g.inH(), g.inW(), g.inC(), g.kernelH(),
                g.kernelW(), g.strideH(), g.strideW(), g.outH(), g.outW());
    }

    private static void requireValidPooling(ConvGeometry g, String op) {
        if (g.padTop() + g.padBottom() + g.padLeft() + g.padRight() != 0 || g.outC() != g.inC()) {
            throw new IllegalArgumentException(op + ": pooling must use valid padding and keep the channels, got " + g);
        }
    }

    void subsampleChannelPadForward(CudaTensor x, CudaTensor y, int stride, int padBefore) {
        Shape in = x.shape(), out = y.shape();
        device.launchOver(out.size(), "subsample_channel_pad_forward", x, y, in.dim(0), in.dim(1), in.dim(2), in.dim(3),
                out.dim(1), out.dim(2), out.dim(3), stride, padBefore);
    }

    void subsampleChannelPadBackward(CudaTensor dy, CudaTensor dx, int stride, int padBefore) {
        Shape out = dy.shape(), in = dx.shape();
        device.launchOver(in.size(), "subsample_channel_pad_backward", dy, dx, in.dim(0), in.dim(1), in.dim(2),
                in.dim(3), out.dim(1), out.dim(2), out.dim(3), stride, padBefore);
    }
}
