package jresnet.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Map;
import java.util.SplittableRandom;
import jresnet.UserException;
import jresnet.data.Dataset;
import jresnet.optim.Optimizer;
import org.junit.jupiter.api.Test;

class RecipeTest {
    @Test void defaultsPerModelFamily() {
        assertEquals(Recipe.KERAS, Recipe.defaultFor("resnet30"));
        assertEquals(Recipe.KERAS, Recipe.defaultFor("tutorial-resnet-1-w2"));
        assertEquals(Recipe.HE2015, Recipe.defaultFor("plain56"));
        assertEquals(Recipe.HE2015, Recipe.defaultFor("resnet110"));
        assertThrows(UserException.class, () -> Recipe.parse("sgd"));
    }

    @Test void he2015ScheduleAndLength() {
        Optimizer sgd = Recipe.HE2015.optimizer();
        assertEquals(0.1, sgd.learningRate(1));
        assertEquals(0.1, sgd.learningRate(32_000));
        assertEquals(0.01, sgd.learningRate(32_001));
        assertEquals(0.001, sgd.learningRate(48_001));
        assertEquals(182, Recipe.HE2015.defaultEpochs(352), "64k updates at 45k images / 128 per batch");
        assertEquals(20, Recipe.KERAS.defaultEpochs(391));
    }

    /** The pixel mean travels in the weights' metadata and comes back as the same mean subtraction. */
    @Test void pixelMeanRoundTripsThroughMetadata() {
        SplittableRandom random = new SplittableRandom(3);
        byte[] records = new byte[4 * Dataset.RECORD_BYTES];
        random.nextBytes(records);
        for (int i = 0; i < 4; i++) records[i * Dataset.RECORD_BYTES] = (byte) random.nextInt(10);
        Dataset data = Dataset.ofRecords(records);
        Map<String, String> metadata = Recipe.HE2015.inferenceMetadata(data);
        assertNull(Recipe.inferenceTransform(Recipe.KERAS.inferenceMetadata(data), "x"));
        float[] images = new float[4 * 3072], expected = new float[4 * 3072];
        for (int i = 0; i < 4; i++) data.copyImageNhwc(i, images, i * 3072);
        for (int p = 0; p < 3072; p++) {
            double mean = 0;
            for (int i = 0; i < 4; i++) mean += images[i * 3072 + p];
            for (int i = 0; i < 4; i++) expected[i * 3072 + p] = images[i * 3072 + p] - (float) (mean / 4);
        }
        Recipe.inferenceTransform(metadata, "x").apply(images, 4, null);
        assertArrayEquals(expected, images, 1e-4f);
        assertThrows(UserException.class, () -> Recipe.inferenceTransform(Map.of(Recipe.PIXEL_MEAN, "AAAA"), "w.safetensors"));
    }
}
