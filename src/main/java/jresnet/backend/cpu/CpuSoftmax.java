package jresnet.backend.cpu;

import static jresnet.backend.cpu.CpuTensor.array;

import jresnet.tensor.Tensor;

/** Softmax and its cross-entropy for {@link CpuBackend}: [batch, classes], small, single-threaded, in double. */
final class CpuSoftmax {
    private CpuSoftmax() {}

    static double[] softmaxCrossEntropy(Tensor logits, Tensor labels, Tensor dLogits, double labelSmoothing) {
        int rows = logits.shape().dim(0), classes = logits.shape().dim(1);
        float[] z = array(logits), y = array(labels), g = dLogits == null ? null : array(dLogits);
        double lossSum = 0;
        int correct = 0;
        for (int n = 0; n < rows; n++) {
            int base = n * classes, label = (int) y[n], best = 0;
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < classes; j++) {
                max = Math.max(max, z[base + j]);
                if (z[base + j] > z[base + best]) best = j;
            }
            double sum = 0;
            for (int j = 0; j < classes; j++) sum += Math.exp(z[base + j] - max);
            double labelLoss = Math.log(sum) - (z[base + label] - max);
            if (labelSmoothing == 0) {
                lossSum += labelLoss;
            } else {
                double shiftedSum = 0;
                for (int j = 0; j < classes; j++) shiftedSum += z[base + j] - max;
                double uniformLoss = Math.log(sum) - shiftedSum / classes;
                lossSum += (1 - labelSmoothing) * labelLoss + labelSmoothing * uniformLoss;
            }
            if (best == label) correct++;
            if (g != null) {
                for (int j = 0; j < classes; j++) {
                    double target = (j == label ? 1 - labelSmoothing : 0) + labelSmoothing / classes;
                    g[base + j] = (float) ((Math.exp(z[base + j] - max) / sum - target) / rows);
                }
            }
        }
        return new double[] {lossSum, correct};
    }

    static void softmax(Tensor logits, Tensor probabilities) {
        int rows = logits.shape().dim(0), classes = logits.shape().dim(1);
        float[] z = array(logits), p = array(probabilities);
        for (int n = 0; n < rows; n++) {
            int base = n * classes;
            double max = Double.NEGATIVE_INFINITY, sum = 0;
            for (int j = 0; j < classes; j++) max = Math.max(max, z[base + j]);
            for (int j = 0; j < classes; j++) sum += Math.exp(z[base + j] - max);
            for (int j = 0; j < classes; j++) p[base + j] = (float) (Math.exp(z[base + j] - max) / sum);
        }
    }
}
