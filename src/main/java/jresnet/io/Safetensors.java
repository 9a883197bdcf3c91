package jresnet.io;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import jresnet.UserException;
import jresnet.tensor.HostArray;
import jresnet.tensor.Shape;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The safetensors format: an 8-byte little-endian header length, a JSON header mapping each tensor
 * name to {dtype, shape, data_offsets} (plus an optional "__metadata__" object of strings), then the
 * raw little-endian data. Writes float32; reads F32 and converts F64, F16 and BF16 to float32.
 */
public final class Safetensors {
    /** Real headers are kilobytes; anything this large is a corrupt length field. */
    static final long MAX_HEADER_BYTES = 100_000_000L;
    private static final String METADATA_KEY = "__metadata__";

    private Safetensors() {}

    /** A read file: tensors in the order of their data in the file, and the metadata. */
    public record File(Map<String, HostArray> tensors, Map<String, String> metadata) {
        public File {
            tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
            metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
        }
    }

    private enum Dtype {
        F32(4), F64(8), F16(2), BF16(2);

        final int bytes;

        Dtype(int bytes) {
            this.bytes = bytes;
        }
    }

    /** One tensor's entry in the header. */
    private record HeaderEntry(String dtype, List<Long> shape, List<Long> dataOffsets) {}

    /** Writes tensors in map order, atomically; metadata may be empty. */
    public static void write(Path path, Map<String, HostArray> tensors, Map<String, String> metadata) throws IOException {
        byte[] prefix = headerBytes(tensors, metadata);
        AtomicFiles.write(path, out -> writeTo(out, prefix, tensors));
    }

    /**
     * The SHA-256 (hex) of the bytes {@link #write} writes for these tensors and metadata, so that a
     * file can later be told apart from the one written ({@link FileDigest#sha256(Path)}) without keeping it.
     */
    public static String sha256(Map<String, HostArray> tensors, Map<String, String> metadata) {
        byte[] prefix = headerBytes(tensors, metadata);
        try {
            return FileDigest.sha256Of(out -> writeTo(out, prefix, tensors));
        } catch (IOException impossible) {
            throw new UncheckedIOException(impossible);
        }
    }

    /** The length prefix and the JSON header, padded with spaces to a multiple of 8 bytes. */
    private static byte[] headerBytes(Map<String, HostArray> tensors, Map<String, String> metadata) {
        Map<String, Object> header = new LinkedHashMap<>();
        long offset = 0;
        for (Map.Entry<String, HostArray> e : tensors.entrySet()) {
            String name = e.getKey();
            if (name.isEmpty() || name.equals(METADATA_KEY)) {
                throw new IllegalArgumentException("invalid safetensors tensor name \"" + name + "\"");
            }
            long end = offset + 4L * e.getValue().data().length;
            List<Long> shape = new ArrayList<>();
            for (int d : e.getValue().shape().dims()) shape.add((long) d);
            header.put(name, new HeaderEntry("F32", shape, List.of(offset, end)));
            offset = end;
        }
        if (!metadata.isEmpty()) header.put(METADATA_KEY, new LinkedHashMap<>(metadata));

        byte[] json = Json.compact(header).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        ByteBuffer prefix = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        prefix.putLong(padded).put(json);
        while (prefix.hasRemaining()) prefix.put((byte) ' ');
        return prefix.array();
    }

    private static void writeTo(OutputStream out, byte[] prefix, Map<String, HostArray> tensors) throws IOException {
        out.write(prefix);
        for (HostArray t : tensors.values()) LittleEndianFloats.writeFloat32(out, t.data());
    }

    public static File read(Path path) throws IOException {
        return FileErrors.readUserFile(path, Safetensors::read);
    }

    private record Entry(String name, Dtype dtype, Shape shape, long begin, long end) {}

