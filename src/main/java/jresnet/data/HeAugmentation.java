package jresnet.data;

import java.util.SplittableRandom;
import jresnet.UserException;

/**
 * He et al. 2015's CIFAR-10 preprocessing on 32x32x3 NHWC images: subtract the per-pixel mean of the
 * training images (optionally also multiply each channel by a scale, e.g. 1/std for a per-channel
 * mean/std normalisation), then pad 4 pixels of zeros on each side, take a random 32x32 crop and flip
 * it horizontally with probability 1/2. Per image the random draws are, in order: crop row offset
 * (0..8), crop column offset (0..8), flip. Evaluation images get the normalisation only
 * ({@link #evaluation()}). Not thread-safe: one instance per batch stream.
 */
public final class HeAugmentation implements BatchTransform {
    public static final int SIZE = 32, CHANNELS = 3, PAD = 4;
    private static final int IMAGE = SIZE * SIZE * CHANNELS, ROW = SIZE * CHANNELS;

    private final float[] mean, channelScale;
    private final float[] image = new float[IMAGE];

    /** {@code mean}: the per-pixel mean image, 32·32·3 values in HWC order; no scaling. */
    public HeAugmentation(float[] mean) {
        this(mean, new float[] {1, 1, 1});
    }

    /** {@code mean}: the per-pixel mean image (HWC); {@code channelScale}: a factor per channel applied after it. */
    public HeAugmentation(float[] mean, float[] channelScale) {
        if (mean.length != IMAGE) {
            throw new IllegalArgumentException("per-pixel mean needs " + IMAGE + " values (32x32x3), got " + mean.length);
        }
        if (channelScale.length != CHANNELS) {
            throw new IllegalArgumentException("channel scale needs " + CHANNELS + " values, got " + channelScale.length);
        }
        this.mean = mean.clone();
        this.channelScale = channelScale.clone();
    }

    /**
     * Per channel, the mean and the (population) standard deviation of every pixel value of the
     * training set, accumulated in double: {mean[3], std[3]}.
     */
    public static float[][] channelStatistics(Dataset train) {
        if (train.size() == 0) throw new UserException("channel statistics: the training set is empty");
        double[] sum = new double[CHANNELS], squares = new double[CHANNELS];
        float[] image = new float[IMAGE];
        for (int k = 0; k < train.size(); k++) {
            train.copyImageNhwc(k, image, 0);
            for (int i = 0; i < IMAGE; i++) {
                sum[i % CHANNELS] += image[i];
                squares[i % CHANNELS] += (double) image[i] * image[i];
            }
        }
        double count = (double) train.size() * SIZE * SIZE;
        float[][] stats = new float[2][CHANNELS];
        for (int c = 0; c < CHANNELS; c++) {
            double mean = sum[c] / count;
            stats[0][c] = (float) mean;
            stats[1][c] = (float) Math.sqrt(Math.max(0, squares[c] / count - mean * mean));
        }
        return stats;
    }

    /** A mean image whose every pixel is {@code channelMean}. */
    public static float[] uniformMean(float[] channelMean) {
        float[] image = new float[IMAGE];
        for (int i = 0; i < IMAGE; i++) image[i] = channelMean[i % CHANNELS];
        return image;
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

    /** The factor per channel applied after the mean is subtracted (1, 1, 1 when none). */
    public float[] channelScale() { return channelScale.clone(); }

    /** The evaluation-time transform: the normalisation only, no randomness. */
    public BatchTransform evaluation() {
        return (images, n, random) -> normalize(images, n);
    }

    /** Subtracts the mean image and applies the channel scale, in place. */
    public void normalize(float[] images, int n) {
        checkBatch(images, n);
        for (int k = 0; k < n; k++) {
            for (int i = 0; i < IMAGE; i++) images[k * IMAGE + i] = normalized(images[k * IMAGE + i], i);
        }
    }

    private float normalized(float value, int i) { return (value - mean[i]) * channelScale[i % CHANNELS]; }

    @Override public void apply(float[] images, int n, SplittableRandom random) {
        checkBatch(images, n);
        for (int k = 0; k < n; k++) {
            int base = k * IMAGE;
            for (int i = 0; i < IMAGE; i++) image[i] = normalized(images[base + i], i);
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
