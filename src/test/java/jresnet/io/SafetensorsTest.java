package jresnet.io;

import jresnet.TestSeeds;
import jresnet.UserException;
import jresnet.tensor.HostArray;
import jresnet.tensor.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SafetensorsTest {
    @TempDir Path dir;

    @Test
    void randomTensorsRoundTrip() throws IOException {
        long seed = TestSeeds.next();
        Random random = new Random(seed);
        for (int round = 0; round < 20; round++) {
            Map<String, HostArray> tensors = new LinkedHashMap<>();
            for (int t = random.nextInt(6); t >= 0; t--) {
                int[] dims = new int[random.nextInt(5)];
                for (int i = 0; i < dims.length; i++) dims[i] = 1 + random.nextInt(7);
                Shape shape = Shape.of(dims);
                float[] data = new float[shape.elements()];
                for (int i = 0; i < data.length; i++) data[i] = Float.intBitsToFloat(random.nextInt());
                tensors.put("layer_" + random.nextInt(1000) + ".kernel" + t, new HostArray(shape, data));
            }
            Map<String, String> metadata = round % 2 == 0 ? Map.of() : Map.of("format", "pt", "note", "é \"quoted\"");
            Path file = dir.resolve("w" + round + ".safetensors");
            Safetensors.write(file, tensors, metadata);

            ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
            long headerLength = bytes.getLong(0);
            assertEquals(0, headerLength % 8, "seed " + seed);

            Safetensors.File read = Safetensors.read(file);
            assertEquals(new ArrayList<>(tensors.keySet()), new ArrayList<>(read.tensors().keySet()), "seed " + seed);
            for (Map.Entry<String, HostArray> e : tensors.entrySet()) {
                HostArray got = read.tensors().get(e.getKey());
                assertEquals(e.getValue().shape(), got.shape(), "seed " + seed);
                // Compare bit patterns: NaN payloads must survive too.
                for (int i = 0; i < got.data().length; i++) {
                    assertEquals(Float.floatToRawIntBits(e.getValue().data()[i]), Float.floatToRawIntBits(got.data()[i]), "seed " + seed);
                }
            }
            assertEquals(metadata, read.metadata(), "seed " + seed);
        }
    }

    @Test
    void tinyFileHasTheExactLayout() throws IOException {
        Path file = dir.resolve("tiny.safetensors");
        Map<String, HostArray> tensors = new LinkedHashMap<>();
        tensors.put("a", new HostArray(Shape.of(2), new float[] {1.0f, -2.0f}));
        tensors.put("b", new HostArray(Shape.of(), new float[] {0.5f}));
        Safetensors.write(file, tensors, Map.of("k", "v"));

        String header = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[8,12]},\"__metadata__\":{\"k\":\"v\"}}";
        assertEquals(132, header.length());
        ByteBuffer expected = ByteBuffer.allocate(8 + 136 + 12);
        expected.put(new byte[] {(byte) 136, 0, 0, 0, 0, 0, 0, 0});
        expected.put(header.getBytes(StandardCharsets.US_ASCII));
        expected.put("    ".getBytes(StandardCharsets.US_ASCII));
        expected.put(new byte[] {0, 0, (byte) 0x80, 0x3F});        // 1.0f
        expected.put(new byte[] {0, 0, 0, (byte) 0xC0});           // -2.0f
        expected.put(new byte[] {0, 0, 0, 0x3F});                  // 0.5f
        assertArrayEquals(expected.array(), Files.readAllBytes(file));
    }

    @Test
    void readsTensorsInDataOrderWhateverTheHeaderOrder() throws IOException {
        Path file = craft("{\"second\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]},"
                + "\"first\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", LittleEndianBytes.floats(3f, 4f));
        Safetensors.File read = Safetensors.read(file);
        assertEquals(List.of("first", "second"), new ArrayList<>(read.tensors().keySet()));
        assertEquals(3f, read.tensors().get("first").data()[0]);
        assertEquals(4f, read.tensors().get("second").data()[0]);
        assertEquals(Map.of(), read.metadata());
    }

    @Test
    void convertsF64F16AndBf16() throws IOException {
        ByteBuffer data = ByteBuffer.allocate(16 + 8 + 4).order(ByteOrder.LITTLE_ENDIAN);
        data.putDouble(0.1).putDouble(-1.5);
        data.putShort((short) 0x3C00).putShort((short) 0xC000).putShort((short) 0x0001).putShort((short) 0x7BFF);
        data.putShort((short) 0x3F80).putShort((short) 0xC0A0);
        Path file = craft("{\"d\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[0,16]},"
                + "\"h\":{\"dtype\":\"F16\",\"shape\":[2,2],\"data_offsets\":[16,24]},"
                + "\"b\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[24,28]}}", data.array());
        Safetensors.File read = Safetensors.read(file);
        assertArrayEquals(new float[] {0.1f, -1.5f}, read.tensors().get("d").data());
        assertArrayEquals(new float[] {1f, -2f, 0x1p-24f, 65504f}, read.tensors().get("h").data());
        assertEquals(Shape.of(2, 2), read.tensors().get("h").shape());
        assertArrayEquals(new float[] {1f, -5f}, read.tensors().get("b").data());
    }

    @Test
    void halfPrecisionSpecialValues() {
        assertEquals(Float.POSITIVE_INFINITY, Safetensors.halfToFloat((short) 0x7C00));
        assertEquals(Float.NEGATIVE_INFINITY, Safetensors.halfToFloat((short) 0xFC00));
        assertTrue(Float.isNaN(Safetensors.halfToFloat((short) 0x7E00)));
        assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(Safetensors.halfToFloat((short) 0x8000)));
        assertEquals(-0x3FFp-24f, Safetensors.halfToFloat((short) 0x83FF));
        assertEquals(0x1p-14f, Safetensors.halfToFloat((short) 0x0400));
    }

    @Test
    void rejectsShortFile() throws IOException {
        Path file = dir.resolve("short.safetensors");
        Files.write(file, new byte[5]);
        assertMessage(file, "5 bytes, shorter than the 8-byte header length");
    }

    @Test
    void rejectsAbsurdHeaderLength() throws IOException {
        Path file = dir.resolve("absurd.safetensors");
        Files.write(file, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(1L << 40).array());
        assertMessage(file, "header length 1099511627776 is not plausible");
        Files.write(file, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(-1L).array());
        assertMessage(file, "header length 18446744073709551615 is not plausible");
    }

    @Test
    void rejectsHeaderLongerThanFile() throws IOException {
        Path file = dir.resolve("long.safetensors");
        Files.write(file, ByteBuffer.allocate(20).order(ByteOrder.LITTLE_ENDIAN).putLong(100).array());
        assertMessage(file, "header length 100 exceeds the 12 bytes after the length field");
    }

    @Test
    void rejectsInvalidUtf8() throws IOException {
        Path file = dir.resolve("utf8.safetensors");
        Files.write(file, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(8)
                .put(new byte[] {'{', '"', (byte) 0xFF, '"', ':', '1', '}', ' '}).array());
        assertMessage(file, "header is not valid UTF-8");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
            "{abc|header is not a valid JSON object: malformed JSON at line 1 column 3",
            "[1, 2]|header is not a valid JSON object: expected a JSON object, found array",
            "`{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}`|duplicate key \"w\"",
            "`{\"w\":5}`|tensor 'w': expected an object {dtype, shape, data_offsets}, found number",
            "`{\"w\":{\"shape\":[2],\"data_offsets\":[0,8]}}`|tensor 'w' lacks the field \"dtype\"",
            "`{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}`|tensor 'w' lacks the field \"shape\"",
            "`{\"w\":{\"dtype\":\"F32\",\"shape\":[2]}}`|tensor 'w' lacks the field \"data_offsets\"",
            "`{\"w\":{\"dtype\":32,\"shape\":[2],\"data_offsets\":[0,8]}}`|tensor 'w': \"dtype\" must be a string, found number",
            "`{\"w\":{\"dtype\":\"I32\",\"shape\":[2],\"data_offsets\":[0,8]}}`|tensor 'w' has dtype I32; supported: F32, F64, F16, BF16",
            "`{\"w\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,8]}}`|tensor 'w': \"shape\" must hold non-negative integers",
            "`{\"w\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}`|tensor 'w': \"shape\" must hold non-negative integers",
            "`{\"w\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}}`|empty tensors are not supported",
            "`{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}`|\"data_offsets\" must be [begin, end], found [0]",
            "`{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,100]}}`|tensor 'w' has data_offsets [0, 100] outside the 12 data bytes",
            "`{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,4]}}`|tensor 'w' has data_offsets [8, 4] that end before they begin",
            "`{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}`|spanning 8 bytes, but shape [3] of F32 needs 12",
            "`{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}`|tensors 'a' [0, 8) and 'b' [4, 12) overlap",
            "`{\"__metadata__\":[1]}`|\"__metadata__\" must be an object of strings, found array",
            "`{\"__metadata__\":{\"epoch\":3}}`|\"__metadata__\" value of \"epoch\" must be a string, found number",
            "`{\"w\":{\"dtype\":\"F32\",\"shape\":[65536,65536],\"data_offsets\":[0,8]}}`|too many elements",
    })
    void rejectsBadHeaders(String header, String message) throws IOException {
        assertMessage(craft(header, LittleEndianBytes.floats(1f, 2f, 3f)), message);
    }

    /** Every data byte belongs to exactly one tensor: bytes after the last one or between two mean a damaged file. */
    @Test
    void trailingBytesAndGapsAreRefused() throws IOException {
        String one = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
        assertMessage(craft(one, LittleEndianBytes.floats(1f, 2f, 3f)), "4 trailing bytes after the last tensor's data");
        String gap = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}";
        assertMessage(craft(gap, LittleEndianBytes.floats(1f, 2f, 3f)), "bytes [4, 8) of the data belong to no tensor (before 'b')");
    }

    @Test
    void aFolderOrAnUnreadableFileIsNamedWithTheReason() throws IOException {
        assertMessage(dir, "is a folder, not a file");
    }

    @Test
    void missingFileIsAUserError() {
        Path file = dir.resolve("absent.safetensors");
        assertMessage(file, "file not found");
    }

    @Test
    void rejectsReservedNamesOnWrite() {
        HostArray one = new HostArray(Shape.of(1), new float[] {1});
        assertThrows(IllegalArgumentException.class, () -> Safetensors.write(dir.resolve("x"), Map.of("__metadata__", one), Map.of()));
        assertThrows(IllegalArgumentException.class, () -> Safetensors.write(dir.resolve("x"), Map.of("", one), Map.of()));
    }

    private void assertMessage(Path file, String fragment) {
        UserException e = assertThrows(UserException.class, () -> Safetensors.read(file));
        assertTrue(e.getMessage().startsWith(file + ": "), e.getMessage());
        assertTrue(e.getMessage().contains(fragment), e.getMessage());
        assertEquals(-1, e.getMessage().indexOf('\n'), e.getMessage());
    }

    /** A file with the given header (padded to 8 bytes) followed by data. */
    private Path craft(String header, byte[] data) throws IOException {
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        ByteBuffer b = ByteBuffer.allocate(8 + padded + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(padded).put(json);
        for (int i = json.length; i < padded; i++) b.put((byte) ' ');
        b.put(data);
        Path file = dir.resolve("crafted.safetensors");
        Files.write(file, b.array());
        return file;
    }

}
