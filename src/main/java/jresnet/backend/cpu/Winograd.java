package jresnet.backend.cpu;

import static jresnet.backend.cpu.WorkerPool.grow;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import jresnet.backend.ConvGeometry;

/**
 * Winograd F(4x4, 3x3) for 3 x 3 stride-1 convolutions (Lavin and Gray, 2015): each 4 x 4 block of
 * output pixels is A^T [(G g G^T) ⊙ (B^T d B)] A of the 6 x 6 input window d around it, so the 144
 * multiply-adds per output block and channel pair become 36, and the products over channels become 36
 * independent GEMMs ({@link Sgemm}), one per point of the transformed tile.
 * <ul>
 * <li>Forward (and backward-data, a forward convolution with the flipped, transposed kernel): per
 * block of tiles a worker transforms its input windows, runs the GEMMs against the transformed
 * kernel and transforms the products back into its output pixels.</li>
 * <li>Backward-filter: with U = G g G^T, dL/dU = (A dY A^T) ⊙ (B^T d B) summed over tiles, so each
 * stripe of blocks ({@link WorkerPool#runStripes}) accumulates one GEMM V^T · Z per point into its own
 * partial dU, the partials are added in stripe order and dL/dg = G^T dU G.</li>
 * </ul>
 * The matrices (interpolation points 0, ±1, ±2): B^T = [[4, 0, −5, 0, 1, 0], [0, −4, −4, 1, 1, 0],
 * [0, 4, −4, −1, 1, 0], [0, −2, −1, 2, 1, 0], [0, 2, −1, −2, 1, 0], [0, 4, 0, −5, 0, 1]],
 * G = [[¼, 0, 0], [−⅙, −⅙, −⅙], [−⅙, ⅙, −⅙], [1/24, 1/12, ⅙], [1/24, −1/12, ⅙], [0, 0, 1]],
 * A^T = [[1, 1, 1, 1, 1, 0], [0, 1, −1, 2, −2, 0], [0, 1, 1, 4, 4, 0], [0, 1, −1, 8, −8, 1]]. Values
 * grow by up to 100x in the input transform and G's sixths and twelfths are inexact in binary, so the
 * error is about 10x that of im2col + SGEMM (WinogradTest), most of it from the input side; the
 * kernel transforms run in float vectors, as the tiles' do. F(2x2, 3x3), used before, measured
 * 1.2-2.0x slower per pass on resnet20's shapes and level on resnet30's widest (docs/performance.md).
 *
 * <p>NHWC keeps a pixel's channels contiguous, so every transform runs along the channels in vectors;
 * each 2-D transform is two passes of its 1-D transform, through a window of vectors in L1 (the
 * input transform: through a strip of neighbouring windows). Transformed tiles are stored with the
 * channel count rounded up to whole vectors (zeros beyond it), so the transforms never need a scalar
 * tail. Any padding works (tiles reach into it as zeros). Deterministic
 * for a given thread count: every output is written by one task, whichever worker runs it, and the
 * filter partials are summed in stripe order.
 *
 * <p>Written for JDK 17's C2, which keeps a Vector-API operation an instruction only while it inlines
 * the operation's whole call tree, and stops inlining once one compilation has parsed about 18,000
 * nodes (NodeCountInliningCutoff, fixed in product JVMs); past that, the calls are compiled out of
 * line and every vector they take or return is boxed on the heap (docs/performance.md). So every
 * vector is loaded from an array in the method that uses it and none crosses a method boundary, the
 * 1-D transforms are static (no virtual call), the factors are constant vectors rather than scalars
 * to broadcast, and each 2-D transform runs both of its passes through one call site, so that a tile
 * method inlines one copy of its 1-D transform rather than two.
 */
final class Winograd {
    private static final VectorSpecies<Float> SPECIES = Vectors.SPECIES;
    private static final int LANES = Vectors.LANES;
    /** Target floats of one worker's transformed tiles (inputs and products): about half an L2. */
    private static final int BLOCK_FLOATS = 1 << 16;
    /**
     * How many times the tile data a block streams must outweigh the kernel data it streams: once for
     * forward (the transformed kernel is read per block), four times for backward-filter (the partial
     * dU is read and written per block, and its GEMMs want long sums), but see {@link #filterReuse}.
     */
    private static final int FORWARD_REUSE = 1, FILTER_REUSE = 4;
    /** The most channel pairs (inC · outC) of a backward-filter that {@link #filterReuse} gives short blocks. */
    private static final int SHORT_FILTER_BLOCK_PAIRS = 128 * 128;

