package jresnet.backend.reference;

import jresnet.backend.Backend;
import jresnet.backend.ConvGeometry;
import jresnet.tensor.Shape;
import jresnet.tensor.Tensor;

/**
 * The oracle: plain loops over NHWC data held in doubles, accumulating in double. Clarity over speed;
 * every faster backend is tested against this one. Never optimize it.
 */
public final class ReferenceBackend implements Backend {

    @Override public String name() { return "reference"; }

    @Override public RefTensor allocate(Shape shape) { return new RefTensor(shape, new double[shape.elements()]); }

    @Override public RefTensor allocateParameter(Shape shape) { return allocate(shape); }

    /** A tensor holding the given values (tests and gradient checks work in double). */
    public RefTensor tensor(Shape shape, double[] values) {
        if (values.length != shape.size()) throw new IllegalArgumentException(values.length + " values for " + shape);
        return new RefTensor(shape, values.clone());
    }

    @Override public void copyFromHost(float[] src, Tensor dst) {
        double[] d = data(dst);
        for (int i = 0; i < size(dst); i++) d[i] = src[i];
    }

    @Override public void copyToHost(Tensor src, float[] dst) {
        double[] s = data(src);
        for (int i = 0; i < size(src); i++) dst[i] = (float) s[i];
    }

    @Override public void fill(Tensor t, float value) {
        java.util.Arrays.fill(data(t), 0, size(t), value);
    }

    @Override public void copy(Tensor src, Tensor dst) {
        System.arraycopy(data(src), 0, data(dst), 0, size(src));
    }

    // ---- convolution ----

    /** One tap of a convolution window: output pixel (n, oh, ow) reads input pixel (ih, iw) through kernel tap (kh, kw). */
    private interface Tap {
        void visit(int n, int oh, int ow, int ih, int iw, int kh, int kw);
    }

    /** Visits every tap that lands inside the input (padding contributes zeros, so it is skipped). */
    private static void forEachTap(ConvGeometry g, Tap tap) {
        for (int n = 0; n < g.batch(); n++)
            for (int oh = 0; oh < g.outH(); oh++)
                for (int ow = 0; ow < g.outW(); ow++)
                    for (int kh = 0; kh < g.kernelH(); kh++) {
                        int ih = oh * g.strideH() - g.padTop() + kh;
                        if (ih < 0 || ih >= g.inH()) continue;
                        for (int kw = 0; kw < g.kernelW(); kw++) {
                            int iw = ow * g.strideW() - g.padLeft() + kw;
                            if (iw >= 0 && iw < g.inW()) tap.visit(n, oh, ow, ih, iw, kh, kw);
                        }
                    }
    }

    @Override public void conv2dForward(Tensor x, Tensor kernel, Tensor bias, Tensor y, ConvGeometry g) {
        double[] in = data(x), k = data(kernel), out = data(y);
        for (int i = 0; i < size(y); i++) out[i] = bias == null ? 0 : data(bias)[i % g.outC()];
        forEachTap(g, (n, oh, ow, ih, iw, kh, kw) -> {
            for (int co = 0; co < g.outC(); co++) {
                double sum = 0;
                for (int ci = 0; ci < g.inC(); ci++) {
                    sum += in[inputIndex(g, n, ih, iw, ci)] * k[kernelIndex(g, kh, kw, ci, co)];
                }
                out[outputIndex(g, n, oh, ow, co)] += sum;
            }
        });
    }

    @Override public void conv2dBackwardData(Tensor dy, Tensor kernel, Tensor dx, ConvGeometry g) {
        double[] gout = data(dy), k = data(kernel), gin = data(dx);
        java.util.Arrays.fill(gin, 0, size(dx), 0);
        forEachTap(g, (n, oh, ow, ih, iw, kh, kw) -> {
            for (int ci = 0; ci < g.inC(); ci++) {
                double sum = 0;
                for (int co = 0; co < g.outC(); co++) {
                    sum += gout[outputIndex(g, n, oh, ow, co)] * k[kernelIndex(g, kh, kw, ci, co)];
                }
                gin[inputIndex(g, n, ih, iw, ci)] += sum;
            }
        });
    }

