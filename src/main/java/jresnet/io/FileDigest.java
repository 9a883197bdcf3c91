package jresnet.io;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** SHA-256 of files a run wrote, so that a later step tells a file changed by hand from its own. */
public final class FileDigest {
    private FileDigest() {}

    /** The SHA-256 (hex) of the file's bytes. */
    public static String sha256(Path file) throws IOException {
        try {
            return sha256Of(out -> Files.copy(file, out));
        } catch (IOException e) {
            throw FileErrors.about(file, "read", e);
        }
    }

    /** The SHA-256 (hex) of the bytes {@code writer} writes: a file's digest without writing the file. */
    static String sha256Of(IoConsumer<OutputStream> writer) throws IOException {
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
        try (OutputStream out = new DigestOutputStream(OutputStream.nullOutputStream(), digest)) {
            writer.accept(out);
        }
        return HexFormat.of().formatHex(digest.digest());
    }
}