    /** Output pixels per tile side, input window side and points per transformed tile. */
    private static final int OUTPUT_TILE = 4, WINDOW = OUTPUT_TILE + 2, POINTS = WINDOW * WINDOW;
    /**
     * The transforms' factors as constant vectors: {@code x.mul(4f)} broadcasts through a call whose
     * receiver C2 must resolve from a type profile, and JVMs where that profile went bad compiled the
     * boxing fallback (docs/performance.md).
     */
    private static final FloatVector TWO = FloatVector.broadcast(SPECIES, 2f), FOUR = FloatVector.broadcast(SPECIES, 4f),
            FIVE = FloatVector.broadcast(SPECIES, 5f), EIGHT = FloatVector.broadcast(SPECIES, 8f),
            ZERO = FloatVector.zero(SPECIES), QUARTER = FloatVector.broadcast(SPECIES, 0.25f),
            SIXTH = FloatVector.broadcast(SPECIES, 1f / 6), MINUS_SIXTH = FloatVector.broadcast(SPECIES, -1f / 6),
            TWELFTH = FloatVector.broadcast(SPECIES, 1f / 12), TWENTY_FOURTH = FloatVector.broadcast(SPECIES, 1f / 24);
    private static final int CACHE_LINE_FLOATS = 64 / Float.BYTES;
    /** Two cache lines: the unused end of each per-worker window buffer. */
    private static final int WINDOW_SLACK = 2 * CACHE_LINE_FLOATS;
    /** The bias of the output transform's first pass (its second adds the layer's). */
    private static final float[] NO_BIAS = new float[LANES];

    private final WorkerPool pool;
    /** Per worker: transformed input tiles [point][tile][inC rounded up] and products. */
    private final float[][] inputTiles, productTiles;
    /** Per stripe of backward-filter's blocks ({@link WorkerPool#runStripes}): its partial dU. */
    private final float[][] partialFilters;
    /** Per worker: the transformed dY tiles of a block, packed as the GEMMs' B operands, one point after another. */
    private final float[][] packedGradientTiles;
    /**
     * Per worker, each one window of vectors: a gathered border window, the result of a transform's
     * first pass, a transformed kernel or the taps of its gradient, or a row of output pixels.
     */
    private final float[][] gathered, between, finished;
    /** Per worker: the rows of a strip of input windows (when not read in place), and B^T down its columns. */
    private final float[][] stripRows, stripColumns;
    /** The forward's bias, zero-padded to whole vectors (none: zeros). */
    private float[] paddedBias = new float[0];
    private final float[][] packedKernels;

    Winograd(WorkerPool pool) {
        this.pool = pool;
        int threads = pool.threads();
        inputTiles = new float[threads][0];
        productTiles = new float[threads][0];
        partialFilters = new float[pool.maxStripes()][0];
        packedGradientTiles = new float[threads][0];
        gathered = windowsPerWorker(threads);
        between = windowsPerWorker(threads);
        finished = windowsPerWorker(threads);
        stripRows = new float[threads][0];
        stripColumns = new float[threads][0];
        packedKernels = new float[POINTS][0];
    }

    /**
     * One window of vectors per worker, each followed by WINDOW_SLACK unused floats. Allocated one
     * after another, the last cache line of one worker's window otherwise shares a line with the
     * start (and the length every bounds check reads) of the next worker's, which both write or read
     * for every tile: with two threads that cost 5-16% of a 16-channel forward or backward-data pass
     * (docs/performance.md). The buffers the workers grow themselves come from their own allocation
     * buffers and need no slack.
     */
    private static float[][] windowsPerWorker(int threads) {
        float[][] windows = new float[threads][];
        for (int w = 0; w < threads; w++) windows[w] = new float[POINTS * LANES + WINDOW_SLACK];
        return windows;
    }

    /** Whether Winograd computes {@code g} at all: a 3 x 3 kernel at stride 1, any padding. */
    static boolean supports(ConvGeometry g) {
        return g.kernelH() == 3 && g.kernelW() == 3 && g.strideH() == 1 && g.strideW() == 1;
    }

    private static int roundUp(int channels) { return WorkerPool.roundUp(channels, LANES); }

    private static int tilesHigh(ConvGeometry g) { return (g.outH() + OUTPUT_TILE - 1) / OUTPUT_TILE; }

    private static int tilesWide(ConvGeometry g) { return (g.outW() + OUTPUT_TILE - 1) / OUTPUT_TILE; }

