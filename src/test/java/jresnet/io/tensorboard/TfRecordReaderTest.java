package jresnet.io.tensorboard;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import jresnet.TestSeeds;
import jresnet.UserException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TfRecordReaderTest {
    private static final int FRAMING_BYTES = 16;

    @TempDir
    Path dir;

    private final long seed = TestSeeds.next();
    private final Random random = new Random(seed);

    private List<byte[]> randomRecords(int count, int maxLength) {
        List<byte[]> records = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            byte[] record = new byte[random.nextInt(maxLength + 1)];
            random.nextBytes(record);
            records.add(record);
        }
        return records;
    }

    private Path write(List<byte[]> records) throws IOException {
        Path file = dir.resolve("records.tfrecord");
        try (TfRecordWriter writer = new TfRecordWriter(Files.newOutputStream(file))) {
            for (byte[] record : records) {
                writer.write(record);
            }
        }
        return file;
    }

    @Test
    void recordsRoundTrip() throws IOException {
        List<byte[]> records = randomRecords(20, 300);
        List<byte[]> read = TfRecordReader.readAll(write(records));
        assertEquals(records.size(), read.size(), "seed " + seed);
        for (int i = 0; i < records.size(); i++) {
            assertArrayEquals(records.get(i), read.get(i), "record " + i + ", seed " + seed);
        }
    }

    @Test
    void emptyFileHasNoRecords() throws IOException {
        assertEquals(List.of(), TfRecordReader.readAll(write(List.of())));
    }

    @Test
    void everyCorruptedByteIsDetectedInItsRecord() throws IOException {
        List<byte[]> records = randomRecords(3, 12);
        Path file = write(records);
        byte[] original = Files.readAllBytes(file);
        int[] recordOfByte = recordOfEachByte(records, original.length);
        for (int position = 0; position < original.length; position++) {
            byte[] corrupted = original.clone();
            corrupted[position] ^= (byte) (1 + random.nextInt(255));
            Files.write(file, corrupted);
            UserException e = assertThrows(UserException.class, () -> TfRecordReader.readAll(file),
                    "byte " + position + ", seed " + seed);
            String message = e.getMessage();
            assertTrue(message.contains(file.toString()), message);
            assertTrue(message.contains("record " + recordOfByte[position] + " "), message);
        }
    }

    @Test
    void truncationInsideARecordIsDetected() throws IOException {
        List<byte[]> records = randomRecords(3, 12);
        Path file = write(records);
        byte[] original = Files.readAllBytes(file);
        int[] recordOfByte = recordOfEachByte(records, original.length);
        for (int length = 1; length < original.length; length++) {
            if (recordOfByte[length] == recordOfByte[length - 1]) {
                Files.write(file, Arrays.copyOf(original, length));
                UserException e = assertThrows(UserException.class, () -> TfRecordReader.readAll(file),
                        "length " + length + ", seed " + seed);
                assertTrue(e.getMessage().contains("truncated"), e.getMessage());
                assertTrue(e.getMessage().contains("record " + recordOfByte[length] + " "), e.getMessage());
            }
        }
    }

    private static int[] recordOfEachByte(List<byte[]> records, int fileLength) {
        int[] recordOfByte = new int[fileLength];
        int position = 0;
        for (int i = 0; i < records.size(); i++) {
            int end = position + FRAMING_BYTES + records.get(i).length;
            Arrays.fill(recordOfByte, position, end, i);
            position = end;
        }
        assertEquals(fileLength, position);
        return recordOfByte;
    }
}
