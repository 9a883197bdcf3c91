package jresnet.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The packing threshold: measured once per machine key, then read back; a bad cache is measured again. */
class SgemmTuningTest {
    private static final List<Integer> CHOICES = List.of(8, 16, SgemmTuning.WIDEST_CANDIDATE_FALLBACK);

    @TempDir Path dir;

    @Test void measuresOnceThenReadsTheCachedChoice() throws IOException {
        Path cache = dir.resolve("cache");
        SgemmTuning.Choice first = SgemmTuning.choose(cache, "test machine");
        assertTrue(CHOICES.contains(first.fromPanels()), first.toString());
        Path file = only(cache);
        assertTrue(first.source().startsWith("measured on this machine, cached in " + file), first.source());
        Properties stored = load(file);
        assertEquals("test machine", stored.getProperty("machine"));
        assertEquals(first.fromPanels(), Integer.parseInt(stored.getProperty("packed_rows_from_panels")));
        String text = Files.readString(file);

        SgemmTuning.Choice again = SgemmTuning.choose(cache, "test machine");
        assertEquals(first.fromPanels(), again.fromPanels());
        assertTrue(again.source().startsWith("measured on this machine before"), again.source());
        assertEquals(text, Files.readString(file), "a cache hit leaves the file as it was");
    }

    @Test void anotherMachineKeyGetsItsOwnFile() throws IOException {
        Path cache = dir.resolve("cache");
        SgemmTuning.choose(cache, "machine one");
        SgemmTuning.choose(cache, "machine two");
        try (Stream<Path> files = Files.list(cache)) {
            assertEquals(2, files.filter(f -> f.getFileName().toString().matches("sgemm-[0-9a-f]{16}\\.properties")).count());
        }
    }

    @Test void aDamagedCacheIsMeasuredAgainAndReplaced() throws IOException {
        Path cache = dir.resolve("cache");
        SgemmTuning.choose(cache, "test machine");
        Path file = only(cache);
        Files.writeString(file, "machine=test machine\npacked_rows_from_panels=7\n");
        SgemmTuning.Choice remeasured = SgemmTuning.choose(cache, "test machine");
        assertTrue(remeasured.source().startsWith("measured on this machine, cached in"), remeasured.source());
        assertEquals(remeasured.fromPanels(), Integer.parseInt(load(file).getProperty("packed_rows_from_panels")));

        Files.write(file, new byte[] {(byte) 0xff, '\\', 'u', 'z', 'z'}); // not a properties file
        int chosen = SgemmTuning.choose(cache, "test machine").fromPanels();
        assertEquals(chosen, Integer.parseInt(load(file).getProperty("packed_rows_from_panels")));
    }

    @Test void anUnwritableCacheFolderStillGivesAChoiceAndSaysWhy() throws IOException {
        Path notAFolder = Files.writeString(dir.resolve("a-file"), "the user's");
        SgemmTuning.Choice choice = SgemmTuning.choose(notAFolder, "test machine");
        assertTrue(CHOICES.contains(choice.fromPanels()));
        assertTrue(choice.source().startsWith("measured on this machine, not cached: " + notAFolder + " is not a folder"), choice.source());
        assertFalse(choice.source().contains("Exception"), choice.source());
        assertEquals("the user's", Files.readString(notAFolder));
    }

    @Test void theMachineKeyNamesTheVectorWidthAndTheJvm() {
        String key = SgemmTuning.machineKey();
        assertTrue(key.contains(Vectors.BITS + "-bit vectors"), key);
        assertTrue(key.contains(System.getProperty("java.vm.version")), key);
    }

    private static Path only(Path folder) throws IOException {
        try (Stream<Path> files = Files.list(folder)) {
            List<Path> all = files.toList();
            assertEquals(1, all.size(), all.toString());
            return all.get(0);
        }
    }

    private static Properties load(Path file) throws IOException {
        Properties p = new Properties();
        try (InputStream in = Files.newInputStream(file)) {
            p.load(in);
        }
        return p;
    }
}
