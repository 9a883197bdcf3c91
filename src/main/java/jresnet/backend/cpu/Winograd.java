package jresnet.backend.cpu;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import jresnet.backend.ConvGeometry;

/**
 * Winograd F(2x2, 3x3) for 3 x 3 stride-1 convolutions (Lavin and Gray, 2015): each 2 x 2 block of
 * output pixels is A^T [(G g G^T) ⊙ (B^T d B)] A of the 4 x 4 input window d around it, so the
 * 36 multiply-adds per output block and channel pair become 16, and the products over channels become
 * 16 independent GEMMs ({@link Sgemm}), one per point of the 4 x 4 transformed tile.
 * <ul>
 * <li>Forward (and backward-data, a forward convolution with the flipped, transposed kernel): per
 * block of tiles a worker transforms its input windows, runs the 16 GEMMs against the transformed
 * kernel and transforms the products back into its output pixels.</li>
 * <li>Backward-filter: with U = G g G^T, dL/dU = (A dY A^T) ⊙ (B^T d B) summed over tiles, so each
 * worker accumulates 16 GEMMs V^T · Z into its own partial dU, the partials are added in worker order
 * and dL/dg = G^T dU G.</li>
 * </ul>
 * NHWC keeps a pixel's channels contiguous, so every transform runs along the channels in vectors.
 * Transformed tiles are stored with the channel count rounded up to whole vectors (zeros beyond it),
 * so the transforms never need a scalar tail. Any padding works (tiles reach into it as zeros).
 * Deterministic for a given thread count: every output is written by one worker in a fixed order, and
 * the filter partials are summed in worker order.
 */
final class Winograd {
    /** Points of one transformed tile: a 4 x 4 window. */
    static final int POINTS = 16;
    private static final int WINDOW = 4, OUTPUT_TILE = 2;
    private static final VectorSpecies<Float> SPECIES = Vectors.SPECIES;
    private static final int LANES = Vectors.LANES;
    /** Target floats of one worker's transformed tiles (inputs and products): about half an L2. */
    private static final int BLOCK_FLOATS = 1 << 16;
    /** Fewest tiles per block, as im2col's fewest rows per GEMM block. */
    private static final int MIN_BLOCK_TILES = 128;

    private final WorkerPool pool;
    /** Per worker: transformed input tiles [point][tile][inC rounded up], products or dY tiles, partial dU. */
    private final float[][] inputTiles, productTiles, partialFilters;
    /** Per worker and point: the transformed dY tiles of a block, packed as the GEMM's B operand. */
    private final float[][][] packedGradientTiles;
    /** Per worker: the 4 x 4 x LANES intermediate of a two-pass transform, and a partial-vector bounce. */
    private final float[][] between, edges;
    private float[] transformedKernel = new float[0];
    private final float[][] packedKernels = new float[POINTS][0];

    Winograd(WorkerPool pool) {
        this.pool = pool;
        int threads = pool.threads();
        inputTiles = new float[threads][0];
        productTiles = new float[threads][0];
        partialFilters = new float[threads][0];
        packedGradientTiles = new float[threads][POINTS][0];
        between = new float[threads][WINDOW * WINDOW * LANES];
        edges = new float[threads][LANES];
    }

    /** Whether this algorithm computes {@code g} at all: a 3 x 3 kernel at stride 1, any padding. */
    static boolean supports(ConvGeometry g) {
        return g.kernelH() == 3 && g.kernelW() == 3 && g.strideH() == 1 && g.strideW() == 1;
    }

    private static int roundUp(int channels) { return (channels + LANES - 1) / LANES * LANES; }

    private static int tilesHigh(ConvGeometry g) { return (g.outH() + OUTPUT_TILE - 1) / OUTPUT_TILE; }

    private static int tilesWide(ConvGeometry g) { return (g.outW() + OUTPUT_TILE - 1) / OUTPUT_TILE; }

    /**
     * Tiles per worker block: a multiple of the GEMM's micro-tile height, the block about BLOCK_FLOATS,
     * but at least MIN_BLOCK_TILES, so that each of the 16 transformed kernels (forward) or partial
     * kernel gradients (backward-filter) that a block streams through is used for that many rows.
     */
    private int blockTiles(ConvGeometry g, int tiles) {
        int rows = Math.max(MIN_BLOCK_TILES, BLOCK_FLOATS / (POINTS * (roundUp(g.inC()) + roundUp(g.outC()))));
        rows = Math.min(rows, (tiles + pool.threads() - 1) / pool.threads());
        return Math.max(Sgemm.MR, rows / Sgemm.MR * Sgemm.MR);
    }

