package jresnet.backend.cpu;

import static jresnet.backend.cpu.Vectors.mulAdd;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Per-channel sums over the rows of an NHWC array (batch-norm statistics and gradients, bias
 * gradients): float within blocks of STAT_BLOCK rows, double across blocks and workers, each worker's
 * blocks fixed, so the result is the same on every run.
 */
final class ChannelSums {
    private static final VectorSpecies<Float> S = Vectors.SPECIES;
    private static final int L = Vectors.LANES;
    /** Pixels summed in float before adding into the double per-channel totals. */
    static final int STAT_BLOCK = 64;

    private final WorkerPool pool;
    private final double[][] firstSums, secondSums;

    ChannelSums(WorkerPool pool) {
        this.pool = pool;
        firstSums = new double[pool.threads()][0];
        secondSums = new double[pool.threads()][0];
    }

    /**
     * {Σ(v − shift), Σ(v − shift)²} per channel over the rows of x, v = x or relu(x), in one pass.
     * With the shift near the mean the variance Σ(v − shift)²/n − (Σ(v − shift)/n)² does not cancel.
     * Float within blocks of STAT_BLOCK rows, double across blocks and workers.
     */
    double[][] shiftedMoments(float[] x, int rows, int channels, float[] shift, boolean relu) {
        return channelSumPairs(rows, channels, (from, to, sum, squares) -> {
            for (int r = from; r < to; r++) {
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
            }
        });
    }

    /**
     * Adds the contributions of rows [from, to) to two per-channel float accumulators. A block of rows
     * per call, not one: the loop over rows then lives in each implementation, which the JIT compiles
     * on its own, instead of in a shared caller that must inline every implementation's vector code
     * through one interface call (where it did not always, leaving that code boxing its vectors).
     */
    interface BlockSums {
        void add(int from, int to, float[] first, float[] second);
    }

    /**
     * Two per-channel sums over all rows: float within blocks of STAT_BLOCK rows, double across blocks
     * and workers (each worker's blocks are fixed, so the result is the same on every run).
     */
    double[][] channelSumPairs(int rows, int channels, BlockSums blockSums) {
        int blocks = (rows + STAT_BLOCK - 1) / STAT_BLOCK;
        int used = Math.min(pool.threads(), blocks);
        for (int w = 0; w < used; w++) {
            if (firstSums[w].length < channels) firstSums[w] = new double[channels];
            if (secondSums[w].length < channels) secondSums[w] = new double[channels];
            Arrays.fill(firstSums[w], 0, channels, 0);
            Arrays.fill(secondSums[w], 0, channels, 0);
        }
        pool.runRanges(blocks, 4, (from, to, w) -> {
            float[] first = new float[channels], second = new float[channels];
            for (int block = from; block < to; block++) {
                Arrays.fill(first, 0f);
                Arrays.fill(second, 0f);
                blockSums.add(block * STAT_BLOCK, Math.min(rows, (block + 1) * STAT_BLOCK), first, second);
                for (int c = 0; c < channels; c++) {
                    firstSums[w][c] += first[c];
                    secondSums[w][c] += second[c];
                }
            }
        });
        double[][] total = new double[2][channels];
        for (int w = 0; w < used; w++) {
            for (int c = 0; c < channels; c++) {
                total[0][c] += firstSums[w][c];
                total[1][c] += secondSums[w][c];
            }
        }
        return total;
    }

    /** sums[c] = sum over rows of values[r·columns + c], partial sums in double per worker. */
    void columnSums(float[] values, int rows, int columns, float[] sums) {
        double[] total = shiftedMoments(values, rows, columns, new float[columns], false)[0];
        for (int c = 0; c < columns; c++) sums[c] = (float) total[c];
    }}
