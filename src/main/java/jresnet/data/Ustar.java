package jresnet.data;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;

/**
 * Extracts a tar stream (POSIX ustar, with GNU long names and pax "path" records) into a folder.
 * Only regular files and folders are created; links and special files are skipped, and an entry
 * whose path would land outside the folder fails the extraction.
 */
final class Ustar {
    private static final int BLOCK = 512;

    private Ustar() {}

    static void extract(InputStream in, Path destination) throws IOException {
        Path root = destination.toAbsolutePath().normalize();
        byte[] header = new byte[BLOCK];
        String pendingName = null;
        while (readBlock(in, header)) {
            if (isZero(header)) return;
            verifyChecksum(header);
            String name = pendingName != null ? pendingName : headerName(header);
            pendingName = null;
            long size = number(header, 124, 12);
            char type = (char) header[156];
            switch (type) {
                case '0', '\0', '7' -> {
                    Path file = inside(root, name);
                    Files.createDirectories(file.getParent());
                    try (OutputStream out = Files.newOutputStream(file)) {
                        copy(in, out, size);
                    }
                    skipPadding(in, size);
                }
                case '5' -> {
                    Files.createDirectories(inside(root, name));
                    skip(in, size);
                    skipPadding(in, size);
                }
                case 'L' -> {
                    pendingName = trimNul(new String(readBytes(in, size), StandardCharsets.UTF_8));
                    skipPadding(in, size);
                }
                case 'x' -> {
                    pendingName = paxPath(new String(readBytes(in, size), StandardCharsets.UTF_8));
                    skipPadding(in, size);
                }
                default -> {
                    skip(in, size);
                    skipPadding(in, size);
                }
            }
        }
    }

    /** False at a clean end of input between entries (some writers omit the end-of-archive blocks). */
    private static boolean readBlock(InputStream in, byte[] block) throws IOException {
        int n = in.readNBytes(block, 0, BLOCK);
        if (n == 0) return false;
        if (n < BLOCK) throw new EOFException("tar archive truncated inside an entry header");
        return true;
    }

    private static boolean isZero(byte[] block) {
        for (byte b : block) if (b != 0) return false;
        return true;
    }

    private static void verifyChecksum(byte[] header) throws IOException {
        long stored = number(header, 148, 8);
        long unsigned = 0;
        long signed = 0;
        for (int i = 0; i < BLOCK; i++) {
            byte b = i >= 148 && i < 156 ? (byte) ' ' : header[i];
            unsigned += b & 0xFF;
            signed += b;
        }
        // Some historic writers summed signed bytes; both are accepted.
        if (stored != unsigned && stored != signed) throw new IOException("tar header checksum mismatch; not a tar archive or corrupt");
    }

    private static String headerName(byte[] header) {
        String name = field(header, 0, 100);
        boolean posix = header[257] == 'u' && header[258] == 's' && header[259] == 't' && header[260] == 'a'
                && header[261] == 'r' && header[262] == 0;
        String prefix = posix ? field(header, 345, 155) : "";
        return prefix.isEmpty() ? name : prefix + "/" + name;
    }

    private static String field(byte[] header, int offset, int length) {
        int end = offset;
        while (end < offset + length && header[end] != 0) end++;
        return new String(header, offset, end - offset, StandardCharsets.UTF_8);
    }

    /** Octal (NUL or space terminated), or GNU base-256 when the high bit of the first byte is set. */
    private static long number(byte[] header, int offset, int length) throws IOException {
        if ((header[offset] & 0x80) != 0) {
            if ((header[offset] & 0x40) != 0) throw new IOException("tar header holds a negative number");
            long value = header[offset] & 0x3F;
            for (int i = offset + 1; i < offset + length; i++) {
                if (value >>> 55 != 0) throw new IOException("tar header number too large");
                value = value << 8 | header[i] & 0xFF;
            }
            return value;
        }
        int i = offset;
        int end = offset + length;
        while (i < end && (header[i] == ' ' || header[i] == 0)) i++;
        long value = 0;
        for (; i < end && header[i] != ' ' && header[i] != 0; i++) {
            int digit = header[i] - '0';
            if (digit < 0 || digit > 7) throw new IOException("tar header field is not an octal number");
            if (value >>> 60 != 0) throw new IOException("tar header number too large");
            value = value * 8 + digit;
        }
        return value;
    }

    private static String paxPath(String records) throws IOException {
        String path = null;
        int pos = 0;
        while (pos < records.length()) {
            int space = records.indexOf(' ', pos);
            if (space < 0) throw new IOException("malformed pax header");
            int length;
            try {
                length = Integer.parseInt(records.substring(pos, space));
            } catch (NumberFormatException e) {
                throw new IOException("malformed pax header");
            }
            // The length counts UTF-8 bytes; the records are ASCII in every archive this reads.
            if (length <= space - pos || pos + length > records.length()) throw new IOException("malformed pax header");
            String record = records.substring(space + 1, pos + length - 1);
            if (record.startsWith("path=")) path = record.substring(5);
            pos += length;
        }
        return path;
    }

    private static Path inside(Path root, String name) throws IOException {
        Path path;
        try {
            path = root.resolve(name).normalize();
        } catch (InvalidPathException e) {
            throw new IOException("tar entry \"" + name + "\" is not a valid path");
        }
        if (!path.startsWith(root)) throw new IOException("tar entry \"" + name + "\" would be written outside " + root);
        return path;
    }

    private static String trimNul(String s) {
        int nul = s.indexOf('\0');
        return nul < 0 ? s : s.substring(0, nul);
    }

    private static byte[] readBytes(InputStream in, long size) throws IOException {
        if (size > 1 << 20) throw new IOException("tar extended header of " + size + " bytes is not plausible");
        byte[] bytes = in.readNBytes((int) size);
        if (bytes.length < size) throw new EOFException("tar archive truncated");
        return bytes;
    }

    private static void copy(InputStream in, OutputStream out, long size) throws IOException {
        byte[] buf = new byte[1 << 16];
        long left = size;
        while (left > 0) {
            int n = in.read(buf, 0, (int) Math.min(buf.length, left));
            if (n < 0) throw new EOFException("tar archive truncated inside an entry");
            out.write(buf, 0, n);
            left -= n;
        }
    }

    private static void skip(InputStream in, long size) throws IOException {
        copy(in, OutputStream.nullOutputStream(), size);
    }

    private static void skipPadding(InputStream in, long size) throws IOException {
        skip(in, Math.floorMod(-size, BLOCK));
    }
}
