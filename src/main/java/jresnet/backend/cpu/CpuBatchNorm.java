package jresnet.backend.cpu;

import static jresnet.backend.cpu.CpuTensor.array;
import static jresnet.backend.cpu.CpuTensor.elements;
import static jresnet.backend.cpu.Vectors.mulAdd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import jresnet.tensor.Tensor;

/**
 * The batch-normalization family of {@link CpuBackend}, also with a ReLU on the fly before it (the
 * tutorial's relu_bn) or after it (He et al.'s BN → ReLU, and BN → Add → ReLU with a shortcut added
 * before the ReLU), so that no pass over memory is spent on the ReLU or the Add. Training forward: one
 * pass for Σ(x−s) and Σ(x−s)² around a shift s near the mean, one affine pass; backward: one pass for
 * Σdy and Σdy·(x−mean) (which also writes the shortcut's gradient, dy masked by the ReLU), one pass
 * dx = a·dy + b·x + d.
 */
final class CpuBatchNorm {
    /** Where a ReLU runs with the batch norm. */
    enum Relu {
        NONE, BEFORE, AFTER;

        /** The value the batch norm sees of input v: relu(v) when the ReLU comes before it. */
        float in(float v) { return this == BEFORE ? Math.max(v, 0f) : v; }
    }
    // The vector loops below spell out what the scalar helpers do: a method that takes or returns a
    // vector is boxed by JDK 17 wherever the JIT does not inline it, which it does not always do.

    private static final VectorSpecies<Float> S = Vectors.SPECIES;
    private static final int L = Vectors.LANES;

    private final WorkerPool pool;
    private final ChannelSums sums;

    CpuBatchNorm(WorkerPool pool, ChannelSums sums) {
        this.pool = pool;
        this.sums = sums;
    }

    /** The per-channel mean of the first few rows: a shift close to the batch mean. */
    private static float[] meanEstimate(float[] x, int rows, int channels, Relu relu) {
        int sample = Math.min(rows, ChannelSums.STAT_BLOCK);
        float[] shift = new float[channels];
        for (int r = 0; r < sample; r++) {
            for (int c = 0; c < channels; c++) shift[c] += relu.in(x[r * channels + c]);
        }
        for (int c = 0; c < channels; c++) shift[c] /= sample;
        return shift;
    }

    /** Normalizes with the batch's statistics and updates the moving ones. */
    void trainForward(Tensor x, Tensor shortcut, Tensor gamma, Tensor beta, Tensor movingMean, Tensor movingVariance,
                      Tensor y, Tensor savedMean, Tensor savedInvStd, double momentum, double epsilon, Relu relu) {
        int channels = gamma.shape().elements(), count = elements(x) / channels;
        float[] in = array(x);
        float[] shift = meanEstimate(in, count, channels, relu);
        double[][] moments = sums.shiftedMoments(in, count, channels, shift, relu == Relu.BEFORE);
        float[] mm = array(movingMean), mv = array(movingVariance), sm = array(savedMean), si = array(savedInvStd);
        float[] g = array(gamma), b = array(beta);
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
        affine(in, shortcut == null ? null : array(shortcut), array(y), count, channels, scale, offset, relu);
    }

    /** Normalizes with the moving statistics. */
    void inferForward(Tensor x, Tensor shortcut, Tensor gamma, Tensor beta, Tensor movingMean, Tensor movingVariance,
                      Tensor y, double epsilon, Relu relu) {
        int channels = gamma.shape().elements();
        float[] g = array(gamma), b = array(beta), mm = array(movingMean), mv = array(movingVariance);
        float[] scale = new float[channels], offset = new float[channels];
        for (int c = 0; c < channels; c++) {
            double s = g[c] / Math.sqrt(mv[c] + epsilon);
            scale[c] = (float) s;
            offset[c] = (float) (b[c] - mm[c] * s);
        }
        affine(array(x), shortcut == null ? null : array(shortcut), array(y), elements(x) / channels, channels, scale,
                offset, relu);
    }

    /**
     * y = scale[c]·x + offset[c] per channel, plus the shortcut (if any: a ReLU comes after), with the
     * ReLU on x or on y where {@code relu} puts it.
     */
    private void affine(float[] x, float[] shortcut, float[] y, int rows, int channels, float[] scale, float[] offset,
                        Relu relu) {
        boolean before = relu == Relu.BEFORE, after = relu == Relu.AFTER;
        pool.runRanges(rows, Math.max(1, WorkerPool.ELEMENT_CHUNK / channels), (from, to, w) -> {
            for (int r = from; r < to; r++) {
                int base = r * channels, c = 0;
                for (; c + L <= channels; c += L) {
                    FloatVector v = FloatVector.fromArray(S, x, base + c);
                    if (before) v = v.max(0f);
                    v = mulAdd(v, FloatVector.fromArray(S, scale, c), FloatVector.fromArray(S, offset, c));
                    if (shortcut != null) v = v.add(FloatVector.fromArray(S, shortcut, base + c));
                    if (after) v = v.max(0f);
                    v.intoArray(y, base + c);
                }
                for (; c < channels; c++) {
                    float v = relu.in(x[base + c]) * scale[c] + offset[c];
                    if (shortcut != null) v += shortcut[base + c];
                    y[base + c] = after ? Math.max(v, 0f) : v;
                }
            }
        });
    }

