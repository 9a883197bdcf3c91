package jresnet.backend.cpu;

import static jresnet.backend.cpu.Vectors.mulAdd;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import jresnet.backend.Backend;
import jresnet.backend.ConvGeometry;
import jresnet.tensor.Shape;
import jresnet.tensor.Tensor;

/**
 * The fast CPU backend: float32 NHWC arrays, convolutions as im2col + the Vector-API {@link Sgemm},
 * every heavy op shared out over all available processors. Scratch buffers (im2col, packed kernels,
 * per-worker partial sums) belong to the backend and only grow, so steady-state steps allocate
 * nothing of tensor size. Ops are called from one thread at a time (the scratch is shared).
 */
public final class CpuBackend implements Backend {
    private static final VectorSpecies<Float> S = Sgemm.SPECIES;
    private static final int L = Sgemm.LANES;
    /** Target floats of one worker's im2col block: big enough to amortize B, small enough for L2. */
    private static final int COLUMN_BLOCK_FLOATS = 1 << 16;
    /** Fewest rows per GEMM block so that streaming a large kernel is amortized. */
    private static final int MIN_BLOCK_ROWS = 128;
    /** Elements per task of elementwise ops. */
    private static final int ELEMENT_CHUNK = 1 << 15;
    /** Pixels summed in float before adding into the double per-channel totals. */
    private static final int STAT_BLOCK = 64;

    private final WorkerPool pool;
    private final float[][] columns, gradientBlocks, partialKernels, packedBlocks, channelScratch;
    private final double[][] channelSums, channelSums2;
    private float[] packedKernel = new float[0], flippedKernel = new float[0];

    public CpuBackend() { this(Runtime.getRuntime().availableProcessors()); }

    /** A backend on {@code threads} threads (tests use this to check the parallel split). */
    public CpuBackend(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        pool = new WorkerPool(threads);
        columns = new float[threads][0];
        gradientBlocks = new float[threads][0];
        partialKernels = new float[threads][0];
        packedBlocks = new float[threads][0];
        channelScratch = new float[threads][0];
        channelSums = new double[threads][0];
        channelSums2 = new double[threads][0];
    }

    @Override public String name() { return "cpu"; }

    @Override public int vectorBits() { return Vectors.BITS; }

    @Override public String kernelChoices() {
        return Vectors.BITS + "-bit vectors (" + Vectors.LANES + " floats), "
                + (Vectors.FUSED_MULTIPLY_ADD ? "fused multiply-add" : "no FMA instruction: multiply then add")
                + "; " + Sgemm.describe() + "; convolutions: im2col + SGEMM; " + pool.threads() + " threads";
    }

    public int threads() { return pool.threads(); }

    // ---- memory ----

    @Override public CpuTensor allocate(Shape shape) { return new CpuTensor(shape, new float[shape.elements()]); }

    @Override public CpuTensor allocateParameter(Shape shape) { return allocate(shape); }

    @Override public void copyFromHost(float[] src, Tensor dst) { System.arraycopy(src, 0, data(dst), 0, size(dst)); }

    @Override public void copyToHost(Tensor src, float[] dst) { System.arraycopy(data(src), 0, dst, 0, size(src)); }

    @Override public void fill(Tensor t, float value) { Arrays.fill(data(t), 0, size(t), value); }

    @Override public void copy(Tensor src, Tensor dst) {
        float[] s = data(src), d = data(dst);
        pool.runRanges(size(src), ELEMENT_CHUNK, (from, to, w) -> System.arraycopy(s, from, d, from, to - from));
    }

    // ---- convolution ----

    private static int patchSize(ConvGeometry g) { return g.kernelH() * g.kernelW() * g.inC(); }

    private static int outputPixels(ConvGeometry g) { return g.batch() * g.outH() * g.outW(); }

    /** Rows of one im2col block: a multiple of the micro-tile height. */
    private int blockRows(ConvGeometry g) {
        int rows = Math.max(MIN_BLOCK_ROWS, COLUMN_BLOCK_FLOATS / patchSize(g));
        int perWorker = (outputPixels(g) + pool.threads() - 1) / pool.threads();
        rows = Math.min(rows, perWorker);
        return Math.max(Sgemm.MR, rows / Sgemm.MR * Sgemm.MR);
    }

