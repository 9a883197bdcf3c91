package jresnet.io;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Strict JSON (RFC 8259) without dependencies. Parsed values are LinkedHashMap (key order kept),
 * ArrayList, String, Long (integers that fit) or Double (everything else), Boolean and null.
 * Writing accepts Map with String keys, Iterable, String, Number, Boolean and null.
 */
public final class Json {
    /** Deep enough for any real document; guards the recursive parser against stack overflow. */
    private static final int MAX_DEPTH = 512;

    private Json() {}

    /** Malformed JSON; the message gives the character offset. */
    public static final class ParseException extends IllegalArgumentException {
        private final int offset;

        ParseException(String message, int offset) {
            super(message + " at offset " + offset);
            this.offset = offset;
        }

        public int offset() { return offset; }
    }

    public static Object parse(String text) {
        Parser p = new Parser(text);
        p.skipWhitespace();
        Object value = p.value(0);
        p.skipWhitespace();
        if (p.pos < text.length()) throw p.error("unexpected " + p.describeCurrent() + " after the end of the value");
        return value;
    }

    /** Parses a document that must be an object. */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> parseObject(String text) {
        Object value = parse(text);
        if (!(value instanceof Map)) throw new ParseException("expected a JSON object, found " + typeName(value), 0);
        return (Map<String, Object>) value;
    }

    /** "object", "array", "string", "number", "boolean" or "null": for error messages about parsed values. */
    public static String typeName(Object value) {
        if (value == null) return "null";
        if (value instanceof Map) return "object";
        if (value instanceof List) return "array";
        if (value instanceof String) return "string";
        if (value instanceof Number) return "number";
        if (value instanceof Boolean) return "boolean";
        return value.getClass().getSimpleName();
    }

    /** Compact, or pretty with two-space indentation and a trailing newline. */
    public static String write(Object value, boolean pretty) {
        StringBuilder out = new StringBuilder();
        writeValue(out, value, pretty, 0);
        if (pretty) out.append('\n');
        return out.toString();
    }

    private static void writeValue(StringBuilder out, Object value, boolean pretty, int depth) {
        if (depth > MAX_DEPTH) throw new IllegalArgumentException("JSON value nested deeper than " + MAX_DEPTH + " levels (a cycle?)");
        if (value == null) {
            out.append("null");
        } else if (value instanceof String s) {
            writeString(out, s);
        } else if (value instanceof Boolean b) {
            out.append(b.booleanValue());
        } else if (value instanceof Number n) {
            writeNumber(out, n);
        } else if (value instanceof Map<?, ?> map) {
            writeObject(out, map, pretty, depth);
        } else if (value instanceof Iterable<?> items) {
            writeArray(out, items, pretty, depth);
        } else {
            throw new IllegalArgumentException("cannot write a " + value.getClass().getName() + " as JSON");
        }
    }

    private static void writeNumber(StringBuilder out, Number n) {
        if (n instanceof Double || n instanceof Float) {
            double d = n.doubleValue();
            if (!Double.isFinite(d)) throw new IllegalArgumentException("JSON cannot represent the number " + d);
            // Float.toString keeps a float's shortest decimal form (0.1f stays 0.1, not 0.10000000149...).
            out.append(n instanceof Float f ? Float.toString(f) : Double.toString(d));
        } else if (n instanceof Long || n instanceof Integer || n instanceof Short || n instanceof Byte
                || n instanceof BigInteger || n instanceof BigDecimal) {
            out.append(n);
        } else {
            throw new IllegalArgumentException("cannot write a " + n.getClass().getName() + " as a JSON number");
        }
    }

    private static void writeObject(StringBuilder out, Map<?, ?> map, boolean pretty, int depth) {
        if (map.isEmpty()) {
            out.append("{}");
            return;
        }
        out.append('{');
        boolean first = true;
        for (Map.Entry<?, ?> e : map.entrySet()) {
            if (!(e.getKey() instanceof String key)) {
                throw new IllegalArgumentException("JSON object keys must be strings, found " + e.getKey());
            }
            if (!first) out.append(',');
            first = false;
            newline(out, pretty, depth + 1);
            writeString(out, key);
            out.append(pretty ? ": " : ":");
            writeValue(out, e.getValue(), pretty, depth + 1);
        }
        newline(out, pretty, depth);
        out.append('}');
    }

    private static void writeArray(StringBuilder out, Iterable<?> items, boolean pretty, int depth) {
        out.append('[');
        boolean first = true;
        for (Object item : items) {
            if (!first) out.append(',');
            first = false;
            newline(out, pretty, depth + 1);
            writeValue(out, item, pretty, depth + 1);
        }
        if (!first) newline(out, pretty, depth);
        out.append(']');
    }

    private static void newline(StringBuilder out, boolean pretty, int depth) {
        if (!pretty) return;
        out.append('\n');
        out.append("  ".repeat(depth));
    }

