package jresnet.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class JsonTest {

    @Test
    void writesCompactAndPretty() {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("name", "resnet20");
        doc.put("epochs", 200L);
        doc.put("lr", 0.001);
        doc.put("tags", List.of("a", true, false));
        doc.put("none", null);
        doc.put("empty", Map.of());
        doc.put("nothing", List.of());
        assertEquals("{\"name\":\"resnet20\",\"epochs\":200,\"lr\":0.001,\"tags\":[\"a\",true,false],\"none\":null,\"empty\":{},\"nothing\":[]}",
                Json.write(doc, false));
        assertEquals("""
                {
                  "name": "resnet20",
                  "epochs": 200,
                  "lr": 0.001,
                  "tags": [
                    "a",
                    true,
                    false
                  ],
                  "none": null,
                  "empty": {},
                  "nothing": []
                }
                """, Json.write(doc, true));
    }

    @Test
    void escapesStrings() {
        assertEquals("\"q\\\" b\\\\ n\\n r\\r t\\t b\\b f\\f c\\u0001 \\u001f / é 😀\"",
                Json.write("q\" b\\ n\n r\r t\t b\b f\f c\u0001 \u001f / é 😀", false));
        // A lone surrogate is not encodable as UTF-8, so it is escaped rather than mangled.
        assertEquals("\"x\\ud800y\"", Json.write("x\ud800y", false));
        assertEquals("x\ud800y", Json.parse(Json.write("x\ud800y", false)));
    }

    @Test
    void parsesEscapesAndNumbers() {
        assertEquals("é😀/\"\\\b\f\n\r\t", Json.parse("\"\\u00e9\\ud83d\\ude00\\/\\\"\\\\\\b\\f\\n\\r\\t\""));
        assertEquals(1L, Json.parse("1"));
        assertEquals(-17L, Json.parse(" -17 "));
        assertEquals(1.5, Json.parse("1.5"));
        assertEquals(100.0, Json.parse("1e2"));
        assertEquals(-0.025, Json.parse("-2.5E-2"));
        assertEquals(1.2345678901234567e19, Json.parse("12345678901234567890"));
        assertEquals(Long.MIN_VALUE, Json.parse("-9223372036854775808"));
        assertEquals(0.1f, ((Double) Json.parse(Json.write(0.1f, false))).floatValue());
    }

    @Test
    void keepsKeyOrder() {
        Map<String, Object> parsed = Json.parseObject("{\"z\":1,\"a\":2,\"m\":3}");
        assertEquals(List.of("z", "a", "m"), new ArrayList<>(parsed.keySet()));
    }

    @Test
    void randomDocumentsRoundTrip() {
        long seed = new Random().nextLong();
        Random random = new Random(seed);
        for (int i = 0; i < 200; i++) {
            Object doc = randomValue(random, 0);
            for (boolean pretty : new boolean[] {false, true}) {
                String text = Json.write(doc, pretty);
                assertEquals(doc, Json.parse(text), "seed " + seed + ", document " + text);
            }
        }
    }

    private static Object randomValue(Random random, int depth) {
        int kind = random.nextInt(depth > 4 ? 5 : 7);
        switch (kind) {
            case 0: return null;
            case 1: return random.nextBoolean();
            case 2: return random.nextLong() >> random.nextInt(64);
            case 3: return random.nextGaussian() * Math.pow(10, random.nextInt(40) - 20);
            case 4: return randomString(random);
            case 5: {
                List<Object> list = new ArrayList<>();
                for (int i = random.nextInt(5); i > 0; i--) list.add(randomValue(random, depth + 1));
                return list;
            }
            default: {
                Map<String, Object> map = new LinkedHashMap<>();
                for (int i = random.nextInt(5); i > 0; i--) map.put(randomString(random), randomValue(random, depth + 1));
                return map;
            }
        }
    }

    private static String randomString(Random random) {
        StringBuilder b = new StringBuilder();
        for (int i = random.nextInt(8); i > 0; i--) {
            switch (random.nextInt(4)) {
                case 0 -> b.append((char) random.nextInt(0x20));
                case 1 -> b.append("\"\\/".charAt(random.nextInt(3)));
                case 2 -> b.append((char) (0x20 + random.nextInt(0x5f)));
                default -> b.appendCodePoint(0xA0 + random.nextInt(0x1F000));
            }
        }
        return b.toString();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
            "``|0|unexpected end of input",
            "`{\"a\":1,}`|7|expected a string key",
            "[1 2]|3|expected ',' or ']'",
            "`{\"a\" 1}`|5|expected ':'",
            "01|1|after the end of the value",
            "`\"abc`|4|unterminated string",
            "tru|0|expected a value",
            "[1,]|3|expected a value",
            "`{\"a\":1,\"a\":2}`|7|duplicate key",
            "`\"\\x\"`|1|invalid escape",
            "`\"\\u12g4\"`|1|invalid \\u escape",
            "1.|2|expected a digit after '.'",
            "-|1|expected a digit",
            "1e+|3|expected a digit in the exponent",
            "+1|0|expected a value",
            "`{\"a\":1 \"b\":2}`|7|expected ',' or '}'",
            "`{1:2}`|1|expected a string key",
            "nul|0|expected a value",
    })
    void reportsErrorsWithOffset(String text, int offset, String message) {
        Json.ParseException e = assertThrows(Json.ParseException.class, () -> Json.parse(text));
        assertEquals(offset, e.offset(), e.getMessage());
        assertTrue(e.getMessage().contains(message) && e.getMessage().endsWith("at offset " + offset), e.getMessage());
    }

    @Test
    void rejectsRawControlCharacterInString() {
        Json.ParseException e = assertThrows(Json.ParseException.class, () -> Json.parse("[\"a\nb\"]"));
        assertEquals(3, e.offset());
        assertTrue(e.getMessage().contains("unescaped control character U+000A"), e.getMessage());
    }

    @Test
    void rejectsDeepNesting() {
        String deep = "[".repeat(10_000) + "]".repeat(10_000);
        Json.ParseException e = assertThrows(Json.ParseException.class, () -> Json.parse(deep));
        assertTrue(e.getMessage().contains("nesting deeper than"), e.getMessage());
    }

    @Test
    void parseObjectRejectsOtherValues() {
        Json.ParseException e = assertThrows(Json.ParseException.class, () -> Json.parseObject("[1]"));
        assertTrue(e.getMessage().contains("expected a JSON object, found array"), e.getMessage());
    }

    @Test
    void refusesWhatJsonCannotHold() {
        assertThrows(IllegalArgumentException.class, () -> Json.write(Double.NaN, false));
        assertThrows(IllegalArgumentException.class, () -> Json.write(List.of(Float.POSITIVE_INFINITY), false));
        assertThrows(IllegalArgumentException.class, () -> Json.write(Map.of(1, 2), false));
        assertThrows(IllegalArgumentException.class, () -> Json.write(new Object(), false));
    }
}