    private static float[] grow(float[][] buffers, int worker, int size) {
        if (buffers[worker].length < size) buffers[worker] = new float[size];
        return buffers[worker];
    }

    private float[] packedKernel(int size) {
        if (packedKernel.length < size) packedKernel = new float[size];
        return packedKernel;
    }

    @Override public void conv2dForward(Tensor x, Tensor kernel, Tensor bias, Tensor y, ConvGeometry g) {
        int patch = patchSize(g), outC = g.outC();
        float[] packed = packedKernel(Sgemm.packedSize(patch, outC));
        Sgemm.packB(data(kernel), 0, outC, 1, patch, outC, packed);
        convolve(data(x), g, packed, bias == null ? null : data(bias), data(y));
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
            if (bias != null) addBias(out, row0 * outC, count, bias, outC);
        });
    }

    private static void addBias(float[] out, int offset, int rows, float[] bias, int channels) {
        for (int r = 0; r < rows; r++) {
            int base = offset + r * channels;
            for (int c = 0; c < channels; c++) out[base + c] += bias[c];
        }
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
                    copy(in, (rowBase + iw0) * inC, cols, dst, span);
                } else {
                    for (int k = 0; k < kw; k++) {
                        int iw = iw0 + k;
                        if (iw < 0 || iw >= g.inW()) Arrays.fill(cols, dst + k * inC, dst + (k + 1) * inC, 0f);
                        else copy(in, (rowBase + iw) * inC, cols, dst + k * inC, inC);
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
                    addInto(cols, src + kFrom * inC, in, (rowBase + iw0 + kFrom) * inC, (kTo - kFrom) * inC);
                }
            }
        }
    }

    private static void copy(float[] src, int from, float[] dst, int to, int length) {
        int i = 0;
        for (; i + L <= length; i += L) FloatVector.fromArray(S, src, from + i).intoArray(dst, to + i);
        for (; i < length; i++) dst[to + i] = src[from + i];
    }

    private static void addInto(float[] src, int from, float[] dst, int to, int length) {
        int i = 0;
        for (; i + L <= length; i += L) {
            FloatVector.fromArray(S, dst, to + i).add(FloatVector.fromArray(S, src, from + i)).intoArray(dst, to + i);
        }
        for (; i < length; i++) dst[to + i] += src[from + i];
    }

    @Override public void conv2dBackwardData(Tensor dy, Tensor kernel, Tensor dx, ConvGeometry g) {
        if (g.strideH() == 1 && g.strideW() == 1) {
            transposedConvolution(data(dy), data(kernel), g, data(dx));
            return;
        }
        float[] gout = data(dy), gin = data(dx);
        int patch = patchSize(g), outC = g.outC(), imagePixels = g.outH() * g.outW();
        int imageSize = g.inH() * g.inW() * g.inC();
        // dCols[pixels, patch] = dY[pixels, outC] · kernel[patch, outC]ᵀ
        float[] packed = packedKernel(Sgemm.packedSize(outC, patch));
        Sgemm.packB(data(kernel), 0, 1, outC, outC, patch, packed);
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
        float[] packed = packedKernel(Sgemm.packedSize(patch, inC));
        Sgemm.packB(flippedKernel, 0, inC, 1, patch, inC, packed);
        convolve(gout, flipped, packed, null, gin);
    }

    @Override public void conv2dBackwardFilter(Tensor x, Tensor dy, Tensor dKernel, Tensor dBias, ConvGeometry g) {
        float[] in = data(x), gout = data(dy), gk = data(dKernel);
        int patch = patchSize(g), outC = g.outC(), pixels = outputPixels(g), kernelSize = patch * outC;
        int rows = blockRows(g), blocks = (pixels + rows - 1) / rows;
        int used = Math.min(pool.threads(), blocks);
        for (int w = 0; w < used; w++) Arrays.fill(grow(partialKernels, w, kernelSize), 0, kernelSize, 0f);
        pool.run(blocks, (block, w) -> {
            int row0 = block * rows, count = Math.min(rows, pixels - row0);
            float[] cols = grow(columns, w, rows * patch);
            float[] packedDy = grow(packedBlocks, w, Sgemm.packedSize(rows, outC));
            im2col(in, g, row0, count, cols);
            Sgemm.packB(gout, row0 * outC, outC, 1, count, outC, packedDy);
            // partial dKernel[patch, outC] += colsᵀ[patch, count] · dY[count, outC]
            Sgemm.multiply(patch, outC, count, cols, 0, 1, patch, packedDy, partialKernels[w], 0, outC, true);
        });
        sumPartials(gk, kernelSize, used);
        if (dBias != null) columnSums(gout, pixels, outC, data(dBias));
    }

    /** dst = the sum of the first {@code parts} per-worker partial kernels. */
    private void sumPartials(float[] dst, int size, int parts) {
        pool.runRanges(size, ELEMENT_CHUNK, (from, to, w) -> {
            System.arraycopy(partialKernels[0], from, dst, from, to - from);
            for (int p = 1; p < parts; p++) addInto(partialKernels[p], from, dst, from, to - from);
        });
    }

    /** sums[c] = sum over rows of values[r·columns + c], partial sums in double per worker. */
    private void columnSums(float[] values, int rows, int columns, float[] sums) {
        double[] total = shiftedMoments(values, rows, columns, new float[columns], false)[0];
        for (int c = 0; c < columns; c++) sums[c] = (float) total[c];
    }

    // ---- batch normalization ----

    /**
     * {Σ(v − shift), Σ(v − shift)²} per channel over the rows of x, v = x or relu(x), in one pass.
     * With the shift near the mean the variance Σ(v − shift)²/n − (Σ(v − shift)/n)² does not cancel.
     * Float within blocks of STAT_BLOCK rows, double across blocks and workers.
     */
    private double[][] shiftedMoments(float[] x, int rows, int channels, float[] shift, boolean relu) {
        return channelSumPairs(rows, channels, (r, sum, squares) -> {
            int base = r * channels, c = 0;
            for (; c + L <= channels; c += L) {
                FloatVector v = FloatVector.fromArray(S, x, base + c);
                if (relu) v = v.max(0f);
                v = v.sub(FloatVector.fromArray(S, shift, c));
                v.add(FloatVector.fromArray(S, sum, c)).intoArray(sum, c);
                mulAdd(v, v, FloatVector.fromArray(S, squares, c)).intoArray(squares, c);
            }
            for (; c < channels; c++) {
                float v = (relu ? Math.max(x[base + c], 0f) : x[base + c]) - shift[c];
                sum[c] += v;
                squares[c] += v * v;
            }
        });
    }

    /** Adds one row's contributions to two per-channel float accumulators. */
    private interface RowSums {
        void add(int row, float[] first, float[] second);
    }

    /**
     * Two per-channel sums over all rows: float within blocks of STAT_BLOCK rows, double across blocks
     * and workers (each worker's blocks are fixed, so the result is the same on every run).
     */
    private double[][] channelSumPairs(int rows, int channels, RowSums rowSums) {
        int blocks = (rows + STAT_BLOCK - 1) / STAT_BLOCK;
        int used = Math.min(pool.threads(), blocks);
        for (int w = 0; w < used; w++) {
            if (channelSums[w].length < channels) channelSums[w] = new double[channels];
            if (channelSums2[w].length < channels) channelSums2[w] = new double[channels];
            Arrays.fill(channelSums[w], 0, channels, 0);
            Arrays.fill(channelSums2[w], 0, channels, 0);
        }
        pool.runRanges(blocks, 4, (from, to, w) -> {
            float[] first = new float[channels], second = new float[channels];
            for (int block = from; block < to; block++) {
                Arrays.fill(first, 0f);
                Arrays.fill(second, 0f);
                int r1 = Math.min(rows, (block + 1) * STAT_BLOCK);
                for (int r = block * STAT_BLOCK; r < r1; r++) rowSums.add(r, first, second);
                for (int c = 0; c < channels; c++) {
                    channelSums[w][c] += first[c];
                    channelSums2[w][c] += second[c];
                }
            }
        });
        double[][] total = new double[2][channels];
        for (int w = 0; w < used; w++) {
            for (int c = 0; c < channels; c++) {
                total[0][c] += channelSums[w][c];
                total[1][c] += channelSums2[w][c];
            }
        }
        return total;
    }

    /** The per-channel mean of the first few rows: a shift close to the batch mean. */
    private static float[] meanEstimate(float[] x, int rows, int channels, boolean relu) {
        int sample = Math.min(rows, STAT_BLOCK);
        float[] shift = new float[channels];
        for (int r = 0; r < sample; r++) {
            for (int c = 0; c < channels; c++) shift[c] += relu ? Math.max(x[r * channels + c], 0f) : x[r * channels + c];
        }
        for (int c = 0; c < channels; c++) shift[c] /= sample;
        return shift;
    }

    @Override public void batchNormTrainForward(Tensor x, Tensor gamma, Tensor beta, Tensor movingMean,
                                                Tensor movingVariance, Tensor y, Tensor savedMean,
                                                Tensor savedInvStd, double momentum, double epsilon) {
        normalizeTraining(x, gamma, beta, movingMean, movingVariance, y, savedMean, savedInvStd, momentum, epsilon, false);
    }

    @Override public void reluBatchNormTrainForward(Tensor x, Tensor gamma, Tensor beta, Tensor movingMean,
                                                    Tensor movingVariance, Tensor y, Tensor savedMean,
                                                    Tensor savedInvStd, double momentum, double epsilon) {
        normalizeTraining(x, gamma, beta, movingMean, movingVariance, y, savedMean, savedInvStd, momentum, epsilon, true);
    }

    private void normalizeTraining(Tensor x, Tensor gamma, Tensor beta, Tensor movingMean, Tensor movingVariance,
                                   Tensor y, Tensor savedMean, Tensor savedInvStd, double momentum, double epsilon,
                                   boolean relu) {
        int channels = gamma.shape().elements(), count = size(x) / channels;
        float[] in = data(x);
        float[] shift = meanEstimate(in, count, channels, relu);
        double[][] moments = shiftedMoments(in, count, channels, shift, relu);
        float[] mm = data(movingMean), mv = data(movingVariance), sm = data(savedMean), si = data(savedInvStd);
        float[] g = data(gamma), b = data(beta);
        float[] scale = new float[channels], offset = new float[channels];
        double[] mean = new double[channels];
        for (int c = 0; c < channels; c++) {
            double meanShift = moments[0][c] / count;
            mean[c] = shift[c] + meanShift;
            double biased = Math.max(0, moments[1][c] / count - meanShift * meanShift);
            double unbiased = count > 1 ? biased * count / (count - 1) : biased;
            double invStd = 1 / Math.sqrt(biased + epsilon);
            mm[c] = (float) (momentum * mm[c] + (1 - momentum) * mean[c]);
            mv[c] = (float) (momentum * mv[c] + (1 - momentum) * unbiased);
            sm[c] = (float) mean[c];
            si[c] = (float) invStd;
            scale[c] = (float) (g[c] * invStd);
            offset[c] = (float) (b[c] - mean[c] * g[c] * invStd);
        }
        affine(in, data(y), count, channels, scale, offset, relu);
    }

    @Override public void batchNormInferForward(Tensor x, Tensor gamma, Tensor beta, Tensor movingMean,
                                                Tensor movingVariance, Tensor y, double epsilon) {
        normalizeInference(x, gamma, beta, movingMean, movingVariance, y, epsilon, false);
    }

    @Override public void reluBatchNormInferForward(Tensor x, Tensor gamma, Tensor beta, Tensor movingMean,
                                                    Tensor movingVariance, Tensor y, double epsilon) {
        normalizeInference(x, gamma, beta, movingMean, movingVariance, y, epsilon, true);
    }

    private void normalizeInference(Tensor x, Tensor gamma, Tensor beta, Tensor movingMean, Tensor movingVariance,
                                    Tensor y, double epsilon, boolean relu) {
        int channels = gamma.shape().elements();
        float[] g = data(gamma), b = data(beta), mm = data(movingMean), mv = data(movingVariance);
        float[] scale = new float[channels], offset = new float[channels];
        for (int c = 0; c < channels; c++) {
            double s = g[c] / Math.sqrt(mv[c] + epsilon);
            scale[c] = (float) s;
            offset[c] = (float) (b[c] - mm[c] * s);
        }
        affine(data(x), data(y), size(x) / channels, channels, scale, offset, relu);
    }

    /** y = scale[c]·x + offset[c] per channel (x through a ReLU first when {@code relu}). */
    private void affine(float[] x, float[] y, int rows, int channels, float[] scale, float[] offset, boolean relu) {
        pool.runRanges(rows, Math.max(1, ELEMENT_CHUNK / channels), (from, to, w) -> {
            for (int r = from; r < to; r++) {
                int base = r * channels, c = 0;
                for (; c + L <= channels; c += L) {
                    FloatVector v = FloatVector.fromArray(S, x, base + c);
                    if (relu) v = v.max(0f);
                    mulAdd(v, FloatVector.fromArray(S, scale, c), FloatVector.fromArray(S, offset, c)).intoArray(y, base + c);
                }
                for (; c < channels; c++) {
                    float v = relu ? Math.max(x[base + c], 0f) : x[base + c];
                    y[base + c] = v * scale[c] + offset[c];
                }
            }
        });
    }

    @Override public void batchNormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor savedMean, Tensor savedInvStd,
                                            Tensor dx, Tensor dGamma, Tensor dBeta, double epsilon) {
        normalizationGradients(x, dy, gamma, savedMean, savedInvStd, dx, dGamma, dBeta, false);
    }

    @Override public void reluBatchNormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor savedMean,
                                                Tensor savedInvStd, Tensor dx, Tensor dGamma, Tensor dBeta) {
        normalizationGradients(x, dy, gamma, savedMean, savedInvStd, dx, dGamma, dBeta, true);
    }

    /**
     * dx = γ·invStd/n · (n·dy − Σdy − x̂·Σ(dy·x̂)), written as dx = a·dy + b·x + d per channel after
     * one pass for the two sums; with {@code relu}, x is relu(input) and dx is 0 where input ≤ 0.
     */
    private void normalizationGradients(Tensor x, Tensor dy, Tensor gamma, Tensor savedMean, Tensor savedInvStd,
                                        Tensor dx, Tensor dGamma, Tensor dBeta, boolean relu) {
        int channels = gamma.shape().elements(), count = size(x) / channels;
        float[] in = data(x), gout = data(dy), gin = data(dx);
        float[] mean = data(savedMean), invStd = data(savedInvStd), g = data(gamma);
        double[][] sums = gradientSums(in, gout, count, channels, mean, relu);
        double[] sumDy = sums[0], sumDyCentered = sums[1];
        float[] dGammaOut = data(dGamma), dBetaOut = data(dBeta);
        float[] a = new float[channels], bx = new float[channels], d = new float[channels];
        for (int c = 0; c < channels; c++) {
            double s = invStd[c], sumDyXhat = sumDyCentered[c] * s;
            dGammaOut[c] = (float) sumDyXhat;
            dBetaOut[c] = (float) sumDy[c];
            double scale = g[c] * s;
            double b = -scale * s * sumDyXhat / count;
            a[c] = (float) scale;
            bx[c] = (float) b;
            d[c] = (float) (-scale * sumDy[c] / count - b * mean[c]);
        }
        pool.runRanges(count, Math.max(1, ELEMENT_CHUNK / channels), (from, to, w) -> {
            for (int r = from; r < to; r++) {
                int base = r * channels, c = 0;
                for (; c + L <= channels; c += L) {
                    FloatVector raw = FloatVector.fromArray(S, in, base + c);
                    FloatVector v = relu ? raw.max(0f) : raw;
                    FloatVector out = mulAdd(FloatVector.fromArray(S, gout, base + c), FloatVector.fromArray(S, a, c),
                            mulAdd(v, FloatVector.fromArray(S, bx, c), FloatVector.fromArray(S, d, c)));
                    if (relu) out = out.blend(0f, raw.compare(VectorOperators.LE, 0f));
                    out.intoArray(gin, base + c);
                }
                for (; c < channels; c++) {
                    float raw = in[base + c];
                    float v = relu ? Math.max(raw, 0f) : raw;
                    gin[base + c] = relu && !(raw > 0) ? 0f : gout[base + c] * a[c] + v * bx[c] + d[c];
                }
            }
        });
    }

    /** {Σdy, Σdy·(x − mean)} per channel. */
    private double[][] gradientSums(float[] x, float[] dy, int rows, int channels, float[] mean, boolean relu) {
        return channelSumPairs(rows, channels, (r, accDy, accCentered) -> {
            int base = r * channels, c = 0;
            for (; c + L <= channels; c += L) {
                FloatVector v = FloatVector.fromArray(S, x, base + c);
                if (relu) v = v.max(0f);
                FloatVector gv = FloatVector.fromArray(S, dy, base + c);
                gv.add(FloatVector.fromArray(S, accDy, c)).intoArray(accDy, c);
                mulAdd(v.sub(FloatVector.fromArray(S, mean, c)), gv, FloatVector.fromArray(S, accCentered, c))
                        .intoArray(accCentered, c);
            }
            for (; c < channels; c++) {
                float v = relu ? Math.max(x[base + c], 0f) : x[base + c];
                accDy[c] += dy[base + c];
                accCentered[c] += (v - mean[c]) * dy[base + c];
            }
        });
    }

    // ---- elementwise ----

    @Override public void reluForward(Tensor x, Tensor y) {
        float[] in = data(x), out = data(y);
        pool.runRanges(size(x), ELEMENT_CHUNK, (from, to, w) -> {
            int i = from;
            for (; i + L <= to; i += L) FloatVector.fromArray(S, in, i).max(0f).intoArray(out, i);
            for (; i < to; i++) out[i] = Math.max(in[i], 0f);
        });
    }

    @Override public void reluBackward(Tensor x, Tensor dy, Tensor dx) {
        float[] in = data(x), gout = data(dy), gin = data(dx);
        pool.runRanges(size(x), ELEMENT_CHUNK, (from, to, w) -> {
            int i = from;
            for (; i + L <= to; i += L) {
                FloatVector.fromArray(S, gout, i).blend(0f, FloatVector.fromArray(S, in, i).compare(VectorOperators.LE, 0f))
                        .intoArray(gin, i);
            }
            for (; i < to; i++) gin[i] = in[i] > 0 ? gout[i] : 0f;
        });
    }

    @Override public void add(Tensor a, Tensor b, Tensor out) {
        float[] l = data(a), r = data(b), o = data(out);
        pool.runRanges(size(out), ELEMENT_CHUNK, (from, to, w) -> {
            int i = from;
            for (; i + L <= to; i += L) FloatVector.fromArray(S, l, i).add(FloatVector.fromArray(S, r, i)).intoArray(o, i);
            for (; i < to; i++) o[i] = l[i] + r[i];
        });
    }

    @Override public void flatten(Tensor x, Tensor y) { copy(x, y); }

    @Override public void unflatten(Tensor dy, Tensor dx) { copy(dy, dx); }

    // ---- pooling ----

    @Override public void averagePoolForward(Tensor x, Tensor y, ConvGeometry g) {
        float[] in = data(x), out = data(y);
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
                            addInto(in, i, out, o, channels);
                        }
                    for (int c = 0; c < channels; c++) out[o + c] /= window;
                }
        });
    }

    @Override public void averagePoolBackward(Tensor dy, Tensor dx, ConvGeometry g) {
        float[] gout = data(dy), gin = data(dx);
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

    @Override public void subsampleChannelPadForward(Tensor x, Tensor y, int stride, int padBefore) {
        Shape in = x.shape(), out = y.shape();
        float[] src = data(x), dst = data(y);
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

    @Override public void subsampleChannelPadBackward(Tensor dy, Tensor dx, int stride, int padBefore) {
        Shape out = dy.shape(), in = dx.shape();
        float[] gout = data(dy), gin = data(dx);
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

    // ---- dense (small: the classifier head) ----

    @Override public void denseForward(Tensor x, Tensor kernel, Tensor bias, Tensor y) {
        int rows = x.shape().dim(0), in = x.shape().dim(1), out = y.shape().dim(1);
        float[] a = data(x), b = data(bias), o = data(y);
        float[] packed = packedKernel(Sgemm.packedSize(in, out));
        Sgemm.packB(data(kernel), 0, out, 1, in, out, packed);
        pool.runRanges(rows, Sgemm.MR, (from, to, w) -> {
            Sgemm.multiply(to - from, out, in, a, from * in, in, 1, packed, o, from * out, out, false);
            addBias(o, from * out, to - from, b, out);
        });
    }

    @Override public void denseBackward(Tensor x, Tensor kernel, Tensor dy, Tensor dx, Tensor dKernel, Tensor dBias) {
        int rows = x.shape().dim(0), in = x.shape().dim(1), out = dy.shape().dim(1);
        float[] a = data(x), gout = data(dy), gk = data(dKernel);
        if (dx != null) {
            // dx = dy · kernelᵀ: B(kk, j) = kernel[j, kk].
            float[] gin = data(dx), packedT = packedKernel(Sgemm.packedSize(out, in));
            Sgemm.packB(data(kernel), 0, 1, out, out, in, packedT);
            pool.runRanges(rows, Sgemm.MR, (from, to, w) ->
                    Sgemm.multiply(to - from, in, out, gout, from * out, out, 1, packedT, gin, from * in, in, false));
        }
        // dKernel = xᵀ · dy, each thread a block of kernel rows: A(i, n) = x[n, i].
        float[] packedDy = packedKernel(Sgemm.packedSize(rows, out));
        Sgemm.packB(gout, 0, out, 1, rows, out, packedDy);
        pool.runRanges(in, Sgemm.MR, (from, to, w) ->
                Sgemm.multiply(to - from, out, rows, a, from, 1, in, packedDy, gk, from * out, out, false));
        float[] gb = data(dBias);
        for (int j = 0; j < out; j++) {
            double sum = 0;
            for (int n = 0; n < rows; n++) sum += gout[n * out + j];
            gb[j] = (float) sum;
        }
    }

    // ---- loss ----

    @Override public double[] softmaxCrossEntropy(Tensor logits, Tensor labels, Tensor dLogits, double labelSmoothing) {
        int rows = logits.shape().dim(0), classes = logits.shape().dim(1);
        float[] z = data(logits), y = data(labels), g = dLogits == null ? null : data(dLogits);
        double lossSum = 0;
        int correct = 0;
        for (int n = 0; n < rows; n++) {
            int base = n * classes, label = (int) y[n], best = 0;
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < classes; j++) {
                max = Math.max(max, z[base + j]);
                if (z[base + j] > z[base + best]) best = j;
            }
            double sum = 0;
            for (int j = 0; j < classes; j++) sum += Math.exp(z[base + j] - max);
            double labelLoss = Math.log(sum) - (z[base + label] - max);
            if (labelSmoothing == 0) {
                lossSum += labelLoss;
            } else {
                double shiftedSum = 0;
                for (int j = 0; j < classes; j++) shiftedSum += z[base + j] - max;
                double uniformLoss = Math.log(sum) - shiftedSum / classes;
                lossSum += (1 - labelSmoothing) * labelLoss + labelSmoothing * uniformLoss;
            }
            if (best == label) correct++;
            if (g != null) {
                for (int j = 0; j < classes; j++) {
                    double target = (j == label ? 1 - labelSmoothing : 0) + labelSmoothing / classes;
                    g[base + j] = (float) ((Math.exp(z[base + j] - max) / sum - target) / rows);
                }
            }
        }
        return new double[] {lossSum, correct};
    }

    @Override public void softmax(Tensor logits, Tensor probabilities) {
        int rows = logits.shape().dim(0), classes = logits.shape().dim(1);
        float[] z = data(logits), p = data(probabilities);
        for (int n = 0; n < rows; n++) {
            int base = n * classes;
            double max = Double.NEGATIVE_INFINITY, sum = 0;
            for (int j = 0; j < classes; j++) max = Math.max(max, z[base + j]);
            for (int j = 0; j < classes; j++) sum += Math.exp(z[base + j] - max);
            for (int j = 0; j < classes; j++) p[base + j] = (float) (Math.exp(z[base + j] - max) / sum);
        }
    }

    // ---- optimizers ----

    /** Runs {@code update(param, from, to)} over every parameter, cut into tasks of ELEMENT_CHUNK elements. */
    private void overParameters(Tensor[] params, ParameterRange update) {
        int[] firstTask = new int[params.length + 1];
        for (int p = 0; p < params.length; p++) {
            firstTask[p + 1] = firstTask[p] + (size(params[p]) + ELEMENT_CHUNK - 1) / ELEMENT_CHUNK;
        }
        pool.run(firstTask[params.length], (task, w) -> {
            int p = 0;
            while (firstTask[p + 1] <= task) p++;
            int from = (task - firstTask[p]) * ELEMENT_CHUNK;
            update.run(p, from, Math.min(size(params[p]), from + ELEMENT_CHUNK));
        });
    }

    private interface ParameterRange {
        void run(int param, int from, int to);
    }

    @Override public void adamUpdate(Tensor[] params, Tensor[] grads, Tensor[] m, Tensor[] v,
                                     double lrT, double beta1, double beta2, double epsilon) {
        float b1 = (float) beta1, b2 = (float) beta2, lr = (float) lrT, eps = (float) epsilon;
        overParameters(params, (p, from, to) -> {
            float[] w = data(params[p]), g = data(grads[p]), mp = data(m[p]), vp = data(v[p]);
            int i = from;
            for (; i + L <= to; i += L) {
                FloatVector gv = FloatVector.fromArray(S, g, i);
                FloatVector mv = FloatVector.fromArray(S, mp, i).mul(b1).add(gv.mul(1 - b1));
                FloatVector vv = FloatVector.fromArray(S, vp, i).mul(b2).add(gv.mul(gv).mul(1 - b2));
                mv.intoArray(mp, i);
                vv.intoArray(vp, i);
                FloatVector.fromArray(S, w, i).sub(mv.mul(lr).div(vv.sqrt().add(eps))).intoArray(w, i);
            }
            for (; i < to; i++) {
                mp[i] = b1 * mp[i] + (1 - b1) * g[i];
                vp[i] = b2 * vp[i] + (1 - b2) * g[i] * g[i];
                w[i] -= lr * mp[i] / ((float) Math.sqrt(vp[i]) + eps);
            }
        });
    }

    @Override public void sgdUpdate(Tensor[] params, Tensor[] grads, Tensor[] velocity,
                                    double lr, double momentum, double weightDecay, boolean nesterov) {
        float rate = (float) lr, mu = (float) momentum, decay = (float) weightDecay;
        overParameters(params, (p, from, to) -> {
            float[] w = data(params[p]), g = data(grads[p]), vel = data(velocity[p]);
            int i = from;
            for (; i + L <= to; i += L) {
                FloatVector wv = FloatVector.fromArray(S, w, i);
                FloatVector gv = FloatVector.fromArray(S, g, i);
                FloatVector vv = FloatVector.fromArray(S, vel, i).mul(mu).add(gv).add(wv.mul(decay));
                vv.intoArray(vel, i);
                FloatVector step = nesterov ? gv.add(wv.mul(decay)).add(vv.mul(mu)) : vv;
                wv.sub(step.mul(rate)).intoArray(w, i);
            }
            for (; i < to; i++) {
                float wi = w[i];
                vel[i] = mu * vel[i] + g[i] + decay * wi;
                w[i] = wi - rate * (nesterov ? g[i] + decay * wi + mu * vel[i] : vel[i]);
            }
        });
    }

    @Override public void close() { pool.close(); }

    private static float[] data(Tensor t) { return ((CpuTensor) t).data(); }

    private static int size(Tensor t) { return t.shape().elements(); }
}
