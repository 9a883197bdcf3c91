package jresnet.io;

import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;

/** Chunked reading and writing of little-endian arrays, shared by the .npy and safetensors formats. */
final class LittleEndianFloats {
    /** Elements per chunk: bounds the temporary buffer whatever the array's size. */
    private static final int CHUNK = 1 << 14;

    /** Turns n little-endian elements of one dtype into floats at out[start..start+n). */
    interface Decoder {
        void decode(ByteBuffer littleEndian, float[] out, int start, int n);
    }

    private LittleEndianFloats() {}

    static ByteBuffer readFully(FileChannel channel, long position, int length) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(length);
        while (buf.hasRemaining()) {
            if (channel.read(buf, position + buf.position()) < 0) throw new EOFException("file shrank while being read");
        }
        return buf.flip();
    }

    static float[] read(FileChannel channel, long position, int elements, int elementBytes, Decoder decoder)
            throws IOException {
        float[] out = new float[elements];
        for (int start = 0; start < elements; start += CHUNK) {
            int n = Math.min(CHUNK, elements - start);
            ByteBuffer buf = readFully(channel, position + (long) start * elementBytes, n * elementBytes)
                    .order(ByteOrder.LITTLE_ENDIAN);
            decoder.decode(buf, out, start, n);
        }
        return out;
    }

    static void writeFloat32(OutputStream out, float[] data) throws IOException {
        ByteBuffer chunk = ByteBuffer.allocate(4 * CHUNK).order(ByteOrder.LITTLE_ENDIAN);
        for (int start = 0; start < data.length; start += CHUNK) {
            int n = Math.min(CHUNK, data.length - start);
            chunk.clear();
            chunk.asFloatBuffer().put(data, start, n);
            out.write(chunk.array(), 0, 4 * n);
        }
    }
}
