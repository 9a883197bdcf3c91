package jresnet.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import java.util.List;
import jresnet.UserException;
import org.junit.jupiter.api.Test;

/** Gson bound to records, as jresnet's files need it: the layout of files written so far, and errors naming file and field. */
class JsonTest {
    /** A checkpoint/state.json as the hand-written writer before Gson produced it, byte for byte. */
    static final String STATE_BEFORE_GSON = """
            {
              "epoch": 1,
              "step": 0,
              "iterations": 3,
              "loss_sum": 0.0,
              "correct": 0,
              "seen": 0,
              "seconds": 0.0,
              "history": [
                {
                  "epoch": 0,
                  "loss": 2.3125104904174805,
                  "accuracy": 0.125,
                  "val_loss": null,
                  "val_accuracy": null,
                  "seconds": 0.21734,
                  "images_per_s": 184.04343,
                  "learning_rate": 0.001
                }
              ],
              "optimizer": "adam"
            }
            """;

    record Metrics(int epoch, double loss, @com.google.gson.annotations.SerializedName("images_per_s") double imagesPerSecond) {}

    record State(int epoch, long iterations, double lossSum, List<Metrics> history, @Json.Optional String optimizer) {}

    @Test void recordsWriteInTheLayoutOfEarlierFiles() {
        State s = new State(3, 1173L, 0.5, List.of(new Metrics(0, 2.25, 184.5)), null);
        assertEquals("""
                {
                  "epoch": 3,
                  "iterations": 1173,
                  "loss_sum": 0.5,
                  "history": [
                    {
                      "epoch": 0,
                      "loss": 2.25,
                      "images_per_s": 184.5
                    }
                  ],
                  "optimizer": null
                }
                """, Json.pretty(s));
        assertEquals("{\"epoch\":3,\"iterations\":1173,\"loss_sum\":0.5,\"history\":[{\"epoch\":0,\"loss\":2.25,\"images_per_s\":184.5}],"
                + "\"optimizer\":null}", Json.compact(s));
        assertEquals("\"<é> & 😀\"", Json.compact("<é> & 😀"), "no HTML escapes");
    }

    @Test void aFileFromBeforeGsonReadsAndWritesBackUnchanged() {
        JsonObject tree = Json.parseObject(STATE_BEFORE_GSON, "state.json");
        assertEquals(STATE_BEFORE_GSON, Json.pretty(tree));
        State s = Json.bind(tree, State.class, "state.json");
        assertEquals(1, s.epoch());
        assertEquals(3L, s.iterations());
        assertEquals("adam", s.optimizer());
        assertEquals(184.04343, s.history().get(0).imagesPerSecond());
    }

    @Test void nonFiniteNumbersAreNullInFilesAndNaNInMemory() {
        assertEquals("{\"epoch\":0,\"loss\":null,\"images_per_s\":null}", Json.compact(new Metrics(0, Double.NaN, Double.POSITIVE_INFINITY)));
        Metrics m = Json.bind(Json.parseObject("{\"epoch\":0,\"loss\":null,\"images_per_s\":1}", "f"), Metrics.class, "f");
        assertTrue(Double.isNaN(m.loss()));
    }

    @Test void bindingNamesTheFileAndTheField() {
        assertEquals("s.json: field 'iterations' is missing", message("{\"epoch\":1,\"loss_sum\":0,\"history\":[]}"));
        assertEquals("s.json: field 'epoch' must be a whole number, found 1.5",
                message("{\"epoch\":1.5,\"iterations\":1,\"loss_sum\":0,\"history\":[]}"));
        assertEquals("s.json: field 'epoch' must be a whole number from -2147483648 to 2147483647, found 3000000000",
                message("{\"epoch\":3000000000,\"iterations\":1,\"loss_sum\":0,\"history\":[]}"));
        assertEquals("s.json: field 'loss_sum' must be a number, found \"x\"",
                message("{\"epoch\":1,\"iterations\":1,\"loss_sum\":\"x\",\"history\":[]}"));
        assertEquals("s.json: field 'history' must be an array, found {}",
                message("{\"epoch\":1,\"iterations\":1,\"loss_sum\":0,\"history\":{}}"));
        assertEquals("s.json: field 'history[0].epoch' must be a whole number, found \"0\"",
                message("{\"epoch\":1,\"iterations\":1,\"loss_sum\":0,\"history\":[{\"epoch\":\"0\",\"loss\":1,\"images_per_s\":1}]}"));
        assertEquals("s.json: field 'optimizer' must be a string, found 7",
                message("{\"epoch\":1,\"iterations\":1,\"loss_sum\":0,\"history\":[],\"optimizer\":7}"));
    }

    record Sizes(List<Integer> sizes) {}

    @Test void aListElementOfTheWrongTypeIsNamedWithoutAClassName() {
        assertEquals("p.json: field 'sizes[1]' holds a value of the wrong type", assertThrows(UserException.class,
                () -> Json.bind(Json.parseObject("{\"sizes\": [1, \"many\"]}", "p.json"), Sizes.class, "p.json")).getMessage());
    }

    @Test void malformedJsonIsOneLineWithItsPositionAndNoClassNames() {
        for (String text : new String[] {"{\"a\": 1,}", "{a: 1}", "{\"a\": 1} x", "[1]", "", "{\"a\": NaN}", "{\"a\": \"unterminated"}) {
            String m = assertThrows(UserException.class, () -> Json.parseObject(text, "c.json")).getMessage();
            assertTrue(m.startsWith("c.json: "), m);
            assertFalse(m.contains("Exception") || m.contains("gson") || m.contains("\n"), m);
        }
        assertEquals("c.json: malformed JSON at line 2 column 4",
                assertThrows(UserException.class, () -> Json.parseObject("{\n  a: 1}", "c.json")).getMessage());
        assertEquals("c.json: malformed JSON: duplicate key \"a\" at line 1 column 19",
                assertThrows(UserException.class, () -> Json.parseObject("{\"b\": {\"a\": 1, \"a\": 2}}", "c.json")).getMessage());
        assertEquals("c.json: expected a JSON object, found array",
                assertThrows(UserException.class, () -> Json.parseObject("[1]", "c.json")).getMessage());
    }

    private static String message(String text) {
        return assertThrows(UserException.class, () -> Json.bind(Json.parseObject(text, "s.json"), State.class, "s.json")).getMessage();
    }
}