    private static void writeString(StringBuilder out, String s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    boolean pairedSurrogate = Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))
                            || Character.isLowSurrogate(c) && i > 0 && Character.isHighSurrogate(s.charAt(i - 1));
                    // A lone surrogate cannot be encoded as UTF-8; the escape keeps it intact.
                    if (c < 0x20 || Character.isSurrogate(c) && !pairedSurrogate) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }

    private static final class Parser {
        private final String text;
        private int pos;

        Parser(String text) {
            this.text = text;
        }

        Object value(int depth) {
            if (depth > MAX_DEPTH) throw error("nesting deeper than " + MAX_DEPTH + " levels");
            if (pos >= text.length()) throw error("unexpected end of input, expected a value");
            char c = text.charAt(pos);
            return switch (c) {
                case '{' -> object(depth);
                case '[' -> array(depth);
                case '"' -> string();
                case 't' -> literal("true", Boolean.TRUE);
                case 'f' -> literal("false", Boolean.FALSE);
                case 'n' -> literal("null", null);
                default -> {
                    if (c == '-' || c >= '0' && c <= '9') yield number();
                    throw error("unexpected " + describeCurrent() + ", expected a value");
                }
            };
        }

        private Map<String, Object> object(int depth) {
            pos++;
            Map<String, Object> map = new LinkedHashMap<>();
            skipWhitespace();
            if (peek() == '}') {
                pos++;
                return map;
            }
            while (true) {
                skipWhitespace();
                if (peek() != '"') throw error("expected a string key, found " + describeCurrent());
                int keyOffset = pos;
                String key = string();
                skipWhitespace();
                expect(':');
                skipWhitespace();
                Object value = value(depth + 1);
                if (map.containsKey(key)) throw new ParseException("duplicate key \"" + key + "\"", keyOffset);
                map.put(key, value);
                skipWhitespace();
                char c = peek();
                pos++;
                if (c == '}') return map;
                if (c != ',') {
                    pos--;
                    throw error("expected ',' or '}', found " + describeCurrent());
                }
            }
        }

        private List<Object> array(int depth) {
            pos++;
            List<Object> list = new ArrayList<>();
            skipWhitespace();
            if (peek() == ']') {
                pos++;
                return list;
            }
            while (true) {
                skipWhitespace();
                list.add(value(depth + 1));
                skipWhitespace();
                char c = peek();
                pos++;
                if (c == ']') return list;
                if (c != ',') {
                    pos--;
                    throw error("expected ',' or ']', found " + describeCurrent());
                }
            }
        }

        private String string() {
            pos++;
            StringBuilder b = new StringBuilder();
            while (true) {
                if (pos >= text.length()) throw error("unterminated string");
                char c = text.charAt(pos);
                if (c == '"') {
                    pos++;
                    return b.toString();
                }
                if (c < 0x20) throw error("unescaped control character U+" + String.format("%04X", (int) c) + " in string");
                if (c != '\\') {
                    b.append(c);
                    pos++;
                    continue;
                }
                if (pos + 1 >= text.length()) throw error("unterminated string");
                char e = text.charAt(pos + 1);
                switch (e) {
                    case '"' -> b.append('"');
                    case '\\' -> b.append('\\');
                    case '/' -> b.append('/');
                    case 'b' -> b.append('\b');
                    case 'f' -> b.append('\f');
                    case 'n' -> b.append('\n');
                    case 'r' -> b.append('\r');
                    case 't' -> b.append('\t');
                    case 'u' -> {
                        if (pos + 6 > text.length()) throw error("incomplete \\u escape");
                        int code = 0;
                        for (int i = pos + 2; i < pos + 6; i++) {
                            int digit = Character.digit(text.charAt(i), 16);
                            if (digit < 0) throw error("invalid \\u escape");
                            code = code * 16 + digit;
                        }
                        b.append((char) code);
                        pos += 4;
                    }
                    default -> throw error("invalid escape \\" + e);
                }
                pos += 2;
            }
        }

        private Object number() {
            int start = pos;
            if (peek() == '-') pos++;
            if (peek() == '0') {
                pos++;
            } else if (isDigit(peek())) {
                while (isDigit(peek())) pos++;
            } else {
                throw error("expected a digit, found " + describeCurrent());
            }
            boolean integral = true;
            if (peek() == '.') {
                integral = false;
                pos++;
                if (!isDigit(peek())) throw error("expected a digit after '.', found " + describeCurrent());
                while (isDigit(peek())) pos++;
            }
            if (peek() == 'e' || peek() == 'E') {
                integral = false;
                pos++;
                if (peek() == '+' || peek() == '-') pos++;
                if (!isDigit(peek())) throw error("expected a digit in the exponent, found " + describeCurrent());
                while (isDigit(peek())) pos++;
            }
            String literal = text.substring(start, pos);
            if (integral) {
                try {
                    return Long.parseLong(literal);
                } catch (NumberFormatException tooLarge) {
                    return Double.parseDouble(literal);
                }
            }
            return Double.parseDouble(literal);
        }

        private Object literal(String word, Object value) {
            if (!text.startsWith(word, pos)) throw error("unexpected " + describeCurrent() + ", expected a value");
            pos += word.length();
            return value;
        }

        private void expect(char c) {
            if (peek() != c) throw error("expected '" + c + "', found " + describeCurrent());
            pos++;
        }

        /** The current character, or 0 at the end (never valid where a specific character is expected). */
        private char peek() {
            return pos < text.length() ? text.charAt(pos) : 0;
        }

        private static boolean isDigit(char c) {
            return c >= '0' && c <= '9';
        }

        void skipWhitespace() {
            while (pos < text.length()) {
                char c = text.charAt(pos);
                if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return;
                pos++;
            }
        }

        String describeCurrent() {
            if (pos >= text.length()) return "end of input";
            char c = text.charAt(pos);
            return c >= 0x20 && c < 0x7f ? "'" + c + "'" : String.format("U+%04X", (int) c);
        }

        ParseException error(String message) {
            return new ParseException(message, pos);
        }
    }
}
