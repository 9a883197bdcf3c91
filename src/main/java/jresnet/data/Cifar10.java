package jresnet.data;

import jresnet.UserException;
import jresnet.io.FileErrors;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * Reads the CIFAR-10 binary version: data_batch_1.bin .. data_batch_5.bin and test_batch.bin, each
 * exactly 10,000 records of {@link Dataset#RECORD_BYTES} bytes. Every file is checked for size and
 * labels before use.
 */
public final class Cifar10 {
    public static final int RECORDS_PER_FILE = 10_000;
    public static final long FILE_BYTES = (long) RECORDS_PER_FILE * Dataset.RECORD_BYTES;
    public static final List<String> TRAINING_FILES =
            List.of("data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin");
    /** Images in the training files together. */
    public static final int TRAINING_RECORDS = TRAINING_FILES.size() * RECORDS_PER_FILE;
    public static final String TEST_FILE = "test_batch.bin";
    /** The class names, one a line, in label order. */
    public static final String CLASS_NAMES_FILE = "batches.meta.txt";

    private Cifar10() {}

    /** The first limit training images in file order; limit &lt;= 0 or &gt;= 50,000 means all. Reads only the files needed. */
    public static Dataset training(Path dir, int limit) throws IOException {
        return read(dir, TRAINING_FILES, limit);
    }

    /** The first limit test images; limit &lt;= 0 or &gt;= 10,000 means all. */
    public static Dataset test(Path dir, int limit) throws IOException {
        return read(dir, List.of(TEST_FILE), limit);
    }

    /**
     * The classes as the official batches.meta.txt names them, in label order: for a command that
     * needs only the names where no CIFAR-10 folder is at hand.
     */
    public static final List<String> OFFICIAL_CLASS_NAMES = List.of("airplane", "automobile", "bird", "cat", "deer", "dog",
            "frog", "horse", "ship", "truck");

    /** The class names of batches.meta.txt in label order (blank lines and surrounding spaces dropped). */
    public static List<String> classNames(Path dir) throws IOException {
        Path file = dir.resolve(CLASS_NAMES_FILE);
        String why = FileErrors.notAFile(file);
        if (why != null) {
            throw new UserException("CIFAR-10 file " + file + " " + why + " (it names the classes); " + DataLocator.howToProvide());
        }
        return Files.readAllLines(file).stream().map(String::strip).filter(name -> !name.isEmpty()).toList();
    }

    /** How many training records {@link #training} reads for {@code limit}. */
    public static int trainingRecords(int limit) {
        return records(TRAINING_RECORDS, limit);
    }

    /** How many test records {@link #test} reads for {@code limit}. */
    public static int testRecords(int limit) {
        return records(RECORDS_PER_FILE, limit);
    }

    private static int records(int available, int limit) {
        return limit <= 0 || limit >= available ? available : limit;
    }

    private static Dataset read(Path dir, List<String> files, int limit) throws IOException {
        int count = records(files.size() * RECORDS_PER_FILE, limit);
        if (!Files.isDirectory(dir)) {
            String problem = Files.exists(dir) ? " is not a folder" : " does not exist";
            throw new UserException("CIFAR-10 folder " + dir + problem + "; " + DataLocator.howToProvide());
        }
        byte[] records = new byte[count * Dataset.RECORD_BYTES];
        for (int f = 0; f * RECORDS_PER_FILE < count; f++) {
            int first = f * RECORDS_PER_FILE;
            readFile(dir.resolve(files.get(f)), records, first, Math.min(RECORDS_PER_FILE, count - first));
        }
        return new Dataset(records, 0, count);
    }

    /** Reads the first n records of one batch file into records, starting at record index firstRecord. */
    private static void readFile(Path file, byte[] records, int firstRecord, int n) throws IOException {
        String why = FileErrors.notAFile(file);
        if (why != null) {
            throw new UserException("CIFAR-10 file " + file + " " + why + "; the folder needs "
                    + String.join(", ", TRAINING_FILES) + " and " + TEST_FILE);
        }
        long size = Files.size(file);
        if (size == 0) {
            throw new UserException(file + " is empty; a CIFAR-10 batch file has " + FILE_BYTES + " bytes ("
                    + RECORDS_PER_FILE + " records of " + Dataset.RECORD_BYTES + ")");
        }
        if (size < FILE_BYTES) {
            long complete = size / Dataset.RECORD_BYTES;
            long partial = size % Dataset.RECORD_BYTES;
            String where = partial == 0
                    ? "it ends after record " + (complete - 1) + " (" + complete + " complete records)"
                    : "record " + complete + " is incomplete (" + partial + " of " + Dataset.RECORD_BYTES + " bytes)";
            throw new UserException(file + " is truncated: " + size + " bytes instead of " + FILE_BYTES + "; " + where);
        }
        if (size > FILE_BYTES) {
            throw new UserException(file + " is " + size + " bytes, larger than a CIFAR-10 batch file (" + FILE_BYTES
                    + " bytes: " + RECORDS_PER_FILE + " records of " + Dataset.RECORD_BYTES + "); not a CIFAR-10 binary batch");
        }
        int start = firstRecord * Dataset.RECORD_BYTES;
        ByteBuffer dst = ByteBuffer.wrap(records, start, n * Dataset.RECORD_BYTES);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            while (dst.hasRemaining()) {
                if (channel.read(dst) < 0) throw new UserException(file + " became shorter while it was being read");
            }
        }
        for (int r = 0; r < n; r++) {
            int label = records[start + r * Dataset.RECORD_BYTES] & 0xFF;
            if (label >= Dataset.CLASSES) {
                throw new UserException(file + ": record " + r + " has label " + label + ", expected 0..9");
            }
        }
    }
}
