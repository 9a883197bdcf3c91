package jresnet.data;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Checks against the real CIFAR-10 files when present: system property jresnet.data, else JRESNET_DATA. */
class Cifar10RealDataTest {
    private static Path dir;

    @BeforeAll
    static void findData() {
        for (String location : new String[] {System.getProperty("jresnet.data"), System.getenv(DataLocator.ENV_VAR)}) {
            if (location != null && !location.isBlank() && Files.isRegularFile(Path.of(location, "data_batch_1.bin"))) {
                dir = Path.of(location);
                return;
            }
        }
        assumeTrue(false, "no CIFAR-10 files found (system property jresnet.data or JRESNET_DATA)");
    }

    @Test
    void firstTrainingLabelsAndPixels() throws IOException {
        Dataset d = Cifar10.training(dir, 10);
        assertArrayEquals(new int[] {6, 9, 9, 4, 1, 1, 2, 7, 8, 3}, d.labels());
        float[] image = new float[Dataset.IMAGE_BYTES];
        d.copyImageNhwc(0, image, 0);
        float[] redRow0 = new float[8];
        for (int x = 0; x < 8; x++) redRow0[x] = image[x * 3];
        assertArrayEquals(new float[] {59, 43, 50, 68, 98, 119, 139, 145}, redRow0);
    }

    @Test
    void firstTestLabels() throws IOException {
        assertArrayEquals(new int[] {3, 8, 8, 0, 6, 6, 1, 6, 3, 1}, Cifar10.test(dir, 10).labels());
    }

    @Test
    void wholeTrainingSetValidatesWithBalancedClasses() throws IOException {
        Dataset all = Cifar10.training(dir, 0);
        assertEquals(50_000, all.size());
        int[] perClass = new int[Dataset.CLASSES];
        for (int label : all.labels()) perClass[label]++;
        assertArrayEquals(new int[] {5000, 5000, 5000, 5000, 5000, 5000, 5000, 5000, 5000, 5000}, perClass);
        int[] firstFile = new int[Dataset.CLASSES];
        for (int label : all.head(10_000).labels()) firstFile[label]++;
        assertArrayEquals(new int[] {1005, 974, 1032, 1016, 999, 937, 1030, 1001, 1025, 981}, firstFile);
    }
}