    /**
     * Tiles per worker block, a multiple of the GEMM's micro-tile height: about BLOCK_FLOATS of
     * transformed tiles, but enough that the tiles' channels (rows · (inC + outC) per point) are
     * {@code reuse} times the kernel's (inC · outC per point), since a block streams both. So small
     * layers get small blocks that stay in L2 (16 channels: 56 tiles), wide ones long blocks that
     * amortise the kernel (256 channels: 128 tiles forward, 512 backward-filter). Measured on the
     * Zen 3 host, one thread: against a fixed floor of 128 tiles, 5-20% faster on resnet20's shapes
     * and level on resnet30's.
     */
    private int blockTiles(ConvGeometry g, int tiles, int reuse) {
        int in = roundUp(g.inC()), out = roundUp(g.outC());
        int rows = Math.max(BLOCK_FLOATS / (POINTS * (in + out)), (int) ((long) reuse * in * out / (in + out)));
        rows = Math.min(rows, (tiles + pool.threads() - 1) / pool.threads());
        return Math.max(Sgemm.MR, rows / Sgemm.MR * Sgemm.MR);
    }

    /**
     * Backward-filter's reuse factor for {@link #blockTiles}. With 512-bit vectors and a partial dU of
     * at most SHORT_FILTER_BLOCK_PAIRS channel pairs (2.4 MB), blocks of the size forward uses (so
     * that a block's tiles and the partial it adds into stay near L2) measured faster than the long
     * ones on the Zen 5 host of docs/performance.md (2026-12-06): 33% on 16 x 16 x 32, 13% on
     * 8 x 8 x 64, 5% on 32 x 32 x 64 and 8% on 16 x 16 x 128, but 13% slower on 8 x 8 x 256. With
     * 256-bit vectors (6-row micro-tiles) the short blocks were 1-12% slower on every shape.
     */
    private static int filterReuse(ConvGeometry g) {
        boolean shortBlocks = Vectors.BITS >= 512 && (long) g.inC() * g.outC() <= SHORT_FILTER_BLOCK_PAIRS;
        return shortBlocks ? FORWARD_REUSE : FILTER_REUSE;
    }

    /** out = x ⊛ kernel (+ bias): kernel [3, 3, inC, outC], NHWC input and output of {@code g}. */
    void forward(float[] in, float[] kernel, float[] bias, float[] out, ConvGeometry g) {
        int inC = g.inC(), outC = g.outC(), paddedIn = roundUp(inC), paddedOut = roundUp(outC);
        packTransformedKernel(kernel, inC, outC, paddedIn);
        if (paddedBias.length < paddedOut) paddedBias = new float[paddedOut];
        Arrays.fill(paddedBias, 0f);
        if (bias != null) System.arraycopy(bias, 0, paddedBias, 0, outC);
        int tiles = g.batch() * tilesHigh(g) * tilesWide(g), rows = blockTiles(g, tiles, FORWARD_REUSE);
        int blocks = (tiles + rows - 1) / rows;
        pool.run(blocks, (block, w) -> {
            int tile0 = block * rows, count = Math.min(rows, tiles - tile0);
            float[] v = grow(inputTiles, w, POINTS * rows * paddedIn), m = grow(productTiles, w, POINTS * rows * paddedOut);
            transformInputTiles(in, g, tile0, count, v, rows * paddedIn, w);
            for (int p = 0; p < POINTS; p++) {
                Sgemm.multiply(count, outC, paddedIn, v, p * rows * paddedIn, paddedIn, 1, packedKernels[p],
                        m, p * rows * paddedOut, paddedOut, false);
            }
            for (int t = 0; t < count; t++) transformOutputTile(m, t, rows * paddedOut, paddedOut, paddedBias, out, g, tile0 + t, w);
        });
    }

