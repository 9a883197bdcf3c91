package jresnet.cli;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * "--flag value" and "--switch" arguments of one command, checked against the flags it accepts. An
 * empty value is refused here, for every flag alike: taken as given it would name the current folder
 * or an unknown model, and taken as absent it would quietly fall back to a default (JRESNET_DATA, a
 * download) the user did not ask for.
 */
final class Args {
    private final Map<String, String> values = new LinkedHashMap<>();

    Args(String command, String[] argv, int from, Set<String> valued, Set<String> switches) {
        for (int i = from; i < argv.length; i++) {
            String a = argv[i];
            if (!a.startsWith("--")) throw new UsageException(command + ": unexpected argument '" + a + "'");
            String name = a.substring(2), inline = null;
            int eq = name.indexOf('=');
            if (eq >= 0) {
                inline = name.substring(eq + 1);
                name = name.substring(0, eq);
            }
            if (switches.contains(name)) {
                if (inline != null) throw new UsageException(command + ": --" + name + " is a switch and takes no value, got '" + a + "'");
                if (values.containsKey(name)) throw new UsageException(command + ": --" + name + " given twice");
                values.put(name, "true");
            } else if (valued.contains(name)) {
                if (inline == null) {
                    if (i + 1 >= argv.length) throw new UsageException(command + ": --" + name + " needs a value");
                    inline = argv[++i];
                }
                if (inline.isBlank()) throw new UsageException(command + ": --" + name + " is empty; give it a value");
                if (values.containsKey(name)) throw new UsageException(command + ": --" + name + " given twice");
                values.put(name, inline);
            } else {
                throw new UsageException(command + ": unknown flag --" + name);
            }
        }
    }

    boolean has(String name) { return values.containsKey(name); }

    String string(String name, String fallback) { return values.getOrDefault(name, fallback); }

    String required(String command, String name) {
        String v = values.get(name);
        if (v == null) throw new UsageException(command + ": --" + name + " is required");
        return v;
    }

    /** A folder or file flag's value; null when absent. */
    Path path(String name) {
        return values.containsKey(name) ? Path.of(values.get(name)) : null;
    }

    /** {@link #path}, required. */
    Path requiredPath(String command, String name) {
        required(command, name);
        return path(name);
    }

    int integer(String name, int fallback, int min) {
        String v = values.get(name);
        if (v == null) return fallback;
        long wide = longValue(name, fallback);
        if (wide > Integer.MAX_VALUE) throw new UsageException("--" + name + ": " + v + " is too large (at most " + Integer.MAX_VALUE + ")");
        int n = (int) Math.max(wide, Integer.MIN_VALUE);
        if (n < min) throw new UsageException("--" + name + ": must be at least " + min + ", got " + n);
        return n;
    }

    long longValue(String name, long fallback) {
        String v = values.get(name);
        if (v == null) return fallback;
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            boolean digits = v.matches("[+-]?\\d+");
            throw new UsageException("--" + name + ": " + (digits ? v + " is too large for a whole number"
                    : "expected a whole number, got '" + v + "'"));
        }
    }

    String choice(String name, String fallback, String... allowed) {
        String v = values.getOrDefault(name, fallback);
        for (String a : allowed) if (a.equals(v)) return v;
        throw new UsageException("--" + name + ": expected one of " + String.join("|", allowed) + ", got '" + v + "'");
    }
}
