package jresnet.backend.cpu;

import static jresnet.backend.cpu.CpuTensor.array;
import static jresnet.backend.cpu.WorkerPool.grow;

import java.util.Arrays;
import jresnet.backend.ConvGeometry;
import jresnet.tensor.Tensor;

/**
 * The convolution family of {@link CpuBackend}: im2col + {@link Sgemm} for all three passes. Forward:
 * per block of output pixels a worker writes the im2col rows into its own buffer and multiplies them
 * with the kernel, packed once per call. Backward-data with stride 1 is a convolution of dY with the
 * flipped, channel-transposed kernel; with stride 2 a GEMM per image block and a col2im scatter-add.
 * Backward-filter: the same im2col blocks, one partial kernel gradient per stripe of blocks
 * ({@link WorkerPool#runStripes}), summed in stripe order. 3 x 3 stride-1 passes go through
 * {@link Winograd} where the {@link ConvolutionRule} says it is faster. Scratch buffers only grow,
 * so warm steps allocate nothing of tensor size.
 */
final class CpuConvolution {
    /** Target floats of one worker's im2col block: big enough to amortize B, small enough for L2. */
    private static final int COLUMN_BLOCK_FLOATS = 1 << 16;
    /** Fewest rows per GEMM block so that streaming a large kernel is amortized. */
    private static final int MIN_BLOCK_ROWS = 128;

    private final WorkerPool pool;
    private final ChannelSums sums;
    private final ConvolutionRule rule;
    private final Winograd winograd;
    /** Per worker: im2col rows and a packed block of dY; per stripe of backward-filter: its partial. */
    private final float[][] columns, partialKernels, packedBlocks;
    private float[] packedKernel = new float[0], flippedKernel = new float[0];

    CpuConvolution(WorkerPool pool, ChannelSums sums, ConvolutionRule rule) {
        this.pool = pool;
        this.sums = sums;
        this.rule = rule;
        winograd = new Winograd(pool);
        columns = new float[pool.threads()][0];
        partialKernels = new float[pool.maxStripes()][0];
        packedBlocks = new float[pool.threads()][0];
    }

    private static int patchSize(ConvGeometry g) { return g.kernelH() * g.kernelW() * g.inC(); }

    private static int outputPixels(ConvGeometry g) { return g.batch() * g.outH() * g.outW(); }

    /** Rows of one im2col block: a multiple of the micro-tile height. */
    private int blockRows(ConvGeometry g) {
        int rows = Math.max(MIN_BLOCK_ROWS, COLUMN_BLOCK_FLOATS / patchSize(g));
        int perWorker = (outputPixels(g) + pool.threads() - 1) / pool.threads();
        rows = Math.min(rows, perWorker);
        return Math.max(Sgemm.MR, rows / Sgemm.MR * Sgemm.MR);
    }

    private float[] packedKernel(int size) {
        if (packedKernel.length < size) packedKernel = new float[size];
        return packedKernel;
    }

    void conv2dForward(Tensor x, Tensor kernel, Tensor bias, Tensor y, ConvGeometry g) {
        if (rule.winograd(ConvolutionRule.Pass.FORWARD, g)) {
            winograd.forward(array(x), array(kernel), bias == null ? null : array(bias), array(y), g);
            return;
        }
        int patch = patchSize(g), outC = g.outC();
        float[] packed = packedKernel(Sgemm.packedSize(patch, outC));
        Sgemm.packB(pool, array(kernel), 0, outC, 1, patch, outC, packed);
        convolve(array(x), g, packed, bias == null ? null : array(bias), array(y));
    }

    /** out[pixels, outC] = im2col(in)[pixels, patch] · kernel[patch, outC] (+ bias), kernel already packed. */
    private void convolve(float[] in, ConvGeometry g, float[] packed, float[] bias, float[] out) {
        int patch = patchSize(g), outC = g.outC(), pixels = outputPixels(g);
        int rows = blockRows(g), blocks = (pixels + rows - 1) / rows;
        pool.run(blocks, (block, w) -> {
            int row0 = block * rows, count = Math.min(rows, pixels - row0);
            float[] cols = grow(columns, w, rows * patch);
            im2col(in, g, row0, count, cols);
            Sgemm.multiply(count, outC, patch, cols, 0, patch, 1, packed, out, row0 * outC, outC, false);
            if (bias != null) Vectors.addToRows(out, row0 * outC, count, bias, outC);
        });
    }

