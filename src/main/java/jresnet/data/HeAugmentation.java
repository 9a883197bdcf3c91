package jresnet.data;

import java.util.SplittableRandom;
import jresnet.UserException;

/**
 * He et al. 2015's CIFAR-10 preprocessing on 32x32x3 NHWC images: subtract the per-pixel mean of the
 * training images, then pad 4 pixels of zeros on each side, take a random 32x32 crop and flip it
 * horizontally with probability 1/2. Per image the random draws are, in order: crop row offset
 * (0..8), crop column offset (0..8), flip. Evaluation images get the mean subtraction only
 * ({@link #evaluation()}). Not thread-safe: one instance per batch stream.
 */
public final class HeAugmentation implements BatchTransform {
    public static final int SIZE = 32, CHANNELS = 3, PAD = 4;
    private static final int IMAGE = SIZE * SIZE * CHANNELS, ROW = SIZE * CHANNELS;

    private final float[] mean;
    private final float[] image = new float[IMAGE];

    /** {@code mean}: the per-pixel mean image, 32·32·3 values in HWC order. */
    public HeAugmentation(float[] mean) {
        if (mean.length != IMAGE) {
            throw new IllegalArgumentException("per-pixel mean needs " + IMAGE + " values (32x32x3), got " + mean.length);
        }
        this.mean = mean.clone();
    }

    /** The augmentation with the per-pixel mean of the first n training images. */
    public static HeAugmentation fromTrainingImages(float[] images, int n) {
        return new HeAugmentation(perPixelMean(images, n));
    }

    /** The augmentation with the per-pixel mean of every image of the training set. */
    public static HeAugmentation fromTrainingSet(Dataset train) {
        if (train.size() == 0) throw new UserException("per-pixel mean: the training set is empty");
        double[] sum = new double[IMAGE];
        float[] image = new float[IMAGE];
        for (int k = 0; k < train.size(); k++) {
            train.copyImageNhwc(k, image, 0);
            for (int i = 0; i < IMAGE; i++) sum[i] += image[i];
        }
        float[] mean = new float[IMAGE];
        for (int i = 0; i < IMAGE; i++) mean[i] = (float) (sum[i] / train.size());
        return new HeAugmentation(mean);
    }

    /** The mean over n images of each of the 32·32·3 pixel values, accumulated in double. */
    public static float[] perPixelMean(float[] images, int n) {
        if (n <= 0) throw new UserException("per-pixel mean: need at least one training image, got " + n);
        checkBatch(images, n);
        double[] sum = new double[IMAGE];
        for (int k = 0; k < n; k++) for (int i = 0; i < IMAGE; i++) sum[i] += images[k * IMAGE + i];
        float[] mean = new float[IMAGE];
        for (int i = 0; i < IMAGE; i++) mean[i] = (float) (sum[i] / n);
        return mean;
    }

    public float[] mean() { return mean.clone(); }

    /** The evaluation-time transform: mean subtraction only, no randomness. */
    public BatchTransform evaluation() {
        return (images, n, random) -> subtractMean(images, n);
    }

    public void subtractMean(float[] images, int n) {
        checkBatch(images, n);
        for (int k = 0; k < n; k++) for (int i = 0; i < IMAGE; i++) images[k * IMAGE + i] -= mean[i];
    }

    @Override public void apply(float[] images, int n, SplittableRandom random) {
        checkBatch(images, n);
        for (int k = 0; k < n; k++) {
            int base = k * IMAGE;
            for (int i = 0; i < IMAGE; i++) image[i] = images[base + i] - mean[i];
            int top = random.nextInt(2 * PAD + 1) - PAD, left = random.nextInt(2 * PAD + 1) - PAD;
            boolean flip = random.nextBoolean();
            for (int y = 0; y < SIZE; y++) {
                int sy = y + top, dst = base + y * ROW;
                if (sy < 0 || sy >= SIZE) {
                    java.util.Arrays.fill(images, dst, dst + ROW, 0f);
                    continue;
                }
                for (int x = 0; x < SIZE; x++) {
                    int sx = (flip ? SIZE - 1 - x : x) + left, at = dst + x * CHANNELS;
                    if (sx < 0 || sx >= SIZE) {
                        images[at] = images[at + 1] = images[at + 2] = 0f;
                    } else {
                        int src = sy * ROW + sx * CHANNELS;
                        images[at] = image[src];
                        images[at + 1] = image[src + 1];
                        images[at + 2] = image[src + 2];
                    }
                }
            }
        }
    }

    private static void checkBatch(float[] images, int n) {
        if (n < 0 || (long) n * IMAGE > images.length) {
            throw new IllegalArgumentException(n + " images of 32x32x3 need " + (long) n * IMAGE
                    + " values, the buffer holds " + images.length);
        }
    }
}
