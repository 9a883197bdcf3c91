package jresnet.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jresnet.TestData;
import org.junit.jupiter.api.Test;

class JpegRoundTripTest {
    /**
     * The exact test records 0-999 re-encoded at quality 75 lose about what the data folder's SOURCE.md
     * measured for the same records in the JPEG copies test records 1000-9999 came from (mean absolute
     * error 5.80 levels, PSNR about 30.5 dB; measured here: 5.82, and 30.4 dB per image on average, 29.9 dB
     * over all values): the re-encoding stands in for the rebuild. The bounds allow for the decoders
     * differing (the JDK's here, Pillow's there).
     */
    @Test void qualitySeventyFiveLosesWhatTheRebuildLost() throws Exception {
        Dataset exact = Cifar10.test(TestData.cifar10(), 1000);
        Dataset reencoded = JpegRoundTrip.apply(exact, 75);
        assertArrayEquals(exact.labels(), reencoded.labels());
        JpegRoundTrip.Distortion d = JpegRoundTrip.distortion(exact, reencoded);
        assertEquals(5.80, d.meanAbsoluteError(), 0.3, d.toString());
        // SOURCE.md's "about 30.5 dB" is the mean of the images' own PSNRs: that one lands there
        assertEquals(30.5, d.meanImagePsnrDb(), 0.3, d.toString());
        assertTrue(d.psnrDb() < d.meanImagePsnrDb(), d.toString());
    }

    /** Two ways of quoting PSNR, on images whose errors are known: one image off by 1 everywhere, one by 4, one unchanged. */
    @Test void psnrOverAllValuesAndPerImage() {
        byte[] records = new byte[3 * Dataset.RECORD_BYTES];
        Dataset original = Dataset.ofRecords(records);
        int[] offsets = {1, 4, 0};
        Dataset changed = original.withImages(i -> {
            byte[] image = new byte[Dataset.IMAGE_BYTES];
            java.util.Arrays.fill(image, (byte) offsets[i]);
            return image;
        });
        JpegRoundTrip.Distortion d = JpegRoundTrip.distortion(original, changed);
        double psnr1 = 10 * Math.log10(255.0 * 255.0), psnr4 = 10 * Math.log10(255.0 * 255.0 / 16);
        assertEquals((1 + 4 + 0) / 3.0, d.meanAbsoluteError(), 1e-12);
        assertEquals(4, d.maxError());
        assertEquals(10 * Math.log10(255.0 * 255.0 / ((1 + 16 + 0) / 3.0)), d.psnrDb(), 1e-9);
        assertEquals((psnr1 + psnr4) / 2, d.meanImagePsnrDb(), 1e-9, "the unchanged image is left out");
        assertEquals(String.format(java.util.Locale.ROOT, "images differ by 1.67 levels on average (largest 4), PSNR %.1f dB over all values, "
                + "%.1f dB on average per image", d.psnrDb(), d.meanImagePsnrDb()), d.describe());
        JpegRoundTrip.Distortion none = JpegRoundTrip.distortion(original, original);
        assertTrue(Double.isNaN(none.meanImagePsnrDb()));
        assertEquals("images differ by 0.00 levels on average (largest 0), no PSNR (every image came back unchanged)", none.describe());
    }

    @Test void higherQualityLosesLess() throws Exception {
        Dataset images = Cifar10.test(TestData.cifar10(), 50);
        double previous = Double.MAX_VALUE;
        for (int quality : new int[] {25, 50, 75, 95}) {
            double error = JpegRoundTrip.distortion(images, JpegRoundTrip.apply(images, quality)).meanAbsoluteError();
            assertTrue(error < previous, "quality " + quality + ": " + error + " levels, not below " + previous);
            previous = error;
        }
        assertTrue(previous > 0, "quality 95 is still lossy");
    }
}
