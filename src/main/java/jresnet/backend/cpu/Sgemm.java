package jresnet.backend.cpu;

import static jresnet.backend.cpu.Vectors.mulAdd;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Single-threaded SGEMM on the Java Vector API: C[m, n] (+)= A[m, k] · B[k, n]. A is read in place
 * through strides (row-major, or transposed by swapping them), so an im2col buffer or an activation
 * needs no second copy; B is packed once into panels of one vector width so the micro-kernel's loads
 * are contiguous. The micro-kernels broadcast A against one or two vectors of B, and their shape
 * follows the vector width, because the register file does:
 * <ul>
 * <li>512-bit vectors (AVX-512: 32 registers): 4 x 2 vectors, two calls per 8 rows, ~210 GFLOP/s per
 * core on the AVX-512 host of docs/performance.md, and 8 x 1 where only one panel is left. 8 x 2 (16
 * accumulators) ran at a sixth of 4 x 2 with JDK 17's C2.</li>
 * <li>256- and 128-bit vectors (AVX2, AVX, SSE: 16 registers): 6 x 2 vectors, 12 accumulators + 2
 * loads of B + 1 broadcast = 15 registers. With 8 lanes 4 x 2 needs 6 loads per 8 FMAs and is bound
 * by them; on the Zen 3 AVX2 host the 6 x 2 GEMM measured 12-26% faster (docs/performance.md).
 * 6 x 1 takes the odd panel, and every panel where the CPU has no FMA ({@link #PAIRED_PANELS}).</li>
 * </ul>
 * A kernel's size is also bounded by JDK 17's C2: it keeps a Vector-API call an instruction only
 * while it inlines the call's whole tree, and it stops inlining once one compilation has parsed about
 * 18,000 nodes (NodeCountInliningCutoff, fixed in product JVMs), after which the calls left run out
 * of line with their vectors boxed on the heap. The 6 x 2 kernel sits near that budget, hence one
 * store path per kernel and no two-panel kernel without FMA (docs/performance.md).
 * Callers parallelize over disjoint blocks of C, in multiples of {@link #MR} rows.
 */
final class Sgemm {
    static final VectorSpecies<Float> SPECIES = Vectors.SPECIES;
    static final int LANES = Vectors.LANES;
    /** 32 vector registers with AVX-512, 16 below it. */
    private static final boolean WIDE_REGISTER_FILE = Vectors.BITS >= 512;
    /** Rows of C per micro-tile step. */
    static final int MR = WIDE_REGISTER_FILE ? 8 : 6;
    /**
     * Whether the kernels take two panels at a time. Not without FMA on 16 registers: a multiply and an
     * add per step are twice the Vector-API calls, and both 6 x 2 and 4 x 2 then ran past C2's node
     * budget for inlining (see the class comment) in some JVMs, so those CPUs run 6 x 1 throughout.
     */
    private static final boolean PAIRED_PANELS = WIDE_REGISTER_FILE || Vectors.FUSED_MULTIPLY_ADD;
    /** Depth of one pass: MR rows of A and KC rows of a B panel stay in L1. */
    static final int KC = 256;
    /**
     * Panels of B swept per row block: KC x NC_PANELS panels stay in L2. 512 KiB where the vectors are
     * 512 bits (those CPUs have 1-2 MiB of L2 per core); 256 KiB below, half of the smallest L2 of an
     * AVX2 core (Zen 2/3's 512 KiB), since A's rows and C's tiles pass through it too.
     */
    static final int NC_PANELS = Math.max(1, (WIDE_REGISTER_FILE ? 512 : 256) * 1024 / (KC * LANES * Float.BYTES));

    /** The choices above in words, for {@code bench}. */
    static String describe() {
        String tile = WIDE_REGISTER_FILE ? "4 x 2 vectors (8 x 1 for a single panel)"
                : PAIRED_PANELS ? "6 x 2 vectors (6 x 1 for a single panel)" : "6 x 1 vectors (no FMA)";
        return "SGEMM micro-kernel " + tile + ", KC " + KC + ", NC " + NC_PANELS * LANES + " columns";
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
     * Packs B(kk, j) = b[offset + kk·rowStride + j·colStride] for kk &lt; k, j &lt; n into panels of
     * LANES columns (panel p at p·k·LANES, row kk at + kk·LANES), zero-padding the last panel.
     */
    static void packB(float[] b, int offset, int rowStride, int colStride, int k, int n, float[] packed) {
        for (int p = 0, panels = panels(n); p < panels; p++) {
            int j0 = p * LANES, width = Math.min(LANES, n - j0), base = p * k * LANES;
            for (int kk = 0; kk < k; kk++) {
                int dst = base + kk * LANES, src = offset + kk * rowStride + j0 * colStride;
                if (colStride == 1 && width == LANES) {
                    FloatVector.fromArray(SPECIES, b, src).intoArray(packed, dst);
                } else {
                    for (int j = 0; j < width; j++) packed[dst + j] = b[src + j * colStride];
                    for (int j = width; j < LANES; j++) packed[dst + j] = 0f;
                }
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
        int panels = panels(n), panelStride = k * LANES, fullRows = m / MR * MR;
        float[] edge = n % LANES == 0 ? null : new float[LANES];
        // The micro-kernels always add to C, so an overwritten C is zeroed first: a kernel that also
        // had to overwrite parsed both store paths, and the 6 x 2 kernel then ran past C2's node
        // budget for inlining in one compilation (NodeCountInliningCutoff), leaving its last stores
        // out of line with their vectors boxed on the heap (docs/performance.md).
        if (!accumulate && ldc == n) {
            Arrays.fill(c, cOffset, cOffset + m * n, 0f); // one long fill: rows of 16 floats cost a call each
        } else if (!accumulate) {
            for (int i = 0; i < m; i++) Arrays.fill(c, cOffset + i * ldc, cOffset + i * ldc + n, 0f);
        }
        for (int k0 = 0; k0 < k; k0 += KC) {
            int kc = Math.min(KC, k - k0);
            for (int p0 = 0; p0 < panels; p0 += NC_PANELS) {
                int p1 = Math.min(panels, p0 + NC_PANELS);
                for (int i = 0; i < fullRows; i += MR) {
                    int aBase = aOffset + i * aRowStride + k0 * aColStride;
                    int p = p0;
                    for (; PAIRED_PANELS && p + 1 < p1 && (p + 2) * LANES <= n; p += 2) {
                        int b0 = p * panelStride + k0 * LANES, b1 = b0 + panelStride, cBase = cOffset + i * ldc + p * LANES;
                        if (WIDE_REGISTER_FILE) {
                            // One call site: C2 inlines the kernel here, and a second copy ran past its
                            // node budget (see the class comment), boxing that copy's last vectors.
                            for (int half = 0; half < MR; half += 4) {
                                kernel4x2(kc, a, aBase + half * aRowStride, aRowStride, aColStride, packedB, b0, b1,
                                        c, cBase + half * ldc, ldc);
                            }
                        } else {
                            kernel6x2(kc, a, aBase, aRowStride, aColStride, packedB, b0, b1, c, cBase, ldc);
                        }
                    }
                    for (; p < p1; p++) {
                        int b0 = p * panelStride + k0 * LANES, cBase = cOffset + i * ldc + p * LANES;
                        int columns = Math.min(LANES, n - p * LANES);
                        if (WIDE_REGISTER_FILE) {
                            kernel8x1(kc, a, aBase, aRowStride, aColStride, packedB, b0, c, cBase, ldc, columns, edge);
                        } else {
                            kernel6x1(kc, a, aBase, aRowStride, aColStride, packedB, b0, c, cBase, ldc, columns, edge);
                        }
                    }
                }
            }
            for (int i = fullRows; i < m; i++) {
                int aBase = aOffset + i * aRowStride + k0 * aColStride;
                for (int p = 0; p < panels; p++) {
                    kernel1x1(kc, a, aBase, aColStride, packedB, p * panelStride + k0 * LANES,
                            c, cOffset + i * ldc + p * LANES, Math.min(LANES, n - p * LANES));
                }
            }
        }
    }

    /** Four rows by two whole panels: 8 accumulators fed by 2 loads and 4 broadcasts per step. */
    private static void kernel4x2(int kc, float[] a, int aBase, int rs, int cs, float[] b, int b0, int b1,
                                  float[] c, int cBase, int ldc) {
        FloatVector z = FloatVector.zero(SPECIES);
        FloatVector c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z;
        for (int kk = 0; kk < kc; kk++) {
            FloatVector v0 = FloatVector.fromArray(SPECIES, b, b0 + kk * LANES);
            FloatVector v1 = FloatVector.fromArray(SPECIES, b, b1 + kk * LANES);
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
        }
        storePair(c00, c01, c, cBase);
        storePair(c10, c11, c, cBase + ldc);
        storePair(c20, c21, c, cBase + 2 * ldc);
        storePair(c30, c31, c, cBase + 3 * ldc);
    }

    /** Six rows by two whole panels: 12 accumulators fed by 2 loads and 6 broadcasts per step. */
    private static void kernel6x2(int kc, float[] a, int aBase, int rs, int cs, float[] b, int b0, int b1,
                                  float[] c, int cBase, int ldc) {
        FloatVector z = FloatVector.zero(SPECIES);
        FloatVector c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z, c40 = z, c41 = z,
                c50 = z, c51 = z;
        for (int kk = 0; kk < kc; kk++) {
            FloatVector v0 = FloatVector.fromArray(SPECIES, b, b0 + kk * LANES);
            FloatVector v1 = FloatVector.fromArray(SPECIES, b, b1 + kk * LANES);
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
        storePair(c00, c01, c, cBase);
        storePair(c10, c11, c, cBase + ldc);
        storePair(c20, c21, c, cBase + 2 * ldc);
        storePair(c30, c31, c, cBase + 3 * ldc);
        storePair(c40, c41, c, cBase + 4 * ldc);
        storePair(c50, c51, c, cBase + 5 * ldc);
    }

    private static void storePair(FloatVector v0, FloatVector v1, float[] c, int at) {
        v0.add(FloatVector.fromArray(SPECIES, c, at)).intoArray(c, at);
        v1.add(FloatVector.fromArray(SPECIES, c, at + LANES)).intoArray(c, at + LANES);
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
     * One row by one panel, for the rows below a whole micro-tile: scalar, because these calls are
     * too few for the JIT's top tier, and a Vector-API method that stays in the lower tiers boxes
     * every vector it makes (SgemmCompilationTest).
     */
    private static void kernel1x1(int kc, float[] a, int aBase, int cs, float[] b, int b0,
                                  float[] c, int cBase, int columns) {
        for (int j = 0; j < columns; j++) {
            float sum = 0f;
            for (int kk = 0; kk < kc; kk++) sum += a[aBase + kk * cs] * b[b0 + kk * LANES + j];
            c[cBase + j] += sum;
        }
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
