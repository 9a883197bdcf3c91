package jresnet.io.tensorboard;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import jresnet.UserException;

/** Protocol buffer wire-format decoding of one message; unknown fields are skipped as the format allows. */
final class ProtoReader {
    private final byte[] data;
    private final int end;
    private final String message;
    private int position;
    private int wireType;

    /** message names what is being decoded, for error messages. */
    ProtoReader(byte[] data, String message) {
        this.data = data;
        this.end = data.length;
        this.message = message;
    }

    boolean hasNext() {
        return position < end;
    }

    /** Reads the next field's key and returns its field number; the wire type is kept for the value. */
    int nextField() {
        long key = varint();
        wireType = (int) (key & 7);
        long field = key >>> 3;
        if (field < 1 || field > 0x1FFFFFFF) {
            throw malformed("field number " + field + " out of range");
        }
        return (int) field;
    }

    int wireType() {
        return wireType;
    }

    long varintValue() {
        expect(ProtoWriter.VARINT);
        return varint();
    }

    double doubleValue() {
        expect(ProtoWriter.FIXED64);
        return Double.longBitsToDouble(fixed64());
    }

    float floatValue() {
        expect(ProtoWriter.FIXED32);
        return Float.intBitsToFloat(fixed32());
    }

    byte[] bytesValue() {
        expect(ProtoWriter.LENGTH_DELIMITED);
        int length = length();
        byte[] value = Arrays.copyOfRange(data, position, position + length);
        position += length;
        return value;
    }

    String stringValue() {
        return new String(bytesValue(), StandardCharsets.UTF_8);
    }

    /** A repeated double, packed or not: parsers must accept both encodings. */
    double[] doublesValue() {
        if (wireType == ProtoWriter.FIXED64) {
            return new double[] {Double.longBitsToDouble(fixed64())};
        }
        expect(ProtoWriter.LENGTH_DELIMITED);
        int length = length();
        if (length % 8 != 0) {
            throw malformed("packed doubles of " + length + " bytes, not a multiple of 8");
        }
        double[] values = new double[length / 8];
        for (int i = 0; i < values.length; i++) {
            values[i] = Double.longBitsToDouble(fixed64());
        }
        return values;
    }

    void skipValue() {
        switch (wireType) {
            case ProtoWriter.VARINT -> varint();
            case ProtoWriter.FIXED64 -> advance(8);
            case ProtoWriter.LENGTH_DELIMITED -> advance(length());
            case ProtoWriter.FIXED32 -> advance(4);
            default -> throw malformed("unsupported wire type " + wireType);
        }
    }

    private void expect(int expectedWireType) {
        if (wireType != expectedWireType) {
            throw malformed("wire type " + wireType + " where " + expectedWireType + " was expected");
        }
    }

    private int length() {
        long length = varint();
        if (length < 0 || length > end - position) {
            throw malformed("length " + length + " exceeds the " + (end - position) + " bytes left");
        }
        return (int) length;
    }

    private long varint() {
        long value = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (position >= end) {
                throw malformed("varint runs past the end");
            }
            int b = data[position++] & 0xFF;
            value |= (long) (b & 0x7F) << shift;
            if ((b & 0x80) == 0) {
                return value;
            }
        }
        throw malformed("varint longer than 10 bytes");
    }

    private long fixed64() {
        require(8);
        long bits = 0;
        for (int i = 0; i < 8; i++) {
            bits |= (long) (data[position + i] & 0xFF) << (8 * i);
        }
        position += 8;
        return bits;
    }

    private int fixed32() {
        require(4);
        int bits = 0;
        for (int i = 0; i < 4; i++) {
            bits |= (data[position + i] & 0xFF) << (8 * i);
        }
        position += 4;
        return bits;
    }

    private void advance(int bytes) {
        require(bytes);
        position += bytes;
    }

    private void require(int bytes) {
        if (bytes > end - position) {
            throw malformed(bytes + " bytes needed, " + (end - position) + " left");
        }
    }

    private UserException malformed(String what) {
        return new UserException("malformed " + message + " protobuf at byte " + position + ": " + what);
    }
}
