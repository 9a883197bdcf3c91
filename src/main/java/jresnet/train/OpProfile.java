package jresnet.train;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import jresnet.backend.Backend;

/**
 * Where a training step's time goes, op by op ({@code bench --profile}): a stand-in for a backend that
 * forwards every call and, while recording, adds each op's wall time to that op's name. Each op is
 * followed by {@link Backend#synchronize()} while recording, so a GPU's queued work is counted in the
 * op that queued it (the step then runs serialized; on the CPU backends synchronize does nothing).
 * A dynamic proxy rather than a hand-written wrapper: it stays right as ops are added to Backend.
 */
public final class OpProfile implements InvocationHandler {
    /** Calls that are not ops: descriptions, memory management, and synchronize itself. */
    private static final Set<String> NOT_OPS = Set.of("name", "vectorBits", "kernelChoices", "allocate",
            "allocateParameter", "synchronize", "close", "toString", "hashCode", "equals");

    private final Backend target;
    private final Backend proxy;
    private final Map<String, long[]> callsAndNanos = new HashMap<>();
    private boolean recording;
    private int steps;

    public OpProfile(Backend target) {
        this.target = target;
        proxy = (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[]{Backend.class}, this);
    }

    /** The backend to run on: {@code target}, with its ops timed while recording. */
    public Backend backend() { return proxy; }

    /** Starts recording; each later call of {@link #stepDone()} counts one step. */
    public void record() { recording = true; }

    public void stepDone() { if (recording) steps++; }

    @Override public Object invoke(Object self, Method method, Object[] args) throws Throwable {
        boolean timed = recording && !NOT_OPS.contains(method.getName());
        long start = timed ? System.nanoTime() : 0;
        Object result;
        try {
            result = method.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
        if (timed) {
            target.synchronize();
            long[] entry = callsAndNanos.computeIfAbsent(method.getName(), name -> new long[2]);
            entry[0]++;
            entry[1] += System.nanoTime() - start;
        }
        return result;
    }

    /** One line per op, slowest first: calls and milliseconds per step, share of the ops' total; then the total. */
    public List<String> table() {
        List<String> lines = new ArrayList<>();
        if (steps == 0) return lines;
        long total = callsAndNanos.values().stream().mapToLong(e -> e[1]).sum();
        lines.add(String.format(Locale.ROOT, "%-30s %10s %10s %7s", "op (per step, " + steps + " steps)", "calls", "ms", "share"));
        callsAndNanos.entrySet().stream()
                .sorted((a, b) -> Long.compare(b.getValue()[1], a.getValue()[1]))
                .forEach(e -> lines.add(String.format(Locale.ROOT, "%-30s %10.1f %10.2f %6.1f%%", e.getKey(),
                        e.getValue()[0] / (double) steps, e.getValue()[1] / 1e6 / steps, 100.0 * e.getValue()[1] / total)));
        lines.add(String.format(Locale.ROOT, "%-30s %10s %10.2f %6.1f%%", "all ops", "", total / 1e6 / steps, 100.0));
        return lines;
    }
}
