package jresnet.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AtomicFilesTest {
    @TempDir Path dir;

    private List<String> names(Path folder) throws IOException {
        try (Stream<Path> s = Files.list(folder)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    /** "lnk/.." is the link target's parent, as the system resolves it, not the folder that dropping both names leaves. */
    @Test
    void aFolderThroughALinkAndDotDotIsCheckedAsTheSystemResolvesIt(@TempDir Path tmp) throws IOException {
        Files.createDirectories(tmp.resolve("a/b"));
        Files.createDirectories(tmp.resolve("a/x"));
        Files.createSymbolicLink(tmp.resolve("lnk"), tmp.resolve("a/b"));
        AtomicFiles.requireCreatableFolder("--out", tmp.resolve("lnk/../x/run")); // a/x exists: creatable
        Files.writeString(tmp.resolve("file"), "x");
        jresnet.UserException inTheWay = assertThrows(jresnet.UserException.class,
                () -> AtomicFiles.requireCreatableFolder("--out", tmp.resolve("./file/run")));
        assertEquals("--out " + tmp.resolve("./file/run") + ": folder " + tmp.resolve("file") + " is not a folder (it is a file)",
                inTheWay.getMessage());
    }

    @Test
    void writesAndReplaces() throws IOException {
        Path target = dir.resolve("state.json");
        AtomicFiles.writeString(target, "first");
        assertEquals("first", Files.readString(target));
        byte[] big = new byte[200_000];
        for (int i = 0; i < big.length; i++) big[i] = (byte) (i * 31);
        AtomicFiles.write(target, out -> {
            out.write(big, 0, 100_000);
            out.write(big[100_000]);
            out.write(big, 100_001, big.length - 100_001);
            out.close(); // closing only flushes; the commit still happens
        });
        assertArrayEquals(big, Files.readAllBytes(target));
        assertEquals(List.of("state.json"), names(dir));
    }

    @Test
    void failureMidWriteKeepsOldFileAndLeavesNoTemp() throws IOException {
        Path target = dir.resolve("weights.bin");
        AtomicFiles.writeString(target, "old content");
        IOException boom = new IOException("disk full");
        IOException thrown = assertThrows(IOException.class, () -> AtomicFiles.write(target, out -> {
            out.write("new partial content".getBytes(StandardCharsets.UTF_8));
            out.flush();
            throw boom;
        }));
        assertSame(boom, thrown);
        assertEquals("old content", Files.readString(target));
        assertEquals(List.of("weights.bin"), names(dir));

        assertThrows(IllegalStateException.class, () -> AtomicFiles.write(target, out -> {
            out.write(1);
            throw new IllegalStateException("bug in the writer");
        }));
        assertEquals("old content", Files.readString(target));
        assertEquals(List.of("weights.bin"), names(dir));
    }

    @Test
    void failureOnNewFileLeavesNothing() throws IOException {
        Path target = dir.resolve("new.bin");
        assertThrows(IOException.class, () -> AtomicFiles.write(target, out -> {
            throw new IOException("no");
        }));
        assertFalse(Files.exists(target));
        assertEquals(List.of(), names(dir));
    }

    @Test
    void missingFolderIsAnIoError() {
        IOException e = assertThrows(IOException.class, () -> AtomicFiles.writeString(dir.resolve("nope/x.txt"), "x"));
        assertTrue(e.getMessage().contains("nope"), e.getMessage());
    }

    @Test
    void publishesANewFolder() throws IOException {
        Path target = dir.resolve("checkpoint");
        Path tmp = AtomicFiles.createTempDirectory(target);
        assertEquals(dir, tmp.getParent());
        assertTrue(tmp.getFileName().toString().startsWith(".checkpoint.tmp-"));
        Files.writeString(tmp.resolve("a.txt"), "A");
        Files.createDirectories(tmp.resolve("sub"));
        Files.writeString(tmp.resolve("sub/b.txt"), "B");
        AtomicFiles.publishDirectory(tmp, target);
        assertEquals("A", Files.readString(target.resolve("a.txt")));
        assertEquals("B", Files.readString(target.resolve("sub/b.txt")));
        assertEquals(List.of("checkpoint"), names(dir));
    }

    @Test
    void publishReplacesAnOlderFolder() throws IOException {
        Path target = dir.resolve("checkpoint");
        Files.createDirectories(target.resolve("deep/er"));
        Files.writeString(target.resolve("old.txt"), "old");
        Files.writeString(target.resolve("deep/er/x.txt"), "old");
        Path tmp = AtomicFiles.createTempDirectory(target);
        Files.writeString(tmp.resolve("new.txt"), "new");
        AtomicFiles.publishDirectory(tmp, target);
        assertEquals(List.of("new.txt"), names(target));
        assertEquals("new", Files.readString(target.resolve("new.txt")));
        assertEquals(List.of("checkpoint"), names(dir));
    }

    @Test
    void publishOfMissingFolderKeepsTheOldOne() throws IOException {
        Path target = dir.resolve("checkpoint");
        Files.createDirectories(target);
        Files.writeString(target.resolve("old.txt"), "old");
        Path vanished = dir.resolve(".checkpoint.tmp-gone");
        assertThrows(IOException.class, () -> AtomicFiles.publishDirectory(vanished, target));
        assertEquals("old", Files.readString(target.resolve("old.txt")));
        assertEquals(List.of("checkpoint"), names(dir));
    }

    @Test
    void deletesRecursivelyWithoutFollowingLinks() throws IOException {
        Path keep = dir.resolve("keep");
        Files.createDirectories(keep);
        Files.writeString(keep.resolve("precious.txt"), "x");
        Path victim = dir.resolve("victim");
        Files.createDirectories(victim.resolve("a/b"));
        Files.writeString(victim.resolve("a/b/c.txt"), "c");
        Files.createSymbolicLink(victim.resolve("link"), keep);
        AtomicFiles.deleteRecursively(victim);
        assertFalse(Files.exists(victim));
        assertEquals("x", Files.readString(keep.resolve("precious.txt")));
        AtomicFiles.deleteRecursively(victim);
    }
}
