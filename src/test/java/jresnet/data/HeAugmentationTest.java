package jresnet.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class HeAugmentationTest {
    private static final int IMAGE = 32 * 32 * 3;

    private static int index(int y, int x, int c) { return (y * 32 + x) * 3 + c; }

    @Test void perPixelMeanAveragesEachPositionOverImages() {
        float[] images = new float[3 * IMAGE];
        for (int k = 0; k < 3; k++) for (int i = 0; i < IMAGE; i++) images[k * IMAGE + i] = i % 251 + 10 * k;
        float[] mean = HeAugmentation.perPixelMean(images, 3);
        for (int i = 0; i < IMAGE; i++) assertEquals(i % 251 + 10, mean[i], 1e-4);
        // only the first n images count
        assertEquals(images[IMAGE + 5] - 5, HeAugmentation.perPixelMean(images, 2)[5], 1e-4);
    }

    @Test void meanOfADatasetEqualsTheMeanOfItsImages() {
        int n = 5;
        byte[] records = new byte[n * Dataset.RECORD_BYTES];
        SplittableRandom random = new SplittableRandom(11);
        for (int i = 0; i < n; i++) {
            records[i * Dataset.RECORD_BYTES] = (byte) random.nextInt(10);
            for (int j = 1; j < Dataset.RECORD_BYTES; j++) records[i * Dataset.RECORD_BYTES + j] = (byte) random.nextInt(256);
        }
        Dataset train = Dataset.ofRecords(records);
        float[] images = new float[n * IMAGE];
        for (int i = 0; i < n; i++) train.copyImageNhwc(i, images, i * IMAGE);
        assertArrayEquals(HeAugmentation.perPixelMean(images, n), HeAugmentation.fromTrainingSet(train).mean(), 1e-4f);
    }

    /**
     * Each input pixel holds a code of its position, so output pixel (8, 8) — inside the image for any
     * crop — tells which crop and flip were drawn; every other output pixel must then be that crop's
     * pixel or padding zero. Over 2,000 images all 9·9·2 choices appear.
     */
    @Test void everyImageIsAPaddedCropOrItsMirror() {
        int n = 2000;
        float[] images = new float[n * IMAGE];
        for (int k = 0; k < n; k++)
            for (int y = 0; y < 32; y++)
                for (int x = 0; x < 32; x++)
                    for (int c = 0; c < 3; c++) images[k * IMAGE + index(y, x, c)] = 1 + y * 100 + x + 10_000 * c;
        HeAugmentation augmentation = new HeAugmentation(new float[IMAGE]);
        augmentation.apply(images, n, new SplittableRandom(42));
        Set<Integer> seen = new HashSet<>();
        for (int k = 0; k < n; k++) {
            float probe = images[k * IMAGE + index(8, 8, 0)];
            int sourceRow = ((int) probe - 1) / 100, sourceColumn = ((int) probe - 1) % 100;
            int top = sourceRow - 8;
            boolean flip = sourceColumn >= 19;
            int left = flip ? sourceColumn - 23 : sourceColumn - 8;
            assertTrue(top >= -4 && top <= 4 && left >= -4 && left <= 4, "image " + k + " probe " + probe);
            seen.add(((top + 4) * 9 + left + 4) * 2 + (flip ? 1 : 0));
            for (int y = 0; y < 32; y++)
                for (int x = 0; x < 32; x++) {
                    int sy = y + top, sx = (flip ? 31 - x : x) + left;
                    boolean inside = sy >= 0 && sy < 32 && sx >= 0 && sx < 32;
                    for (int c = 0; c < 3; c++) {
                        float expected = inside ? 1 + sy * 100 + sx + 10_000 * c : 0;
                        assertEquals(expected, images[k * IMAGE + index(y, x, c)], "image " + k + " at " + y + "," + x);
                    }
                }
        }
        assertEquals(162, seen.size(), "all crops and flips drawn");
    }

    /** The mean comes off before padding, so the border is zero rather than minus the mean. */
    @Test void meanIsSubtractedBeforeZeroPadding() {
        float[] mean = new float[IMAGE];
        java.util.Arrays.fill(mean, 5f);
        HeAugmentation augmentation = new HeAugmentation(mean);
        float[] images = new float[IMAGE];
        java.util.Arrays.fill(images, 7f);
        SplittableRandom random = new SplittableRandom(3);
        boolean sawPadding = false;
        for (int attempt = 0; attempt < 20; attempt++) {
            java.util.Arrays.fill(images, 7f);
            augmentation.apply(images, 1, random);
            for (float v : images) {
                assertTrue(v == 2f || v == 0f, "value " + v);
                sawPadding |= v == 0f;
            }
        }
        assertTrue(sawPadding);
        float[] evaluation = new float[IMAGE];
        java.util.Arrays.fill(evaluation, 7f);
        augmentation.evaluation().apply(evaluation, 1, null);
        float[] expected = new float[IMAGE];
        java.util.Arrays.fill(expected, 2f);
        assertArrayEquals(expected, evaluation);
    }

    @Test void sameSeedSameBatch() {
        float[] a = new float[4 * IMAGE];
        SplittableRandom content = new SplittableRandom(9);
        for (int i = 0; i < a.length; i++) a[i] = content.nextInt(256);
        float[] b = a.clone();
        HeAugmentation augmentation = HeAugmentation.fromTrainingImages(a, 4);
        augmentation.apply(a, 4, new SplittableRandom(5));
        augmentation.apply(b, 4, new SplittableRandom(5));
        assertArrayEquals(a, b);
    }

    @Test void badSizesAreRejectedWithTheNumbers() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new HeAugmentation(new float[10]));
        assertTrue(e.getMessage().contains("3072") && e.getMessage().contains("10"), e.getMessage());
        HeAugmentation augmentation = new HeAugmentation(new float[IMAGE]);
        e = assertThrows(IllegalArgumentException.class,
                () -> augmentation.apply(new float[IMAGE], 2, new SplittableRandom(1)));
        assertTrue(e.getMessage().contains("6144"), e.getMessage());
    }
}
