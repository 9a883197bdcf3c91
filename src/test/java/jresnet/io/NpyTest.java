package jresnet.io;

import jresnet.TestSeeds;
import jresnet.UserException;
import jresnet.tensor.HostArray;
import jresnet.tensor.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NpyTest {
    @TempDir Path dir;

    @Test
    void randomArraysRoundTrip() throws IOException {
        long seed = TestSeeds.next();
        Random random = new Random(seed);
        for (int round = 0; round < 20; round++) {
            int[] dims = new int[random.nextInt(5)];
            for (int i = 0; i < dims.length; i++) dims[i] = 1 + random.nextInt(9);
            Shape shape = Shape.of(dims);
            float[] data = new float[shape.elements()];
            for (int i = 0; i < data.length; i++) data[i] = (float) (random.nextGaussian() * 100);
            Path file = dir.resolve("a" + round + ".npy");
            Npy.write(file, new HostArray(shape, data));

            byte[] bytes = Files.readAllBytes(file);
            int headerLength = (bytes[8] & 0xFF) | (bytes[9] & 0xFF) << 8;
            assertEquals(0, (10 + headerLength) % 64, "seed " + seed);
            assertEquals('\n', bytes[10 + headerLength - 1], "seed " + seed);

            HostArray read = Npy.read(file);
            assertEquals(shape, read.shape(), "seed " + seed);
            assertArrayEquals(data, read.data(), "seed " + seed);
        }
    }

    @Test
    void writesTheExactV1Layout() throws IOException {
        Path file = dir.resolve("f.npy");
        Npy.write(file, new HostArray(Shape.of(2), new float[] {1.5f, -0.25f}));
        String dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";
        assertEquals(57, dict.length());
        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        expected.writeBytes(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 118, 0});
        expected.writeBytes((dict + " ".repeat(60) + "\n").getBytes(StandardCharsets.US_ASCII));
        expected.writeBytes(new byte[] {0, 0, (byte) 0xC0, 0x3F});   // 1.5f
        expected.writeBytes(new byte[] {0, 0, (byte) 0x80, (byte) 0xBE}); // -0.25f
        assertArrayEquals(expected.toByteArray(), Files.readAllBytes(file));
    }

    @Test
    void readsHandWrittenUint8() throws IOException {
        String dict = "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 3), }";
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        bytes.writeBytes(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 118, 0});
        bytes.writeBytes((dict + " ".repeat(58) + "\n").getBytes(StandardCharsets.US_ASCII));
        bytes.writeBytes(new byte[] {0, 1, 127, (byte) 128, (byte) 254, (byte) 255});
        Path file = dir.resolve("u8.npy");
        Files.write(file, bytes.toByteArray());
        HostArray a = Npy.read(file);
        assertEquals(Shape.of(2, 3), a.shape());
        assertArrayEquals(new float[] {0, 1, 127, 128, 254, 255}, a.data());
    }

    @Test
    void readsHandWrittenFloat32() throws IOException {
        Path file = craft(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", LittleEndianBytes.floats(1.5f, -0.25f, 3e38f));
        HostArray a = Npy.read(file);
        assertEquals(Shape.of(3), a.shape());
        assertArrayEquals(new float[] {1.5f, -0.25f, 3e38f}, a.data());
    }

    @Test
    void readsVersion2And3AndFloat64() throws IOException {
        byte[] f8 = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putDouble(0.1).putDouble(-2).array();
        HostArray v2 = Npy.read(craft(2, "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2), }", f8));
        assertEquals(Shape.of(1, 2), v2.shape());
        assertArrayEquals(new float[] {0.1f, -2f}, v2.data());

        // Version 3 headers are UTF-8; the double quotes and L suffix are what other writers produce.
        HostArray v3 = Npy.read(craft(3, "{\"descr\": \"|u1\", \"fortran_order\": False, \"shape\": (2L,), \"note\": 'é'}", new byte[] {7, (byte) 200}));
        assertArrayEquals(new float[] {7, 200}, v3.data());
    }

    /** A float64 beyond float32's range would read as Infinity: the file's own value is named instead. */
    @Test
    void float64BeyondFloat32IsNamedAsItIs() throws IOException {
        byte[] f8 = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN).putDouble(1).putDouble(-1e300).putDouble(Double.POSITIVE_INFINITY).array();
        Path file = craft(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 3), }", f8);
        UserException e = assertThrows(UserException.class, () -> Npy.read(file));
        assertEquals(file + ": holds -1.0E300 at index [0, 1], beyond float32's range (about ±3.4e38)", e.getMessage());
    }

    /** A shape in a message is written as NumPy writes it, as the other messages do. */
    @Test
    void anEmptyArrayIsNamedWithItsShapeAsATuple() throws IOException {
        Path file = craft(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 32, 32, 3), }", new byte[0]);
        UserException e = assertThrows(UserException.class, () -> Npy.read(file));
        assertEquals(file + ": array has shape (0, 32, 32, 3) with no elements; nothing to read", e.getMessage());
    }

    @Test
    void readsAScalar() throws IOException {
        HostArray a = Npy.read(craft(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }", LittleEndianBytes.floats(42f)));
        assertEquals(0, a.shape().rank());
        assertArrayEquals(new float[] {42f}, a.data());
    }

    @Test
    void rejectsBadMagic() throws IOException {
        Path file = dir.resolve("bad.npy");
        Files.write(file, "PK\3\4 this is a zip".getBytes(StandardCharsets.ISO_8859_1));
        assertMessage(file, "does not start with \\x93NUMPY");
        Files.write(file, new byte[] {(byte) 0x93, 'N'});
        assertMessage(file, "not a .npy file: only 2 bytes");
    }

    @Test
    void rejectsUnsupportedVersion() throws IOException {
        assertMessage(craft(4, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", LittleEndianBytes.floats(1)), "unsupported .npy format version 4.0");
    }

    @Test
    void rejectsUnparsableHeader() throws IOException {
        assertMessage(craft(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,) ", LittleEndianBytes.floats(1)), "cannot parse the header");
        assertMessage(craft(1, "{'descr': '<f4' 'fortran_order': False}", LittleEndianBytes.floats(1)), "cannot parse the header");
        assertMessage(craft(1, "{'descr': '<f4', 'fortran_order': Maybe, 'shape': (1,), }", LittleEndianBytes.floats(1)), "cannot parse the header");
        assertMessage(craft(1, "['descr', '<f4']", LittleEndianBytes.floats(1)), "the header is not a dict");
        assertMessage(craft(1, "{'descr': '<f4', 'fortran_order': False, }", LittleEndianBytes.floats(1)), "header lacks 'shape'");
        assertMessage(craft(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1.5,), }", LittleEndianBytes.floats(1)), "cannot parse the header");
        assertMessage(craft(1, "{'descr': '<f4', 'fortran_order': False, 'shape': ('a',), }", LittleEndianBytes.floats(1)), "'shape' must hold non-negative integers");
        assertMessage(craft(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 3), }", new byte[0]), "no elements");
    }

    @Test
    void rejectsFortranOrder() throws IOException {
        assertMessage(craft(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", LittleEndianBytes.floats(1, 2, 3, 4)), "Fortran order");
    }

    @Test
    void rejectsOtherDtypesByName() throws IOException {
        assertMessage(craft(1, "{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", LittleEndianBytes.floats(1)), "dtype '>f4' is big-endian");
        assertMessage(craft(1, "{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }", new byte[8]), "dtype '<i8' is not supported");
        assertMessage(craft(1, "{'descr': [('x', '<f4')], 'fortran_order': False, 'shape': (1,), }", LittleEndianBytes.floats(1)), "structured dtype");
    }

    @Test
    void rejectsDataSizeMismatch() throws IOException {
        assertMessage(craft(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", LittleEndianBytes.floats(1, 2, 3, 4, 5)),
                "data is 20 bytes, but shape (2, 3) of <f4 needs 24");
        assertMessage(craft(1, "{'descr': '|u1', 'fortran_order': False, 'shape': (2,), }", new byte[3]),
                "data is 3 bytes, but shape (2,) of |u1 needs 2");
    }

    @Test
    void rejectsHeaderLengthPastTheEnd() throws IOException {
        Path file = dir.resolve("cut.npy");
        Files.write(file, new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 100, 0, '{'});
        assertMessage(file, "header length 100 runs past the end of the 11-byte file");
    }

    @Test
    void missingFileIsAUserError() {
        assertMessage(dir.resolve("absent.npy"), "file not found");
    }

    @Test
    void requireShapeAcceptsWildcardsAndNamesTheMismatch() {
        HostArray images = new HostArray(Shape.of(5, 32, 32, 3), new float[5 * 32 * 32 * 3]);
        Npy.requireShape(images, Path.of("x.npy"), -1, 32, 32, 3);
        Npy.requireShape(images, Path.of("x.npy"), 5, 32, 32, 3);
        HostArray wrong = new HostArray(Shape.of(5, 32, 32), new float[5 * 32 * 32]);
        UserException e = assertThrows(UserException.class, () -> Npy.requireShape(wrong, Path.of("X.npy"), -1, 32, 32, 3));
        assertEquals("X.npy: expected shape (N, 32, 32, 3), found (5, 32, 32)", e.getMessage());
        e = assertThrows(UserException.class, () -> Npy.requireShape(images, Path.of("y.npy"), -1));
        assertEquals("y.npy: expected shape (N,), found (5, 32, 32, 3)", e.getMessage());
        e = assertThrows(UserException.class, () -> Npy.requireShape(images, Path.of("z.npy"), 4, 32, 32, 3));
        assertEquals("z.npy: expected shape (4, 32, 32, 3), found (5, 32, 32, 3)", e.getMessage());
    }

    private void assertMessage(Path file, String fragment) {
        UserException e = assertThrows(UserException.class, () -> Npy.read(file));
        assertTrue(e.getMessage().startsWith(file + ": "), e.getMessage());
        assertTrue(e.getMessage().contains(fragment), e.getMessage());
        assertEquals(-1, e.getMessage().indexOf('\n'), e.getMessage());
    }

    /** A .npy file of the given format version with header dict (padded to 64 bytes) and raw data. */
    private Path craft(int major, String dict, byte[] data) throws IOException {
        byte[] text = dict.getBytes(major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        int prefix = major == 1 ? 10 : 12;
        int padding = Math.floorMod(-(prefix + text.length + 1), 64);
        ByteBuffer b = ByteBuffer.allocate(prefix + text.length + padding + 1 + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', (byte) major, 0});
        if (major == 1) b.putShort((short) (text.length + padding + 1));
        else b.putInt(text.length + padding + 1);
        b.put(text);
        for (int i = 0; i < padding; i++) b.put((byte) ' ');
        b.put((byte) '\n').put(data);
        Path file = dir.resolve("crafted.npy");
        Files.write(file, b.array());
        return file;
    }

}
