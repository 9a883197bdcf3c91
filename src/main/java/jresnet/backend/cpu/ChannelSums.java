package jresnet.backend.cpu;

import static jresnet.backend.cpu.Vectors.mulAdd;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Per-channel sums over the rows of an NHWC array (batch-norm statistics and gradients, bias
 * gradients): float within blocks of STAT_BLOCK rows, double across blocks and stripes of blocks
 * ({@link WorkerPool#runStripes}), added in stripe order, so the result is the same on every run.
 */
final class ChannelSums {
    private static final VectorSpecies<Float> S = Vectors.SPECIES;
    private static final int L = Vectors.LANES;
    /**
     * Pixels summed in float (in two chains of half as many) before adding into the double
     * per-channel totals. 256 rather than 64: at 16 channels each block's fixed cost (clearing, a
     * call, the double adds) had made the pass 1.5x slower (0.60 against 0.40 ms for 8 MB on the Xeon
     * of docs/performance.md).
     */
    static final int STAT_BLOCK = 256;

    private final WorkerPool pool;

    ChannelSums(WorkerPool pool) { this.pool = pool; }

    /**
     * {Σ(v − shift), Σ(v − shift)²} per channel over the rows of x, v = x or relu(x), in one pass.
     * With the shift near the mean the variance Σ(v − shift)²/n − (Σ(v − shift)/n)² does not cancel.
     * Float within blocks of STAT_BLOCK rows, double across blocks and stripes.
     */
    double[][] shiftedMoments(float[] x, int rows, int channels, float[] shift, boolean relu) {
        return channelSumPairs(rows, channels, (from, to, sum, squares) -> {
            // A vector of channels at a time down the block's row pairs (in L1), summing in registers:
            // two chains each, even and odd rows, so that the adds' latency does not bound the loop.
            int pairsEnd = from + ((to - from) & ~1), c = 0;
            for (; c + L <= channels; c += L) {
                FloatVector center = FloatVector.fromArray(S, shift, c), zero = FloatVector.zero(S);
                FloatVector sumEven = zero, sumOdd = zero, squaresEven = zero, squaresOdd = zero;
                for (int r = from; r < pairsEnd; r += 2) {
                    FloatVector even = FloatVector.fromArray(S, x, r * channels + c), odd = FloatVector.fromArray(S, x, (r + 1) * channels + c);
                    if (relu) {
                        even = even.max(0f);
                        odd = odd.max(0f);
                    }
                    even = even.sub(center);
                    odd = odd.sub(center);
                    sumEven = sumEven.add(even);
                    sumOdd = sumOdd.add(odd);
                    squaresEven = mulAdd(even, even, squaresEven);
                    squaresOdd = mulAdd(odd, odd, squaresOdd);
                }
                sumEven.add(sumOdd).intoArray(sum, c);
                squaresEven.add(squaresOdd).intoArray(squares, c);
            }
            // Scalar: an odd last row, and the channels past the last whole vector. Not vectors: C2
            // did not inline a vector call in such a rarely taken branch, and the vectors it merged
            // with were then boxed in the loop above as well.
            for (int k = 0; k < channels; k++) {
                for (int r = k < c ? pairsEnd : from; r < to; r++) {
                    float v = (relu ? Math.max(x[r * channels + k], 0f) : x[r * channels + k]) - shift[k];
                    sum[k] += v;
                    squares[k] += v * v;
                }
            }
        });
    }

    /**
     * Adds the contributions of rows [from, to) to two per-channel float accumulators, zero on entry
     * (so an implementation may store its sums rather than add them). A block of rows
     * per call, not one: the loop over rows then lives in each implementation, which the JIT compiles
     * on its own, instead of in a shared caller that must inline every implementation's vector code
     * through one interface call (where it did not always, leaving that code boxing its vectors).
     */
    interface BlockSums {
        void add(int from, int to, float[] first, float[] second);
    }

    /**
     * Two per-channel sums over all rows: float within blocks of STAT_BLOCK rows, double across blocks
     * and stripes (each stripe's blocks are fixed, so the result is the same on every run).
     */
    double[][] channelSumPairs(int rows, int channels, BlockSums blockSums) {
        int blocks = (rows + STAT_BLOCK - 1) / STAT_BLOCK, stripes = pool.stripes(blocks, 2L * channels);
        if (blocks == 0) return new double[2][channels];
        double[][] firstSums = new double[stripes][], secondSums = new double[stripes][]; // as each stripe hands them over
        pool.runStripes(blocks, stripes, (from, to, s, w) -> {
            // Summed in arrays of the worker's own, then handed over: a stripe runs on either worker,
            // and two workers adding into neighbouring small arrays would share their cache lines.
            float[] first = new float[channels], second = new float[channels];
            double[] firstTotal = new double[channels], secondTotal = new double[channels];
            for (int block = from; block < to; block++) {
                Arrays.fill(first, 0f);
                Arrays.fill(second, 0f);
                blockSums.add(block * STAT_BLOCK, Math.min(rows, (block + 1) * STAT_BLOCK), first, second);
                for (int c = 0; c < channels; c++) {
                    firstTotal[c] += first[c];
                    secondTotal[c] += second[c];
                }
            }
            firstSums[s] = firstTotal;
            secondSums[s] = secondTotal;
        });
        double[][] total = new double[2][channels];
        for (int s = 0; s < stripes; s++) {
            for (int c = 0; c < channels; c++) {
                total[0][c] += firstSums[s][c];
                total[1][c] += secondSums[s][c];
            }
        }
        return total;
    }

    /** sums[c] = sum over rows of values[r·columns + c], partial sums in double per stripe. */
    void columnSums(float[] values, int rows, int columns, float[] sums) {
        double[] total = shiftedMoments(values, rows, columns, new float[columns], false)[0];
        for (int c = 0; c < columns; c++) sums[c] = (float) total[c];
    }}
