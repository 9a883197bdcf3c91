package jresnet.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import jresnet.backend.cpu.CpuBackend;
import jresnet.data.Dataset;
import jresnet.data.RandomRecords;
import jresnet.models.ModelZoo;
import jresnet.nn.Executor;
import jresnet.nn.Model;
import org.junit.jupiter.api.Test;

class TestSetAccuracyTest {
    private static final int IMAGE = 32 * 32 * 3;

    private static Model model() {
        Model m = ModelZoo.create("tutorial-resnet-1-w2");
        m.initializeWeights(7);
        return m;
    }

    private static int argmax(float[] p, int row, int classes) {
        int best = 0;
        for (int k = 1; k < classes; k++) if (p[row * classes + k] > p[row * classes + best]) best = k;
        return best;
    }

    /** The predicted class of every record, one image at a time. */
    private static int[] predictions(Executor ex, Dataset data) {
        int[] predicted = new int[data.size()];
        float[] image = new float[IMAGE];
        for (int i = 0; i < data.size(); i++) {
            data.copyImageNhwc(i, image, 0);
            predicted[i] = argmax(ex.predictBatch(image, 1), 0, 10);
        }
        return predicted;
    }

    /**
     * 1,300 records labelled so that the model is right on records i < 1000 with i % 3 != 0 and on
     * records i >= 1000 with i % 5 == 0: the exact figure counts only the first 1,000.
     */
    @Test void accuracyIsSplitIntoAllRecordsAndTheExactFirstThousand() {
        byte[] records = RandomRecords.bytes(1300, 3);
        try (CpuBackend b = new CpuBackend(); Executor ex = new Executor(model(), b, 128)) {
            int[] predicted = predictions(ex, Dataset.ofRecords(records));
            int rightInExact = 0, rightInAll = 0;
            for (int i = 0; i < 1300; i++) {
                boolean right = i < 1000 ? i % 3 != 0 : i % 5 == 0;
                records[i * Dataset.RECORD_BYTES] = (byte) (right ? predicted[i] : (predicted[i] + 1) % 10);
                if (right) rightInAll++;
                if (right && i < 1000) rightInExact++;
            }
            TestSetAccuracy.Result r = TestSetAccuracy.evaluate(ex, Dataset.ofRecords(records), 128, null, false);
            assertEquals(new TestSetAccuracy.Count(rightInExact, 1000), r.exact());
            assertEquals(new TestSetAccuracy.Count(rightInAll, 1300), r.all());
            assertEquals(666 + 60, rightInAll);
            double[] plain = Trainer.evaluate(ex, Dataset.ofRecords(records), 128, null);
            assertEquals(plain[0], r.lossSum() / 1300, 1e-6, "the loss of the split evaluation is that of one pass");
            assertEquals(List.of("test accuracy on records 0-1299 (a limited test set): 0.5585 (726/1300)",
                    "test accuracy on records 0-999 (bit-exact): 0.6660 (666/1000), 95% Wilson interval 0.6362-0.6945"),
                    r.lines(""));

            TestSetAccuracy.Result small = TestSetAccuracy.evaluate(ex, Dataset.ofRecords(records).head(300), 128, null, false);
            assertEquals(small.all(), small.exact(), "a test set of up to 1,000 records is all exact");
            assertEquals(300, small.all().total());
        }
    }

    @Test void wilsonIntervalMatchesPublishedValues() {
        double[] nineOfTen = new TestSetAccuracy.Count(9, 10).wilson95();
        assertEquals(0.5958, nineOfTen[0], 1e-4);
        assertEquals(0.9821, nineOfTen[1], 1e-4);
        double[] near = new TestSetAccuracy.Count(918, 1000).wilson95();
        assertEquals(0.89935, near[0], 1e-5);
        assertEquals(0.93345, near[1], 1e-5);
        assertEquals(1.0, new TestSetAccuracy.Count(10, 10).wilson95()[1], 1e-12);
    }

    /** Flip TTA's probabilities are the mean of the model's probabilities for the images and for their mirrors. */
    @Test void flipTtaIsTheMeanOfThePlainAndMirroredPredictions() {
        byte[] records = RandomRecords.bytes(40, 9);
        Dataset data = Dataset.ofRecords(records);
        float[] images = new float[40 * IMAGE], mirrored = new float[40 * IMAGE];
        for (int i = 0; i < 40; i++) data.copyImageNhwc(i, images, i * IMAGE);
        for (int k = 0; k < 40; k++)
            for (int y = 0; y < 32; y++)
                for (int x = 0; x < 32; x++)
                    for (int c = 0; c < 3; c++)
                        mirrored[k * IMAGE + (y * 32 + x) * 3 + c] = images[k * IMAGE + (y * 32 + 31 - x) * 3 + c];
        try (CpuBackend b = new CpuBackend(); Executor ex = new Executor(model(), b, 64)) {
            float[] plain = ex.predictBatch(images, 40), flipped = ex.predictBatch(mirrored, 40);
            float[] expected = new float[plain.length];
            for (int i = 0; i < plain.length; i++) expected[i] = (plain[i] + flipped[i]) / 2;
            float[] tta = TestSetAccuracy.flipAveragedProbabilities(ex, images.clone(), 40);
            assertArrayEquals(expected, tta);

            int right = 0;
            for (int i = 0; i < 40; i++) {
                int best = argmax(expected, i, 10);
                boolean label = i % 4 != 0;
                records[i * Dataset.RECORD_BYTES] = (byte) (label ? best : (best + 3) % 10);
                if (label) right++;
            }
            TestSetAccuracy.Result r = TestSetAccuracy.evaluate(ex, Dataset.ofRecords(records), 16, null, true);
            assertEquals(new TestSetAccuracy.Count(right, 40), r.all());
            assertEquals("flip TTA test accuracy on records 0-39 (a limited test set): 0.7500 (30/40)", r.lines("flip TTA ").get(0));
        }
    }
}