    /** dKernel = the kernel gradient of {@code g} from its input x and output gradient dY. */
    void backwardFilter(float[] in, float[] gout, float[] gk, ConvGeometry g) {
        int inC = g.inC(), outC = g.outC(), paddedIn = roundUp(inC);
        int tiles = g.batch() * tilesHigh(g) * tilesWide(g), rows = blockTiles(g, tiles, filterReuse(g));
        int blocks = (tiles + rows - 1) / rows;
        // The GEMM's rows are input channels, rounded up to whole micro-tiles so that none needs Sgemm's
        // copy into a padded tile; the rows past inC read the next tile's channels and are dropped.
        int filterRows = WorkerPool.roundUp(inC, Sgemm.MR), transformedSize = POINTS * filterRows * outC;
        // One point's packed dY after another with a cache line between them: a multiple of 4 KiB
        // apart (64 channels: 8 KiB, 128: 32 KiB), the second pass's stores of a tile all fall into
        // one L1 set; the line made backward-filter 11-15% faster on resnet30's 64- and 128-channel
        // shapes at 512 bits, 1-3% on resnet20's, level at 256.
        int stripes = pool.stripes(blocks, transformedSize), zPoint = Sgemm.packedSize(rows, outC) + CACHE_LINE_FLOATS;
        int interleavedPanels = Sgemm.interleavedPanels(outC);
        pool.runStripes(blocks, stripes, (from, to, s, w) -> {
            float[] partial = grow(partialFilters, s, transformedSize);
            float[] v = grow(inputTiles, w, POINTS * rows * paddedIn + filterRows), z = grow(packedGradientTiles, w, POINTS * zPoint);
            for (int block = from; block < to; block++) {
                int tile0 = block * rows, count = Math.min(rows, tiles - tile0);
                transformInputTiles(in, g, tile0, count, v, rows * paddedIn, w);
                for (int t = 0; t < count; t++) transformGradientTile(gout, g, tile0 + t, z, zPoint, interleavedPanels, t, count, w);
                // the stripe's partial dU[point][inC, outC] (+)= V[point]ᵀ[inC, count] · Z[point][count, outC]
                for (int p = 0; p < POINTS; p++) {
                    Sgemm.multiply(filterRows, outC, count, v, p * rows * paddedIn, 1, paddedIn, z, p * zPoint,
                            partial, p * filterRows * outC, outC, block > from);
                }
            }
        });
        untransformKernelGradient(inC, outC, filterRows, stripes, gk);
    }

    /**
     * packedKernels[point] = U[point] = G g G^T for every channel pair, packed as {@link Sgemm}'s B
     * operand (paddedIn rows, outC columns): for each input channel and vector of output channels,
     * G down the 3 x 3 taps' columns into {@code between}, then along its rows into {@code finished},
     * whose 36 vectors go to their points' panels. Rows ci ≥ inC stay zero, matching the zero
     * channels of the input tiles. Input channels are shared out among the workers: done on one
     * thread in double, this took 47 of the 68 ms of a 4 x 4 x 512 layer's forward on the Xeon.
     */
    private void packTransformedKernel(float[] kernel, int inC, int outC, int paddedIn) {
        int panels = Sgemm.panels(outC), size = Sgemm.packedSize(paddedIn, outC), interleavedPanels = Sgemm.interleavedPanels(outC);
        for (int p = 0; p < POINTS; p++) {
            float[] packed = grow(packedKernels, p, size);
            for (int q = 0; q < panels; q++) {
                for (int ci = inC; ci < paddedIn; ci++) {
                    int row = Sgemm.rowAt(q, paddedIn, ci, interleavedPanels);
                    Arrays.fill(packed, row, row + LANES, 0f);
                }
            }
        }
        int rowStride = 3 * LANES;
        pool.run(inC, (ci, w) -> {
            float[] taps = gathered[w], mid = between[w], u = finished[w];
            for (int q = 0; q < panels; q++) {
                int co0 = q * LANES, width = Math.min(LANES, outC - co0);
                for (int t = 0; t < 9; t++) { // tap (kh, kw) at (3·kh + kw)·LANES, zeros past outC
                    System.arraycopy(kernel, (t * inC + ci) * outC + co0, taps, t * LANES, width);
                    if (width < LANES) Arrays.fill(taps, t * LANES + width, (t + 1) * LANES, 0f);
                }
                for (int step = 0; step < 3 + WINDOW; step++) { // both passes through one call (see the class comment)
                    boolean down = step < 3;
                    int k = down ? step : step - 3;
                    filter(down ? taps : mid, down ? k * LANES : k * rowStride, down ? rowStride : LANES,
                            down ? mid : u, down ? k * LANES : k * WINDOW * LANES, down ? rowStride : LANES);
                }
                int at = Sgemm.rowAt(q, paddedIn, ci, interleavedPanels);
                for (int p = 0; p < POINTS; p++) System.arraycopy(u, p * LANES, packedKernels[p], at, LANES);
            }
        });
    }

