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
        int inC = in.dim(3), outC = out.dim(3), padAfter = outC - padBefore - inC;
        // Per pixel in vectors rather than through Arrays.fill and System.arraycopy: three calls per
        // pixel of 16 to 64 floats cost more than the copying (resnet20's two shortcuts: 1.6-1.9 ms
        // a step that way, 0.8 in vectors, on the Zen 5 host of docs/performance.md).
        pool.run(out.dim(0), (n, w) -> {
            for (int h = 0; h < out.dim(1); h++)
                for (int wi = 0; wi < out.dim(2); wi++) {
                    int o = ((n * out.dim(1) + h) * out.dim(2) + wi) * outC;
                    int i = ((n * in.dim(1) + h * stride) * in.dim(2) + wi * stride) * inC;
                    Vectors.zero(dst, o, padBefore);
                    Vectors.copy(src, i, dst, o + padBefore, inC);
                    Vectors.zero(dst, o + padBefore + inC, padAfter);
                }
        });
    }

    void subsampleChannelPadBackward(Tensor dy, Tensor dx, int stride, int padBefore) {
        Shape out = dy.shape(), in = dx.shape();
        float[] gout = array(dy), gin = array(dx);
        int inC = in.dim(3), outC = out.dim(3), inH = in.dim(1), inW = in.dim(2), rowSize = inW * inC;
        pool.run(out.dim(0), (n, w) -> {
            for (int ih = 0; ih < inH; ih++) {
                int rowAt = (n * inH + ih) * rowSize, h = ih / stride;
                if (ih % stride != 0 || h >= out.dim(1)) { // a row the shortcut skipped: no gradient
                    Arrays.fill(gin, rowAt, rowAt + rowSize, 0f);
                    continue;
                }
                for (int iw = 0; iw < inW; iw++) {
                    int wi = iw / stride, at = rowAt + iw * inC;
                    if (iw % stride != 0 || wi >= out.dim(2)) Vectors.zero(gin, at, inC);
                    else Vectors.copy(gout, ((n * out.dim(1) + h) * out.dim(2) + wi) * outC + padBefore, gin, at, inC);
                }
            }
        });
    }
}
