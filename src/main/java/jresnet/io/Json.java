package jresnet.io;

import com.google.gson.FieldNamingPolicy;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonPrimitive;
import com.google.gson.Strictness;
import com.google.gson.TypeAdapter;
import com.google.gson.annotations.SerializedName;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import com.google.gson.stream.JsonWriter;
import java.io.IOException;
import java.io.StringReader;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.lang.reflect.Field;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.math.BigDecimal;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import jresnet.UserException;

/**
 * JSON through Gson, configured for jresnet's files: records bind by their component names in
 * snake_case (batchSize is "batch_size"), pretty output with two-space indentation (the layout of
 * every config.json and state.json written so far), nulls kept, non-finite doubles written as null
 * and read back as NaN, strict parsing. Errors become one line naming the file and the field.
 */
public final class Json {
    /** A record component that may be absent or null in a file (older files, or "no value"). */
    @Retention(RetentionPolicy.RUNTIME)
    @Target({ElementType.RECORD_COMPONENT, ElementType.FIELD})
    public @interface Optional {}

    private static final TypeAdapter<Double> NON_FINITE_AS_NULL = new TypeAdapter<>() {
        @Override public void write(JsonWriter out, Double value) throws IOException {
            if (value == null || !Double.isFinite(value)) out.nullValue();
            else out.value(value.doubleValue());
        }

        @Override public Double read(JsonReader in) throws IOException {
            if (in.peek() == JsonToken.NULL) {
                in.nextNull();
                return Double.NaN;
            }
            return in.nextDouble();
        }
    };

    private static final Gson GSON = new GsonBuilder()
            .setFieldNamingPolicy(FieldNamingPolicy.LOWER_CASE_WITH_UNDERSCORES)
            .registerTypeAdapter(double.class, NON_FINITE_AS_NULL)
            .registerTypeAdapter(Double.class, NON_FINITE_AS_NULL)
            .serializeNulls()
            .disableHtmlEscaping()
            .setStrictness(Strictness.STRICT)
            .create();
    private static final Gson PRETTY = GSON.newBuilder().setPrettyPrinting().create();
    private static final Pattern POSITION = Pattern.compile("at line (\\d+) column (\\d+)");
    /** Where Gson's binding failed, as it writes it ("at path $.history[0].loss"). */
    private static final Pattern PATH = Pattern.compile("path \\$\\.(\\S+)");

    private Json() {}

    /** Pretty JSON with a trailing newline (config.json, state.json). */
    public static String pretty(Object value) { return PRETTY.toJson(value) + "\n"; }

    /** Compact JSON (the safetensors header). */
    public static String compact(Object value) { return GSON.toJson(value); }

    /** A JSON tree of a value, to add fields to before writing. */
    public static JsonObject tree(Object value) { return GSON.toJsonTree(value).getAsJsonObject(); }

    /** Text that is not one JSON object; problem() says why without the file. */
    public static final class InvalidJson extends UserException {
        private final String problem;

        InvalidJson(String source, String problem) {
            super(source + ": " + problem);
            this.problem = problem;
        }

        public String problem() { return problem; }
    }

    /** Parses text that must be one JSON object; source names the file in error messages. */
    public static JsonObject parseObject(String text, String source) {
        JsonElement value;
        try {
            JsonReader reader = new JsonReader(new StringReader(text));
            reader.setStrictness(Strictness.STRICT);
            value = reader.peek() == JsonToken.END_DOCUMENT ? null : readValue(reader);
            if (value != null && reader.peek() != JsonToken.END_DOCUMENT) {
                throw new InvalidJson(source, "malformed JSON: text after the end of the object" + position(reader.toString()));
            }
        } catch (DuplicateKey e) {
            throw new InvalidJson(source, "malformed JSON: " + e.getMessage());
        } catch (JsonParseException | IOException e) {
            throw new InvalidJson(source, "malformed JSON" + position(e.getMessage()));
        }
        if (value == null || !value.isJsonObject()) {
            throw new InvalidJson(source, "expected a JSON object, found " + typeName(value));
        }
        return value.getAsJsonObject();
    }

    private static final class DuplicateKey extends IOException {
        DuplicateKey(String message) { super(message); }
    }

    /**
     * A JSON value as a tree. Gson's own tree keeps the last of duplicate keys; a file with two
     * values for one name (two tensors called the same) is ambiguous, so it is refused here.
     */
    private static JsonElement readValue(JsonReader in) throws IOException {
        switch (in.peek()) {
            case BEGIN_OBJECT -> {
                JsonObject object = new JsonObject();
                in.beginObject();
                while (in.hasNext()) {
                    String name = in.nextName();
                    if (object.has(name)) throw new DuplicateKey("duplicate key \"" + name + "\"" + position(in.toString()));
                    object.add(name, readValue(in));
                }
                in.endObject();
                return object;
            }
            case BEGIN_ARRAY -> {
                JsonArray array = new JsonArray();
                in.beginArray();
                while (in.hasNext()) array.add(readValue(in));
                in.endArray();
                return array;
            }
            default -> {
                return GSON.getAdapter(JsonElement.class).read(in);
            }
        }
    }

