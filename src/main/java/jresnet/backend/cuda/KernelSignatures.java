package jresnet.backend.cuda;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import jcuda.Pointer;

/**
 * The parameter kinds of every kernel, as native-build/build.sh read them from kernels/*.cu. The
 * driver copies each launch argument with the size the kernel declares, so an Integer passed where the
 * kernel takes a long long would be read 4 bytes past its end: launches are checked against these
 * kinds before they reach the driver.
 */
final class KernelSignatures {
    enum Kind {
        POINTER, INT, LONG, FLOAT;

        boolean accepts(Object arg) {
            return switch (this) {
                case POINTER -> arg == null || arg instanceof CudaTensor || arg instanceof Pointer;
                case INT -> arg instanceof Integer;
                case LONG -> arg instanceof Long;
                case FLOAT -> arg instanceof Float;
            };
        }
    }

    private final Map<String, List<Kind>> kinds = new HashMap<>();

    /** Parses lines "name TAB kind,kind,..." (kinds: pointer, int, long, float). */
    static KernelSignatures parse(String text) {
        KernelSignatures s = new KernelSignatures();
        for (String line : text.split("\n")) {
            if (line.isBlank()) continue;
            String[] parts = line.split("\t", -1);
            if (parts.length != 2) throw new IllegalArgumentException("kernel signatures: malformed line '" + line + "'");
            List<Kind> parameters = parts[1].isEmpty() ? List.of()
                    : Arrays.stream(parts[1].split(",")).map(k -> Kind.valueOf(k.toUpperCase(Locale.ROOT))).toList();
            s.kinds.put(parts[0], parameters);
        }
        return s;
    }

    /** Throws, naming the kernel and the parameter, when args do not fit the kernel's parameters. */
    void check(String kernel, Object[] args) {
        List<Kind> parameters = kinds.get(kernel);
        if (parameters == null) throw new IllegalArgumentException("no kernel named " + kernel + " in kernels/*.cu");
        if (parameters.size() != args.length) {
            throw new IllegalArgumentException("kernel " + kernel + " takes " + parameters.size() + " arguments, got " + args.length);
        }
        for (int i = 0; i < args.length; i++) {
            if (!parameters.get(i).accepts(args[i])) {
                throw new IllegalArgumentException("kernel " + kernel + " argument " + i + ": expected "
                        + parameters.get(i).name().toLowerCase(Locale.ROOT) + ", got "
                        + (args[i] == null ? "null" : args[i].getClass().getSimpleName()));
            }
        }
    }
}
