package jresnet.backend.cpu;

/**
 * Where the CPU backend keeps what it measured about the machine between runs ({@link SgemmTuning}),
 * as small named texts. The backend does not touch files itself; {@code jresnet.io.TuningFiles} keeps
 * them in the cache folder.
 */
public interface TuningStore {
    /** Keeps nothing: every JVM measures again. */
    TuningStore NONE = new TuningStore() {
        @Override public String read(String name) { return null; }
        @Override public String write(String name, String text) { return "not cached: no cache folder given"; }
        @Override public String location(String name) { return name; }
    };

    /** The text kept under {@code name}, or null where there is none or it cannot be read. */
    String read(String name);

    /** Keeps {@code text} under {@code name}: "cached in PATH", or "not cached: " and why, in words. */
    String write(String name, String text);

    /** Where {@code name} is kept, for messages. */
    String location(String name);
}