    /**
     * dg = G^T dU G for every channel pair, dU the sum of the first {@code parts} stripes' partials
     * (in stripe order): for each input channel and vector of output channels, the 36 points of dU
     * into {@code gathered}, G^T down its columns into {@code between}, then along its rows into
     * {@code finished}, whose 9 vectors are the taps' gradients. Input channels are shared out among
     * the workers, as in {@link #packTransformedKernel}.
     */
    private void untransformKernelGradient(int inC, int outC, int rowsPerPoint, int parts, float[] gk) {
        int pointStride = rowsPerPoint * outC, rowStride = WINDOW * LANES;
        pool.run(inC, (ci, w) -> {
            float[] du = gathered[w], mid = between[w], taps = finished[w];
            for (int co0 = 0; co0 < outC; co0 += LANES) {
                int width = Math.min(LANES, outC - co0), row = ci * outC + co0;
                for (int p = 0; p < POINTS; p++) {
                    int at = p * pointStride + row;
                    if (width == LANES) {
                        FloatVector sum = FloatVector.fromArray(SPECIES, partialFilters[0], at);
                        for (int part = 1; part < parts; part++) sum = sum.add(FloatVector.fromArray(SPECIES, partialFilters[part], at));
                        sum.intoArray(du, p * LANES);
                    } else {
                        for (int j = 0; j < LANES; j++) {
                            float sum = j < width ? partialFilters[0][at + j] : 0f;
                            for (int part = 1; j < width && part < parts; part++) sum += partialFilters[part][at + j];
                            du[p * LANES + j] = sum;
                        }
                    }
                }
                for (int step = 0; step < WINDOW + 3; step++) { // both passes through one call
                    boolean down = step < WINDOW;
                    int k = down ? step : step - WINDOW;
                    filterGradient(down ? du : mid, down ? k * LANES : k * rowStride, down ? rowStride : LANES,
                            down ? mid : taps, down ? k * LANES : k * 3 * LANES, down ? rowStride : LANES);
                }
                for (int t = 0; t < 9; t++) System.arraycopy(taps, t * LANES, gk, (t * inC + ci) * outC + co0, width);
            }
        });
    }

    /**
     * V[point][t ..] = B^T d B of the input windows of tiles tile0 .. tile0 + count − 1, a run of
     * neighbouring tiles in one tile row at a time.
     */
    private void transformInputTiles(float[] in, ConvGeometry g, int tile0, int count, float[] v, int pointStride, int w) {
        int tw = tilesWide(g), th = tilesHigh(g);
        for (int t = 0; t < count; ) {
            int tile = tile0 + t, n = tile / (th * tw), rem = tile - n * th * tw, ti = rem / tw, tj = rem - ti * tw;
            int run = Math.min(count - t, tw - tj);
            transformInputRun(in, g, n, ti, tj, run, v, t, pointStride, w);
            t += run;
        }
    }

    /**
     * The windows of tiles tj .. tj + run − 1 of tile row ti of image n, into rows t .. of V. Their
     * six input rows form a strip in which neighbouring windows share two columns, so B^T runs down
     * each of the strip's columns once (a third fewer first passes than window by window), then
     * along each window's rows. Rows that reach into the padding, and channel counts that are not
     * whole vectors, are first copied to {@code stripRows} with zeros, a run at a time rather than a
     * window at a time. Same arithmetic in the same order as per window, so the same bits.
     */
    private void transformInputRun(float[] in, ConvGeometry g, int n, int ti, int tj, int run, float[] v, int t,
                                   int pointStride, int w) {
        int inC = g.inC(), paddedIn = roundUp(inC), inH = g.inH(), inW = g.inW();
        int ih0 = ti * OUTPUT_TILE - g.padTop(), x0 = tj * OUTPUT_TILE - g.padLeft(), columns = run * OUTPUT_TILE + 2;
        int from = Math.min(Math.max(0, x0), x0 + columns), to = Math.max(from, Math.min(inW, x0 + columns));
        float[] src = in;
        int srcAt = (n * inH + ih0) * inW * inC, srcRow = inW * inC; // image column x of strip row k at srcAt + k·srcRow + x·paddedIn
        if (inC != paddedIn || ih0 < 0 || ih0 + WINDOW > inH) {
            srcRow = (to - from) * paddedIn;
            src = grow(stripRows, w, WINDOW * srcRow);
            srcAt = -from * paddedIn;
            for (int k = 0; k < WINDOW; k++) {
                int ih = ih0 + k, rowAt = k * srcRow;
                if (ih < 0 || ih >= inH) Arrays.fill(src, rowAt, rowAt + srcRow, 0f);
                else if (inC == paddedIn) System.arraycopy(in, ((n * inH + ih) * inW + from) * inC, src, rowAt, srcRow);
                else for (int x = from; x < to; x++) {
                    int at = rowAt + (x - from) * paddedIn;
                    System.arraycopy(in, ((n * inH + ih) * inW + x) * inC, src, at, inC);
                    Arrays.fill(src, at + inC, at + paddedIn, 0f);
                }
            }
        }
        int midRow = columns * paddedIn, midAt = -x0 * paddedIn; // image column x of row i at midAt + i·midRow + x·paddedIn
        float[] mid = grow(stripColumns, w, WINDOW * midRow);
        for (int i = 0; i < WINDOW; i++) { // the padding columns: B^T of zeros
            Arrays.fill(mid, i * midRow, i * midRow + (from - x0) * paddedIn, 0f);
            Arrays.fill(mid, i * midRow + (to - x0) * paddedIn, (i + 1) * midRow, 0f);
        }
        // Both passes through one call site (see the class comment): first the strip's columns, one
        // vector of channels at a time, then window j's row i, vector c0.
        int vectors = paddedIn / LANES, columnSteps = (to - from) * vectors, first = from * paddedIn;
        for (int step = 0, steps = columnSteps + run * WINDOW * vectors, j = 0, i = 0, c0 = 0; step < steps; step++) {
            boolean down = step < columnSteps;
            int o = first + step * LANES;
            input(down ? src : mid, down ? srcAt + o : i * midRow + j * OUTPUT_TILE * paddedIn + c0, down ? srcRow : paddedIn,
                    down ? mid : v, down ? midAt + o : i * WINDOW * pointStride + (t + j) * paddedIn + c0, down ? midRow : pointStride);
            if (!down && (c0 += LANES) == paddedIn) {
                c0 = 0;
                if (++i == WINDOW) {
                    i = 0;
                    j++;
                }
            }
        }
    }

