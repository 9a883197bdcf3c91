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
     * error 5.80 levels, PSNR about 30.5 dB; measured here: 5.82 and 29.9 dB, the PSNR perhaps averaged
     * otherwise there): the re-encoding stands in for the rebuild. The bounds allow for the decoders
     * differing (the JDK's here, Pillow's there).
     */
    @Test void qualitySeventyFiveLosesWhatTheRebuildLost() throws Exception {
        Dataset exact = Cifar10.test(TestData.cifar10(), 1000);
        Dataset reencoded = JpegRoundTrip.apply(exact, 75);
        assertArrayEquals(exact.labels(), reencoded.labels());
        JpegRoundTrip.Distortion d = JpegRoundTrip.distortion(exact, reencoded);
        assertEquals(5.80, d.meanAbsoluteError(), 0.3, d.toString());
        assertEquals(30.5, d.psnrDb(), 1.0, d.toString());
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