    @Override public void conv2dBackwardFilter(Tensor x, Tensor dy, Tensor dKernel, Tensor dBias, ConvGeometry g) {
        double[] in = data(x), gout = data(dy), gk = data(dKernel);
        java.util.Arrays.fill(gk, 0, size(dKernel), 0);
        forEachTap(g, (n, oh, ow, ih, iw, kh, kw) -> {
            for (int ci = 0; ci < g.inC(); ci++) {
                double v = in[inputIndex(g, n, ih, iw, ci)];
                for (int co = 0; co < g.outC(); co++) {
                    gk[kernelIndex(g, kh, kw, ci, co)] += v * gout[outputIndex(g, n, oh, ow, co)];
                }
            }
        });
        if (dBias != null) sumOverRows(gout, size(dy), g.outC(), data(dBias));
    }

    private static int inputIndex(ConvGeometry g, int n, int h, int w, int c) {
        return ((n * g.inH() + h) * g.inW() + w) * g.inC() + c;
    }

    private static int outputIndex(ConvGeometry g, int n, int h, int w, int c) {
        return ((n * g.outH() + h) * g.outW() + w) * g.outC() + c;
    }

    private static int kernelIndex(ConvGeometry g, int kh, int kw, int ci, int co) {
        return ((kh * g.kernelW() + kw) * g.inC() + ci) * g.outC() + co;
    }

    // ---- batch normalization ----

    @Override public void batchNormTrainForward(Tensor x, Tensor gamma, Tensor beta, Tensor movingMean,
                                                Tensor movingVariance, Tensor y, Tensor savedMean,
                                                Tensor savedInvStd, double momentum, double epsilon) {
        normalizeWithBatchStatistics(data(x), size(x), gamma, beta, movingMean, movingVariance, y,
                savedMean, savedInvStd, momentum, epsilon);
    }

    @Override public void batchNormInferForward(Tensor x, Tensor gamma, Tensor beta, Tensor movingMean,
                                                Tensor movingVariance, Tensor y, double epsilon) {
        normalizeWithMovingStatistics(data(x), size(x), gamma, beta, movingMean, movingVariance, y, epsilon);
    }