    /**
     * Writes rows [row0, row0 + count) of the patch matrix: row = output pixel, columns (kh, kw, ci)
     * in the kernel's order. One window row (kw, ci) is contiguous in NHWC, so it copies in one piece
     * unless it hangs over the padding.
     */
    private static void im2col(float[] in, ConvGeometry g, int row0, int count, float[] cols) {
        int patch = patchSize(g), inC = g.inC(), kw = g.kernelW(), span = kw * inC;
        int outW = g.outW(), outHW = g.outH() * outW;
        for (int r = 0; r < count; r++) {
            int pixel = row0 + r, n = pixel / outHW, rem = pixel - n * outHW, oh = rem / outW, ow = rem - oh * outW;
            int ih0 = oh * g.strideH() - g.padTop(), iw0 = ow * g.strideW() - g.padLeft();
            int dst = r * patch;
            for (int kh = 0; kh < g.kernelH(); kh++, dst += span) {
                int ih = ih0 + kh;
                if (ih < 0 || ih >= g.inH()) {
                    Arrays.fill(cols, dst, dst + span, 0f);
                    continue;
                }
                int rowBase = (n * g.inH() + ih) * g.inW();
                if (iw0 >= 0 && iw0 + kw <= g.inW()) {
                    Vectors.copy(in, (rowBase + iw0) * inC, cols, dst, span);
                } else {
                    for (int k = 0; k < kw; k++) {
                        int iw = iw0 + k;
                        if (iw < 0 || iw >= g.inW()) Arrays.fill(cols, dst + k * inC, dst + (k + 1) * inC, 0f);
                        else Vectors.copy(in, (rowBase + iw) * inC, cols, dst + k * inC, inC);
                    }
                }
            }
        }
    }

    /** The inverse scatter of {@link #im2col}: adds patch rows back onto the input positions they came from. */
    private static void col2imAdd(float[] cols, ConvGeometry g, int row0, int count, float[] in) {
        int patch = patchSize(g), inC = g.inC(), kw = g.kernelW();
        int outW = g.outW(), outHW = g.outH() * outW;
        for (int r = 0; r < count; r++) {
            int pixel = row0 + r, n = pixel / outHW, rem = pixel - n * outHW, oh = rem / outW, ow = rem - oh * outW;
            int ih0 = oh * g.strideH() - g.padTop(), iw0 = ow * g.strideW() - g.padLeft();
            int src = r * patch;
            for (int kh = 0; kh < g.kernelH(); kh++, src += kw * inC) {
                int ih = ih0 + kh;
                if (ih < 0 || ih >= g.inH()) continue;
                int rowBase = (n * g.inH() + ih) * g.inW();
                int kFrom = Math.max(0, -iw0), kTo = Math.min(kw, g.inW() - iw0);
                if (kFrom < kTo) {
                    Vectors.addInto(cols, src + kFrom * inC, in, (rowBase + iw0 + kFrom) * inC, (kTo - kFrom) * inC);
                }
            }
        }
    }

    void conv2dBackwardData(Tensor dy, Tensor kernel, Tensor dx, ConvGeometry g) {
        if (g.strideH() == 1 && g.strideW() == 1) {
            transposedConvolution(array(dy), array(kernel), g, array(dx));
            return;
        }
        float[] gout = array(dy), gin = array(dx);
        int patch = patchSize(g), outC = g.outC(), imagePixels = g.outH() * g.outW();
        int imageSize = g.inH() * g.inW() * g.inC();
        // dCols[pixels, patch] = dY[pixels, outC] · kernel[patch, outC]ᵀ
        float[] packed = packedKernel(Sgemm.packedSize(outC, patch));
        Sgemm.packB(pool, array(kernel), 0, 1, outC, outC, patch, packed);
        int imagesPerBlock = Math.max(1, Math.min(COLUMN_BLOCK_FLOATS / (imagePixels * patch),
                (g.batch() + pool.threads() - 1) / pool.threads()));
        int blocks = (g.batch() + imagesPerBlock - 1) / imagesPerBlock;
        pool.run(blocks, (block, w) -> {
            int image0 = block * imagesPerBlock, images = Math.min(imagesPerBlock, g.batch() - image0);
            int row0 = image0 * imagePixels, count = images * imagePixels;
            float[] cols = grow(columns, w, imagesPerBlock * imagePixels * patch);
            Sgemm.multiply(count, patch, outC, gout, row0 * outC, outC, 1, packed, cols, 0, patch, false);
            Arrays.fill(gin, image0 * imageSize, (image0 + images) * imageSize, 0f);
            col2imAdd(cols, g, row0, count, gin);
        });
    }

