package jresnet.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import jresnet.UserException;
import jresnet.data.Dataset;
import jresnet.data.RandomRecords;
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

    /** 40 epochs of 391 updates (50,000 images at batch 128): warm-up over the first 782, then cosine to 0. */
    @Test void fastScheduleAtChosenSteps() {
        Optimizer sgd = Recipe.FAST.optimizer(391, 40);
        assertEquals(0.1 / 782, sgd.learningRate(1), 1e-15, "warm-up starts one step above 0");
        assertEquals(0.05, sgd.learningRate(391), 1e-15, "halfway through the 2-epoch warm-up");
        assertEquals(0.1, sgd.learningRate(782), 1e-15, "the peak at the end of the warm-up");
        assertEquals(0.1, sgd.learningRate(783), 1e-15, "the cosine starts at the peak");
        assertEquals(0.05, sgd.learningRate(783 + 14_858 / 2), 1e-12, "halfway through the cosine");
        assertEquals(0.1 * 0.5 * (1 + Math.cos(Math.PI * 14_857 / 14_858)), sgd.learningRate(15_640), 1e-18);
        assertTrue(sgd.learningRate(15_640) > 0 && sgd.learningRate(15_640) < 1e-8, "the last update just above 0");
        assertEquals(0, sgd.learningRate(15_641), "past the run's end (resumed with more epochs)");
        for (long t = 784; t <= 15_640; t += 97) assertTrue(sgd.learningRate(t) < sgd.learningRate(t - 1), "decreasing at " + t);
        assertEquals(40, Recipe.FAST.defaultEpochs(391));
        assertEquals(0.1, Recipe.FAST.labelSmoothing());
        assertEquals(0.0, Recipe.HE2015.labelSmoothing());
        assertEquals(Recipe.FAST, Recipe.parse("fast"));

        Map<String, Object> config = sgd.config();
        assertEquals(0.1, config.get("peak_learning_rate"));
        assertEquals(782L, config.get("warmup_iterations"));
        assertEquals(15_640L, config.get("total_iterations"));
        assertEquals(5e-4, config.get("weight_decay"));
        assertEquals(0.9, config.get("momentum"));
        assertEquals(true, config.get("nesterov"));
        Map<String, Object> settings = Recipe.FAST.settings();
        for (String key : List.of("momentum", "nesterov", "weight_decay", "weight_decay_applies_to", "peak_learning_rate",
                "warmup_fraction_of_updates", "schedule", "label_smoothing", "preprocessing", "augmentation", "default_epochs")) {
            assertTrue(settings.containsKey(key), key);
        }
    }

    /** He et al.'s recipe keeps its configuration keys and values. */
    @Test void he2015OptimizerConfigIsUnchanged() {
        assertEquals(List.of("name", "boundaries", "learning_rates", "momentum", "weight_decay"),
                List.copyOf(Recipe.HE2015.optimizer(352, 182).config().keySet()));
        assertEquals(List.of(32_000L, 48_000L), Recipe.HE2015.optimizer().config().get("boundaries"));
    }

    /** The fast recipe's per-channel mean and std travel in the metadata and come back as (x - mean_c) / std_c. */
    @Test void channelNormalisationRoundTripsThroughMetadata() {
        Dataset data = RandomRecords.dataset(3, 5);
        float[] images = new float[3 * 3072];
        for (int i = 0; i < 3; i++) data.copyImageNhwc(i, images, i * 3072);
        double[] mean = new double[3], std = new double[3];
        for (int i = 0; i < images.length; i++) mean[i % 3] += images[i] / 3072.0;
        for (int i = 0; i < images.length; i++) std[i % 3] += Math.pow(images[i] - mean[i % 3], 2) / 3072.0;
        float[] expected = new float[images.length];
        for (int i = 0; i < images.length; i++) expected[i] = (float) ((images[i] - mean[i % 3]) / Math.sqrt(std[i % 3]));

        Map<String, String> metadata = Recipe.FAST.inferenceMetadata(data);
        assertTrue(metadata.containsKey(Recipe.CHANNEL_STD));
        Recipe.inferenceTransform(metadata, "x").apply(images, 3, null);
        assertArrayEquals(expected, images, 1e-4f);
        Map<String, String> badStd = new java.util.HashMap<>(metadata);
        badStd.put(Recipe.CHANNEL_STD, metadata.get(Recipe.PIXEL_MEAN));
        UserException e = assertThrows(UserException.class, () -> Recipe.inferenceTransform(badStd, "w.safetensors"));
        assertTrue(e.getMessage().startsWith("w.safetensors: metadata 'channel_std'"), e.getMessage());
    }

    /** The pixel mean travels in the weights' metadata and comes back as the same mean subtraction. */
    /** Images that do not vary in a channel have no scale for the fast recipe: said in words of the data, not of metadata. */
    @Test void fastRefusesImagesThatDoNotVary() {
        byte[] records = new byte[4 * Dataset.RECORD_BYTES];
        for (int i = 0; i < 4; i++) {
            for (int j = 1; j < Dataset.RECORD_BYTES; j++) records[i * Dataset.RECORD_BYTES + j] = (byte) (j < 1 + 2 * 1024 ? i * 9 : 50);
        }
        UserException e = assertThrows(UserException.class, () -> Recipe.FAST.inferenceMetadata(Dataset.ofRecords(records)));
        assertEquals("recipe fast: the training images do not vary in colour channel 2 (standard deviation 0), and the recipe divides "
                + "each channel by its standard deviation; train these images with --recipe he2015 or keras", e.getMessage());
        assertEquals(1, Recipe.HE2015.inferenceMetadata(Dataset.ofRecords(records)).size(), "he2015 subtracts the mean only");
    }

    @Test void pixelMeanRoundTripsThroughMetadata() {
        Dataset data = RandomRecords.dataset(4, 3);
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