    private static File read(Path path, FileChannel channel) throws IOException {
        long fileSize = channel.size();
        if (fileSize < 8) {
            throw bad(path, "not a safetensors file: " + fileSize + " bytes, shorter than the 8-byte header length");
        }
        ByteBuffer lengthField = LittleEndianFloats.readFully(channel, 0, 8);
        long headerLength = lengthField.order(ByteOrder.LITTLE_ENDIAN).getLong();
        if (headerLength < 0 || headerLength > MAX_HEADER_BYTES) {
            throw bad(path, "header length " + Long.toUnsignedString(headerLength) + " is not plausible (limit "
                    + MAX_HEADER_BYTES + " bytes); not a safetensors file or corrupt");
        }
        if (headerLength > fileSize - 8) {
            throw bad(path, "header length " + headerLength + " exceeds the " + (fileSize - 8) + " bytes after the length field; file truncated?");
        }
        String headerText;
        try {
            headerText = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(LittleEndianFloats.readFully(channel, 8, (int) headerLength)).toString();
        } catch (CharacterCodingException e) {
            throw bad(path, "header is not valid UTF-8");
        }
        JsonObject header;
        try {
            header = Json.parseObject(headerText, path.toString());
        } catch (Json.InvalidJson e) {
            throw bad(path, "header is not a valid JSON object: " + e.problem());
        }

        long dataStart = 8 + headerLength;
        long dataSize = fileSize - dataStart;
        Map<String, String> metadata = new LinkedHashMap<>();
        List<Entry> entries = new ArrayList<>();
        for (Map.Entry<String, JsonElement> e : header.entrySet()) {
            if (e.getKey().equals(METADATA_KEY)) {
                metadata = parseMetadata(path, e.getValue());
            } else {
                entries.add(parseEntry(path, e.getKey(), e.getValue(), dataSize));
            }
        }
        entries.sort(Comparator.comparingLong(Entry::begin));
        long covered = 0;
        for (int i = 0; i < entries.size(); i++) {
            Entry cur = entries.get(i);
            if (i > 0 && cur.begin < entries.get(i - 1).end) {
                Entry prev = entries.get(i - 1);
                throw bad(path, "tensors '" + prev.name + "' [" + prev.begin + ", " + prev.end + ") and '" + cur.name
                        + "' [" + cur.begin + ", " + cur.end + ") overlap");
            }
            if (cur.begin != covered) {
                throw bad(path, "bytes [" + covered + ", " + cur.begin + ") of the data belong to no tensor (before '" + cur.name
                        + "'); the file is corrupt");
            }
            covered = cur.end;
        }
        if (covered != dataSize) {
            throw bad(path, (dataSize - covered) + " trailing bytes after the last tensor's data; the file is corrupt or was appended to");
        }

        Map<String, HostArray> tensors = new LinkedHashMap<>();
        for (Entry e : entries) {
            tensors.put(e.name, new HostArray(e.shape, decode(channel, dataStart + e.begin, e.dtype, e.shape.elements())));
        }
        return new File(tensors, metadata);
    }

    private static Map<String, String> parseMetadata(Path path, JsonElement value) {
        if (!value.isJsonObject()) {
            throw bad(path, "\"" + METADATA_KEY + "\" must be an object of strings, found " + Json.typeName(value));
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Map.Entry<String, JsonElement> e : value.getAsJsonObject().entrySet()) {
            if (!isString(e.getValue())) {
                throw bad(path, "\"" + METADATA_KEY + "\" value of \"" + e.getKey() + "\" must be a string, found " + Json.typeName(e.getValue()));
            }
            metadata.put(e.getKey(), e.getValue().getAsString());
        }
        return metadata;
    }

    private static boolean isString(JsonElement value) {
        return value.isJsonPrimitive() && value.getAsJsonPrimitive().isString();
    }

