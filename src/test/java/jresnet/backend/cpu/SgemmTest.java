package jresnet.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import jresnet.TestSeeds;
import org.junit.jupiter.api.Test;

/**
 * The Vector-API SGEMM against a double-precision triple loop: edges, depth and width blocking (rows of
 * A packed once for several column blocks of B), strides; and the same bits whether A's rows are
 * packed or read in place, so that {@link SgemmTuning}'s choice never changes a result.
 */
class SgemmTest {
    @Test void matchesNaiveProductAcrossShapesAndLayouts() {
        long seed = TestSeeds.next();
        SplittableRandom random = new SplittableRandom(seed);
        int[][] shapes = {{1, 1, 1}, {7, 5, 3}, {8, 16, 16}, {13, 33, 300}, {37, 600, 20}, {16, 17, 513}, {9, 1100, 40}, {26, 260, 520}, {27, 1040, 600},
                {40, 16, 300}, {21, 16, 7}, {11, 40, 2100}, {17, 70, 1100}};
        for (int[] s : shapes) {
            int m = s[0], n = s[1], k = s[2];
            for (boolean transposedA : new boolean[] {false, true}) {
                for (boolean accumulate : new boolean[] {false, true}) {
                    float[] a = values(m * k, random), b = values(k * n, random), c = values(m * n, random);
                    float[] before = c.clone(), inPlace = c.clone(), packedRows = c.clone();
                    float[] packed = new float[Sgemm.packedSize(k, n)];
                    Sgemm.packB(b, 0, n, 1, k, n, packed);
                    // transposed: A is stored k x m and read with swapped strides
                    float[] stored = transposedA ? transpose(a, m, k) : a;
                    int rowStride = transposedA ? 1 : k, colStride = transposedA ? m : 1;
                    Sgemm.multiply(m, n, k, stored, 0, rowStride, colStride, packed, c, 0, n, accumulate);
                    // A's rows packed or read in place (SgemmTuning's choice per machine): the same bits
                    float[] packedForRows = new float[packed.length], packedForInPlace = new float[packed.length];
                    Sgemm.packB(b, 0, n, 1, k, n, packedForRows, true);
                    Sgemm.packB(b, 0, n, 1, k, n, packedForInPlace, false);
                    Sgemm.multiply(m, n, k, stored, 0, rowStride, colStride, packedForRows, 0, packedRows, 0, n, accumulate, true);
                    Sgemm.multiply(m, n, k, stored, 0, rowStride, colStride, packedForInPlace, 0, inPlace, 0, n, accumulate, false);
                    String shape = m + "x" + n + "x" + k + (transposedA ? " transposed" : "") + (accumulate ? " accumulate" : "");
                    assertArrayEquals(packedRows, c, shape + ": tuned against packed rows");
                    assertArrayEquals(inPlace, c, shape + ": tuned against A in place");
                    // Relative to the magnitudes summed, not to the result: a float sum may cancel (1x1x1
                    // accumulating c + a·b ≈ 0), and rounding is bounded by what went into it.
                    double diff = 0, norm = 0;
                    for (int i = 0; i < m; i++)
                        for (int j = 0; j < n; j++) {
                            double expected = accumulate ? before[i * n + j] : 0, magnitude = Math.abs(expected);
                            for (int q = 0; q < k; q++) {
                                expected += (double) a[i * k + q] * b[q * n + j];
                                magnitude += Math.abs((double) a[i * k + q] * b[q * n + j]);
                            }
                            diff += (c[i * n + j] - expected) * (c[i * n + j] - expected);
                            norm += magnitude * magnitude;
                        }
                    double error = Math.sqrt(diff / norm);
                    assertTrue(error < 1e-6, shape + ": relative error " + error + " (seed " + seed + ")");
                }
            }
        }
    }

