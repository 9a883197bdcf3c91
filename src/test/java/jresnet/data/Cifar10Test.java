package jresnet.data;

import jresnet.UserException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.IntUnaryOperator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class Cifar10Test {
    @TempDir Path dir;

    /** Pixel byte k (0..3071, planar R|G|B) of the record with global index g: varied, reproducible. */
    private static int pixel(int g, int k) {
        return (g * 31 + k * 7 + k / 1024 * 101) & 0xFF;
    }

    /** n records whose global indices start at firstGlobal; labels from the given function of the index in the file. */
    private static byte[] records(int n, int firstGlobal, IntUnaryOperator label) {
        byte[] bytes = new byte[n * Dataset.RECORD_BYTES];
        for (int r = 0; r < n; r++) {
            int base = r * Dataset.RECORD_BYTES;
            bytes[base] = (byte) label.applyAsInt(r);
            for (int k = 0; k < Dataset.IMAGE_BYTES; k++) bytes[base + 1 + k] = (byte) pixel(firstGlobal + r, k);
        }
        return bytes;
    }

    private void writeBatch(String name, int fileIndex) throws IOException {
        Files.write(dir.resolve(name), records(Cifar10.RECORDS_PER_FILE, fileIndex * Cifar10.RECORDS_PER_FILE, r -> (fileIndex * 3 + r) % 10));
    }

    @Test
    void readsTrainingFilesInOrderAndOnlyThoseNeeded() throws IOException {
        writeBatch("data_batch_1.bin", 0);
        writeBatch("data_batch_2.bin", 1);
        Dataset d = Cifar10.training(dir, 10_005);
        assertEquals(10_005, d.size());
        int[] labels = d.labels();
        for (int i = 0; i < labels.length; i++) {
            int expected = i < 10_000 ? i % 10 : (3 + i - 10_000) % 10;
            assertEquals(expected, labels[i], "image " + i);
            assertEquals(expected, d.label(i));
        }
        float[] image = new float[Dataset.IMAGE_BYTES + 5];
        d.copyImageNhwc(10_002, image, 5);
        for (int y = 0; y < 32; y++) {
            for (int x = 0; x < 32; x++) {
                for (int c = 0; c < 3; c++) {
                    assertEquals(pixel(10_002, c * 1024 + y * 32 + x), image[5 + (y * 32 + x) * 3 + c], "y " + y + " x " + x + " c " + c);
                }
            }
        }
        // Files 3..5 do not exist: a limit within the first two never touches them, "all" does.
        UserException e = assertThrows(UserException.class, () -> Cifar10.training(dir, 0));
        assertTrue(e.getMessage().contains("data_batch_3.bin is missing"), e.getMessage());
    }

    @Test
    void readsTheTestFile() throws IOException {
        writeBatch("test_batch.bin", 5);
        Dataset all = Cifar10.test(dir, 0);
        assertEquals(10_000, all.size());
        assertEquals(Cifar10.test(dir, 20_000).size(), 10_000);
        Dataset few = Cifar10.test(dir, 3);
        assertArrayEquals(new int[] {5, 6, 7}, few.labels());
    }

    @Test
    void headAndSliceShareRecords() {
        Dataset d = Dataset.ofRecords(records(6, 0, r -> 9 - r));
        assertArrayEquals(new int[] {9, 8, 7, 6, 5, 4}, d.labels());
        assertArrayEquals(new int[] {9, 8, 7}, d.head(3).labels());
        Dataset middle = d.slice(1, 5);
        assertArrayEquals(new int[] {8, 7, 6, 5}, middle.labels());
        assertArrayEquals(new int[] {7, 6}, middle.slice(1, 3).labels());
        float[] fromSlice = new float[Dataset.IMAGE_BYTES];
        float[] fromWhole = new float[Dataset.IMAGE_BYTES];
        middle.slice(1, 3).copyImageNhwc(1, fromSlice, 0);
        d.copyImageNhwc(3, fromWhole, 0);
        assertArrayEquals(fromWhole, fromSlice);
        assertEquals(pixel(3, 2048 + 5), fromWhole[5 * 3 + 2]);
        assertThrows(IndexOutOfBoundsException.class, () -> middle.label(4));
        assertThrows(IndexOutOfBoundsException.class, () -> middle.slice(2, 5));
        assertThrows(IndexOutOfBoundsException.class, () -> d.copyImageNhwc(0, new float[Dataset.IMAGE_BYTES], 1));
    }

    @Test
    void ofRecordsValidates() {
        assertThrows(IllegalArgumentException.class, () -> Dataset.ofRecords(new byte[Dataset.RECORD_BYTES + 1]));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Dataset.ofRecords(records(3, 0, r -> r == 2 ? 10 : 0)));
        assertTrue(e.getMessage().contains("record 2 has label 10"), e.getMessage());
    }

    @Test
    void rejectsOversizedFile() throws IOException {
        Files.write(dir.resolve("test_batch.bin"), new byte[(int) Cifar10.FILE_BYTES + 1]);
        assertMessage(() -> Cifar10.test(dir, 0), dir.resolve("test_batch.bin") + " is 30730001 bytes, larger than a CIFAR-10 batch file (30730000 bytes");
    }

    @Test
    void namesTheFirstIncompleteRecord() throws IOException {
        Files.write(dir.resolve("data_batch_1.bin"), new byte[2 * Dataset.RECORD_BYTES + 100]);
        assertMessage(() -> Cifar10.training(dir, 1),
                dir.resolve("data_batch_1.bin") + " is truncated: 6246 bytes instead of 30730000; record 2 is incomplete (100 of 3073 bytes)");
        Files.write(dir.resolve("data_batch_1.bin"), new byte[5 * Dataset.RECORD_BYTES]);
        assertMessage(() -> Cifar10.training(dir, 1), "is truncated: 15365 bytes instead of 30730000; it ends after record 4 (5 complete records)");
    }

    @Test
    void namesFileRecordAndValueOfABadLabel() throws IOException {
        Files.write(dir.resolve("test_batch.bin"), records(Cifar10.RECORDS_PER_FILE, 0, r -> r == 7 ? 10 : r % 10));
        assertMessage(() -> Cifar10.test(dir, 0), dir.resolve("test_batch.bin") + ": record 7 has label 10, expected 0..9");
    }

    @Test
    void rejectsMissingAndEmptyFiles() throws IOException {
        assertMessage(() -> Cifar10.training(dir, 5), "CIFAR-10 file " + dir.resolve("data_batch_1.bin") + " is missing");
        Files.createDirectory(dir.resolve("data_batch_1.bin"));
        assertMessage(() -> Cifar10.training(dir, 5), "CIFAR-10 file " + dir.resolve("data_batch_1.bin") + " is a folder, not a file");
        Files.createDirectory(dir.resolve("batches.meta.txt"));
        assertMessage(() -> Cifar10.classNames(dir), "CIFAR-10 file " + dir.resolve("batches.meta.txt") + " is a folder, not a file");
        Files.write(dir.resolve("test_batch.bin"), new byte[0]);
        assertMessage(() -> Cifar10.test(dir, 5), dir.resolve("test_batch.bin") + " is empty; a CIFAR-10 batch file has 30730000 bytes");
    }

    @Test
    void explainsHowToProvideAMissingFolder() throws IOException {
        Path absent = dir.resolve("nowhere");
        String message = assertMessage(() -> Cifar10.training(absent, 0), "CIFAR-10 folder " + absent + " does not exist");
        assertTrue(message.contains(DataLocator.OFFICIAL_URL) && message.contains("--data DIR") && message.contains("JRESNET_DATA"), message);
        Path file = dir.resolve("file");
        Files.writeString(file, "x");
        assertMessage(() -> Cifar10.test(file, 0), "CIFAR-10 folder " + file + " is not a folder");
    }

    private static String assertMessage(org.junit.jupiter.api.function.Executable call, String fragment) {
        UserException e = assertThrows(UserException.class, call);
        assertTrue(e.getMessage().contains(fragment), e.getMessage());
        assertEquals(-1, e.getMessage().indexOf('\n'), e.getMessage());
        return e.getMessage();
    }
}
