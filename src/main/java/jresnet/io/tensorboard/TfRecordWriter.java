package jresnet.io.tensorboard;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Writes TFRecord framing: uint64 LE length, uint32 LE masked CRC-32C of those 8 bytes, the data,
 * uint32 LE masked CRC-32C of the data. Flushes the stream after every record, so that a crash loses
 * at most the record being written.
 */
public final class TfRecordWriter implements AutoCloseable {
    private final OutputStream out;

    public TfRecordWriter(OutputStream out) {
        this.out = out;
    }

    public void write(byte[] data) throws IOException {
        byte[] header = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN)
                .putLong(data.length)
                .array();
        ByteBuffer.wrap(header, 8, 4).order(ByteOrder.LITTLE_ENDIAN).putInt(Crc32c.maskedCrc(header, 0, 8));
        byte[] footer = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN)
                .putInt(Crc32c.maskedCrc(data))
                .array();
        out.write(header);
        out.write(data);
        out.write(footer);
        out.flush();
    }

    @Override
    public void close() throws IOException {
        out.close();
    }
}