    private static float[] grow(float[][] buffers, int index, int size) {
        if (buffers[index].length < size) buffers[index] = new float[size];
        return buffers[index];
    }

    /** out = x ⊛ kernel (+ bias): kernel [3, 3, inC, outC], NHWC input and output of {@code g}. */
    void forward(float[] in, float[] kernel, float[] bias, float[] out, ConvGeometry g) {
        int inC = g.inC(), outC = g.outC(), paddedIn = roundUp(inC), paddedOut = roundUp(outC);
        transformKernel(kernel, inC, outC, paddedIn);
        for (int p = 0; p < POINTS; p++) {
            if (packedKernels[p].length < Sgemm.packedSize(paddedIn, outC)) packedKernels[p] = new float[Sgemm.packedSize(paddedIn, outC)];
            Sgemm.packB(transformedKernel, p * paddedIn * outC, outC, 1, paddedIn, outC, packedKernels[p]);
        }
        int tiles = g.batch() * tilesHigh(g) * tilesWide(g), rows = blockTiles(g, tiles);
        int blocks = (tiles + rows - 1) / rows;
        pool.run(blocks, (block, w) -> {
            int tile0 = block * rows, count = Math.min(rows, tiles - tile0);
            float[] v = grow(inputTiles, w, POINTS * rows * paddedIn), m = grow(productTiles, w, POINTS * rows * paddedOut);
            for (int t = 0; t < count; t++) transformInputTile(in, g, tile0 + t, v, t, rows * paddedIn, w);
            for (int p = 0; p < POINTS; p++) {
                Sgemm.multiply(count, outC, paddedIn, v, p * rows * paddedIn, paddedIn, 1, packedKernels[p],
                        m, p * rows * paddedOut, paddedOut, false);
            }
            for (int t = 0; t < count; t++) transformOutputTile(m, t, rows * paddedOut, paddedOut, bias, out, g, tile0 + t, w);
        });
    }

    /** dKernel = the kernel gradient of {@code g} from its input x and output gradient dY. */
    void backwardFilter(float[] in, float[] gout, float[] gk, ConvGeometry g) {
        int inC = g.inC(), outC = g.outC(), paddedIn = roundUp(inC);
        int tiles = g.batch() * tilesHigh(g) * tilesWide(g), rows = blockTiles(g, tiles);
        int blocks = (tiles + rows - 1) / rows, used = Math.min(pool.threads(), blocks);
        // The GEMM's rows are input channels, rounded up to whole micro-tiles so that none falls to the
        // one-row edge kernel; the rows past inC read the next tile's channels and are dropped.
        int filterRows = (inC + Sgemm.MR - 1) / Sgemm.MR * Sgemm.MR, transformedSize = POINTS * filterRows * outC;
        for (int w = 0; w < used; w++) Arrays.fill(grow(partialFilters, w, transformedSize), 0, transformedSize, 0f);
        pool.run(blocks, (block, w) -> {
            int tile0 = block * rows, count = Math.min(rows, tiles - tile0);
            float[] v = grow(inputTiles, w, POINTS * rows * paddedIn + filterRows);
            float[][] z = packedGradientTiles[w];
            for (int p = 0; p < POINTS; p++) grow(z, p, Sgemm.packedSize(rows, outC));
            for (int t = 0; t < count; t++) {
                transformInputTile(in, g, tile0 + t, v, t, rows * paddedIn, w);
                transformGradientTile(gout, g, tile0 + t, z, t, count, edges[w]);
            }
            // partial dU[point][inC, outC] += V[point]ᵀ[inC, count] · Z[point][count, outC]
            for (int p = 0; p < POINTS; p++) {
                Sgemm.multiply(filterRows, outC, count, v, p * rows * paddedIn, 1, paddedIn, z[p],
                        partialFilters[w], p * filterRows * outC, outC, true);
            }
        });
        float[] dU = transformedKernel(transformedSize);
        System.arraycopy(partialFilters[0], 0, dU, 0, transformedSize);
        for (int w = 1; w < used; w++) Vectors.addInto(partialFilters[w], 0, dU, 0, transformedSize);
        untransformKernelGradient(dU, inC, outC, filterRows, gk);
    }

