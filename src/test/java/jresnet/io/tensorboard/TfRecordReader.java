package jresnet.io.tensorboard;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import jresnet.UserException;

/**
 * Reads TFRecord files, verifying the masked CRC-32C of every record's length and of its data.
 * A mismatch or a record cut short throws a {@link UserException} naming the file, the record index
 * (0-based) and its byte offset.
 */
public final class TfRecordReader implements AutoCloseable {
    /** Larger records than this are taken as a corrupt length rather than allocated. */
    private static final long MAX_RECORD_BYTES = 1L << 30;

    private final Path file;
    private final InputStream in;
    private long offset;
    private int recordIndex;

    public TfRecordReader(Path file) {
        this.file = file;
        try {
            this.in = new BufferedInputStream(Files.newInputStream(file));
        } catch (IOException e) {
            throw new UserException("cannot open TFRecord file " + file + ": " + e.getMessage(), e);
        }
    }

    /** Every record of the file, in order. */
    public static List<byte[]> readAll(Path file) {
        try (TfRecordReader reader = new TfRecordReader(file)) {
            List<byte[]> records = new ArrayList<>();
            for (byte[] record = reader.next(); record != null; record = reader.next()) {
                records.add(record);
            }
            return records;
        }
    }

    /** The next record's data, or null at the end of the file. */
    public byte[] next() {
        long recordOffset = offset;
        byte[] header = new byte[12];
        int headerBytes = readFully(header);
        if (headerBytes == 0) {
            return null;
        }
        if (headerBytes < header.length) {
            throw failure(recordOffset, "truncated header: expected 12 bytes, found " + headerBytes);
        }
        ByteBuffer headerView = ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN);
        long length = headerView.getLong(0);
        int storedLengthCrc = headerView.getInt(8);
        int actualLengthCrc = Crc32c.maskedCrc(header, 0, 8);
        if (storedLengthCrc != actualLengthCrc) {
            throw failure(recordOffset, String.format("length CRC mismatch: stored 0x%08x, computed 0x%08x",
                    storedLengthCrc, actualLengthCrc));
        }
        if (length < 0 || length > MAX_RECORD_BYTES) {
            throw failure(recordOffset, "record length " + Long.toUnsignedString(length)
                    + " exceeds the limit of " + MAX_RECORD_BYTES + " bytes");
        }
        byte[] data = new byte[(int) length];
        int dataBytes = readFully(data);
        if (dataBytes < data.length) {
            throw failure(recordOffset, "truncated data: expected " + length + " bytes, found " + dataBytes);
        }
        byte[] footer = new byte[4];
        int footerBytes = readFully(footer);
        if (footerBytes < footer.length) {
            throw failure(recordOffset, "truncated data CRC: expected 4 bytes, found " + footerBytes);
        }
        int storedDataCrc = ByteBuffer.wrap(footer).order(ByteOrder.LITTLE_ENDIAN).getInt();
        int actualDataCrc = Crc32c.maskedCrc(data);
        if (storedDataCrc != actualDataCrc) {
            throw failure(recordOffset, String.format("data CRC mismatch: stored 0x%08x, computed 0x%08x",
                    storedDataCrc, actualDataCrc));
        }
        recordIndex++;
        return data;
    }

    private int readFully(byte[] buffer) {
        try {
            int read = in.readNBytes(buffer, 0, buffer.length);
            offset += read;
            return read;
        } catch (IOException e) {
            throw new UserException("cannot read TFRecord file " + file + " at byte " + offset + ": "
                    + e.getMessage(), e);
        }
    }

    private UserException failure(long recordOffset, String what) {
        return new UserException("corrupt TFRecord file " + file + ", record " + recordIndex + " at byte "
                + recordOffset + ": " + what);
    }

    @Override
    public void close() {
        try {
            in.close();
        } catch (IOException e) {
            throw new UserException("cannot close TFRecord file " + file + ": " + e.getMessage(), e);
        }
    }
}