    /**
     * Z[point][t] = A dY A^T of the output-gradient block of tile {@code tile} (zero beyond the output):
     * A along the block's rows into {@code between}, then down its columns straight into the packed
     * panels of the GEMMs' B operands (point p's at p·zPoint of z, row t of the panel of channel c0 where
     * {@link Sgemm#rowAt} puts it, given the count of panels interleaved in pairs).
     */
    private void transformGradientTile(float[] gout, ConvGeometry g, int tile, float[] z, int zPoint, int interleavedPanels, int t,
                                       int count, int w) {
        int outC = g.outC(), tw = tilesWide(g), th = tilesHigh(g);
        int n = tile / (th * tw), rem = tile - n * th * tw, ti = rem / tw, tj = rem - ti * tw;
        int oh0 = ti * OUTPUT_TILE, ow0 = tj * OUTPUT_TILE;
        boolean inside = oh0 + OUTPUT_TILE <= g.outH() && ow0 + OUTPUT_TILE <= g.outW();
        float[] mid = between[w];
        int rowStride = WINDOW * LANES;
        for (int c0 = 0; c0 < outC; c0 += LANES) {
            float[] src = gathered[w];
            int at = 0, srcRow = OUTPUT_TILE * LANES, srcColumn = LANES;
            if (inside && c0 + LANES <= outC) {
                src = gout;
                at = ((n * g.outH() + oh0) * g.outW() + ow0) * outC + c0;
                srcRow = g.outW() * outC;
                srcColumn = outC;
            } else {
                gatherBlock(gout, n, oh0, ow0, g.outH(), g.outW(), outC, c0, OUTPUT_TILE, src);
            }
            int panelAt = Sgemm.rowAt(c0 / LANES, count, t, interleavedPanels);
            for (int step = 0; step < OUTPUT_TILE + WINDOW; step++) { // both passes through one call
                boolean along = step < OUTPUT_TILE;
                int k = along ? step : step - OUTPUT_TILE;
                gradient(along ? src : mid, along ? at + k * srcRow : k * LANES, along ? srcColumn : rowStride,
                        along ? mid : z, along ? k * rowStride : k * zPoint + panelAt, along ? LANES : WINDOW * zPoint);
            }
        }
    }