    /**
     * Rows below the last whole micro-tile run through the same kernels as a whole tile's, so a row's
     * result does not depend on where a caller's block of rows ends (C wider than one panel).
     */
    @Test void rowsBelowTheLastWholeTileMatchTheSameRowsInsideOne() {
        SplittableRandom random = new SplittableRandom(TestSeeds.next());
        int mr = Sgemm.MR, m = 4 * mr + 3;
        for (int[] nk : new int[][] {{33, 300}, {40, 20}, {260, 520}, {40, 1100}}) {
            int n = nk[0], k = nk[1];
            float[] a = values(m * k, random), b = values(k * n, random), packed = new float[Sgemm.packedSize(k, n)];
            Sgemm.packB(b, 0, n, 1, k, n, packed);
            // transposed, A is read across its rows and passes over K are shallower; the rows below the
            // last tile are copied row-major but must keep their own passes
            for (boolean transposedA : new boolean[] {false, true}) {
                float[] stored = transposedA ? transpose(a, m, k) : a;
                int rs = transposedA ? 1 : k, cs = transposedA ? m : 1;
                float[] whole = new float[m * n];
                Sgemm.multiply(m, n, k, stored, 0, rs, cs, packed, whole, 0, n, false);
                for (int split : new int[] {1, mr - 1, mr + 2, 3 * mr + 1}) {
                    float[] pieces = new float[m * n];
                    Sgemm.multiply(split, n, k, stored, 0, rs, cs, packed, pieces, 0, n, false);
                    Sgemm.multiply(m - split, n, k, stored, split * rs, rs, cs, packed, pieces, split * n, n, false);
                    assertArrayEquals(whole, pieces, m + "x" + n + "x" + k + (transposedA ? " transposed" : "") + " split after row " + split);
                }
            }
        }
    }

    /**
     * Overwriting a block of a wider C (a column slice, as the convolutions write their channels):
     * the block gets the product whatever it held, and C outside the block keeps its values,
     * including the rows below the last whole tile and k = 0.
     */
    @Test void overwritesABlockOfAWiderCAndNothingBesideIt() {
        SplittableRandom random = new SplittableRandom(TestSeeds.next());
        int m = 3 * Sgemm.MR + 5, ldc = 1200, column0 = 7;
        for (int[] nk : new int[][] {{16, 40}, {33, 300}, {1100, 1100}, {40, 0}}) {
            int n = nk[0], k = nk[1];
            float[] a = values(m * k, random), b = values(k * n, random), packed = new float[Sgemm.packedSize(k, n)];
            Sgemm.packB(b, 0, n, 1, k, n, packed);
            float[] alone = new float[m * n];
            Sgemm.multiply(m, n, k, a, 0, k, 1, packed, alone, 0, n, false);
            float[] wide = values(m * ldc, random), before = wide.clone();
            Sgemm.multiply(m, n, k, a, 0, k, 1, packed, wide, column0, ldc, false);
            for (int i = 0; i < m; i++)
                for (int j = 0; j < ldc; j++) {
                    boolean inside = j >= column0 && j < column0 + n;
                    float expected = inside ? alone[i * n + j - column0] : before[i * ldc + j];
                    assertEquals(expected, wide[i * ldc + j], m + "x" + n + "x" + k + " at row " + i + ", column " + j);
                }
        }
    }

    /** Passes over K of equal depth, as few as the layout's deepest pass allows. */
    @Test void splitsKIntoTheFewestEqualPasses() {
        for (int k : new int[] {1, 255, 256, 257, 1023, 1024, 1025, 2048, 2100, 4608}) {
            for (int colStride : new int[] {1, 7}) {
                int deepest = colStride == 1 ? Sgemm.KC : Sgemm.KC_STRIDED, depth = Sgemm.passDepth(k, colStride);
                int passes = (k + depth - 1) / depth;
                assertTrue(depth <= deepest, k + ": depth " + depth);
                assertEquals((k + deepest - 1) / deepest, passes, k + ": passes of " + depth);
                assertTrue(passes * depth - k < passes, k + ": passes of " + depth + " differ by more than one");
            }
        }
    }

    /** B read transposed through its strides, as the data gradient reads the kernel. */
    @Test void packsTransposedB() {
        SplittableRandom random = new SplittableRandom(7);
        int k = 5, n = 21;
        float[] bt = values(n * k, random), packed = new float[Sgemm.packedSize(k, n)];
        Sgemm.packB(bt, 0, 1, k, k, n, packed);
        for (int q = 0; q < k; q++)
            for (int j = 0; j < n; j++) {
                assertTrue(packed[packedIndex(k, n, q, j, Sgemm.packsRows(n))] == bt[j * k + q]);
            }
    }