    private float[] transformedKernel(int size) {
        if (transformedKernel.length < size) transformedKernel = new float[size];
        return transformedKernel;
    }

    /**
     * U[point][ci][co] = (G g G^T) for each channel pair, G = [[1, 0, 0], [½, ½, ½], [½, −½, ½], [0, 0, 1]];
     * rows ci ≥ inC stay zero, matching the zero channels of the transformed input tiles.
     */
    private void transformKernel(float[] kernel, int inC, int outC, int paddedIn) {
        float[] u = transformedKernel(POINTS * paddedIn * outC);
        Arrays.fill(u, 0, POINTS * paddedIn * outC, 0f);
        float[] gg = new float[12];
        for (int ci = 0; ci < inC; ci++)
            for (int co = 0; co < outC; co++) {
                // G g: 4 rows of 3
                for (int j = 0; j < 3; j++) {
                    float g0 = kernel[(j * inC + ci) * outC + co], g1 = kernel[((3 + j) * inC + ci) * outC + co],
                            g2 = kernel[((6 + j) * inC + ci) * outC + co];
                    gg[j] = g0;
                    gg[3 + j] = 0.5f * (g0 + g1 + g2);
                    gg[6 + j] = 0.5f * (g0 - g1 + g2);
                    gg[9 + j] = g2;
                }
                // (G g) G^T: 4 columns of each row
                for (int i = 0; i < WINDOW; i++) {
                    float g0 = gg[3 * i], g1 = gg[3 * i + 1], g2 = gg[3 * i + 2];
                    int base = (i * WINDOW * paddedIn + ci) * outC + co, step = paddedIn * outC;
                    u[base] = g0;
                    u[base + step] = 0.5f * (g0 + g1 + g2);
                    u[base + 2 * step] = 0.5f * (g0 - g1 + g2);
                    u[base + 3 * step] = g2;
                }
            }
    }

    /** dg = G^T dU G for each channel pair, G^T = [[1, ½, ½, 0], [0, ½, −½, 0], [0, ½, ½, 1]]. */
    private static void untransformKernelGradient(float[] dU, int inC, int outC, int rowsPerPoint, float[] gk) {
        float[] half = new float[12];
        int step = rowsPerPoint * outC;
        for (int ci = 0; ci < inC; ci++)
            for (int co = 0; co < outC; co++) {
                // rows: G^T dU (3 rows of 4)
                for (int j = 0; j < WINDOW; j++) {
                    int base = (j * rowsPerPoint + ci) * outC + co;
                    float u0 = dU[base], u1 = dU[base + WINDOW * step], u2 = dU[base + 2 * WINDOW * step],
                            u3 = dU[base + 3 * WINDOW * step];
                    half[j] = u0 + 0.5f * (u1 + u2);
                    half[4 + j] = 0.5f * (u1 - u2);
                    half[8 + j] = 0.5f * (u1 + u2) + u3;
                }
                // columns: (G^T dU) G
                for (int i = 0; i < 3; i++) {
                    float u0 = half[4 * i], u1 = half[4 * i + 1], u2 = half[4 * i + 2], u3 = half[4 * i + 3];
                    gk[((3 * i) * inC + ci) * outC + co] = u0 + 0.5f * (u1 + u2);
                    gk[((3 * i + 1) * inC + ci) * outC + co] = 0.5f * (u1 - u2);
                    gk[((3 * i + 2) * inC + ci) * outC + co] = 0.5f * (u1 + u2) + u3;
                }
            }
    }

