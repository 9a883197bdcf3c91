package jresnet.backend.cpu;

import static jresnet.backend.cpu.CpuTensor.array;
import static jresnet.backend.cpu.CpuTensor.elements;
import static jresnet.backend.cpu.Vectors.mulAdd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import jresnet.tensor.Tensor;

/**
 * The batch-normalization family of {@link CpuBackend}, also in the tutorial's ReLU → BN order
 * ({@code relu}: the ReLU applied on the fly). Training forward: one pass for Σ(x−s) and Σ(x−s)²
 * around a shift s near the mean, one affine pass; backward: one pass for Σdy and Σdy·(x−mean), one
 * pass dx = a·dy + b·x + d.
 */
final class CpuBatchNorm {
    private static final VectorSpecies<Float> S = Vectors.SPECIES;
    private static final int L = Vectors.LANES;

    private final WorkerPool pool;
    private final ChannelSums sums;

    CpuBatchNorm(WorkerPool pool, ChannelSums sums) {
        this.pool = pool;
        this.sums = sums;
    }

    /** The per-channel mean of the first few rows: a shift close to the batch mean. */
    private static float[] meanEstimate(float[] x, int rows, int channels, boolean relu) {
        int sample = Math.min(rows, ChannelSums.STAT_BLOCK);
        float[] shift = new float[channels];
        for (int r = 0; r < sample; r++) {
            for (int c = 0; c < channels; c++) shift[c] += relu ? Math.max(x[r * channels + c], 0f) : x[r * channels + c];
        }
        for (int c = 0; c < channels; c++) shift[c] /= sample;
        return shift;
    }

    /** Normalizes with the batch's statistics and updates the moving ones. */
    void trainForward(Tensor x, Tensor gamma, Tensor beta, Tensor movingMean, Tensor movingVariance,
                      Tensor y, Tensor savedMean, Tensor savedInvStd, double momentum, double epsilon, boolean relu) {
        int channels = gamma.shape().elements(), count = elements(x) / channels;
        float[] in = array(x);
        float[] shift = meanEstimate(in, count, channels, relu);
        double[][] moments = sums.shiftedMoments(in, count, channels, shift, relu);
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
        affine(in, array(y), count, channels, scale, offset, relu);
    }

    /** Normalizes with the moving statistics. */
    void inferForward(Tensor x, Tensor gamma, Tensor beta, Tensor movingMean, Tensor movingVariance,
                      Tensor y, double epsilon, boolean relu) {
        int channels = gamma.shape().elements();
        float[] g = array(gamma), b = array(beta), mm = array(movingMean), mv = array(movingVariance);
        float[] scale = new float[channels], offset = new float[channels];
        for (int c = 0; c < channels; c++) {
            double s = g[c] / Math.sqrt(mv[c] + epsilon);
            scale[c] = (float) s;
            offset[c] = (float) (b[c] - mm[c] * s);
        }
        affine(array(x), array(y), elements(x) / channels, channels, scale, offset, relu);
    }

    /** y = scale[c]·x + offset[c] per channel (x through a ReLU first when {@code relu}). */
    private void affine(float[] x, float[] y, int rows, int channels, float[] scale, float[] offset, boolean relu) {
        pool.runRanges(rows, Math.max(1, WorkerPool.ELEMENT_CHUNK / channels), (from, to, w) -> {
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

    /**
     * dx = γ·invStd/n · (n·dy − Σdy − x̂·Σ(dy·x̂)), written as dx = a·dy + b·x + d per channel after
     * one pass for the two sums; with {@code relu}, x is relu(input) and dx is 0 where input ≤ 0.
     */
    void backward(Tensor x, Tensor dy, Tensor gamma, Tensor savedMean, Tensor savedInvStd,
                  Tensor dx, Tensor dGamma, Tensor dBeta, boolean relu) {
        int channels = gamma.shape().elements(), count = elements(x) / channels;
        float[] in = array(x), gout = array(dy), gin = array(dx);
        float[] mean = array(savedMean), invStd = array(savedInvStd), g = array(gamma);
        double[][] sums = gradientSums(in, gout, count, channels, mean, relu);
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
        pool.runRanges(count, Math.max(1, WorkerPool.ELEMENT_CHUNK / channels), (from, to, w) -> {
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
        return sums.channelSumPairs(rows, channels, (r, accDy, accCentered) -> {
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
}
