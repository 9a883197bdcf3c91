package jresnet.io;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Hand-made file contents for the format tests. */
final class LittleEndianBytes {
    private LittleEndianBytes() {}

    static byte[] floats(float... values) {
        ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) b.putFloat(v);
        return b.array();
    }
}