    /**
     * V[point][t] = B^T d B of the 4 x 4 input window of tile {@code tile}, all channels, with
     * B^T = [[1, 0, −1, 0], [0, 1, 1, 0], [0, −1, 1, 0], [0, 1, 0, −1]]; the same 1-D transform runs
     * down the window's columns into {@code between}, then along its rows into V.
     */
    private void transformInputTile(float[] in, ConvGeometry g, int tile, float[] v, int t, int pointStride, int w) {
        int inC = g.inC(), paddedIn = roundUp(inC), tw = tilesWide(g), th = tilesHigh(g);
        int n = tile / (th * tw), rem = tile - n * th * tw, ti = rem / tw, tj = rem - ti * tw;
        int ih0 = ti * OUTPUT_TILE - g.padTop(), iw0 = tj * OUTPUT_TILE - g.padLeft();
        float[] mid = between[w], edge = edges[w];
        for (int c0 = 0; c0 < paddedIn; c0 += LANES) {
            for (int j = 0; j < WINDOW; j++) {
                int iw = iw0 + j;
                FloatVector d0 = pixel(in, g, n, ih0, iw, c0, inC, edge), d1 = pixel(in, g, n, ih0 + 1, iw, c0, inC, edge),
                        d2 = pixel(in, g, n, ih0 + 2, iw, c0, inC, edge), d3 = pixel(in, g, n, ih0 + 3, iw, c0, inC, edge);
                inputTransform(d0, d1, d2, d3, mid, j * LANES, WINDOW * LANES);
            }
            for (int i = 0; i < WINDOW; i++) {
                int row = i * WINDOW * LANES;
                inputTransform(FloatVector.fromArray(SPECIES, mid, row), FloatVector.fromArray(SPECIES, mid, row + LANES),
                        FloatVector.fromArray(SPECIES, mid, row + 2 * LANES), FloatVector.fromArray(SPECIES, mid, row + 3 * LANES),
                        v, (i * WINDOW * pointStride) + t * paddedIn + c0, pointStride);
            }
        }
    }

    /** B^T applied to 4 values along one axis, written {@code stride} apart. */
    private static void inputTransform(FloatVector d0, FloatVector d1, FloatVector d2, FloatVector d3,
                                       float[] dst, int at, int stride) {
        d0.sub(d2).intoArray(dst, at);
        d1.add(d2).intoArray(dst, at + stride);
        d2.sub(d1).intoArray(dst, at + 2 * stride);
        d1.sub(d3).intoArray(dst, at + 3 * stride);
    }

    /**
     * Z[point][t] = A dY A^T of the 2 x 2 output-gradient block of tile {@code tile} (zero beyond the
     * output), A^T = [[1, 1, 1, 0], [0, 1, −1, −1]], written straight into the packed panels of the
     * GEMM's B operand (panel of channel c0 at c0·count, row t at t·LANES).
     */
    private static void transformGradientTile(float[] gout, ConvGeometry g, int tile, float[][] z, int t, int count, float[] edge) {
        int outC = g.outC(), tw = tilesWide(g), th = tilesHigh(g);
        int n = tile / (th * tw), rem = tile - n * th * tw, ti = rem / tw, tj = rem - ti * tw;
        int oh0 = ti * OUTPUT_TILE, ow0 = tj * OUTPUT_TILE;
        for (int c0 = 0; c0 < outC; c0 += LANES) {
            FloatVector y00 = outputPixel(gout, g, n, oh0, ow0, c0, edge), y01 = outputPixel(gout, g, n, oh0, ow0 + 1, c0, edge),
                    y10 = outputPixel(gout, g, n, oh0 + 1, ow0, c0, edge), y11 = outputPixel(gout, g, n, oh0 + 1, ow0 + 1, c0, edge);
            int at = c0 * count + t * LANES;
            // column j of dY A^T is (h0, h1); A takes it to the 4 points of column j
            gradientTransform(y00, y10, z, 0, at);
            gradientTransform(y00.add(y01), y10.add(y11), z, 1, at);
            gradientTransform(y00.sub(y01), y10.sub(y11), z, 2, at);
            gradientTransform(y01.neg(), y11.neg(), z, 3, at);
        }
    }

    /** A applied to (h0, h1), one column j of dY A^T: the points (0..3, j). */
    private static void gradientTransform(FloatVector h0, FloatVector h1, float[][] z, int j, int at) {
        h0.intoArray(z[j], at);
        h0.add(h1).intoArray(z[WINDOW + j], at);
        h0.sub(h1).intoArray(z[2 * WINDOW + j], at);
        h1.neg().intoArray(z[3 * WINDOW + j], at);
    }

