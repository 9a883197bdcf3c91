package jresnet.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import jresnet.UserException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Failed file operations in one line: the path the user gave and the reason in words. */
class FileErrorsTest {
    @TempDir Path dir;

    @Test void reasonsInWordsWithThePath() {
        assertEquals("w.safetensors: permission denied", FileErrors.describe(new AccessDeniedException("w.safetensors")));
        assertEquals("x: no such file or folder", FileErrors.describe(new NoSuchFileException("x")));
        assertEquals("w: is a folder, not a file", FileErrors.describe(new FileSystemException("w", null, "Is a directory")));
        assertEquals("no space left on device", FileErrors.describe(new IOException("No space left on device")));
        FileSystemException full = FileErrors.about(Path.of("runs/r/config.json"), "write", new IOException("No space left on device"));
        assertEquals("runs/r/config.json: cannot write: no space left on device", FileErrors.describe(full));
        assertEquals("runs/r/checkpoint: cannot write: no space left on device",
                FileErrors.describe(FileErrors.inside(Path.of("runs/r/checkpoint"), "write", full)), "no temporary names");
    }

    /** A failure of the temporary file names the file the user asked for and its folder, never the temporary name. */
    @Test void aWriteIntoAReadOnlyFolderNamesTheTargetNotItsTemporaryFile() throws IOException {
        assumeFalse("root".equals(System.getProperty("user.name")), "root writes into read-only folders");
        Path readOnly = Files.createDirectory(dir.resolve("ro"));
        Files.setPosixFilePermissions(readOnly, PosixFilePermissions.fromString("r-xr-xr-x"));
        try {
            IOException e = assertThrows(IOException.class, () -> AtomicFiles.writeString(readOnly.resolve("p.npy"), "x"));
            assertEquals(readOnly.resolve("p.npy") + ": cannot write: permission denied (" + readOnly + ")", FileErrors.describe(e));
        } finally {
            Files.setPosixFilePermissions(readOnly, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
    }

    /** A pipe (bash's <(...)) exists but cannot be sized or sought: named as what it is, not as missing or empty. */
    @Test void aPipeToReadIsNamedAsNotARegularFile(@TempDir Path tmp) throws Exception {
        Path fifo = tmp.resolve("fifo.npy");
        org.junit.jupiter.api.Assumptions.assumeTrue(new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor() == 0, "mkfifo");
        UserException e = assertThrows(UserException.class, () -> Npy.read(fifo));
        assertEquals(fifo + ": is not a regular file (a pipe or a device); save it to a file and give that", e.getMessage());
    }

    @Test void aMissingFolderIsNamed() {
        IOException e = assertThrows(IOException.class, () -> AtomicFiles.writeString(dir.resolve("nope/x.txt"), "x"));
        String m = FileErrors.describe(e);
        assertTrue(m.startsWith(dir.resolve("nope/x.txt") + ": cannot write: no such file or folder"), m);
        assertFalse(m.contains(".tmp-"), m);
    }

    @Test void anUnreadableFileIsNamedWithTheReason() throws IOException {
        assumeFalse("root".equals(System.getProperty("user.name")), "root reads any file");
        Path w = dir.resolve("w.safetensors");
        Files.writeString(w, "12345678");
        Files.setPosixFilePermissions(w, PosixFilePermissions.fromString("---------"));
        UserException e = assertThrows(UserException.class, () -> Safetensors.read(w));
        assertEquals(w + ": cannot read: permission denied", e.getMessage());
    }

    @Test void temporaryFilesOfAKilledWriterAreRemovedAndNothingElse() throws IOException {
        for (String name : List.of(".metrics.csv.tmp-1a2b3c", ".best.safetensors.tmp-ff", "notes.tmp-1", ".hidden", "metrics.csv")) {
            Files.writeString(dir.resolve(name), name);
        }
        AtomicFiles.removeTemporaryFiles(dir);
        try (var left = Files.list(dir)) {
            assertEquals(List.of(".hidden", "metrics.csv", "notes.tmp-1"), left.map(p -> p.getFileName().toString()).sorted().toList());
        }
    }
}
