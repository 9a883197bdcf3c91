package jresnet.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CPU backend's measurements as files: folders made on demand, failures in words, a user's file untouched. */
class TuningFilesTest {
    @TempDir Path dir;

    @Test void writesIntoANewFolderAndReadsBack() {
        Path folder = dir.resolve("cache/jresnet");
        TuningFiles files = new TuningFiles(folder);
        assertNull(files.read("sgemm-1.properties"));
        assertEquals("cached in " + folder.resolve("sgemm-1.properties"), files.write("sgemm-1.properties", "machine=é\n"));
        assertEquals("machine=é\n", files.read("sgemm-1.properties"));
        assertEquals("cached in " + folder.resolve("sgemm-1.properties"), files.write("sgemm-1.properties", "replaced\n"));
        assertEquals("replaced\n", files.read("sgemm-1.properties"));
        assertEquals(folder.resolve("sgemm-1.properties").toString(), files.location("sgemm-1.properties"));
    }

    @Test void aFileWhereTheFolderShouldBeIsLeftAsItIs() throws IOException {
        Path users = Files.writeString(dir.resolve("notes.txt"), "the user's");
        TuningFiles files = new TuningFiles(users);
        assertNull(files.read("sgemm-1.properties"));
        assertEquals("not cached: " + users + " is not a folder", files.write("sgemm-1.properties", "x"));
        assertEquals("the user's", Files.readString(users));
    }

    @Test void aFolderWhereTheFileShouldBeIsLeftAsItIs() throws IOException {
        Path folder = Files.createDirectories(dir.resolve("cache/sgemm-1.properties"));
        Files.writeString(folder.resolve("mine.txt"), "the user's");
        TuningFiles files = new TuningFiles(dir.resolve("cache"));
        assertNull(files.read("sgemm-1.properties"));
        assertEquals("not cached: " + folder + " is a folder", files.write("sgemm-1.properties", "x"));
        assertEquals("the user's", Files.readString(folder.resolve("mine.txt")));
    }

    @Test void aFolderThatCannotBeWrittenIsNamedWithTheReason() throws IOException {
        assumeFalse("root".equals(System.getProperty("user.name")), "root writes into read-only folders");
        Path locked = Files.createDirectory(dir.resolve("locked"));
        Files.setPosixFilePermissions(locked, PosixFilePermissions.fromString("r-xr-xr-x"));
        String note = new TuningFiles(locked).write("sgemm-1.properties", "x");
        assertTrue(note.startsWith("not cached: " + locked), note);
        assertTrue(note.contains("permission denied"), note);
        assertFalse(note.contains("Exception"), note);
    }
}
