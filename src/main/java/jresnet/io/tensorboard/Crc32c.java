package jresnet.io.tensorboard;

import java.util.zip.CRC32C;

/** CRC-32C (Castagnoli) and the masked form TFRecord stores next to every length and payload. */
public final class Crc32c {
    private static final int MASK_DELTA = 0xa282ead8;

    private Crc32c() {
    }

    public static int crc(byte[] data, int offset, int length) {
        CRC32C crc = new CRC32C();
        crc.update(data, offset, length);
        return (int) crc.getValue();
    }

    public static int crc(byte[] data) {
        return crc(data, 0, data.length);
    }

    /**
     * Rotates and offsets a CRC so that the CRC of data that itself contains CRCs stays well distributed
     * (TensorFlow's crc32c::Mask).
     */
    public static int mask(int crc) {
        return ((crc >>> 15) | (crc << 17)) + MASK_DELTA;
    }

    public static int maskedCrc(byte[] data, int offset, int length) {
        return mask(crc(data, offset, length));
    }

    public static int maskedCrc(byte[] data) {
        return mask(crc(data));
    }
}
