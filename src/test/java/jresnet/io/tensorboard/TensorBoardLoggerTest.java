package jresnet.io.tensorboard;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

import jresnet.TestSeeds;
import jresnet.train.EpochMetrics;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TensorBoardLoggerTest {
    private static final String FILE_NAME_PATTERN =
            "events\\.out\\.tfevents\\.\\d{10}\\.[A-Za-z0-9._-]+\\.\\d+\\.\\d+\\.v2";
    private static final List<String> TRAIN_SCALARS =
            List.of("epoch_loss", "epoch_accuracy", "epoch_learning_rate", "epoch_images_per_second");

    @TempDir
    Path runDir;

    private final long seed = TestSeeds.next();
    private final Random random = new Random(seed);

    private float[] gaussian(int n) {
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) (random.nextGaussian() * 0.1);
        }
        return values;
    }

    /** Includes an all-zero bias (one bucket) and parameters that must not be logged. */
    private Map<String, float[]> randomWeights(int epoch) {
        Map<String, float[]> weights = new LinkedHashMap<>();
        weights.put("conv2d.kernel", gaussian(3 * 3 * 3 * 16));
        weights.put("conv2d.bias", epoch == 0 ? new float[16] : gaussian(16));
        weights.put("batch_normalization.gamma", gaussian(16));
        weights.put("batch_normalization.moving_mean", gaussian(16));
        weights.put("dense.kernel", gaussian(64 * 10));
        weights.put("dense.bias", gaussian(10));
        return weights;
    }

    private EpochMetrics randomMetrics(int epoch, boolean validated) {
        return new EpochMetrics(epoch, 2 * random.nextDouble(), random.nextDouble(),
                validated ? 2 * random.nextDouble() : Double.NaN, validated ? random.nextDouble() : Double.NaN,
                10 * random.nextDouble(), 5000 * random.nextDouble(), 1e-3 * random.nextDouble());
    }

    @Test
    void threeEpochsReadBackWithEveryValue() throws IOException {
        List<EpochMetrics> metrics = List.of(randomMetrics(0, true), randomMetrics(1, false), randomMetrics(2, true));
        List<Map<String, float[]>> weights = new ArrayList<>();
        try (TensorBoardLogger logger = new TensorBoardLogger(runDir)) {
            for (EpochMetrics m : metrics) {
                weights.add(randomWeights(m.epoch()));
                logger.onEpochEnd(m.epoch(), m.logs(), weights.get(weights.size() - 1));
            }
        }

        List<Event> train = readSingleEventFile(runDir.resolve("train"));
        assertEquals(1 + 3 * (TRAIN_SCALARS.size() + 4), train.size(), "seed " + seed);
        assertFileVersion(train.get(0));
        int next = 1;
        for (int epoch = 0; epoch < 3; epoch++) {
            EpochMetrics m = metrics.get(epoch);
            double[] expected = {m.loss(), m.accuracy(), m.learningRate(), m.imagesPerSecond()};
            for (int i = 0; i < TRAIN_SCALARS.size(); i++) {
                assertScalar(train.get(next++), epoch, TRAIN_SCALARS.get(i), expected[i]);
            }
            for (String layer : List.of("conv2d", "dense")) {
                for (String param : List.of("kernel", "bias")) {
                    assertHistogram(train.get(next++), epoch, layer + "/" + param + "_0",
                            weights.get(epoch).get(layer + "." + param));
                }
            }
        }

        List<Event> validation = readSingleEventFile(runDir.resolve("validation"));
        assertEquals(5, validation.size(), "seed " + seed);
        assertFileVersion(validation.get(0));
        assertScalar(validation.get(1), 0, "epoch_loss", metrics.get(0).valLoss());
        assertScalar(validation.get(2), 0, "epoch_accuracy", metrics.get(0).valAccuracy());
        assertScalar(validation.get(3), 2, "epoch_loss", metrics.get(2).valLoss());
        assertScalar(validation.get(4), 2, "epoch_accuracy", metrics.get(2).valAccuracy());
    }

    @Test
    void runWithoutValidationWritesNoValidationDirectory() {
        try (TensorBoardLogger logger = new TensorBoardLogger(runDir)) {
            logger.onEpochEnd(0, randomMetrics(0, false).logs(), Map.of());
        }
        assertEquals(1 + TRAIN_SCALARS.size(), readSingleEventFile(runDir.resolve("train")).size());
        assertFalse(Files.exists(runDir.resolve("validation")));
    }

    @Test
    void nonFiniteWeightGetsNoHistogramButTheRestIsLogged() {
        float[] kernel = gaussian(20);
        kernel[7] = Float.NaN;
        try (TensorBoardLogger logger = new TensorBoardLogger(runDir)) {
            logger.onEpochEnd(0, randomMetrics(0, false).logs(), Map.of("dense_1.kernel", kernel, "dense_1.bias", gaussian(4)));
        }
        List<Event> events = readSingleEventFile(runDir.resolve("train"));
        assertEquals(1 + TRAIN_SCALARS.size() + 1, events.size());
        assertTrue(events.stream().flatMap(e -> e.values().stream()).noneMatch(v -> v.tag().equals("dense_1/kernel_0")));
        assertTrue(events.stream().flatMap(e -> e.values().stream()).anyMatch(v -> v.tag().equals("dense_1/bias_0")));
    }

    @Test
    void histogramTagsFollowKeras() {
        assertEquals("conv2d_3/kernel_0", TensorBoardLogger.histogramTag("conv2d_3.kernel"));
        assertEquals("dense/bias_0", TensorBoardLogger.histogramTag("dense.bias"));
        assertNull(TensorBoardLogger.histogramTag("batch_normalization.gamma"));
        assertNull(TensorBoardLogger.histogramTag("kernel"));
        assertNull(TensorBoardLogger.histogramTag(".kernel"));
    }

    /** Reads the only event file of dir, checking its name and both CRCs of every record independently. */
    private List<Event> readSingleEventFile(Path dir) {
        List<Path> files;
        try (Stream<Path> listing = Files.list(dir)) {
            files = listing.toList();
        } catch (IOException e) {
            throw new AssertionError("cannot list " + dir, e);
        }
        assertEquals(1, files.size(), "files in " + dir + ": " + files);
        Path file = files.get(0);
        assertTrue(file.getFileName().toString().matches(FILE_NAME_PATTERN), file.getFileName().toString());
        List<byte[]> payloads = checkFraming(file);
        List<Event> events = EventDecoder.readEvents(file);
        assertEquals(payloads.size(), events.size());
        return events;
    }

    private static List<byte[]> checkFraming(Path file) {
        ByteBuffer bytes;
        try {
            bytes = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        } catch (IOException e) {
            throw new AssertionError("cannot read " + file, e);
        }
        List<byte[]> payloads = new ArrayList<>();
        while (bytes.hasRemaining()) {
            byte[] length = new byte[8];
            bytes.get(length);
            assertEquals(maskedCrc32c(length), bytes.getInt(), "length CRC of record " + payloads.size());
            byte[] payload = new byte[(int) ByteBuffer.wrap(length).order(ByteOrder.LITTLE_ENDIAN).getLong()];
            bytes.get(payload);
            assertEquals(maskedCrc32c(payload), bytes.getInt(), "data CRC of record " + payloads.size());
            payloads.add(payload);
        }
        return payloads;
    }

    private static int maskedCrc32c(byte[] data) {
        CRC32C crc = new CRC32C();
        crc.update(data);
        int value = (int) crc.getValue();
        return Integer.rotateRight(value, 15) + 0xa282ead8;
    }

    private static void assertFileVersion(Event event) {
        assertEquals("brain.Event:2", event.fileVersion());
        assertEquals(List.of(), event.values());
        assertTrue(event.wallTime() > 1.5e9, "wall time " + event.wallTime());
    }

    private void assertScalar(Event event, long step, String tag, double expected) {
        assertEquals(step, event.step(), tag);
        assertNull(event.fileVersion());
        assertEquals(List.of(new SummaryValue.Scalar(tag, (float) expected)), event.values(), "seed " + seed);
    }

    private void assertHistogram(Event event, long step, String tag, float[] values) {
        assertEquals(step, event.step(), tag);
        assertEquals(1, event.values().size());
        SummaryValue value = event.values().get(0);
        assertEquals(tag, value.tag());
        Histogram h = assertInstanceOf(SummaryValue.HistogramValue.class, value).histogram();

        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        double sum = 0;
        double sumSquares = 0;
        for (float v : values) {
            min = Math.min(min, v);
            max = Math.max(max, v);
            sum += v;
            sumSquares += (double) v * v;
        }
        String context = tag + " at step " + step + ", seed " + seed;
        assertEquals(values.length, h.num(), context);
        assertEquals(min, h.min(), context);
        assertEquals(max, h.max(), context);
        assertEquals(sum, h.sum(), 1e-12 * values.length, context);
        assertEquals(sumSquares, h.sumSquares(), 1e-12 * values.length, context);

        if (min == max) {
            assertArrayEquals(new double[] {values.length}, h.bucketCounts(), context);
            assertArrayEquals(new double[] {max}, h.bucketLimits(), context);
            return;
        }
        int buckets = 30;
        double width = (max - min) / buckets;
        double[] counts = new double[buckets];
        for (float v : values) {
            counts[Math.min(buckets - 1, (int) Math.floor((v - min) / width))]++;
        }
        assertArrayEquals(counts, h.bucketCounts(), context);
        assertEquals(buckets, h.bucketLimits().length, context);
        for (int i = 0; i < buckets; i++) {
            assertEquals(min + (i + 1) * width, h.bucketLimits()[i], 1e-12, context);
        }
    }
}