    /**
     * Writes the valid pixels of tile {@code tile}: A^T M A + bias of its products, A^T down the
     * columns into {@code between}, then along the rows, straight into the output where the whole row
     * of the tile and a whole vector of channels are there, else through {@code finished}.
     */
    private void transformOutputTile(float[] m, int t, int pointStride, int paddedOut, float[] paddedBias, float[] out,
                                     ConvGeometry g, int tile, int w) {
        int outC = g.outC(), tw = tilesWide(g), th = tilesHigh(g);
        int n = tile / (th * tw), rem = tile - n * th * tw, ti = rem / tw, tj = rem - ti * tw;
        int oh0 = ti * OUTPUT_TILE, ow0 = tj * OUTPUT_TILE;
        int rowsHere = Math.min(OUTPUT_TILE, g.outH() - oh0), colsHere = Math.min(OUTPUT_TILE, g.outW() - ow0);
        float[] mid = between[w], row = finished[w];
        int rowStride = WINDOW * LANES;
        for (int c0 = 0; c0 < outC; c0 += LANES) {
            int at = t * paddedOut + c0, valid = Math.min(LANES, outC - c0);
            boolean direct = colsHere == OUTPUT_TILE && valid == LANES;
            for (int step = 0; step < WINDOW + rowsHere; step++) { // both passes through one call
                boolean down = step < WINDOW, toOut = !down && direct;
                int k = down ? step : step - WINDOW, base = ((n * g.outH() + oh0 + k) * g.outW() + ow0) * outC;
                output(down ? m : mid, down ? at + k * pointStride : k * rowStride, down ? WINDOW * pointStride : LANES,
                        down ? NO_BIAS : paddedBias, down ? 0 : c0,
                        down ? mid : toOut ? out : row, down ? k * LANES : toOut ? base + c0 : 0, down ? rowStride : toOut ? outC : LANES);
                if (!down && !direct) {
                    for (int j = 0; j < colsHere; j++) System.arraycopy(row, j * LANES, out, base + j * outC + c0, valid);
                }
            }
        }
    }

    /**
     * Copies channels [c0, c0 + LANES) of the size x size pixels from (h0, w0) of image n (NHWC,
     * height x width x channels) to dst, pixel (i, j) at (i·size + j)·LANES, zeros outside the image.
     * The rows and columns inside the image are worked out once, so that the pixels are copied and
     * the padding zeroed in plain runs: tested pixel by pixel, the border tiles' gathers took about
     * 7% of a 16-channel forward pass (docs/performance.md).
     */
    private static void gatherBlock(float[] a, int n, int h0, int w0, int height, int width, int channels, int c0,
                                    int size, float[] dst) {
        int rowsFrom = Math.max(0, -h0), rowsTo = Math.min(size, height - h0);
        int colsFrom = Math.max(0, -w0), colsTo = Math.max(colsFrom, Math.min(size, width - w0));
        boolean wholeVector = c0 + LANES <= channels;
        for (int i = 0; i < size; i++) {
            int rowAt = i * size * LANES;
            boolean inside = i >= rowsFrom && i < rowsTo;
            int from = inside ? colsFrom : size, to = inside ? colsTo : size;
            for (int j = 0; j < from; j++) ZERO.intoArray(dst, rowAt + j * LANES);
            int pixel = inside ? ((n * height + h0 + i) * width + w0) * channels : 0;
            for (int j = from; j < to; j++) {
                if (wholeVector) FloatVector.fromArray(SPECIES, a, pixel + j * channels + c0).intoArray(dst, rowAt + j * LANES);
                else { // the last, partial vector of channels, zeros after them
                    System.arraycopy(a, pixel + j * channels + c0, dst, rowAt + j * LANES, channels - c0);
                    Arrays.fill(dst, rowAt + j * LANES + channels - c0, rowAt + (j + 1) * LANES, 0f);
                }
            }
            for (int j = to; j < size; j++) ZERO.intoArray(dst, rowAt + j * LANES);
        }
    }

    // The 1-D transforms: values {@code stride} apart in, {@code dStride} apart out.

    /** B^T: 6 window values to 6 transformed values. */
    private static void input(float[] s, int at, int stride, float[] d, int dAt, int dStride) {
        FloatVector d0 = FloatVector.fromArray(SPECIES, s, at), d1 = FloatVector.fromArray(SPECIES, s, at + stride),
                d2 = FloatVector.fromArray(SPECIES, s, at + 2 * stride), d3 = FloatVector.fromArray(SPECIES, s, at + 3 * stride),
                d4 = FloatVector.fromArray(SPECIES, s, at + 4 * stride), d5 = FloatVector.fromArray(SPECIES, s, at + 5 * stride);
        FloatVector a = d4.sub(d2.mul(FOUR)), b = d3.sub(d1.mul(FOUR)), c = d4.sub(d2), e = d3.sub(d1).mul(TWO);
        d0.mul(FOUR).sub(d2.mul(FIVE)).add(d4).intoArray(d, dAt);
        a.add(b).intoArray(d, dAt + dStride);
        a.sub(b).intoArray(d, dAt + 2 * dStride);
        c.add(e).intoArray(d, dAt + 3 * dStride);
        c.sub(e).intoArray(d, dAt + 4 * dStride);
        d1.mul(FOUR).sub(d3.mul(FIVE)).add(d5).intoArray(d, dAt + 5 * dStride);
    }