    /**
     * dx = γ·invStd/n · (n·dy − Σdy − x̂·Σ(dy·x̂)), written as dx = a·dy + b·x + d per channel after
     * one pass for the two sums. ReLU before: x is relu(input) and dx is 0 where input ≤ 0; ReLU after:
     * dy counts only where the forward output y is above 0 (y is null otherwise). With a shortcut added
     * before that ReLU, the first pass also writes the masked dy to dShortcut, and the second reads it
     * from there instead of y and dy.
     */
    void backward(Tensor x, Tensor y, Tensor dy, Tensor gamma, Tensor savedMean, Tensor savedInvStd,
                  Tensor dx, Tensor dShortcut, Tensor dGamma, Tensor dBeta, Relu relu) {
        int channels = gamma.shape().elements(), count = elements(x) / channels;
        float[] in = array(x), gin = array(dx), masked = dShortcut == null ? null : array(dShortcut);
        float[] mean = array(savedMean), invStd = array(savedInvStd), g = array(gamma);
        float[] decided = relu == Relu.AFTER ? array(y) : null;
        double[][] sums = gradientSums(in, decided, array(dy), masked, count, channels, mean, relu);
        // the second pass reads the masked dy where the first wrote it, else dy and the ReLU's decisions
        float[] out = masked == null ? decided : null, gout = masked == null ? array(dy) : masked;
        double[] sumDy = sums[0], sumDyCentered = sums[1];
        float[] dGammaOut = array(dGamma), dBetaOut = array(dBeta);
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
        boolean before = relu == Relu.BEFORE;
        pool.runRanges(count, Math.max(1, WorkerPool.ELEMENT_CHUNK / channels), (from, to, w) -> {
            for (int r = from; r < to; r++) {
                int base = r * channels, c = 0;
                for (; c + L <= channels; c += L) {
                    FloatVector raw = FloatVector.fromArray(S, in, base + c), gv = FloatVector.fromArray(S, gout, base + c);
                    if (out != null) gv = gv.blend(0f, FloatVector.fromArray(S, out, base + c).compare(VectorOperators.LE, 0f));
                    FloatVector result = mulAdd(gv, FloatVector.fromArray(S, a, c),
                            mulAdd(before ? raw.max(0f) : raw, FloatVector.fromArray(S, bx, c), FloatVector.fromArray(S, d, c)));
                    if (before) result = result.blend(0f, raw.compare(VectorOperators.LE, 0f));
                    result.intoArray(gin, base + c);
                }
                for (; c < channels; c++) {
                    float raw = in[base + c];
                    gin[base + c] = before && !(raw > 0) ? 0f : passedValue(gout, out, base + c) * a[c] + relu.in(raw) * bx[c] + d[c];
                }
            }
        });
    }

    /** dy at {@code i} where the forward output {@code out} (if any: the ReLU after) is above 0, else 0. */
    private static float passedValue(float[] dy, float[] out, int i) {
        return out == null || out[i] > 0 ? dy[i] : 0f;
    }

    /** {Σdy, Σdy·(x − mean)} per channel, dy as {@link #passedValue} lets it through, and written so to {@code passed} if not null. */
    private double[][] gradientSums(float[] x, float[] out, float[] dy, float[] passed, int rows, int channels, float[] mean,
                                    Relu relu) {
        boolean before = relu == Relu.BEFORE;
        return sums.channelSumPairs(rows, channels, (from, to, accDy, accCentered) -> {
            // As ChannelSums.shiftedMoments: a vector of channels down the block's row pairs, in
            // registers, two chains each; an odd last row and the channels past the last whole vector
            // in scalar code.
            int pairsEnd = from + ((to - from) & ~1), c = 0;
            for (; c + L <= channels; c += L) {
                FloatVector center = FloatVector.fromArray(S, mean, c), zero = FloatVector.zero(S);
                FloatVector dyEven = zero, dyOdd = zero, centeredEven = zero, centeredOdd = zero;
                for (int r = from; r < pairsEnd; r += 2) {
                    int even = r * channels + c, odd = even + channels;
                    FloatVector ve = FloatVector.fromArray(S, x, even), vo = FloatVector.fromArray(S, x, odd);
                    FloatVector ge = FloatVector.fromArray(S, dy, even), go = FloatVector.fromArray(S, dy, odd);
                    if (before) {
                        ve = ve.max(0f);
                        vo = vo.max(0f);
                    }
                    if (out != null) {
                        ge = ge.blend(0f, FloatVector.fromArray(S, out, even).compare(VectorOperators.LE, 0f));
                        go = go.blend(0f, FloatVector.fromArray(S, out, odd).compare(VectorOperators.LE, 0f));
                    }
                    if (passed != null) {
                        ge.intoArray(passed, even);
                        go.intoArray(passed, odd);
                    }
                    dyEven = dyEven.add(ge);
                    dyOdd = dyOdd.add(go);
                    centeredEven = mulAdd(ve.sub(center), ge, centeredEven);
                    centeredOdd = mulAdd(vo.sub(center), go, centeredOdd);
                }
                dyEven.add(dyOdd).intoArray(accDy, c);
                centeredEven.add(centeredOdd).intoArray(accCentered, c);
            }
            for (int k = 0; k < channels; k++) {
                for (int r = k < c ? pairsEnd : from; r < to; r++) {
                    int at = r * channels + k;
                    float g = passedValue(dy, out, at);
                    if (passed != null) passed[at] = g;
                    accDy[k] += g;
                    accCentered[k] += (relu.in(x[at]) - mean[k]) * g;
                }
            }
        });
    }
}
