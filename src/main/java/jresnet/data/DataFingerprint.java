package jresnet.data;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What identifies a CIFAR-10 folder's contents cheaply: per batch file its size and a SHA-256 of its
 * first and last records. Recorded in config.json, so a resumed run can tell whether it continues on
 * the data it started on without reading 180 MB.
 */
public record DataFingerprint(Map<String, FileFingerprint> files) {
    /** One file: its size in bytes and the SHA-256 (hex) of its first and last records. */
    public record FileFingerprint(long bytes, String firstLastSha256) {}

    /** The fingerprint of every CIFAR-10 batch file present in dir (absent files are left out). */
    public static DataFingerprint of(Path dir) throws IOException {
        Map<String, FileFingerprint> files = new LinkedHashMap<>();
        List<String> names = new ArrayList<>(Cifar10.TRAINING_FILES);
        names.add(Cifar10.TEST_FILE);
        for (String name : names) {
            Path file = dir.resolve(name);
            if (Files.isRegularFile(file)) files.put(name, file(file));
        }
        return new DataFingerprint(files);
    }

    /** The names of the files that differ from other (present in one only, or of other size or content). */
    public List<String> differences(DataFingerprint other) {
        List<String> differing = new ArrayList<>();
        for (String name : files.keySet()) {
            if (!files.get(name).equals(other.files.get(name))) differing.add(name);
        }
        for (String name : other.files.keySet()) {
            if (!files.containsKey(name)) differing.add(name);
        }
        return differing;
    }

    private static FileFingerprint file(Path file) throws IOException {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform provides SHA-256", e);
        }
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = channel.size();
            int record = (int) Math.min(Dataset.RECORD_BYTES, size);
            sha.update(read(channel, 0, record));
            sha.update(read(channel, size - record, record));
            return new FileFingerprint(size, HexFormat.of().formatHex(sha.digest()));
        }
    }

    private static ByteBuffer read(FileChannel channel, long position, int length) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(length);
        while (buffer.hasRemaining()) {
            if (channel.read(buffer, position + buffer.position()) < 0) break;
        }
        return buffer.flip();
    }
}
