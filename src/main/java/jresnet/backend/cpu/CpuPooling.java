package jresnet.backend.cpu;

import static jresnet.backend.cpu.CpuTensor.array;

import java.util.Arrays;
import jresnet.backend.ConvGeometry;
import jresnet.tensor.Shape;
import jresnet.tensor.Tensor;

/** Average pooling and He et al.'s option-A shortcut (subsample, pad channels) for {@link CpuBackend}, one image per task. */
final class CpuPooling {
    private final WorkerPool pool;

    CpuPooling(WorkerPool pool) { this.pool = pool; }

    void averagePoolForward(Tensor x, Tensor y, ConvGeometry g) {
        float[] in = array(x), out = array(y);
        int channels = g.inC();
        float window = g.kernelH() * g.kernelW();
        pool.run(g.batch(), (n, w) -> {
            for (int oh = 0; oh < g.outH(); oh++)
                for (int ow = 0; ow < g.outW(); ow++) {
                    int o = ((n * g.outH() + oh) * g.outW() + ow) * channels;
                    Arrays.fill(out, o, o + channels, 0f);
                    for (int kh = 0; kh < g.kernelH(); kh++)
                        for (int kw = 0; kw < g.kernelW(); kw++) {
                            int i = ((n * g.inH() + oh * g.strideH() + kh) * g.inW() + ow * g.strideW() + kw) * channels;
                            Vectors.addInto(in, i, out, o, channels);
                        }
                    for (int c = 0; c < channels; c++) out[o + c] /= window;
                }
        });
    }

    void averagePoolBackward(Tensor dy, Tensor dx, ConvGeometry g) {
        float[] gout = array(dy), gin = array(dx);
        int channels = g.inC(), imageSize = g.inH() * g.inW() * channels;
        float share = 1f / (g.kernelH() * g.kernelW());
        pool.run(g.batch(), (n, w) -> {
            Arrays.fill(gin, n * imageSize, (n + 1) * imageSize, 0f);
            for (int oh = 0; oh < g.outH(); oh++)
                for (int ow = 0; ow < g.outW(); ow++) {
                    int o = ((n * g.outH() + oh) * g.outW() + ow) * channels;
                    for (int kh = 0; kh < g.kernelH(); kh++)
                        for (int kw = 0; kw < g.kernelW(); kw++) {
                            int i = ((n * g.inH() + oh * g.strideH() + kh) * g.inW() + ow * g.strideW() + kw) * channels;
                            for (int c = 0; c < channels; c++) gin[i + c] += gout[o + c] * share;
                        }
                }
        });
    }

    void subsampleChannelPadForward(Tensor x, Tensor y, int stride, int padBefore) {
        Shape in = x.shape(), out = y.shape();
        float[] src = array(x), dst = array(y);
        int inC = in.dim(3), outC = out.dim(3);
        pool.run(out.dim(0), (n, w) -> {
            for (int h = 0; h < out.dim(1); h++)
                for (int wi = 0; wi < out.dim(2); wi++) {
                    int o = ((n * out.dim(1) + h) * out.dim(2) + wi) * outC;
                    int i = ((n * in.dim(1) + h * stride) * in.dim(2) + wi * stride) * inC;
                    Arrays.fill(dst, o, o + padBefore, 0f);
                    System.arraycopy(src, i, dst, o + padBefore, inC);
                    Arrays.fill(dst, o + padBefore + inC, o + outC, 0f);
                }
        });
    }

    void subsampleChannelPadBackward(Tensor dy, Tensor dx, int stride, int padBefore) {
        Shape out = dy.shape(), in = dx.shape();
        float[] gout = array(dy), gin = array(dx);
        int inC = in.dim(3), outC = out.dim(3), imageSize = in.dim(1) * in.dim(2) * inC;
        pool.run(out.dim(0), (n, w) -> {
            Arrays.fill(gin, n * imageSize, (n + 1) * imageSize, 0f);
            for (int h = 0; h < out.dim(1); h++)
                for (int wi = 0; wi < out.dim(2); wi++) {
                    int o = ((n * out.dim(1) + h) * out.dim(2) + wi) * outC;
                    int i = ((n * in.dim(1) + h * stride) * in.dim(2) + wi * stride) * inC;
                    System.arraycopy(gout, o + padBefore, gin, i, inC);
                }
        });
    }
}