    /** A^T plus the vector of {@code bias} at {@code biasAt}: 6 products to 4 output values. */
    private static void output(float[] s, int at, int stride, float[] bias, int biasAt, float[] d, int dAt, int dStride) {
        FloatVector m0 = FloatVector.fromArray(SPECIES, s, at), m1 = FloatVector.fromArray(SPECIES, s, at + stride),
                m2 = FloatVector.fromArray(SPECIES, s, at + 2 * stride), m3 = FloatVector.fromArray(SPECIES, s, at + 3 * stride),
                m4 = FloatVector.fromArray(SPECIES, s, at + 4 * stride), m5 = FloatVector.fromArray(SPECIES, s, at + 5 * stride);
        FloatVector b = FloatVector.fromArray(SPECIES, bias, biasAt);
        FloatVector sum12 = m1.add(m2), diff12 = m1.sub(m2), sum34 = m3.add(m4), diff34 = m3.sub(m4);
        m0.add(sum12).add(sum34).add(b).intoArray(d, dAt);
        diff12.add(diff34.mul(TWO)).add(b).intoArray(d, dAt + dStride);
        sum12.add(sum34.mul(FOUR)).add(b).intoArray(d, dAt + 2 * dStride);
        diff12.add(diff34.mul(EIGHT)).add(m5).add(b).intoArray(d, dAt + 3 * dStride);
    }

    /** A: 4 output-gradient values to 6 transformed values. */
    private static void gradient(float[] s, int at, int stride, float[] d, int dAt, int dStride) {
        FloatVector h0 = FloatVector.fromArray(SPECIES, s, at), h1 = FloatVector.fromArray(SPECIES, s, at + stride),
                h2 = FloatVector.fromArray(SPECIES, s, at + 2 * stride), h3 = FloatVector.fromArray(SPECIES, s, at + 3 * stride);
        FloatVector even = h0.add(h2), odd = h1.add(h3), evenScaled = h0.add(h2.mul(FOUR)), oddScaled = h1.mul(TWO).add(h3.mul(EIGHT));
        h0.intoArray(d, dAt);
        even.add(odd).intoArray(d, dAt + dStride);
        even.sub(odd).intoArray(d, dAt + 2 * dStride);
        evenScaled.add(oddScaled).intoArray(d, dAt + 3 * dStride);
        evenScaled.sub(oddScaled).intoArray(d, dAt + 4 * dStride);
        h3.intoArray(d, dAt + 5 * dStride);
    }

    /** G: 3 kernel taps to 6 transformed values. */
    private static void filter(float[] s, int at, int stride, float[] d, int dAt, int dStride) {
        FloatVector g0 = FloatVector.fromArray(SPECIES, s, at), g1 = FloatVector.fromArray(SPECIES, s, at + stride),
                g2 = FloatVector.fromArray(SPECIES, s, at + 2 * stride);
        FloatVector outer = g0.add(g2).mul(MINUS_SIXTH), middle = g1.mul(SIXTH),
                weighted = g0.mul(TWENTY_FOURTH).add(g2.mul(SIXTH)), middle12 = g1.mul(TWELFTH);
        g0.mul(QUARTER).intoArray(d, dAt);
        outer.sub(middle).intoArray(d, dAt + dStride);
        outer.add(middle).intoArray(d, dAt + 2 * dStride);
        weighted.add(middle12).intoArray(d, dAt + 3 * dStride);
        weighted.sub(middle12).intoArray(d, dAt + 4 * dStride);
        g2.intoArray(d, dAt + 5 * dStride);
    }

    /** G^T: 6 values of dU to the gradients of 3 kernel taps. */
    private static void filterGradient(float[] s, int at, int stride, float[] d, int dAt, int dStride) {
        FloatVector u0 = FloatVector.fromArray(SPECIES, s, at), u1 = FloatVector.fromArray(SPECIES, s, at + stride),
                u2 = FloatVector.fromArray(SPECIES, s, at + 2 * stride), u3 = FloatVector.fromArray(SPECIES, s, at + 3 * stride),
                u4 = FloatVector.fromArray(SPECIES, s, at + 4 * stride), u5 = FloatVector.fromArray(SPECIES, s, at + 5 * stride);
        FloatVector sum12 = u1.add(u2), sum34 = u3.add(u4);
        u0.mul(QUARTER).sub(sum12.mul(SIXTH)).add(sum34.mul(TWENTY_FOURTH)).intoArray(d, dAt);
        u2.sub(u1).mul(SIXTH).add(u3.sub(u4).mul(TWELFTH)).intoArray(d, dAt + dStride);
        sum34.sub(sum12).mul(SIXTH).add(u5).intoArray(d, dAt + 2 * dStride);
    }
}
