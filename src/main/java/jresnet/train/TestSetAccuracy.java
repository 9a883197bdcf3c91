package jresnet.train;

import java.util.List;
import java.util.Locale;
import jresnet.data.BatchTransform;
import jresnet.data.Dataset;
import jresnet.nn.Executor;

/**
 * Test accuracy as two figures. In this project's test_batch.bin, records 0-999 are the bit-exact
 * CIFAR-10 test images and records 1000-9999 were rebuilt from lossy JPEG copies (the data folder's
 * SOURCE.md), so every test accuracy is given on all the records evaluated and on the exact ones
 * among them (records 0-999), the latter with its 95% Wilson score interval: at accuracies near 90%
 * on 1,000 images the normal approximation's symmetric interval is off, Wilson's is not.
 */
public final class TestSetAccuracy {
    /** test_batch.bin's records 0..EXACT_RECORDS-1 are bit-exact. */
    public static final int EXACT_RECORDS = 1000;
    /** The two-sided 95% quantile of the standard normal distribution. */
    private static final double Z95 = 1.959963984540054;

    /** {@code correct} of {@code total} images classified correctly. */
    public record Count(long correct, int total) {
        public double accuracy() { return total == 0 ? Double.NaN : (double) correct / total; }

        /** The 95% Wilson score interval of the accuracy: {low, high}. */
        public double[] wilson95() {
            if (total == 0) return new double[] {Double.NaN, Double.NaN};
            double p = accuracy(), z2 = Z95 * Z95, n = total;
            double center = (p + z2 / (2 * n)) / (1 + z2 / n);
            double half = Z95 / (1 + z2 / n) * Math.sqrt(p * (1 - p) / n + z2 / (4 * n * n));
            return new double[] {Math.max(0, center - half), Math.min(1, center + half)};
        }

        Count plus(Count other) { return new Count(correct + other.correct, total + other.total); }
    }

    /**
     * The accuracy on all evaluated records (0..all.total-1 of the test file) and on the exact ones
     * among them; {@code lossSum}: the plain cross-entropy summed over all (NaN with flip TTA, which
     * averages probabilities, not losses).
     */
    public record Result(Count all, Count exact, double lossSum) {
        /**
         * The stable report lines, e.g. "test accuracy on records 0-9999: 0.9132 (9132/10000)" and
         * "test accuracy on records 0-999 (bit-exact): 0.9180 (918/1000), 95% Wilson interval 0.8991-0.9337";
         * {@code prefix} goes before "test" ("" or e.g. "flip TTA ").
         */
        public List<String> lines(String prefix) {
            double[] interval = exact.wilson95();
            return List.of(
                    String.format(Locale.ROOT, "%stest accuracy on records 0-%d%s: %.4f (%d/%d)", prefix, all.total - 1,
                            all.total < 10_000 ? " (a limited test set)" : "", all.accuracy(), all.correct, all.total),
                    String.format(Locale.ROOT, "%stest accuracy on records 0-%d (bit-exact): %.4f (%d/%d), 95%% Wilson interval %.4f-%.4f",
                            prefix, exact.total - 1, exact.accuracy(), exact.correct, exact.total, interval[0], interval[1]));
        }
    }

    private TestSetAccuracy() {}

    /**
     * Evaluates {@code test} (records 0..n-1 of the test file, in order) in inference mode; with
     * {@code flipTta} a record counts as correct when the mean of the softmax probabilities of the
     * image and of its horizontal mirror has its first maximum at the label.
     */
    public static Result evaluate(Executor executor, Dataset test, int batchSize, BatchTransform transform, boolean flipTta) {
        int exact = Math.min(EXACT_RECORDS, test.size());
        double[] head = sums(executor, test.slice(0, exact), batchSize, transform, flipTta);
        double[] tail = sums(executor, test.slice(exact, test.size()), batchSize, transform, flipTta);
        Count exactCount = new Count((long) head[1], exact);
        return new Result(exactCount.plus(new Count((long) tail[1], test.size() - exact)), exactCount,
                flipTta ? Double.NaN : head[0] + tail[0]);
    }

    private static double[] sums(Executor executor, Dataset data, int batchSize, BatchTransform transform, boolean flipTta) {
        if (!flipTta) return Trainer.evaluationSums(executor, data, batchSize, transform);
        long correct = 0;
        int[] order = new int[data.size()];
        for (int i = 0; i < order.length; i++) order[i] = i;
        try (BatchLoader loader = new BatchLoader(data, order, Math.min(batchSize, executor.capacity()), transform, 0, 0, 0)) {
            while (loader.hasNext()) {
                BatchLoader.Batch b = loader.next();
                float[] probabilities = flipAveragedProbabilities(executor, b.images(), b.size());
                int classes = probabilities.length / b.size();
                for (int n = 0; n < b.size(); n++) {
                    int best = 0;
                    for (int k = 1; k < classes; k++) {
                        if (probabilities[n * classes + k] > probabilities[n * classes + best]) best = k;
                    }
                    if (best == (int) b.labels()[n]) correct++;
                }
            }
        }
        return new double[] {Double.NaN, correct};
    }

    /**
     * Flip test-time augmentation: the mean of the softmax probabilities of n preprocessed NHWC
     * images and of their horizontal mirrors. Mirrors {@code images} in place.
     */
    public static float[] flipAveragedProbabilities(Executor executor, float[] images, int n) {
        float[] plain = executor.predictBatch(images, n);
        mirror(images, n);
        float[] mirrored = executor.predictBatch(images, n);
        for (int i = 0; i < plain.length; i++) plain[i] = (plain[i] + mirrored[i]) / 2;
        return plain;
    }

    /** Flips n 32x32x3 NHWC images left to right, in place. */
    static void mirror(float[] images, int n) {
        int size = Dataset.WIDTH, channels = Dataset.CHANNELS, row = size * channels;
        for (int k = 0; k < n; k++) {
            for (int y = 0; y < Dataset.HEIGHT; y++) {
                int base = k * Dataset.IMAGE_BYTES + y * row;
                for (int x = 0; x < size / 2; x++) {
                    int a = base + x * channels, b = base + (size - 1 - x) * channels;
                    for (int c = 0; c < channels; c++) {
                        float t = images[a + c];
                        images[a + c] = images[b + c];
                        images[b + c] = t;
                    }
                }
            }
        }
    }
}