    /**
     * With stride 1 the data gradient is itself a convolution: of dY with the kernel flipped in space
     * and its channel axes swapped, padded by kernel − 1 − the forward padding. That runs through
     * the forward path (im2col gather) instead of a GEMM plus col2im scatter.
     */
    private void transposedConvolution(float[] gout, float[] kernel, ConvGeometry g, float[] gin) {
        int kh = g.kernelH(), kw = g.kernelW(), inC = g.inC(), outC = g.outC();
        ConvGeometry flipped = new ConvGeometry(g.batch(), g.outH(), g.outW(), outC, kh, kw, inC, 1, 1,
                kh - 1 - g.padTop(), kw - 1 - g.padLeft(), kh - 1 - g.padBottom(), kw - 1 - g.padRight(), g.inH(), g.inW());
        int patch = kh * kw * outC;
        if (flippedKernel.length < patch * inC) flippedKernel = new float[patch * inC];
        for (int i = 0; i < kh; i++)
            for (int j = 0; j < kw; j++)
                for (int ci = 0; ci < inC; ci++) {
                    int src = (((kh - 1 - i) * kw + kw - 1 - j) * inC + ci) * outC, dst = (i * kw + j) * outC * inC + ci;
                    for (int co = 0; co < outC; co++) flippedKernel[dst + co * inC] = kernel[src + co];
                }
        if (rule.winograd(ConvolutionRule.Pass.BACKWARD_DATA, g)) {
            winograd.forward(gout, flippedKernel, null, gin, flipped);
            return;
        }
        float[] packed = packedKernel(Sgemm.packedSize(patch, inC));
        Sgemm.packB(pool, flippedKernel, 0, inC, 1, patch, inC, packed);
        convolve(gout, flipped, packed, null, gin);
    }

    void conv2dBackwardFilter(Tensor x, Tensor dy, Tensor dKernel, Tensor dBias, ConvGeometry g) {
        float[] in = array(x), gout = array(dy), gk = array(dKernel);
        if (dBias != null) sums.columnSums(gout, outputPixels(g), g.outC(), array(dBias));
        if (rule.winograd(ConvolutionRule.Pass.BACKWARD_FILTER, g)) {
            winograd.backwardFilter(in, gout, gk, g);
            return;
        }
        int patch = patchSize(g), outC = g.outC(), pixels = outputPixels(g), kernelSize = patch * outC;
        int rows = blockRows(g), blocks = (pixels + rows - 1) / rows, stripes = pool.stripes(blocks, kernelSize);
        pool.runStripes(blocks, stripes, (from, to, s, w) -> {
            float[] partial = grow(partialKernels, s, kernelSize);
            float[] cols = grow(columns, w, rows * patch), packedDy = grow(packedBlocks, w, Sgemm.packedSize(rows, outC));
            for (int block = from; block < to; block++) {
                int row0 = block * rows, count = Math.min(rows, pixels - row0);
                im2col(in, g, row0, count, cols);
                Sgemm.packB(gout, row0 * outC, outC, 1, count, outC, packedDy);
                // the stripe's partial dKernel[patch, outC] (+)= colsᵀ[patch, count] · dY[count, outC]
                Sgemm.multiply(patch, outC, count, cols, 0, 1, patch, packedDy, partial, 0, outC, block > from);
            }
        });
        sumPartials(gk, kernelSize, stripes);
    }

    /** dst = the sum of the first {@code parts} stripes' partial kernels, in stripe order. */
    private void sumPartials(float[] dst, int size, int parts) {
        pool.runRanges(size, WorkerPool.ELEMENT_CHUNK, (from, to, w) -> {
            System.arraycopy(partialKernels[0], from, dst, from, to - from);
            for (int p = 1; p < parts; p++) Vectors.addInto(partialKernels[p], from, dst, from, to - from);
        });
    }

}