    @Override public void batchNormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor savedMean, Tensor savedInvStd,
                                            Tensor dx, Tensor dGamma, Tensor dBeta, double epsilon) {
        batchNormGradients(data(x), data(dy), size(x), gamma, savedMean, savedInvStd, data(dx), dGamma, dBeta);
    }

    @Override public void reluBatchNormTrainForward(Tensor x, Tensor gamma, Tensor beta, Tensor movingMean,
                                                    Tensor movingVariance, Tensor y, Tensor savedMean,
                                                    Tensor savedInvStd, double momentum, double epsilon) {
        normalizeWithBatchStatistics(relu(data(x), size(x)), size(x), gamma, beta, movingMean, movingVariance, y,
                savedMean, savedInvStd, momentum, epsilon);
    }

    @Override public void reluBatchNormInferForward(Tensor x, Tensor gamma, Tensor beta, Tensor movingMean,
                                                    Tensor movingVariance, Tensor y, double epsilon) {
        normalizeWithMovingStatistics(relu(data(x), size(x)), size(x), gamma, beta, movingMean, movingVariance, y,
                epsilon);
    }

    @Override public void reluBatchNormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor savedMean,
                                                Tensor savedInvStd, Tensor dx, Tensor dGamma, Tensor dBeta) {
        double[] in = data(x), gin = data(dx);
        batchNormGradients(relu(in, size(x)), data(dy), size(x), gamma, savedMean, savedInvStd, gin, dGamma, dBeta);
        for (int i = 0; i < size(x); i++) if (!(in[i] > 0)) gin[i] = 0;
    }

    @Override public void batchNormReluTrainForward(Tensor x, Tensor gamma, Tensor beta, Tensor movingMean,
                                                    Tensor movingVariance, Tensor y, Tensor savedMean,
                                                    Tensor savedInvStd, double momentum, double epsilon) {
        batchNormTrainForward(x, gamma, beta, movingMean, movingVariance, y, savedMean, savedInvStd, momentum, epsilon);
        reluForward(y, y);
    }

    @Override public void batchNormReluInferForward(Tensor x, Tensor gamma, Tensor beta, Tensor movingMean,
                                                    Tensor movingVariance, Tensor y, double epsilon) {
        batchNormInferForward(x, gamma, beta, movingMean, movingVariance, y, epsilon);
        reluForward(y, y);
    }

    @Override public void batchNormReluBackward(Tensor x, Tensor y, Tensor dy, Tensor gamma, Tensor savedMean,
                                                Tensor savedInvStd, Tensor dx, Tensor dGamma, Tensor dBeta, double epsilon) {
        double[] out = data(y), gout = data(dy), passed = new double[size(x)];
        for (int i = 0; i < passed.length; i++) passed[i] = out[i] > 0 ? gout[i] : 0;
        batchNormGradients(data(x), passed, size(x), gamma, savedMean, savedInvStd, data(dx), dGamma, dBeta);
    }

    @Override public void batchNormAddReluTrainForward(Tensor x, Tensor shortcut, Tensor gamma, Tensor beta,
                                                       Tensor movingMean, Tensor movingVariance, Tensor y,
                                                       Tensor savedMean, Tensor savedInvStd, double momentum, double epsilon) {
        batchNormTrainForward(x, gamma, beta, movingMean, movingVariance, y, savedMean, savedInvStd, momentum, epsilon);
        addReluForward(y, shortcut, y);
    }

    @Override public void batchNormAddReluInferForward(Tensor x, Tensor shortcut, Tensor gamma, Tensor beta,
                                                       Tensor movingMean, Tensor movingVariance, Tensor y, double epsilon) {
        batchNormInferForward(x, gamma, beta, movingMean, movingVariance, y, epsilon);
        addReluForward(y, shortcut, y);
    }

    @Override public void batchNormAddReluBackward(Tensor x, Tensor y, Tensor dy, Tensor gamma, Tensor savedMean,
                                                   Tensor savedInvStd, Tensor dx, Tensor dShortcut, Tensor dGamma,
                                                   Tensor dBeta, double epsilon) {
        reluBackward(y, dy, dShortcut);
        batchNormBackward(x, dShortcut, gamma, savedMean, savedInvStd, dx, dGamma, dBeta, epsilon);
    }

    private static double[] relu(double[] x, int size) {
        double[] r = new double[size];
        for (int i = 0; i < size; i++) r[i] = Math.max(x[i], 0);
        return r;
    }

    private static void normalizeWithBatchStatistics(double[] in, int size, Tensor gamma, Tensor beta,
                                                     Tensor movingMean, Tensor movingVariance, Tensor y,
                                                     Tensor savedMean, Tensor savedInvStd,
                                                     double momentum, double epsilon) {
        int channels = gamma.shape().elements();
        int count = size / channels;
        double[] mean = new double[channels], variance = new double[channels];
        for (int i = 0; i < size; i++) mean[i % channels] += in[i];
        for (int c = 0; c < channels; c++) mean[c] /= count;
        for (int i = 0; i < size; i++) {
            double d = in[i] - mean[i % channels];
            variance[i % channels] += d * d;
        }
        double[] mm = data(movingMean), mv = data(movingVariance), sm = data(savedMean), si = data(savedInvStd);
        for (int c = 0; c < channels; c++) {
            variance[c] /= count;
            double unbiased = count > 1 ? variance[c] * count / (count - 1) : variance[c];
            mm[c] = momentum * mm[c] + (1 - momentum) * mean[c];
            mv[c] = momentum * mv[c] + (1 - momentum) * unbiased;
            sm[c] = mean[c];
            si[c] = 1 / Math.sqrt(variance[c] + epsilon);
        }
        double[] g = data(gamma), b = data(beta), out = data(y);
        for (int i = 0; i < size; i++) {
            int c = i % channels;
            out[i] = g[c] * (in[i] - mean[c]) * si[c] + b[c];
        }
    }

    private static void normalizeWithMovingStatistics(double[] in, int size, Tensor gamma, Tensor beta,
                                                      Tensor movingMean, Tensor movingVariance, Tensor y,
                                                      double epsilon) {
        int channels = gamma.shape().elements();
        double[] g = data(gamma), b = data(beta), mm = data(movingMean), mv = data(movingVariance), out = data(y);
        for (int i = 0; i < size; i++) {
            int c = i % channels;
            out[i] = g[c] * (in[i] - mm[c]) / Math.sqrt(mv[c] + epsilon) + b[c];
        }
    }

    private static void batchNormGradients(double[] in, double[] gout, int size, Tensor gamma, Tensor savedMean,
                                           Tensor savedInvStd, double[] gin, Tensor dGamma, Tensor dBeta) {
        int channels = gamma.shape().elements();
        int count = size / channels;
        double[] g = data(gamma), mean = data(savedMean), invStd = data(savedInvStd);
        double[] sumDy = new double[channels], sumDyXhat = new double[channels];
        for (int i = 0; i < size; i++) {
            int c = i % channels;
            sumDy[c] += gout[i];
            sumDyXhat[c] += gout[i] * (in[i] - mean[c]) * invStd[c];
        }
        for (int i = 0; i < size; i++) {
            int c = i % channels;
            double xhat = (in[i] - mean[c]) * invStd[c];
            gin[i] = g[c] * invStd[c] / count * (count * gout[i] - sumDy[c] - xhat * sumDyXhat[c]);
        }
        System.arraycopy(sumDyXhat, 0, data(dGamma), 0, channels);
        System.arraycopy(sumDy, 0, data(dBeta), 0, channels);
    }

    // ---- elementwise ----

    @Override public void reluForward(Tensor x, Tensor y) {
        double[] in = data(x), out = data(y);
        for (int i = 0; i < size(x); i++) out[i] = Math.max(in[i], 0);
    }

    @Override public void reluBackward(Tensor x, Tensor dy, Tensor dx) {
        double[] in = data(x), gout = data(dy), gin = data(dx);
        for (int i = 0; i < size(x); i++) gin[i] = in[i] > 0 ? gout[i] : 0;
    }

    @Override public void add(Tensor a, Tensor b, Tensor out) {
        double[] l = data(a), r = data(b), o = data(out);
        for (int i = 0; i < size(out); i++) o[i] = l[i] + r[i];
    }

    @Override public void addReluForward(Tensor a, Tensor b, Tensor y) {
        add(a, b, y);
        reluForward(y, y);
    }

    @Override public void flatten(Tensor x, Tensor y) { copy(x, y); }

    @Override public void unflatten(Tensor dy, Tensor dx) { copy(dy, dx); }

    // ---- pooling ----

    @Override public void averagePoolForward(Tensor x, Tensor y, ConvGeometry g) {
        double[] in = data(x), out = data(y);
        double window = g.kernelH() * g.kernelW();
        for (int n = 0; n < g.batch(); n++)
            for (int oh = 0; oh < g.outH(); oh++)
                for (int ow = 0; ow < g.outW(); ow++)
                    for (int c = 0; c < g.inC(); c++) {
                        double sum = 0;
                        for (int kh = 0; kh < g.kernelH(); kh++)
                            for (int kw = 0; kw < g.kernelW(); kw++)
                                sum += in[inputIndex(g, n, oh * g.strideH() + kh, ow * g.strideW() + kw, c)];
                        out[outputIndex(g, n, oh, ow, c)] = sum / window;
                    }
    }

    @Override public void averagePoolBackward(Tensor dy, Tensor dx, ConvGeometry g) {
        double[] gout = data(dy), gin = data(dx);
        java.util.Arrays.fill(gin, 0, size(dx), 0);
        double window = g.kernelH() * g.kernelW();
        for (int n = 0; n < g.batch(); n++)
            for (int oh = 0; oh < g.outH(); oh++)
                for (int ow = 0; ow < g.outW(); ow++)
                    for (int c = 0; c < g.inC(); c++) {
                        double share = gout[outputIndex(g, n, oh, ow, c)] / window;
                        for (int kh = 0; kh < g.kernelH(); kh++)
                            for (int kw = 0; kw < g.kernelW(); kw++)
                                gin[inputIndex(g, n, oh * g.strideH() + kh, ow * g.strideW() + kw, c)] += share;
                    }
    }

    @Override public void subsampleChannelPadForward(Tensor x, Tensor y, int stride, int padBefore) {
        Shape in = x.shape(), out = y.shape();
        double[] src = data(x), dst = data(y);
        for (int n = 0; n < out.dim(0); n++)
            for (int h = 0; h < out.dim(1); h++)
                for (int w = 0; w < out.dim(2); w++)
                    for (int c = 0; c < out.dim(3); c++) {
                        int ci = c - padBefore;
                        dst[((n * out.dim(1) + h) * out.dim(2) + w) * out.dim(3) + c] = ci < 0 || ci >= in.dim(3) ? 0
                                : src[((n * in.dim(1) + h * stride) * in.dim(2) + w * stride) * in.dim(3) + ci];
                    }
    }

    @Override public void subsampleChannelPadBackward(Tensor dy, Tensor dx, int stride, int padBefore) {
        Shape out = dy.shape(), in = dx.shape();
        double[] gout = data(dy), gin = data(dx);
        java.util.Arrays.fill(gin, 0, size(dx), 0);
        for (int n = 0; n < out.dim(0); n++)
            for (int h = 0; h < out.dim(1); h++)
                for (int w = 0; w < out.dim(2); w++)
                    for (int ci = 0; ci < in.dim(3); ci++) {
                        gin[((n * in.dim(1) + h * stride) * in.dim(2) + w * stride) * in.dim(3) + ci] =
                                gout[((n * out.dim(1) + h) * out.dim(2) + w) * out.dim(3) + ci + padBefore];
                    }
    }

    // ---- dense ----

    @Override public void denseForward(Tensor x, Tensor kernel, Tensor bias, Tensor y) {
        int rows = x.shape().dim(0), in = x.shape().dim(1), out = y.shape().dim(1);
        double[] a = data(x), k = data(kernel), b = data(bias), o = data(y);
        for (int n = 0; n < rows; n++)
            for (int j = 0; j < out; j++) {
                double sum = b[j];
                for (int i = 0; i < in; i++) sum += a[n * in + i] * k[i * out + j];
                o[n * out + j] = sum;
            }
    }

    @Override public void denseBackward(Tensor x, Tensor kernel, Tensor dy, Tensor dx, Tensor dKernel, Tensor dBias) {
        int rows = x.shape().dim(0), in = x.shape().dim(1), out = dy.shape().dim(1);
        double[] a = data(x), k = data(kernel), gout = data(dy), gk = data(dKernel);
        if (dx != null) {
            double[] gin = data(dx);
            for (int n = 0; n < rows; n++)
                for (int i = 0; i < in; i++) {
                    double sum = 0;
                    for (int j = 0; j < out; j++) sum += gout[n * out + j] * k[i * out + j];
                    gin[n * in + i] = sum;
                }
        }
        for (int i = 0; i < in; i++)
            for (int j = 0; j < out; j++) {
                double sum = 0;
                for (int n = 0; n < rows; n++) sum += a[n * in + i] * gout[n * out + j];
                gk[i * out + j] = sum;
            }
        sumOverRows(gout, rows * out, out, data(dBias));
    }

    private static void sumOverRows(double[] values, int size, int columns, double[] sums) {
        java.util.Arrays.fill(sums, 0, columns, 0);
        for (int i = 0; i < size; i++) sums[i % columns] += values[i];
    }

    // ---- loss ----

    @Override public double[] softmaxCrossEntropy(Tensor logits, Tensor labels, Tensor dLogits, double labelSmoothing) {
        int rows = logits.shape().dim(0), classes = logits.shape().dim(1);
        double[] z = data(logits), y = data(labels);
        double[] probabilities = new double[rows * classes];
        softmaxRows(z, rows, classes, probabilities);
        double lossSum = 0;
        int correct = 0;
        for (int n = 0; n < rows; n++) {
            int label = (int) y[n];
            double labelLoss = -Math.log(probabilities[n * classes + label]);
            if (labelSmoothing == 0) {
                lossSum += labelLoss;
            } else {
                double uniformLoss = 0;
                for (int j = 0; j < classes; j++) uniformLoss -= Math.log(probabilities[n * classes + j]);
                lossSum += (1 - labelSmoothing) * labelLoss + labelSmoothing * uniformLoss / classes;
            }
            int best = 0;
            for (int j = 1; j < classes; j++) if (z[n * classes + j] > z[n * classes + best]) best = j;
            if (best == label) correct++;
        }
        if (dLogits != null) {
            double[] g = data(dLogits);
            for (int n = 0; n < rows; n++)
                for (int j = 0; j < classes; j++)
                    g[n * classes + j] = (probabilities[n * classes + j]
                            - ((j == (int) y[n] ? 1 - labelSmoothing : 0) + labelSmoothing / classes)) / rows;
        }
        return new double[] {lossSum, correct};
    }

    @Override public void softmax(Tensor logits, Tensor probabilities) {
        softmaxRows(data(logits), logits.shape().dim(0), logits.shape().dim(1), data(probabilities));
    }

    private static void softmaxRows(double[] z, int rows, int classes, double[] out) {
        for (int n = 0; n < rows; n++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < classes; j++) max = Math.max(max, z[n * classes + j]);
            double sum = 0;
            for (int j = 0; j < classes; j++) sum += Math.exp(z[n * classes + j] - max);
            for (int j = 0; j < classes; j++) out[n * classes + j] = Math.exp(z[n * classes + j] - max) / sum;
        }
    }

    // ---- optimizers ----

    @Override public void adamUpdate(Tensor[] params, Tensor[] grads, Tensor[] m, Tensor[] v,
                                     double lrT, double beta1, double beta2, double epsilon) {
        for (int p = 0; p < params.length; p++) {
            double[] w = data(params[p]), g = data(grads[p]), mp = data(m[p]), vp = data(v[p]);
            for (int i = 0; i < size(params[p]); i++) {
                mp[i] = beta1 * mp[i] + (1 - beta1) * g[i];
                vp[i] = beta2 * vp[i] + (1 - beta2) * g[i] * g[i];
                w[i] -= lrT * mp[i] / (Math.sqrt(vp[i]) + epsilon);
            }
        }
    }

    @Override public void sgdUpdate(Tensor[] params, Tensor[] grads, Tensor[] velocity,
                                    double lr, double momentum, double weightDecay, boolean nesterov) {
        for (int p = 0; p < params.length; p++) {
            double[] w = data(params[p]), g = data(grads[p]), vel = data(velocity[p]);
            for (int i = 0; i < size(params[p]); i++) {
                vel[i] = momentum * vel[i] + g[i] + weightDecay * w[i];
                w[i] -= lr * (nesterov ? g[i] + weightDecay * w[i] + momentum * vel[i] : vel[i]);
            }
        }
    }

    @Override public void close() {}

    private static double[] data(Tensor t) { return ((RefTensor) t).data(); }

    private static int size(Tensor t) { return t.shape().elements(); }
}