    private static Entry parseEntry(Path path, String name, JsonElement value, long dataSize) {
        String where = "tensor '" + name + "'";
        if (!value.isJsonObject()) {
            throw bad(path, where + ": expected an object {dtype, shape, data_offsets}, found " + Json.typeName(value));
        }
        JsonObject fields = value.getAsJsonObject();
        JsonElement dtypeValue = field(path, where, fields, "dtype");
        if (!isString(dtypeValue)) {
            throw bad(path, where + ": \"dtype\" must be a string, found " + Json.typeName(dtypeValue));
        }
        String dtypeName = dtypeValue.getAsString();
        Dtype dtype;
        try {
            dtype = Dtype.valueOf(dtypeName);
        } catch (IllegalArgumentException unsupported) {
            throw bad(path, where + " has dtype " + dtypeName + "; supported: F32, F64, F16, BF16");
        }
        List<Long> dims = integers(path, where, "shape", field(path, where, fields, "shape"));
        long elements = 1;
        for (long d : dims) {
            if (d == 0) throw bad(path, where + " has shape " + dims + " with no elements; empty tensors are not supported");
            elements *= d;
            if (elements > Integer.MAX_VALUE) throw bad(path, where + " has shape " + dims + ", too many elements for one array");
        }
        List<Long> offsets = integers(path, where, "data_offsets", field(path, where, fields, "data_offsets"));
        if (offsets.size() != 2) throw bad(path, where + ": \"data_offsets\" must be [begin, end], found " + offsets);
        long begin = offsets.get(0);
        long end = offsets.get(1);
        if (begin > end) throw bad(path, where + " has data_offsets [" + begin + ", " + end + "] that end before they begin");
        if (end > dataSize) {
            throw bad(path, where + " has data_offsets [" + begin + ", " + end + "] outside the " + dataSize + " data bytes");
        }
        if (end - begin != elements * dtype.bytes) {
            throw bad(path, where + " has data_offsets [" + begin + ", " + end + "] spanning " + (end - begin) + " bytes, but shape "
                    + dims + " of " + dtype + " needs " + elements * dtype.bytes);
        }
        int[] intDims = new int[dims.size()];
        for (int i = 0; i < intDims.length; i++) intDims[i] = (int) (long) dims.get(i);
        return new Entry(name, dtype, Shape.of(intDims), begin, end);
    }

    private static JsonElement field(Path path, String where, JsonObject fields, String key) {
        if (!fields.has(key)) throw bad(path, where + " lacks the field \"" + key + "\"");
        return fields.get(key);
    }

    private static List<Long> integers(Path path, String where, String key, JsonElement value) {
        if (!value.isJsonArray()) throw bad(path, where + ": \"" + key + "\" must be an array of integers, found " + Json.typeName(value));
        List<Long> out = new ArrayList<>();
        for (JsonElement item : value.getAsJsonArray()) {
            Long n = nonNegativeLong(item);
            if (n == null) throw bad(path, where + ": \"" + key + "\" must hold non-negative integers, found " + value);
            out.add(n);
        }
        return out;
    }

    private static Long nonNegativeLong(JsonElement item) {
        if (!item.isJsonPrimitive() || !item.getAsJsonPrimitive().isNumber()) return null;
        try {
            long n = new BigDecimal(item.getAsString()).longValueExact();
            return n < 0 ? null : n;
        } catch (ArithmeticException | NumberFormatException notWhole) {
            return null;
        }
    }

    private static float[] decode(FileChannel channel, long position, Dtype dtype, int elements) throws IOException {
        return LittleEndianFloats.read(channel, position, elements, dtype.bytes, (buf, out, start, n) -> {
            switch (dtype) {
                case F32 -> buf.asFloatBuffer().get(out, start, n);
                case F64 -> {
                    for (int i = 0; i < n; i++) out[start + i] = (float) buf.getDouble();
                }
                case F16 -> {
                    for (int i = 0; i < n; i++) out[start + i] = halfToFloat(buf.getShort());
                }
                case BF16 -> {
                    for (int i = 0; i < n; i++) out[start + i] = Float.intBitsToFloat((buf.getShort() & 0xFFFF) << 16);
                }
            }
        });
    }

    /** IEEE 754 binary16 to float32 (exact: every half value is a float value). */
    static float halfToFloat(short bits) {
        int sign = (bits & 0x8000) << 16;
        int exponent = (bits >>> 10) & 0x1F;
        int mantissa = bits & 0x3FF;
        if (exponent == 0x1F) return Float.intBitsToFloat(sign | 0x7F800000 | mantissa << 13);
        if (exponent == 0) {
            float magnitude = mantissa * 0x1p-24f;
            return sign == 0 ? magnitude : -magnitude;
        }
        return Float.intBitsToFloat(sign | (exponent + 112) << 23 | mantissa << 13);
    }

    private static UserException bad(Path path, String message) {
        return new UserException(path + ": " + message);
    }
}