    /**
     * Writes the valid pixels of tile {@code tile}: A^T M A (+ bias) of its 16 products, down the
     * columns into {@code between}, then along the rows into the output.
     */
    private void transformOutputTile(float[] m, int t, int pointStride, int paddedOut, float[] bias, float[] out,
                                     ConvGeometry g, int tile, int w) {
        int outC = g.outC(), tw = tilesWide(g), th = tilesHigh(g);
        int n = tile / (th * tw), rem = tile - n * th * tw, ti = rem / tw, tj = rem - ti * tw;
        int oh0 = ti * OUTPUT_TILE, ow0 = tj * OUTPUT_TILE;
        int rowsHere = Math.min(OUTPUT_TILE, g.outH() - oh0), colsHere = Math.min(OUTPUT_TILE, g.outW() - ow0);
        float[] mid = between[w], edge = edges[w];
        for (int c0 = 0; c0 < outC; c0 += LANES) {
            int at = t * paddedOut + c0;
            for (int j = 0; j < WINDOW; j++) {
                FloatVector m0 = FloatVector.fromArray(SPECIES, m, at + j * pointStride),
                        m1 = FloatVector.fromArray(SPECIES, m, at + (WINDOW + j) * pointStride),
                        m2 = FloatVector.fromArray(SPECIES, m, at + (2 * WINDOW + j) * pointStride),
                        m3 = FloatVector.fromArray(SPECIES, m, at + (3 * WINDOW + j) * pointStride);
                m0.add(m1).add(m2).intoArray(mid, j * LANES);
                m1.sub(m2).sub(m3).intoArray(mid, (WINDOW + j) * LANES);
            }
            FloatVector b = bias == null ? FloatVector.zero(SPECIES) : channels(bias, 0, c0, outC, edge);
            for (int i = 0; i < rowsHere; i++) {
                int row = i * WINDOW * LANES;
                FloatVector m0 = FloatVector.fromArray(SPECIES, mid, row), m1 = FloatVector.fromArray(SPECIES, mid, row + LANES),
                        m2 = FloatVector.fromArray(SPECIES, mid, row + 2 * LANES), m3 = FloatVector.fromArray(SPECIES, mid, row + 3 * LANES);
                int base = ((n * g.outH() + oh0 + i) * g.outW() + ow0) * outC;
                storeChannels(m0.add(m1).add(m2).add(b), out, base, c0, outC, edge);
                if (colsHere > 1) storeChannels(m1.sub(m2).sub(m3).add(b), out, base + outC, c0, outC, edge);
            }
        }
    }

    /** Channels [c0, c0 + LANES) of input pixel (n, ih, iw), zero outside the image or beyond inC. */
    private static FloatVector pixel(float[] in, ConvGeometry g, int n, int ih, int iw, int c0, int inC, float[] edge) {
        if (ih < 0 || ih >= g.inH() || iw < 0 || iw >= g.inW()) return FloatVector.zero(SPECIES);
        return channels(in, ((n * g.inH() + ih) * g.inW() + iw) * inC, c0, inC, edge);
    }

    /** Channels [c0, c0 + LANES) of output pixel (n, oh, ow), zero outside the output or beyond outC. */
    private static FloatVector outputPixel(float[] out, ConvGeometry g, int n, int oh, int ow, int c0, float[] edge) {
        if (oh >= g.outH() || ow >= g.outW()) return FloatVector.zero(SPECIES);
        return channels(out, ((n * g.outH() + oh) * g.outW() + ow) * g.outC(), c0, g.outC(), edge);
    }

    /**
     * One vector of channels from a pixel at {@code base}; a partial vector goes through {@code edge},
     * because JDK 17 runs masked loads as scalar code that boxes the vector.
     */
    private static FloatVector channels(float[] a, int base, int c0, int channels, float[] edge) {
        if (c0 + LANES <= channels) return FloatVector.fromArray(SPECIES, a, base + c0);
        int valid = channels - c0;
        System.arraycopy(a, base + c0, edge, 0, valid);
        Arrays.fill(edge, valid, LANES, 0f);
        return FloatVector.fromArray(SPECIES, edge, 0);
    }

    /** Stores one vector of channels into a pixel at {@code base}, only those below {@code channels}. */
    private static void storeChannels(FloatVector v, float[] a, int base, int c0, int channels, float[] edge) {
        if (c0 + LANES <= channels) {
            v.intoArray(a, base + c0);
            return;
        }
        v.intoArray(edge, 0);
        System.arraycopy(edge, 0, a, base + c0, channels - c0);
    }
}