    /**
     * Binds an object to a record after checking every component: present (unless {@link Optional}),
     * and of the component's JSON type; a whole number where the component is an int or a long.
     * Unknown fields are ignored (files carry more than a record needs). Errors name source and field.
     */
    public static <R extends Record> R bind(JsonObject object, Class<R> type, String source) {
        check(object, type, source, "");
        try {
            return GSON.fromJson(object, type);
        } catch (JsonParseException e) {
            Matcher path = e.getMessage() == null ? null : PATH.matcher(e.getMessage());
            String where = path != null && path.find() ? "field '" + path.group(1) + "'" : "a field";
            throw new UserException(source + ": " + where + " holds a value of the wrong type" + position(e.getMessage()));
        }
    }

    private static void check(JsonObject object, Class<?> type, String source, String prefix) {
        for (RecordComponent c : type.getRecordComponents()) {
            String field = prefix + fieldName(c);
            JsonElement value = object.get(fieldName(c));
            if (value == null || value.isJsonNull()) {
                boolean nullMeansNaN = value != null && c.getType() == double.class;
                if (!c.isAnnotationPresent(Optional.class) && !nullMeansNaN) {
                    throw new UserException(source + ": field '" + field + "' is missing");
                }
                continue;
            }
            String problem = typeProblem(c.getType(), value);
            if (problem != null) {
                throw new UserException(source + ": field '" + field + "' must be " + problem + ", found " + value);
            }
            if (c.getType().isRecord()) check(value.getAsJsonObject(), c.getType(), source, field + ".");
            Class<?> element = recordElement(c);
            if (element != null) {
                for (int i = 0; i < value.getAsJsonArray().size(); i++) {
                    JsonElement item = value.getAsJsonArray().get(i);
                    String where = field + "[" + i + "]";
                    if (!item.isJsonObject()) throw new UserException(source + ": " + where + " must be an object, found " + item);
                    check(item.getAsJsonObject(), element, source, where + ".");
                }
            }
        }
    }

    /** The record type of a List-of-records component, else null. */
    private static Class<?> recordElement(RecordComponent c) {
        if (c.getGenericType() instanceof ParameterizedType p && List.class.isAssignableFrom(c.getType())
                && p.getActualTypeArguments()[0] instanceof Class<?> element && element.isRecord()) {
            return element;
        }
        return null;
    }

    /** The name a record component has in files: its @SerializedName, else its name in snake_case. */
    private static String fieldName(RecordComponent c) {
        try {
            Field field = c.getDeclaringRecord().getDeclaredField(c.getName());
            SerializedName named = field.getAnnotation(SerializedName.class);
            return named != null ? named.value() : FieldNamingPolicy.LOWER_CASE_WITH_UNDERSCORES.translateName(field);
        } catch (NoSuchFieldException impossible) {
            throw new AssertionError("a record has a field per component", impossible);
        }
    }

    private static String typeProblem(Class<?> type, JsonElement value) {
        if (type == int.class || type == Integer.class) return wholeNumber(value, Integer.MIN_VALUE, Integer.MAX_VALUE);
        if (type == long.class || type == Long.class) return wholeNumber(value, Long.MIN_VALUE, Long.MAX_VALUE);
        if (type == double.class || type == Double.class) {
            return value.isJsonPrimitive() && value.getAsJsonPrimitive().isNumber() ? null : "a number";
        }
        if (type == String.class) return value.isJsonPrimitive() && value.getAsJsonPrimitive().isString() ? null : "a string";
        if (type == boolean.class) return value.isJsonPrimitive() && value.getAsJsonPrimitive().isBoolean() ? null : "true or false";
        if (List.class.isAssignableFrom(type)) return value.isJsonArray() ? null : "an array";
        if (Map.class.isAssignableFrom(type) || type.isRecord()) return value.isJsonObject() ? null : "an object";
        return null;
    }

    private static String wholeNumber(JsonElement value, long min, long max) {
        String expected = "a whole number";
        if (!value.isJsonPrimitive() || !value.getAsJsonPrimitive().isNumber()) return expected;
        try {
            long n = new BigDecimal(value.getAsJsonPrimitive().getAsString()).longValueExact();
            return n < min || n > max ? expected + " from " + min + " to " + max : null;
        } catch (ArithmeticException | NumberFormatException e) {
            return expected;
        }
    }

    /** "object", "array", "string", "number", "boolean" or "null": for error messages about values. */
    public static String typeName(JsonElement value) {
        if (value == null || value.isJsonNull()) return "null";
        if (value.isJsonObject()) return "object";
        if (value.isJsonArray()) return "array";
        JsonPrimitive p = value.getAsJsonPrimitive();
        return p.isString() ? "string" : p.isNumber() ? "number" : "boolean";
    }

    /** " at line L column C" from a Gson message, which otherwise speaks of Gson's classes. */
    private static String position(String message) {
        Matcher m = message == null ? null : POSITION.matcher(message);
        return m != null && m.find() ? " at line " + m.group(1) + " column " + m.group(2) : "";
    }
}