    /**
     * Where {@link Sgemm#packB} puts B(kk, column): panel p (LANES columns) at p·k·LANES; for the 6 x 2
     * kernels on packed rows of A ({@link Sgemm#INTERLEAVED_PAIRS}, {@code packing}), each pair of whole
     * panels row by row side by side (row kk of the pair at + kk·2·LANES, the odd panel's half second),
     * every other panel row after row.
     */
    private static int packedIndex(int k, int n, int kk, int column, boolean packing) {
        int lanes = Sgemm.LANES, p = column / lanes, lane = column % lanes;
        boolean paired = Sgemm.INTERLEAVED_PAIRS && packing && p < n / lanes / 2 * 2;
        return paired ? p / 2 * 2 * k * lanes + kk * 2 * lanes + p % 2 * lanes + lane : p * k * lanes + kk * lanes + lane;
    }

    /**
     * The layout {@link Sgemm#packB} promises ({@link #packedIndex}) for A's rows packed and in place,
     * zeros past n; without the choice given, the one the machine's tuning makes for n.
     */
    @Test void packsBIntoPanelsOfOneVectorWidth() {
        SplittableRandom random = new SplittableRandom(TestSeeds.next());
        int lanes = Sgemm.LANES;
        // k across several of the copy's row blocks and not a multiple of one; n with and without a partial panel
        int[][] shapes = {{37, 3 * lanes}, {37, 3 * lanes + 5}, {5, lanes - 3}, {40, 2 * lanes + 1}, {9, 4 * lanes},
                {9, 33 * lanes + 3}, {20, 34 * lanes}};
        for (int[] s : shapes) {
            int k = s[0], n = s[1];
            for (boolean transposed : new boolean[] {false, true}) {
                int offset = 7, rowStride = transposed ? 1 : n, colStride = transposed ? k : 1;
                float[] b = values(offset + k * n, random);
                for (boolean packing : new boolean[] {true, false}) {
                    float[] packed = new float[Sgemm.packedSize(k, n)];
                    java.util.Arrays.fill(packed, Float.NaN);
                    Sgemm.packB(b, offset, rowStride, colStride, k, n, packed, packing);
                    for (int p = 0; p < Sgemm.panels(n); p++) {
                        for (int kk = 0; kk < k; kk++) {
                            for (int j = 0; j < lanes; j++) {
                                int column = p * lanes + j;
                                float expected = column < n ? b[offset + kk * rowStride + column * colStride] : 0f;
                                assertEquals(expected, packed[packedIndex(k, n, kk, column, packing)], k + "x" + n
                                        + (transposed ? " transposed" : "") + (packing ? ", for packed rows" : "") + ": row " + kk + ", column " + column);
                            }
                        }
                    }
                    if (packing == Sgemm.packsRows(n)) {
                        float[] tuned = new float[packed.length];
                        Sgemm.packB(b, offset, rowStride, colStride, k, n, tuned);
                        assertArrayEquals(packed, tuned, k + "x" + n + ": the layout the tuning's choice reads");
                    }
                }
            }
        }
    }

    /** A large B packed by the pool's threads, a share of the panels each, is the same as packed by one thread. */
    @Test void packsLargeBOnThePoolAsOnOneThread() {
        SplittableRandom random = new SplittableRandom(TestSeeds.next());
        int k = 300, n = 250;
        float[] b = values(k * n, random);
        try (WorkerPool pool = new WorkerPool(3)) {
            for (boolean transposed : new boolean[] {false, true}) {
                int rowStride = transposed ? 1 : n, colStride = transposed ? k : 1;
                float[] alone = new float[Sgemm.packedSize(k, n)], shared = new float[alone.length];
                java.util.Arrays.fill(shared, Float.NaN);
                Sgemm.packB(b, 0, rowStride, colStride, k, n, alone);
                Sgemm.packB(pool, b, 0, rowStride, colStride, k, n, shared);
                assertArrayEquals(alone, shared, transposed ? "transposed B" : "B");
            }
        }
    }

    private static float[] values(int size, SplittableRandom random) {
        float[] v = new float[size];
        for (int i = 0; i < size; i++) v[i] = (float) (random.nextDouble() * 2 - 1);
        return v;
    }

    private static float[] transpose(float[] a, int rows, int columns) {
        float[] t = new float[a.length];
        for (int i = 0; i < rows; i++) for (int j = 0; j < columns; j++) t[j * rows + i] = a[i * columns + j];
        return t;
    }
}
