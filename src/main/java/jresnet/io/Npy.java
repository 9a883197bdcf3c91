package jresnet.io;

import jresnet.UserException;
import jresnet.tensor.HostArray;
import jresnet.tensor.Shape;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * NumPy .npy files (format versions 1.0, 2.0 and 3.0) in C order. Reads little-endian float32
 * ('&lt;f4'), uint8 ('|u1', values 0..255 as floats) and float64 ('&lt;f8', rounded to float32);
 * writes float32 with a version 1.0 header.
 */
public final class Npy {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    /** NumPy aligns the data start to 64 bytes so arrays can be memory-mapped. */
    private static final int ALIGNMENT = 64;

    private Npy() {}

    private enum Dtype {
        FLOAT32(4), UINT8(1), FLOAT64(8);

        final int bytes;

        Dtype(int bytes) {
            this.bytes = bytes;
        }
    }

    public static HostArray read(Path path) throws IOException {
        return FileErrors.readUserFile(path, Npy::read);
    }

    private static HostArray read(Path path, FileChannel channel) throws IOException {
        Header h = header(path, channel);
        return new HostArray(h.shape(), decode(path, channel, h.dataStart(), h.dtype(), h.shape()));
    }

    /**
     * Whether path is a complete float32 .npy file of the given shape (-1 matches any size), reading
     * only its header; false for anything else, including a file that is not .npy at all.
     */
    public static boolean isFloat32WithShape(Path path, int... expected) throws IOException {
        if (!Files.isRegularFile(path)) return false;
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            Header h = header(path, channel);
            int[] dims = h.shape().dims();
            if (h.dtype() != Dtype.FLOAT32 || dims.length != expected.length) return false;
            for (int i = 0; i < dims.length; i++) if (expected[i] != -1 && expected[i] != dims[i]) return false;
            return true;
        } catch (UserException notNpy) {
            return false;
        }
    }

    private record Header(Dtype dtype, Shape shape, long dataStart) {}

    private static Header header(Path path, FileChannel channel) throws IOException {
        long fileSize = channel.size();
        if (fileSize < MAGIC.length + 2) throw bad(path, "not a .npy file: only " + fileSize + " bytes");
        ByteBuffer preamble = LittleEndianFloats.readFully(channel, 0, (int) Math.min(fileSize, MAGIC.length + 2 + 4)).order(ByteOrder.LITTLE_ENDIAN);
        for (byte b : MAGIC) {
            if (preamble.get() != b) throw bad(path, "not a .npy file: it does not start with \\x93NUMPY");
        }
        int major = preamble.get() & 0xFF;
        int minor = preamble.get() & 0xFF;
        if (major < 1 || major > 3 || minor != 0) {
            throw bad(path, "unsupported .npy format version " + major + "." + minor + "; supported: 1.0, 2.0, 3.0");
        }
        int lengthBytes = major == 1 ? 2 : 4;
        if (preamble.remaining() < lengthBytes) throw bad(path, "file ends inside the header length field");
        long headerLength = major == 1 ? preamble.getShort() & 0xFFFF : preamble.getInt() & 0xFFFFFFFFL;
        long headerStart = MAGIC.length + 2 + lengthBytes;
        if (headerStart + headerLength > fileSize) {
            throw bad(path, "header length " + headerLength + " runs past the end of the " + fileSize + "-byte file");
        }
        if (headerLength > 1_000_000) throw bad(path, "header length " + headerLength + " is not plausible");
        // Version 3.0 allows UTF-8 in the header; 1.0 and 2.0 are Latin-1.
        String header = new String(LittleEndianFloats.readFully(channel, headerStart, (int) headerLength).array(),
                major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);

        Map<String, Object> dict;
        try {
            dict = new HeaderParser(header).dict();
        } catch (IllegalArgumentException e) {
            throw bad(path, "cannot parse the header " + header.strip().replaceAll("\\s+", " ") + ": " + e.getMessage());
        }
        Dtype dtype = dtype(path, require(path, dict, "descr"));
        Object fortran = require(path, dict, "fortran_order");
        if (!(fortran instanceof Boolean)) throw bad(path, "header 'fortran_order' must be True or False, found " + fortran);
        if ((Boolean) fortran) {
            throw bad(path, "array is in Fortran order; save it in C order (numpy.ascontiguousarray) instead");
        }
        Shape shape = shape(path, require(path, dict, "shape"));

        long dataStart = headerStart + headerLength;
        long expected = shape.size() * dtype.bytes;
        long actual = fileSize - dataStart;
        if (actual != expected) {
            throw bad(path, "data is " + actual + " bytes, but shape " + shape + " of " + dict.get("descr") + " needs " + expected);
        }
        return new Header(dtype, shape, dataStart);
    }

    private static Object require(Path path, Map<String, Object> dict, String key) {
        if (!dict.containsKey(key)) throw bad(path, "header lacks '" + key + "'");
        return dict.get(key);
    }

    private static Dtype dtype(Path path, Object descr) {
        if (!(descr instanceof String d)) {
            throw bad(path, "dtype " + descr + " is a structured dtype; supported: '<f4', '|u1', '<f8'");
        }
        switch (d) {
            case "<f4":
                return Dtype.FLOAT32;
            case "<f8":
                return Dtype.FLOAT64;
            case "|u1", "<u1", ">u1":
                return Dtype.UINT8;
            default:
                if (d.startsWith(">")) {
                    throw bad(path, "dtype '" + d + "' is big-endian; supported: '<f4', '|u1', '<f8' (convert with arr.astype('<f4'))");
                }
                throw bad(path, "dtype '" + d + "' is not supported; supported: '<f4', '|u1', '<f8'");
        }
    }

    private static Shape shape(Path path, Object value) {
        if (!(value instanceof List<?> list)) throw bad(path, "header 'shape' must be a tuple of integers, found " + value);
        int[] dims = new int[list.size()];
        long size = 1;
        for (int i = 0; i < dims.length; i++) {
            if (!(list.get(i) instanceof Long d) || d < 0) throw bad(path, "header 'shape' must hold non-negative integers, found " + list);
            if (d == 0) throw bad(path, "array has shape " + tuple(list) + " with no elements; nothing to read");
            size *= d;
            if (size > Integer.MAX_VALUE) throw bad(path, "array of shape " + tuple(list) + " has too many elements for one array");
            dims[i] = (int) (long) d;
        }
        return Shape.of(dims);
    }

    /** A shape as NumPy and this project's other messages write it: (2, 32, 32, 3). */
    private static String tuple(List<?> dims) {
        return "(" + dims.stream().map(String::valueOf).collect(java.util.stream.Collectors.joining(", ")) + (dims.size() == 1 ? ",)" : ")");
    }

    private static float[] decode(Path path, FileChannel channel, long position, Dtype dtype, Shape shape) throws IOException {
        return LittleEndianFloats.read(channel, position, shape.elements(), dtype.bytes, (buf, out, start, n) -> {
            switch (dtype) {
                case FLOAT32 -> buf.asFloatBuffer().get(out, start, n);
                case FLOAT64 -> {
                    for (int i = 0; i < n; i++) {
                        double value = buf.getDouble();
                        out[start + i] = (float) value;
                        // rounded to float32 it would read as Infinity, a value the file does not hold
                        if (Double.isFinite(value) && Float.isInfinite(out[start + i])) {
                            throw bad(path, "holds " + value + " at index " + shape.indexString(start + i)
                                    + ", beyond float32's range (about ±3.4e38)");
                        }
                    }
                }
                case UINT8 -> {
                    for (int i = 0; i < n; i++) out[start + i] = buf.get() & 0xFF;
                }
            }
        });
    }

    /**
     * Checks the shape of an array read from path; -1 in expected matches any size. Message like
     * "x.npy: expected shape (N, 32, 32, 3), found (5, 32, 32)".
     */
    public static void requireShape(HostArray array, Path path, int... expected) {
        int[] dims = array.shape().dims();
        boolean matches = dims.length == expected.length;
        for (int i = 0; matches && i < dims.length; i++) {
            matches = expected[i] == -1 || expected[i] == dims[i];
        }
        if (matches) return;
        StringBuilder want = new StringBuilder("(");
        for (int i = 0; i < expected.length; i++) {
            if (i > 0) want.append(", ");
            want.append(expected[i] == -1 ? "N" : String.valueOf(expected[i]));
        }
        if (expected.length == 1) want.append(',');
        want.append(')');
        throw bad(path, "expected shape " + want + ", found " + array.shape());
    }

    /** Writes a float32 array, C order, version 1.0 header; atomically. */
    public static void write(Path path, HostArray array) throws IOException {
        StringBuilder dict = new StringBuilder("{'descr': '<f4', 'fortran_order': False, 'shape': (");
        int[] dims = array.shape().dims();
        for (int i = 0; i < dims.length; i++) {
            if (i > 0) dict.append(", ");
            dict.append(dims[i]);
        }
        if (dims.length == 1) dict.append(',');
        dict.append("), }");
        int prefix = MAGIC.length + 2 + 2;
        int padding = Math.floorMod(-(prefix + dict.length() + 1), ALIGNMENT);
        String header = dict + " ".repeat(padding) + "\n";

        ByteBuffer head = ByteBuffer.allocate(prefix + header.length()).order(ByteOrder.LITTLE_ENDIAN);
        head.put(MAGIC).put((byte) 1).put((byte) 0).putShort((short) header.length());
        head.put(header.getBytes(StandardCharsets.ISO_8859_1));
        float[] data = array.data();
        AtomicFiles.write(path, out -> {
            out.write(head.array());
            LittleEndianFloats.writeFloat32(out, data);
        });
    }

    /** Header text is echoed in messages: control bytes (a NUL, a newline) are shown escaped, never raw. */
    private static UserException bad(Path path, String message) {
        StringBuilder shown = new StringBuilder();
        message.codePoints().forEach(c -> {
            if (Character.isISOControl(c)) shown.append(String.format("\\x%02x", c));
            else shown.appendCodePoint(c);
        });
        return new UserException(path + ": " + shown);
    }

    /**
     * The header is a Python dict literal, e.g. {'descr': '&lt;f4', 'fortran_order': False, 'shape': (3, 4), }.
     * Strings become String, True/False Boolean, integers Long, tuples and lists List.
     */
    private static final class HeaderParser {
        private final String text;
        private int pos;

        HeaderParser(String text) {
            this.text = text;
        }

        Map<String, Object> dict() {
            skipSpace();
            Object value = value();
            skipSpace();
            if (pos < text.length()) throw error("unexpected text after the dict");
            if (!(value instanceof Map)) throw error("the header is not a dict");
            @SuppressWarnings("unchecked") Map<String, Object> dict = (Map<String, Object>) value;
            return dict;
        }

        private Object value() {
            if (pos >= text.length()) throw error("unexpected end");
            char c = text.charAt(pos);
            if (c == '{') return map();
            if (c == '(') return sequence(')');
            if (c == '[') return sequence(']');
            if (c == '\'' || c == '"') return string();
            if (c == '-' || Character.isDigit(c)) return integer();
            if (text.startsWith("True", pos)) {
                pos += 4;
                return Boolean.TRUE;
            }
            if (text.startsWith("False", pos)) {
                pos += 5;
                return Boolean.FALSE;
            }
            throw error("unexpected '" + c + "'");
        }

        private Map<String, Object> map() {
            pos++;
            Map<String, Object> map = new LinkedHashMap<>();
            while (true) {
                skipSpace();
                if (peek() == '}') {
                    pos++;
                    return map;
                }
                Object key = value();
                if (!(key instanceof String k)) throw error("dict keys must be strings");
                skipSpace();
                if (peek() != ':') throw error("expected ':'");
                pos++;
                skipSpace();
                map.put(k, value());
                skipSpace();
                if (peek() == ',') {
                    pos++;
                } else if (peek() != '}') {
                    throw error("expected ',' or '}'");
                }
            }
        }

        private List<Object> sequence(char close) {
            pos++;
            List<Object> items = new ArrayList<>();
            while (true) {
                skipSpace();
                if (peek() == close) {
                    pos++;
                    return items;
                }
                items.add(value());
                skipSpace();
                if (peek() == ',') {
                    pos++;
                } else if (peek() != close) {
                    throw error("expected ',' or '" + close + "'");
                }
            }
        }

        private String string() {
            char quote = text.charAt(pos++);
            int end = text.indexOf(quote, pos);
            if (end < 0) throw error("unterminated string");
            String s = text.substring(pos, end);
            pos = end + 1;
            return s;
        }

        private Long integer() {
            int start = pos;
            if (peek() == '-') pos++;
            while (Character.isDigit(peek())) pos++;
            String digits = text.substring(start, pos);
            // Python 2 wrote long integers with an L suffix.
            if (peek() == 'L') pos++;
            try {
                return Long.parseLong(digits);
            } catch (NumberFormatException e) {
                throw error("invalid integer '" + digits + "'");
            }
        }

        private char peek() {
            return pos < text.length() ? text.charAt(pos) : 0;
        }

        private void skipSpace() {
            while (pos < text.length() && Character.isWhitespace(text.charAt(pos))) pos++;
        }

        private IllegalArgumentException error(String message) {
            return new IllegalArgumentException(message + " at offset " + pos);
        }
    }
}
