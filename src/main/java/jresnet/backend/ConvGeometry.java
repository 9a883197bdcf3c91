package jresnet.backend;

import jresnet.tensor.Shape;

/**
 * Every size a 2-D convolution (or pooling window) needs, derived once from the input shape.
 * Input NHWC [n, inH, inW, inC]; kernel [kh, kw, inC, outC]; output [n, outH, outW, outC].
 * Padding may be asymmetric (TensorFlow "same" with stride 2 on even sizes).
 */
public record ConvGeometry(int batch, int inH, int inW, int inC,
                           int kernelH, int kernelW, int outC,
                           int strideH, int strideW,
                           int padTop, int padLeft, int padBottom, int padRight,
                           int outH, int outW) {

    public static ConvGeometry of(Shape input, int kernelH, int kernelW, int outC, int stride, Padding padding) {
        if (input.rank() != 4) throw new IllegalArgumentException("expected an NHWC input, got " + input);
        int n = input.dim(0), h = input.dim(1), w = input.dim(2), c = input.dim(3);
        if (padding == Padding.VALID && (h < kernelH || w < kernelW)) {
            throw new IllegalArgumentException("window " + kernelH + "x" + kernelW + " larger than input " + input);
        }
        return new ConvGeometry(n, h, w, c, kernelH, kernelW, outC, stride, stride,
                padding.padBefore(h, kernelH, stride), padding.padBefore(w, kernelW, stride),
                padding.padAfter(h, kernelH, stride), padding.padAfter(w, kernelW, stride),
                padding.outputSize(h, kernelH, stride), padding.outputSize(w, kernelW, stride));
    }

    /** The same geometry for another batch size. */
    public ConvGeometry withBatch(int n) {
        return new ConvGeometry(n, inH, inW, inC, kernelH, kernelW, outC, strideH, strideW,
                padTop, padLeft, padBottom, padRight, outH, outW);
    }

    public Shape inputShape() { return Shape.of(batch, inH, inW, inC); }

    public Shape outputShape() { return Shape.of(batch, outH, outW, outC); }

    public Shape kernelShape() { return Shape.of(kernelH, kernelW, inC, outC); }

    public boolean symmetricPadding() { return padTop == padBottom && padLeft == padRight; }

    /** Multiply-adds of one forward pass, times two. */
    public long forwardFlops() {
        return 2L * batch * outH * outW * outC * kernelH * kernelW * inC;
    }
}
