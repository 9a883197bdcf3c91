package jresnet.data;

import java.util.Objects;

/**
 * CIFAR-style labelled images kept as raw records (1 label byte, then 1024 red, 1024 green and 1024
 * blue bytes, each plane 32x32 row-major): 3 KB per image instead of 12 KB as floats. head and slice
 * are views sharing the records.
 */
public final class Dataset {
    public static final int HEIGHT = 32;
    public static final int WIDTH = 32;
    public static final int CHANNELS = 3;
    public static final int CLASSES = 10;
    public static final int IMAGE_BYTES = HEIGHT * WIDTH * CHANNELS;
    public static final int RECORD_BYTES = 1 + IMAGE_BYTES;
    private static final int PLANE = HEIGHT * WIDTH;

    private final byte[] records;
    private final int first;
    private final int size;

    /** Records already validated by the caller (whole records, labels 0..9). */
    Dataset(byte[] records, int first, int size) {
        this.records = records;
        this.first = first;
        this.size = size;
    }

    /** A dataset from records in the file layout (copied), e.g. for tests; labels must be 0..9. */
    public static Dataset ofRecords(byte[] records) {
        if (records.length % RECORD_BYTES != 0) {
            throw new IllegalArgumentException(records.length + " bytes is not a whole number of " + RECORD_BYTES + "-byte records");
        }
        int n = records.length / RECORD_BYTES;
        for (int i = 0; i < n; i++) {
            int label = records[i * RECORD_BYTES] & 0xFF;
            if (label >= CLASSES) throw new IllegalArgumentException("record " + i + " has label " + label + ", expected 0..9");
        }
        return new Dataset(records.clone(), 0, n);
    }

    public int size() { return size; }

    public int label(int i) {
        return records[offsetOf(i)];
    }

    public int[] labels() {
        int[] labels = new int[size];
        for (int i = 0; i < size; i++) labels[i] = records[(first + i) * RECORD_BYTES];
        return labels;
    }

    /**
     * Writes image i as 32*32*3 floats 0..255 in NHWC order ((y*32 + x)*3 + channel) into dst at offset.
     */
    public void copyImageNhwc(int i, float[] dst, int offset) {
        Objects.checkFromIndexSize(offset, IMAGE_BYTES, dst.length);
        int red = offsetOf(i) + 1;
        int green = red + PLANE;
        int blue = green + PLANE;
        for (int p = 0, o = offset; p < PLANE; p++, o += CHANNELS) {
            dst[o] = records[red + p] & 0xFF;
            dst[o + 1] = records[green + p] & 0xFF;
            dst[o + 2] = records[blue + p] & 0xFF;
        }
    }

    /** The first n images. */
    public Dataset head(int n) {
        return slice(0, n);
    }

    /** Images from (inclusive) to to (exclusive). */
    public Dataset slice(int from, int to) {
        Objects.checkFromToIndex(from, to, size);
        return new Dataset(records, first + from, to - from);
    }

    /** Image i in the record layout (1024 red, 1024 green, then 1024 blue bytes), copied. */
    public byte[] imageBytes(int i) {
        int start = offsetOf(i) + 1;
        return java.util.Arrays.copyOfRange(records, start, start + IMAGE_BYTES);
    }

    /** The same labels in the same order, each image replaced by what {@code image} makes of it (same layout). */
    public Dataset withImages(java.util.function.IntFunction<byte[]> image) {
        byte[] copy = new byte[size * RECORD_BYTES];
        for (int i = 0; i < size; i++) {
            byte[] pixels = image.apply(i);
            if (pixels.length != IMAGE_BYTES) throw new IllegalArgumentException("image " + i + " has " + pixels.length + " bytes");
            copy[i * RECORD_BYTES] = records[offsetOf(i)];
            System.arraycopy(pixels, 0, copy, i * RECORD_BYTES + 1, IMAGE_BYTES);
        }
        return new Dataset(copy, 0, size);
    }

    private int offsetOf(int i) {
        Objects.checkIndex(i, size);
        return (first + i) * RECORD_BYTES;
    }
}
