package jresnet.backend.cpu;

import static jresnet.backend.cpu.Vectors.mulAdd;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Single-threaded SGEMM on the Java Vector API: C[m, n] (+)= A[m, k] · B[k, n]. A is read through
 * strides (row-major, or transposed by swapping them), so an im2col buffer or an activation needs no
 * second copy; B is packed once into panels of one vector width so the micro-kernel's loads are
 * contiguous. Where C is wide enough, each block of MR rows of A by one pass's depth is also copied into a
 * small per-thread buffer before the two-panel kernels sweep it, so that they read A at constant
 * offsets: 8 x 2 on packed rows ran 1.25x the same kernel on A in place, 1.6x the 4 x 2 kernel used
 * before, on the AVX-512 host (docs/performance.md); on narrower C the copy costs more than it saves.
 * How wide is wide enough differs between CPUs and JVMs, so {@link SgemmTuning} measures it once per machine and JVM;
 * the packed and in-place kernels add the same products in the same order, so that choice never
 * changes a result. The micro-kernels broadcast A against one or two vectors of B,
 * and their shape follows the vector width, because the register file does:
 * <ul>
 * <li>512-bit vectors (AVX-512: 32 registers): 8 x 2 vectors (16 accumulators); 16 x 1 where C is
 * one panel wide, and 8 x 1 for an odd panel or the last eight rows.</li>
 * <li>256- and 128-bit vectors (AVX2, AVX, SSE: 16 registers): 6 x 2 vectors, 12 accumulators + 2
 * loads of B + 1 broadcast = 15 registers. 6 x 1 takes the odd panel, and every panel where the
 * CPU has no FMA ({@link #PAIRED_PANELS}).</li>
 * </ul>
 * A kernel's size is also bounded by JDK 17's C2: it keeps a Vector-API call an instruction only
 * while it inlines the call's whole tree, and it stops inlining once one compilation has parsed about
 * 18,000 nodes (NodeCountInliningCutoff, fixed in product JVMs), after which the calls left run out
 * of line with their vectors boxed on the heap. Kernels that load C into their accumulators and
 * store them back make one call per vector of C where adding a zero-started sum to C made three:
 * 8 x 2 fits that way and did not the other (docs/performance.md). Hence also no two-panel kernel
 * without FMA. Callers parallelize over disjoint blocks of C, in multiples of {@link #MR} rows where
 * they can: the rows below a block's last whole tile cost a copy into a padded tile.
 */
final class Sgemm {
    static final VectorSpecies<Float> SPECIES = Vectors.SPECIES;
    static final int LANES = Vectors.LANES;
    /** 32 vector registers with AVX-512, 16 below it. */
    private static final boolean WIDE_REGISTER_FILE = Vectors.BITS >= 512;
    /** Rows of C per micro-tile. */
    static final int MR = WIDE_REGISTER_FILE ? 8 : 6;
    /**
     * Whether the kernels take two panels at a time. Not without FMA on 16 registers: a multiply and an
     * add per step are twice the Vector-API calls, and both 6 x 2 and 4 x 2 then ran past C2's node
     * budget for inlining (see the class comment) in some JVMs, so those CPUs run 6 x 1 throughout.
     */
    static final boolean PAIRED_PANELS = WIDE_REGISTER_FILE || Vectors.FUSED_MULTIPLY_ADD;
    /**
     * Deepest pass over K where A's rows are unit-stride (row-major A, an im2col buffer): the kernels
     * load and store C once per pass, so deeper passes touch C fewer times, while a micro-tile's MR x KC
     * floats of A (32 KiB at 8 rows, 24 KiB at 6) stay in L1 beside the lines of B streaming past.
     * 1024 instead of 256 ran the two-thread 2048² product 7-19% faster at 512 bits and 1-4% at 256,
     * and one core's im2col and Winograd products 0.95-1.11x as fast (Zen 5 host, alternated in one
     * JVM; docs/performance.md). Not measured on a CPU with a 32 KiB L1, where the tile would fill it.
     */
    static final int KC = 1024;
    /**
     * Deepest pass where A is read across its rows (a transposed A: the filter and dense-kernel
     * gradients): each step then reads A from a cache line of its own, KC lines per tile, and at 1024
     * those products ran 0.81-1.06x as fast as at 256, under 0.92x in 5 of 8 shape and width pairs.
     */
    static final int KC_STRIDED = 256;
    /**
     * Bytes of packed B swept per pass over a row block (depth x as many panels as fit): it stays in L2
     * (1-2 MiB per core where the vectors are 512 bits, 512 KiB on Zen 2/3) beside A's packed rows and
     * C's tiles. 256 KiB ran the two-thread 2048² product 0.7-8% faster than 512 KiB at KC 1024.
     */
    static final int B_BLOCK_BYTES = 256 * 1024;
    /**
     * Floats per depth step of a packed tile of A: MR rows, padded to a power of two. C2 then drops the
     * bounds checks on packed A (it keeps two a step at a stride of 6) and computes one index per step
     * instead of building kk·6 from shifts (docs/performance.md).
     */
    static final int A_STEP = 8;
    /** Rows of B that {@link #packPanels} copies across all panels at a time. */
    private static final int PACK_ROWS = 16;
    /** Floats of B from which packing it is worth handing to the pool's threads (256 KiB). */
    private static final int PARALLEL_PACK_MIN = 1 << 16;
    /**
     * Each worker thread's packed rows of A (see {@link #packA}): one tile, A_STEP x depth, or all of its
     * rows' tiles where B has several column blocks; pool threads live long.
     */
    private static final ThreadLocal<float[][]> PACKED_A = ThreadLocal.withInitial(() -> new float[][] {new float[A_STEP * KC]});
    /** Each worker thread's micro-tile of A and of C for the rows below the last whole tile ({@link #multiplyTailRows}). */
    private static final ThreadLocal<float[][]> TAIL_ROWS = ThreadLocal.withInitial(() -> new float[][] {new float[0], new float[0]});

    /** The choices above in words, for {@code bench}. */
    static String describe() {
        String tile = WIDE_REGISTER_FILE ? "8 x 2 vectors (16 x 1 for C of one panel, 8 x 1 for an odd panel)"
                : PAIRED_PANELS ? "6 x 2 vectors (on B's pairs of panels interleaved where A's rows are packed; 6 x 1 for a single panel)" : "6 x 1 vectors (no FMA)";
        String rows = PAIRED_PANELS ? ", " + SgemmTuning.describe() : "";
        return "SGEMM micro-kernel " + tile + rows + ", passes over K up to " + KC + " deep (" + KC_STRIDED
                + " for a transposed A), B in blocks of " + B_BLOCK_BYTES / 1024 + " KiB";
    }

    private Sgemm() {}

    /** Floats needed to pack a k x n matrix B. */
    static int packedSize(int k, int n) {
        return panels(n) * LANES * k;
    }

    static int panels(int n) {
        return (n + LANES - 1) / LANES;
    }

    /**
     * Whether B's pairs of whole panels are interleaved (see {@link #rowAt}) where the rows of A are
     * packed for them: for the 6 x 2 kernel on packed A only. Not for 8 x 2, nor for 6 x 2 on A in
     * place: C2 removes the bounds checks on two panels' loads while they are apart and keeps two a
     * step once they share an index; the 8 x 2 product ran 2-3% slower so, and 6 x 2 on A in place 5-6%
     * slower on 16 columns (docs/performance.md).
     */
    static final boolean INTERLEAVED_PAIRS = PAIRED_PANELS && !WIDE_REGISTER_FILE;

    /** Whether {@link #multiply} packs A's rows for C n wide (the kernels' choice; {@link SgemmTuning}). */
    static boolean packsRows(int n) {
        return PAIRED_PANELS && panels(n) >= SgemmTuning.packedRowsFromPanels();
    }

    /**
     * How many panels from the first {@link #packB} interleaves in pairs for a B n wide: all whole pairs
     * where the kernels pack A's rows for it ({@link #packsRows}), else none. The argument {@link #rowAt}
     * takes; a caller that writes packed B itself asks once per product, not per row: asked per row by
     * Winograd's transforms, it made resnet20 at 256 bits 4-6% slower (docs/performance.md).
     */
    static int interleavedPanels(int n) {
        return interleavedPanels(n, packsRows(n));
    }

    /** {@link #interleavedPanels(int)} for B packed for the product with A's rows packed or in place, as {@code packing} says. */
    private static int interleavedPanels(int n, boolean packing) {
        return INTERLEAVED_PAIRS && packing ? n / LANES / 2 * 2 : 0;
    }

    /**
     * Where row kk of panel p starts in a packed k x n B: in an interleaved pair, both panels' rows kk
     * side by side at (p - p mod 2)·k·LANES + kk·2·LANES, so that the 6 x 2 kernels read both from one
     * index (with packed A's power-of-two step, that made the 6 x 2 step 40 instructions where it was
     * 49, and ran it 1.15x as fast while the host's other guests slowed this core, docs/performance.md);
     * any other panel at p·k·LANES + kk·LANES.
     */
    static int rowAt(int p, int k, int kk, int interleavedPanels) {
        return p < interleavedPanels ? (p & ~1) * k * LANES + kk * 2 * LANES + (p & 1) * LANES : p * k * LANES + kk * LANES;
    }

    /**
     * Packs B(kk, j) = b[offset + kk·rowStride + j·colStride] for kk &lt; k, j &lt; n into panels of
     * LANES columns, zero-padding the last panel: panel p takes k·LANES floats from p·k·LANES, and
     * the first {@link #interleavedPanels(int)} panels are interleaved row by row in pairs ({@link #rowAt}).
     */
    static void packB(float[] b, int offset, int rowStride, int colStride, int k, int n, float[] packed) {
        packPanels(b, offset, rowStride, colStride, k, n, packed, 0, panels(n), interleavedPanels(n));
    }

    /** {@link #packB} in the layout that the product with A's rows packed or in place, as {@code packing} says, reads. */
    static void packB(float[] b, int offset, int rowStride, int colStride, int k, int n, float[] packed, boolean packing) {
        packPanels(b, offset, rowStride, colStride, k, n, packed, 0, panels(n), interleavedPanels(n, packing));
    }

    /**
     * {@link #packB} with the panels shared out among the pool's threads where B is large (a dense
     * layer's kernel, the 512-channel convolutions' filters): one thread copying it while the others
     * wait cost about 5% of a 2048² product (docs/performance.md).
     */
    static void packB(WorkerPool pool, float[] b, int offset, int rowStride, int colStride, int k, int n, float[] packed) {
        if ((long) k * n < PARALLEL_PACK_MIN) {
            packB(b, offset, rowStride, colStride, k, n, packed);
        } else {
            int interleavedPanels = interleavedPanels(n);
            pool.runRanges(panels(n), 1, (from, to, w) -> packPanels(b, offset, rowStride, colStride, k, n, packed, from, to, interleavedPanels));
        }
    }

    private static void packPanels(float[] b, int offset, int rowStride, int colStride, int k, int n, float[] packed,
                                   int fromPanel, int toPanel, int interleavedPanels) {
        if (colStride == 1) {
            // Whole panels of a row-major B, PACK_ROWS rows at a time across all of them rather than
            // one panel down all rows: down a panel each row is on another page (a 2048² B has 8 KiB
            // rows), so the TLB missed per row, and packing a 2048² B took 1.1-1.3x as long on two
            // threads and 1.5-1.9x on one at 512 bits, 1.6-1.8x and 2.3-2.5x at 256 (docs/performance.md).
            int wholeEnd = Math.min(toPanel, n / LANES);
            for (int k0 = 0; k0 < k; k0 += PACK_ROWS) {
                int k1 = Math.min(k, k0 + PACK_ROWS);
                for (int p = fromPanel; p < wholeEnd; p++) {
                    int step = p < interleavedPanels ? 2 * LANES : LANES;
                    for (int kk = k0, src = offset + k0 * rowStride + p * LANES, dst = rowAt(p, k, k0, interleavedPanels); kk < k1;
                         kk++, src += rowStride, dst += step) {
                        FloatVector.fromArray(SPECIES, b, src).intoArray(packed, dst);
                    }
                }
            }
            fromPanel = Math.max(fromPanel, wholeEnd);
        }
        // the rest element by element: a transposed B, or a partial last panel zero-padded
        for (int p = fromPanel; p < toPanel; p++) {
            int j0 = p * LANES, width = Math.min(LANES, n - j0);
            for (int kk = 0; kk < k; kk++) {
                int dst = rowAt(p, k, kk, interleavedPanels), src = offset + kk * rowStride + j0 * colStride;
                for (int j = 0; j < width; j++) packed[dst + j] = b[src + j * colStride];
                for (int j = width; j < LANES; j++) packed[dst + j] = 0f;
            }
        }
    }

    /**
     * C[i, j] (+)= sum over kk of A(i, kk) · B(kk, j) for i &lt; m, j &lt; n, where
     * A(i, kk) = a[aOffset + i·aRowStride + kk·aColStride], B was packed by {@link #packB} with this k
     * and n, and C[i, j] = c[cOffset + i·ldc + j]. Overwrites C unless {@code accumulate}.
     */
    static void multiply(int m, int n, int k, float[] a, int aOffset, int aRowStride, int aColStride,
                         float[] packedB, float[] c, int cOffset, int ldc, boolean accumulate) {
        multiply(m, n, k, a, aOffset, aRowStride, aColStride, packedB, 0, c, cOffset, ldc, accumulate);
    }

    /** {@link #multiply(int, int, int, float[], int, int, int, float[], float[], int, int, boolean)} with B packed from {@code bOffset} of {@code packedB}. */
    static void multiply(int m, int n, int k, float[] a, int aOffset, int aRowStride, int aColStride,
                         float[] packedB, int bOffset, float[] c, int cOffset, int ldc, boolean accumulate) {
        boolean packing = packsRows(n);
        multiply(m, n, k, a, aOffset, aRowStride, aColStride, packedB, bOffset, c, cOffset, ldc, accumulate, packing);
    }

    /**
     * The product with A's rows packed or read in place as {@code packing} says ({@link SgemmTuning} times
     * both), on B packed for that choice ({@link #packB(float[], int, int, int, int, int, float[], boolean)}).
     */
    static void multiply(int m, int n, int k, float[] a, int aOffset, int aRowStride, int aColStride,
                         float[] packedB, int bOffset, float[] c, int cOffset, int ldc, boolean accumulate, boolean packing) {
        multiply(m, n, k, a, aOffset, aRowStride, aColStride, packedB, bOffset, c, cOffset, ldc, accumulate, packing,
                passDepth(k, aColStride));
    }

    /**
     * How deep each pass over K goes: passes of equal depth, as few as {@link #KC} (or {@link
     * #KC_STRIDED}) allow, since a short last pass would cost a whole pass over C for little work.
     * Depends only on k and A's layout, so that it sets the order of every row's sums.
     */
    static int passDepth(int k, int aColStride) {
        int deepest = aColStride == 1 ? KC : KC_STRIDED, passes = Math.max(1, (k + deepest - 1) / deepest);
        return Math.max(1, (k + passes - 1) / passes);
    }

    private static void multiply(int m, int n, int k, float[] a, int aOffset, int aRowStride, int aColStride, float[] packedB,
                                 int bOffset, float[] c, int cOffset, int ldc, boolean accumulate, boolean packing, int depth) {
        int panels = panels(n), fullRows = m / MR * MR;
        float[] edge = n % LANES == 0 ? null : new float[LANES];
        // Panels of B per column block: as many as B_BLOCK_BYTES holds at this depth, in whole pairs
        // where the kernels take two (an odd block would send a panel of every block to a one-panel kernel).
        int blockPanels = Math.max(1, B_BLOCK_BYTES / (depth * LANES * Float.BYTES));
        if (PAIRED_PANELS) blockPanels = Math.max(2, blockPanels / 2 * 2);
        // Where B has several column blocks, each block of rows is packed once per pass and kept for
        // all of them, not packed again for each.
        boolean keepPackedRows = packing && panels > blockPanels;
        float[] packedA = packing ? WorkerPool.grow(PACKED_A.get(), 0, (keepPackedRows ? fullRows / MR : 1) * A_STEP * depth) : null;
        // C of exactly one panel (16 output channels at 512 bits) goes 16 rows at a time where it can
        boolean singleWholePanel = WIDE_REGISTER_FILE && n == LANES;
        // B as packB lays it out where multiply packs A's rows by itself (the caller's packing otherwise)
        int interleavedPanels = interleavedPanels(n, packing);
        if (!accumulate && k == 0) zero(c, cOffset, ldc, m, n);
        for (int k0 = 0; k0 < k; k0 += depth) {
            int kc = Math.min(depth, k - k0);
            // The micro-kernels start from C and add to it, so an overwritten C is zeroed on the first
            // pass, one tile just before its kernel: zeroing all of C first wrote it out to memory and
            // read it back, and the 2048² product ran 1-9% faster tile by tile (docs/performance.md).
            boolean zeroTiles = !accumulate && k0 == 0;
            for (int p0 = 0; p0 < panels; p0 += blockPanels) {
                int p1 = Math.min(panels, p0 + blockPanels);
                // whole panels two at a time, the rest one at a time
                int pairsEnd = PAIRED_PANELS ? p0 + (Math.min(p1, n / LANES) - p0) / 2 * 2 : p0;
                for (int i = 0; i < fullRows; i += MR) {
                    int aBase = aOffset + i * aRowStride + k0 * aColStride;
                    if (singleWholePanel && i + 2 * MR <= fullRows) {
                        if (zeroTiles) zero(c, cOffset + i * ldc, ldc, 2 * MR, LANES);
                        kernel16x1(kc, a, aBase, aRowStride, aColStride, packedB, bOffset + k0 * LANES, c, cOffset + i * ldc, ldc);
                        i += MR;
                        continue;
                    }
                    // the kernels below read A through (rows, rowsBase, rs, cs): packed, or in place
                    float[] rows = a;
                    int rowsBase = aBase, rs = aRowStride, cs = aColStride;
                    if (packing) {
                        int packedBase = keepPackedRows ? i / MR * A_STEP * depth : 0;
                        if (!keepPackedRows || p0 == 0) packA(a, aBase, aRowStride, aColStride, kc, packedA, packedBase);
                        rows = packedA;
                        rowsBase = packedBase;
                        rs = 1;
                        cs = A_STEP;
                    }
                    if (zeroTiles) zero(c, cOffset + i * ldc + p0 * LANES, ldc, MR, Math.min(n, p1 * LANES) - p0 * LANES);
                    for (int p = p0; p < pairsEnd; p += 2) {
                        int b0 = bOffset + rowAt(p, k, k0, interleavedPanels), b1 = bOffset + rowAt(p + 1, k, k0, interleavedPanels), cBase = cOffset + i * ldc + p * LANES;
                        if (WIDE_REGISTER_FILE && packing) {
                            kernel8x2(kc, packedA, rowsBase, packedB, b0, b1, c, cBase, ldc);
                        } else if (WIDE_REGISTER_FILE) {
                            kernel8x2Strided(kc, a, aBase, aRowStride, aColStride, packedB, b0, b1, c, cBase, ldc);
                        } else if (packing) {
                            kernel6x2(kc, packedA, rowsBase, packedB, b0, c, cBase, ldc);
                        } else {
                            kernel6x2Strided(kc, a, aBase, aRowStride, aColStride, packedB, b0, b1, c, cBase, ldc);
                        }
                    }
                    for (int p = pairsEnd; p < p1; p++) {
                        int b0 = bOffset + rowAt(p, k, k0, interleavedPanels), cBase = cOffset + i * ldc + p * LANES;
                        int columns = Math.min(LANES, n - p * LANES);
                        if (WIDE_REGISTER_FILE) {
                            kernel8x1(kc, rows, rowsBase, rs, cs, packedB, b0, c, cBase, ldc, columns, edge);
                        } else {
                            kernel6x1(kc, rows, rowsBase, rs, cs, packedB, b0, c, cBase, ldc, columns, edge);
                        }
                    }
                }
            }
        }
        if (fullRows < m) multiplyTailRows(m - fullRows, n, k, a, aOffset + fullRows * aRowStride, aRowStride, aColStride,
                packedB, bOffset, c, cOffset + fullRows * ldc, ldc, accumulate, packing, depth);
    }

    /** Zeroes {@code rows} rows of {@code columns} floats of C from {@code at}. */
    private static void zero(float[] c, int at, int ldc, int rows, int columns) {
        if (ldc == columns) {
            Arrays.fill(c, at, at + rows * columns, 0f); // one fill: rows of 16 floats cost a call each
        } else {
            for (int r = 0; r < rows; r++) Arrays.fill(c, at + r * ldc, at + r * ldc + columns, 0f);
        }
    }

    /**
     * The last {@code rows} (fewer than MR) rows of a product, through the same micro-kernels as the
     * others: their rows of A and C are copied into a whole micro-tile whose other rows are zero, and
     * the tile's first rows copied back. A one-row scalar loop ran these at a tenth of the kernels'
     * speed, so a block of 256 rows (4 left over at MR 6) took 1.6x as long as one of 258
     * (docs/performance.md). Each row's sums run in the same order as in a whole tile, so a row's
     * result does not depend on where a block boundary falls.
     */
    private static void multiplyTailRows(int rows, int n, int k, float[] a, int aOffset, int aRowStride, int aColStride,
                                         float[] packedB, int bOffset, float[] c, int cOffset, int ldc, boolean accumulate,
                                         boolean packing, int depth) {
        float[][] scratch = TAIL_ROWS.get();
        float[] tileA = WorkerPool.grow(scratch, 0, MR * k), tileC = WorkerPool.grow(scratch, 1, MR * n);
        Arrays.fill(tileA, rows * k, MR * k, 0f);
        Arrays.fill(tileC, accumulate ? rows * n : 0, MR * n, 0f);
        for (int r = 0; r < rows; r++) {
            for (int kk = 0, from = aOffset + r * aRowStride; kk < k; kk++) tileA[r * k + kk] = a[from + kk * aColStride];
            if (accumulate) System.arraycopy(c, cOffset + r * ldc, tileC, r * n, n);
        }
        multiply(MR, n, k, tileA, 0, k, 1, packedB, bOffset, tileC, 0, n, true, packing, depth); // the rows' own depth, not the copy's
        for (int r = 0; r < rows; r++) System.arraycopy(tileC, r * n, c, cOffset + r * ldc, n);
    }

    /**
     * Copies MR rows by kc columns of A to {@code packed}, column kk at kk·{@link #A_STEP} (the floats
     * past MR in a step are never read): the two-panel kernels
     * then read a step's MR elements at constant offsets from one index, with no stride per row to
     * hold in a register nor bounds to test per element (docs/performance.md). Column by column,
     * writing {@code packed} in order, whichever way A is laid out: for a row-major A that reads MR
     * rows side by side, and copied 256 rows of a 2048-wide A 1.3x as fast from cache and 1.6x from
     * memory as row by row did (docs/performance.md).
     */
    private static void packA(float[] a, int aBase, int rs, int cs, int kc, float[] packed, int at) {
        for (int kk = 0, to = at; kk < kc; kk++, to += A_STEP) {
            for (int r = 0, from = aBase + kk * cs; r < MR; r++, from += rs) packed[to + r] = a[from];
        }
    }

    /** Eight rows of packed A by two whole panels: 16 accumulators fed by 2 loads and 8 broadcasts per step. */
    private static void kernel8x2(int kc, float[] a, int aBase, float[] b, int b0, int b1, float[] c, int cBase, int ldc) {
        FloatVector c00 = load(c, cBase), c01 = load(c, cBase + LANES), c10 = load(c, cBase + ldc),
                c11 = load(c, cBase + ldc + LANES), c20 = load(c, cBase + 2 * ldc), c21 = load(c, cBase + 2 * ldc + LANES),
                c30 = load(c, cBase + 3 * ldc), c31 = load(c, cBase + 3 * ldc + LANES), c40 = load(c, cBase + 4 * ldc),
                c41 = load(c, cBase + 4 * ldc + LANES), c50 = load(c, cBase + 5 * ldc), c51 = load(c, cBase + 5 * ldc + LANES),
                c60 = load(c, cBase + 6 * ldc), c61 = load(c, cBase + 6 * ldc + LANES), c70 = load(c, cBase + 7 * ldc),
                c71 = load(c, cBase + 7 * ldc + LANES);
        for (int kk = 0; kk < kc; kk++) {
            FloatVector v0 = load(b, b0 + kk * LANES), v1 = load(b, b1 + kk * LANES);
            int ak = aBase + kk * A_STEP;
            FloatVector s = FloatVector.broadcast(SPECIES, a[ak]);
            c00 = mulAdd(s, v0, c00);
            c01 = mulAdd(s, v1, c01);
            s = FloatVector.broadcast(SPECIES, a[ak + 1]);
            c10 = mulAdd(s, v0, c10);
            c11 = mulAdd(s, v1, c11);
            s = FloatVector.broadcast(SPECIES, a[ak + 2]);
            c20 = mulAdd(s, v0, c20);
            c21 = mulAdd(s, v1, c21);
            s = FloatVector.broadcast(SPECIES, a[ak + 3]);
            c30 = mulAdd(s, v0, c30);
            c31 = mulAdd(s, v1, c31);
            s = FloatVector.broadcast(SPECIES, a[ak + 4]);
            c40 = mulAdd(s, v0, c40);
            c41 = mulAdd(s, v1, c41);
            s = FloatVector.broadcast(SPECIES, a[ak + 5]);
            c50 = mulAdd(s, v0, c50);
            c51 = mulAdd(s, v1, c51);
            s = FloatVector.broadcast(SPECIES, a[ak + 6]);
            c60 = mulAdd(s, v0, c60);
            c61 = mulAdd(s, v1, c61);
            s = FloatVector.broadcast(SPECIES, a[ak + 7]);
            c70 = mulAdd(s, v0, c70);
            c71 = mulAdd(s, v1, c71);
        }
        c00.intoArray(c, cBase);
        c01.intoArray(c, cBase + LANES);
        c10.intoArray(c, cBase + ldc);
        c11.intoArray(c, cBase + ldc + LANES);
        c20.intoArray(c, cBase + 2 * ldc);
        c21.intoArray(c, cBase + 2 * ldc + LANES);
        c30.intoArray(c, cBase + 3 * ldc);
        c31.intoArray(c, cBase + 3 * ldc + LANES);
        c40.intoArray(c, cBase + 4 * ldc);
        c41.intoArray(c, cBase + 4 * ldc + LANES);
        c50.intoArray(c, cBase + 5 * ldc);
        c51.intoArray(c, cBase + 5 * ldc + LANES);
        c60.intoArray(c, cBase + 6 * ldc);
        c61.intoArray(c, cBase + 6 * ldc + LANES);
        c70.intoArray(c, cBase + 7 * ldc);
        c71.intoArray(c, cBase + 7 * ldc + LANES);
    }

    /** Six rows of packed A by two whole panels: 12 accumulators fed by 2 loads and 6 broadcasts per step. */
    private static void kernel6x2(int kc, float[] a, int aBase, float[] b, int b0, float[] c, int cBase, int ldc) {
        FloatVector c00 = load(c, cBase), c01 = load(c, cBase + LANES), c10 = load(c, cBase + ldc),
                c11 = load(c, cBase + ldc + LANES), c20 = load(c, cBase + 2 * ldc), c21 = load(c, cBase + 2 * ldc + LANES),
                c30 = load(c, cBase + 3 * ldc), c31 = load(c, cBase + 3 * ldc + LANES), c40 = load(c, cBase + 4 * ldc),
                c41 = load(c, cBase + 4 * ldc + LANES), c50 = load(c, cBase + 5 * ldc), c51 = load(c, cBase + 5 * ldc + LANES);
        for (int kk = 0; kk < kc; kk++) {
            int bk = b0 + kk * 2 * LANES;
            FloatVector v0 = load(b, bk), v1 = load(b, bk + LANES);
            int ak = aBase + kk * A_STEP;
            FloatVector s = FloatVector.broadcast(SPECIES, a[ak]);
            c00 = mulAdd(s, v0, c00);
            c01 = mulAdd(s, v1, c01);
            s = FloatVector.broadcast(SPECIES, a[ak + 1]);
            c10 = mulAdd(s, v0, c10);
            c11 = mulAdd(s, v1, c11);
            s = FloatVector.broadcast(SPECIES, a[ak + 2]);
            c20 = mulAdd(s, v0, c20);
            c21 = mulAdd(s, v1, c21);
            s = FloatVector.broadcast(SPECIES, a[ak + 3]);
            c30 = mulAdd(s, v0, c30);
            c31 = mulAdd(s, v1, c31);
            s = FloatVector.broadcast(SPECIES, a[ak + 4]);
            c40 = mulAdd(s, v0, c40);
            c41 = mulAdd(s, v1, c41);
            s = FloatVector.broadcast(SPECIES, a[ak + 5]);
            c50 = mulAdd(s, v0, c50);
            c51 = mulAdd(s, v1, c51);
        }
        c00.intoArray(c, cBase);
        c01.intoArray(c, cBase + LANES);
        c10.intoArray(c, cBase + ldc);
        c11.intoArray(c, cBase + ldc + LANES);
        c20.intoArray(c, cBase + 2 * ldc);
        c21.intoArray(c, cBase + 2 * ldc + LANES);
        c30.intoArray(c, cBase + 3 * ldc);
        c31.intoArray(c, cBase + 3 * ldc + LANES);
        c40.intoArray(c, cBase + 4 * ldc);
        c41.intoArray(c, cBase + 4 * ldc + LANES);
        c50.intoArray(c, cBase + 5 * ldc);
        c51.intoArray(c, cBase + 5 * ldc + LANES);
    }

    /** {@link #kernel8x2} on A read in place, for C too narrow to repay packing. */
    private static void kernel8x2Strided(int kc, float[] a, int aBase, int rs, int cs, float[] b, int b0, int b1, float[] c, int cBase, int ldc) {
        FloatVector c00 = load(c, cBase), c01 = load(c, cBase + LANES), c10 = load(c, cBase + ldc),
                c11 = load(c, cBase + ldc + LANES), c20 = load(c, cBase + 2 * ldc), c21 = load(c, cBase + 2 * ldc + LANES),
                c30 = load(c, cBase + 3 * ldc), c31 = load(c, cBase + 3 * ldc + LANES), c40 = load(c, cBase + 4 * ldc),
                c41 = load(c, cBase + 4 * ldc + LANES), c50 = load(c, cBase + 5 * ldc), c51 = load(c, cBase + 5 * ldc + LANES),
                c60 = load(c, cBase + 6 * ldc), c61 = load(c, cBase + 6 * ldc + LANES), c70 = load(c, cBase + 7 * ldc),
                c71 = load(c, cBase + 7 * ldc + LANES);
        for (int kk = 0; kk < kc; kk++) {
            FloatVector v0 = load(b, b0 + kk * LANES), v1 = load(b, b1 + kk * LANES);
            int ak = aBase + kk * cs;
            FloatVector s = FloatVector.broadcast(SPECIES, a[ak]);
            c00 = mulAdd(s, v0, c00);
            c01 = mulAdd(s, v1, c01);
            s = FloatVector.broadcast(SPECIES, a[ak + rs]);
            c10 = mulAdd(s, v0, c10);
            c11 = mulAdd(s, v1, c11);
            s = FloatVector.broadcast(SPECIES, a[ak + 2 * rs]);
            c20 = mulAdd(s, v0, c20);
            c21 = mulAdd(s, v1, c21);
            s = FloatVector.broadcast(SPECIES, a[ak + 3 * rs]);
            c30 = mulAdd(s, v0, c30);
            c31 = mulAdd(s, v1, c31);
            s = FloatVector.broadcast(SPECIES, a[ak + 4 * rs]);
            c40 = mulAdd(s, v0, c40);
            c41 = mulAdd(s, v1, c41);
            s = FloatVector.broadcast(SPECIES, a[ak + 5 * rs]);
            c50 = mulAdd(s, v0, c50);
            c51 = mulAdd(s, v1, c51);
            s = FloatVector.broadcast(SPECIES, a[ak + 6 * rs]);
            c60 = mulAdd(s, v0, c60);
            c61 = mulAdd(s, v1, c61);
            s = FloatVector.broadcast(SPECIES, a[ak + 7 * rs]);
            c70 = mulAdd(s, v0, c70);
            c71 = mulAdd(s, v1, c71);
        }
        c00.intoArray(c, cBase);
        c01.intoArray(c, cBase + LANES);
        c10.intoArray(c, cBase + ldc);
        c11.intoArray(c, cBase + ldc + LANES);
        c20.intoArray(c, cBase + 2 * ldc);
        c21.intoArray(c, cBase + 2 * ldc + LANES);
        c30.intoArray(c, cBase + 3 * ldc);
        c31.intoArray(c, cBase + 3 * ldc + LANES);
        c40.intoArray(c, cBase + 4 * ldc);
        c41.intoArray(c, cBase + 4 * ldc + LANES);
        c50.intoArray(c, cBase + 5 * ldc);
        c51.intoArray(c, cBase + 5 * ldc + LANES);
        c60.intoArray(c, cBase + 6 * ldc);
        c61.intoArray(c, cBase + 6 * ldc + LANES);
        c70.intoArray(c, cBase + 7 * ldc);
        c71.intoArray(c, cBase + 7 * ldc + LANES);
    }
    /**
     * {@link #kernel6x2} on A read in place, for C too narrow to repay packing. Written out apart from
     * it, as {@link #kernel8x2Strided} is from {@link #kernel8x2}: with the strides as arguments C2
     * cannot fold packed A's constant offsets, which is what packing buys. Packed rows run through this
     * kernel with strides 1 and MR measured 20% slower per core than through kernel6x2 on the 2048²
     * slice, and 8 x 2 likewise 15% slower (Zen 5 host, docs/performance.md). Starts from C, as
     * {@link #kernel6x2} does, so that both give the same bits.
     */
    private static void kernel6x2Strided(int kc, float[] a, int aBase, int rs, int cs, float[] b, int b0, int b1, float[] c, int cBase, int ldc) {
        FloatVector c00 = load(c, cBase), c01 = load(c, cBase + LANES), c10 = load(c, cBase + ldc),
                c11 = load(c, cBase + ldc + LANES), c20 = load(c, cBase + 2 * ldc), c21 = load(c, cBase + 2 * ldc + LANES),
                c30 = load(c, cBase + 3 * ldc), c31 = load(c, cBase + 3 * ldc + LANES), c40 = load(c, cBase + 4 * ldc),
                c41 = load(c, cBase + 4 * ldc + LANES), c50 = load(c, cBase + 5 * ldc), c51 = load(c, cBase + 5 * ldc + LANES);
        for (int kk = 0; kk < kc; kk++) {
            FloatVector v0 = load(b, b0 + kk * LANES), v1 = load(b, b1 + kk * LANES);
            int ak = aBase + kk * cs;
            FloatVector s = FloatVector.broadcast(SPECIES, a[ak]);
            c00 = mulAdd(s, v0, c00);
            c01 = mulAdd(s, v1, c01);
            s = FloatVector.broadcast(SPECIES, a[ak + rs]);
            c10 = mulAdd(s, v0, c10);
            c11 = mulAdd(s, v1, c11);
            s = FloatVector.broadcast(SPECIES, a[ak + 2 * rs]);
            c20 = mulAdd(s, v0, c20);
            c21 = mulAdd(s, v1, c21);
            s = FloatVector.broadcast(SPECIES, a[ak + 3 * rs]);
            c30 = mulAdd(s, v0, c30);
            c31 = mulAdd(s, v1, c31);
            s = FloatVector.broadcast(SPECIES, a[ak + 4 * rs]);
            c40 = mulAdd(s, v0, c40);
            c41 = mulAdd(s, v1, c41);
            s = FloatVector.broadcast(SPECIES, a[ak + 5 * rs]);
            c50 = mulAdd(s, v0, c50);
            c51 = mulAdd(s, v1, c51);
        }
        c00.intoArray(c, cBase);
        c01.intoArray(c, cBase + LANES);
        c10.intoArray(c, cBase + ldc);
        c11.intoArray(c, cBase + ldc + LANES);
        c20.intoArray(c, cBase + 2 * ldc);
        c21.intoArray(c, cBase + 2 * ldc + LANES);
        c30.intoArray(c, cBase + 3 * ldc);
        c31.intoArray(c, cBase + 3 * ldc + LANES);
        c40.intoArray(c, cBase + 4 * ldc);
        c41.intoArray(c, cBase + 4 * ldc + LANES);
        c50.intoArray(c, cBase + 5 * ldc);
        c51.intoArray(c, cBase + 5 * ldc + LANES);
    }

    private static FloatVector load(float[] array, int at) {
        return FloatVector.fromArray(SPECIES, array, at);
    }

    /** Eight rows by one panel (possibly partial): for an odd panel count or C narrower than two panels. */
    private static void kernel8x1(int kc, float[] a, int aBase, int rs, int cs, float[] b, int b0,
                                  float[] c, int cBase, int ldc, int columns, float[] edge) {
        FloatVector z = FloatVector.zero(SPECIES);
        FloatVector c0 = z, c1 = z, c2 = z, c3 = z, c4 = z, c5 = z, c6 = z, c7 = z;
        for (int kk = 0; kk < kc; kk++) {
            FloatVector v = FloatVector.fromArray(SPECIES, b, b0 + kk * LANES);
            int ak = aBase + kk * cs;
            c0 = mulAdd(FloatVector.broadcast(SPECIES, a[ak]), v, c0);
            c1 = mulAdd(FloatVector.broadcast(SPECIES, a[ak + rs]), v, c1);
            c2 = mulAdd(FloatVector.broadcast(SPECIES, a[ak + 2 * rs]), v, c2);
            c3 = mulAdd(FloatVector.broadcast(SPECIES, a[ak + 3 * rs]), v, c3);
            c4 = mulAdd(FloatVector.broadcast(SPECIES, a[ak + 4 * rs]), v, c4);
            c5 = mulAdd(FloatVector.broadcast(SPECIES, a[ak + 5 * rs]), v, c5);
            c6 = mulAdd(FloatVector.broadcast(SPECIES, a[ak + 6 * rs]), v, c6);
            c7 = mulAdd(FloatVector.broadcast(SPECIES, a[ak + 7 * rs]), v, c7);
        }
        store(c0, c, cBase, columns, edge);
        store(c1, c, cBase + ldc, columns, edge);
        store(c2, c, cBase + 2 * ldc, columns, edge);
        store(c3, c, cBase + 3 * ldc, columns, edge);
        store(c4, c, cBase + 4 * ldc, columns, edge);
        store(c5, c, cBase + 5 * ldc, columns, edge);
        store(c6, c, cBase + 6 * ldc, columns, edge);
        store(c7, c, cBase + 7 * ldc, columns, edge);
    }

    /**
     * Sixteen rows of A in place by one whole panel: C one panel wide has no second panel to reuse a
     * broadcast on, so this doubles the independent sums per load of B instead (16 accumulators; 10%
     * faster than two {@link #kernel8x1} calls on the one-panel im2col GEMMs, docs/performance.md).
     * Starts from C, as {@link #kernel8x2}.
     */
    private static void kernel16x1(int kc, float[] a, int aBase, int rs, int cs, float[] b, int b0, float[] c, int cBase, int ldc) {
        FloatVector c0 = load(c, cBase), c1 = load(c, cBase + ldc), c2 = load(c, cBase + 2 * ldc), c3 = load(c, cBase + 3 * ldc),
                c4 = load(c, cBase + 4 * ldc), c5 = load(c, cBase + 5 * ldc), c6 = load(c, cBase + 6 * ldc), c7 = load(c, cBase + 7 * ldc),
                c8 = load(c, cBase + 8 * ldc), c9 = load(c, cBase + 9 * ldc), c10 = load(c, cBase + 10 * ldc), c11 = load(c, cBase + 11 * ldc),
                c12 = load(c, cBase + 12 * ldc), c13 = load(c, cBase + 13 * ldc), c14 = load(c, cBase + 14 * ldc), c15 = load(c, cBase + 15 * ldc);
        for (int kk = 0; kk < kc; kk++) {
            FloatVector v = load(b, b0 + kk * LANES);
            int ak = aBase + kk * cs;
            c0 = mulAdd(FloatVector.broadcast(SPECIES, a[ak]), v, c0);
            c1 = mulAdd(FloatVector.broadcast(SPECIES, a[ak + rs]), v, c1);
            c2 = mulAdd(FloatVector.broadcast(SPECIES, a[ak + 2 * rs]), v, c2);
            c3 = mulAdd(FloatVector.broadcast(SPECIES, a[ak + 3 * rs]), v, c3);
            c4 = mulAdd(FloatVector.broadcast(SPECIES, a[ak + 4 * rs]), v, c4);
            c5 = mulAdd(FloatVector.broadcast(SPECIES, a[ak + 5 * rs]), v, c5);
            c6 = mulAdd(FloatVector.broadcast(SPECIES, a[ak + 6 * rs]), v, c6);
            c7 = mulAdd(FloatVector.broadcast(SPECIES, a[ak + 7 * rs]), v, c7);
            c8 = mulAdd(FloatVector.broadcast(SPECIES, a[ak + 8 * rs]), v, c8);
            c9 = mulAdd(FloatVector.broadcast(SPECIES, a[ak + 9 * rs]), v, c9);
            c10 = mulAdd(FloatVector.broadcast(SPECIES, a[ak + 10 * rs]), v, c10);
            c11 = mulAdd(FloatVector.broadcast(SPECIES, a[ak + 11 * rs]), v, c11);
            c12 = mulAdd(FloatVector.broadcast(SPECIES, a[ak + 12 * rs]), v, c12);
            c13 = mulAdd(FloatVector.broadcast(SPECIES, a[ak + 13 * rs]), v, c13);
            c14 = mulAdd(FloatVector.broadcast(SPECIES, a[ak + 14 * rs]), v, c14);
            c15 = mulAdd(FloatVector.broadcast(SPECIES, a[ak + 15 * rs]), v, c15);
        }
        c0.intoArray(c, cBase);
        c1.intoArray(c, cBase + ldc);
        c2.intoArray(c, cBase + 2 * ldc);
        c3.intoArray(c, cBase + 3 * ldc);
        c4.intoArray(c, cBase + 4 * ldc);
        c5.intoArray(c, cBase + 5 * ldc);
        c6.intoArray(c, cBase + 6 * ldc);
        c7.intoArray(c, cBase + 7 * ldc);
        c8.intoArray(c, cBase + 8 * ldc);
        c9.intoArray(c, cBase + 9 * ldc);
        c10.intoArray(c, cBase + 10 * ldc);
        c11.intoArray(c, cBase + 11 * ldc);
        c12.intoArray(c, cBase + 12 * ldc);
        c13.intoArray(c, cBase + 13 * ldc);
        c14.intoArray(c, cBase + 14 * ldc);
        c15.intoArray(c, cBase + 15 * ldc);
    }

    /** Six rows by one panel (possibly partial): the 16-register counterpart of {@link #kernel8x1}. */
    private static void kernel6x1(int kc, float[] a, int aBase, int rs, int cs, float[] b, int b0,
                                  float[] c, int cBase, int ldc, int columns, float[] edge) {
        FloatVector z = FloatVector.zero(SPECIES);
        FloatVector c0 = z, c1 = z, c2 = z, c3 = z, c4 = z, c5 = z;
        for (int kk = 0; kk < kc; kk++) {
            FloatVector v = FloatVector.fromArray(SPECIES, b, b0 + kk * LANES);
            int ak = aBase + kk * cs;
            c0 = mulAdd(FloatVector.broadcast(SPECIES, a[ak]), v, c0);
            c1 = mulAdd(FloatVector.broadcast(SPECIES, a[ak + rs]), v, c1);
            c2 = mulAdd(FloatVector.broadcast(SPECIES, a[ak + 2 * rs]), v, c2);
            c3 = mulAdd(FloatVector.broadcast(SPECIES, a[ak + 3 * rs]), v, c3);
            c4 = mulAdd(FloatVector.broadcast(SPECIES, a[ak + 4 * rs]), v, c4);
            c5 = mulAdd(FloatVector.broadcast(SPECIES, a[ak + 5 * rs]), v, c5);
        }
        store(c0, c, cBase, columns, edge);
        store(c1, c, cBase + ldc, columns, edge);
        store(c2, c, cBase + 2 * ldc, columns, edge);
        store(c3, c, cBase + 3 * ldc, columns, edge);
        store(c4, c, cBase + 4 * ldc, columns, edge);
        store(c5, c, cBase + 5 * ldc, columns, edge);
    }

    /**
     * Writes the first {@code columns} lanes; a partial tile goes through {@code edge}, because JDK
     * 17's masked stores and variable-lane reads are not intrinsified (they box the vector on the heap).
     */
    private static void store(FloatVector v, float[] c, int at, int columns, float[] edge) {
        if (columns == LANES) {
            v.add(FloatVector.fromArray(SPECIES, c, at)).intoArray(c, at);
        } else {
            v.intoArray(edge, 0);
            for (int j = 0; j < columns; j++) c[at + j] += edge[j];
        }
    }
}
