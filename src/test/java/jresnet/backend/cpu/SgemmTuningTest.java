package jresnet.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.StringReader;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/** The packing threshold: measured once per machine key, then read back; a damaged entry is measured again. */
class SgemmTuningTest {
    private static final List<Integer> CHOICES = java.util.stream.Stream.concat(SgemmTuning.CANDIDATE_PANELS.stream(),
            java.util.stream.Stream.of(SgemmTuning.NEVER)).toList();

    /** A store in memory that counts its writes. */
    private static final class MemoryStore implements TuningStore {
        final Map<String, String> texts = new HashMap<>();
        int writes;

        @Override public String read(String name) { return texts.get(name); }

        @Override public String write(String name, String text) {
            writes++;
            texts.put(name, text);
            return "cached in memory:" + name;
        }

        @Override public String location(String name) { return "memory:" + name; }

        String only() {
            assertEquals(1, texts.size(), texts.keySet().toString());
            return texts.keySet().iterator().next();
        }
    }

    @Test void measuresOnceThenReadsTheKeptChoice() throws IOException {
        MemoryStore store = new MemoryStore();
        SgemmTuning.Choice first = SgemmTuning.choose(store, "test machine");
        assertTrue(CHOICES.contains(first.fromPanels()), first.toString());
        String name = store.only();
        assertTrue(name.matches("sgemm-[0-9a-f]{16}\\.properties"), name);
        assertEquals("measured on this machine, cached in memory:" + name, first.source());
        Properties kept = parse(store.texts.get(name));
        assertEquals("test machine", kept.getProperty("machine"));
        boolean never = first.fromPanels() == SgemmTuning.NEVER;
        assertEquals(never ? "never" : Integer.toString(first.fromPanels()), kept.getProperty("packed_rows_from_panels"));
        assertEquals(never ? "never" : Integer.toString(first.fromPanels() * Sgemm.LANES), kept.getProperty("packed_rows_from_columns"));
        assertTrue(kept.stringPropertyNames().stream().anyMatch(p -> p.startsWith("packed_over_in_place_time_at_")), kept.toString());

        SgemmTuning.Choice again = SgemmTuning.choose(store, "test machine");
        assertEquals(first.fromPanels(), again.fromPanels());
        assertEquals("measured on this machine before, cached in memory:" + name, again.source());
        assertEquals(1, store.writes, "a kept choice is not measured or written again");
    }

    @Test void anotherMachineKeyIsMeasuredUnderItsOwnName() {
        MemoryStore store = new MemoryStore();
        SgemmTuning.choose(store, "machine one");
        SgemmTuning.choose(store, "machine two");
        assertEquals(2, store.texts.size());
        assertEquals(2, store.writes);
    }

    @Test void aDamagedOrForeignEntryIsMeasuredAgainAndReplaced() throws IOException {
        MemoryStore store = new MemoryStore();
        SgemmTuning.choose(store, "test machine");
        String name = store.only();
        for (String damaged : new String[] {"machine=test machine\npacked_rows_from_panels=7\n",
                "machine=test machine\npacked_rows_from_panels=eight\n", "machine=other\npacked_rows_from_panels=8\n",
                "\\uzzzz", ""}) {
            store.texts.put(name, damaged);
            SgemmTuning.Choice remeasured = SgemmTuning.choose(store, "test machine");
            assertTrue(remeasured.source().startsWith("measured on this machine, cached in"), damaged + ": " + remeasured.source());
            assertNotEquals(damaged, store.texts.get(name));
            assertEquals(kept(remeasured), parse(store.texts.get(name)).getProperty("packed_rows_from_panels"));
        }
    }

    /** "never" is a kept choice like a width: read back, not measured again. */
    @Test void aKeptNeverIsReadBack() {
        MemoryStore store = new MemoryStore();
        SgemmTuning.choose(store, "test machine");
        String name = store.only();
        for (String kept : new String[] {"never", "16", "32"}) {
            store.texts.put(name, "machine=test machine\npacked_rows_from_panels=" + kept + "\n");
            SgemmTuning.Choice read = SgemmTuning.choose(store, "test machine");
            assertEquals(kept, kept(read));
            assertTrue(read.source().startsWith("measured on this machine before"), read.source());
        }
        assertEquals(1, store.writes);
    }

    /**
     * The rule the measurement feeds: the narrowest width where packing was faster, else the widest
     * unless packing was clearly slower there (a JVM that compiles the packed kernel badly), else never.
     */
    @Test void packingIsChosenFromTheNarrowestFasterWidthAndNeverWhereClearlySlowerAtTheWidest() {
        assertEquals(8, SgemmTuning.fromPanels(shares(0.97)));
        assertEquals(16, SgemmTuning.fromPanels(shares(1.28, 0.99)));
        assertEquals(32, SgemmTuning.fromPanels(shares(1.28, 1.10, 0.95)));
        assertEquals(32, SgemmTuning.fromPanels(shares(1.30, 1.16, 1.08)), "near parity the widest still packs");
        assertEquals(32, SgemmTuning.fromPanels(shares(2.0, 1.5, SgemmTuning.CLEARLY_SLOWER)));
        assertEquals(SgemmTuning.NEVER, SgemmTuning.fromPanels(shares(2.25, 2.21, 2.16)), "Temurin 25 at 256 bits");
        assertEquals(SgemmTuning.NEVER, SgemmTuning.fromPanels(shares(1.0, 1.0, SgemmTuning.CLEARLY_SLOWER + 0.01)));
    }

    /** Packed over in-place time at the candidates, from the narrowest. */
    private static Map<Integer, Double> shares(double... values) {
        Map<Integer, Double> shares = new java.util.LinkedHashMap<>();
        for (int i = 0; i < values.length; i++) shares.put(SgemmTuning.CANDIDATE_PANELS.get(i), values[i]);
        return shares;
    }

    private static String kept(SgemmTuning.Choice choice) {
        return choice.fromPanels() == SgemmTuning.NEVER ? "never" : Integer.toString(choice.fromPanels());
    }

    @Test void withoutAStoreEveryChoiceIsMeasuredAndSaysSo() {
        SgemmTuning.Choice choice = SgemmTuning.choose(TuningStore.NONE, "test machine");
        assertTrue(CHOICES.contains(choice.fromPanels()));
        assertEquals("measured on this machine, not cached: no cache folder given", choice.source());
    }

    @Test void theMachineKeyNamesTheVectorWidthTheBlockingAndTheJvm() {
        String key = SgemmTuning.machineKey();
        assertTrue(key.contains(Vectors.BITS + "-bit vectors"), key);
        assertTrue(key.contains(Sgemm.KC + "/" + Sgemm.KC_STRIDED + " deep"), key);
        assertTrue(key.contains("packed A " + Sgemm.A_STEP + " floats a step"), key);
        assertTrue(key.contains(System.getProperty("java.vm.version")), key);
        assertFalse(key.isBlank());
    }

    private static Properties parse(String text) throws IOException {
        Properties p = new Properties();
        p.load(new StringReader(text));
        return p;
    }
}
