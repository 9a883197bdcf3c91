package jresnet.train;

import java.util.function.LongSupplier;
import sun.misc.Signal;

/**
 * Ctrl-C (SIGINT) and SIGTERM (sent by timeout, Docker and job schedulers) ask the running training
 * loop to stop after its current step, so it can write a checkpoint; the command then exits with
 * 130 or 143 as a shell expects. A second signal exits at once, unless it comes within
 * {@link #SAME_STOP_NANOS} of the first: GNU timeout sends SIGTERM to the child and then to its
 * whole process group, so one stop can arrive twice, and that must not cost the checkpoint.
 */
final class Interrupts {
    /** The signals that stop training, with the words for them and the exit code 128 + signal number. */
    private enum StopSignal {
        INT("interrupted (Ctrl-C)", 130), TERM("terminated (SIGTERM)", 143);

        final String reason;
        final int exitCode;

        StopSignal(String reason, int exitCode) {
            this.reason = reason;
            this.exitCode = exitCode;
        }
    }

    /** A second signal sooner than this after the first is the same stop delivered again; no person presses Ctrl-C twice that fast. */
    static final long SAME_STOP_NANOS = 1_000_000_000L;

    /**
     * What to do with the signals that reach one training loop: the first asks it to stop, a repeat
     * within {@link #SAME_STOP_NANOS} is ignored, a later one means "exit now". The clock is given so
     * the rule can be checked without waiting.
     */
    static final class Policy {
        private final LongSupplier nanoClock;
        private long firstAt;
        private boolean requested;

        Policy(LongSupplier nanoClock) { this.nanoClock = nanoClock; }

        enum Action { STOP, IGNORE, EXIT_NOW }

        synchronized Action onSignal() {
            long now = nanoClock.getAsLong();
            if (!requested) {
                requested = true;
                firstAt = now;
                return Action.STOP;
            }
            return now - firstAt < SAME_STOP_NANOS ? Action.IGNORE : Action.EXIT_NOW;
        }
    }

    private static volatile Trainer trainer;
    private static volatile Policy policy;
    private static boolean installed;

    private Interrupts() {}

    static synchronized void stopOnSignal(Trainer t) {
        trainer = t;
        policy = new Policy(System::nanoTime);
        if (installed) return;
        for (StopSignal s : StopSignal.values()) {
            try {
                Signal.handle(new Signal(s.name()), signal -> {
                    Trainer current = trainer;
                    if (current == null) System.exit(s.exitCode);
                    switch (policy.onSignal()) {
                        case STOP -> current.requestStop(s.reason, s.exitCode);
                        case EXIT_NOW -> System.exit(s.exitCode);
                        case IGNORE -> { }
                    }
                });
            } catch (IllegalArgumentException e) {
                // This signal cannot be handled here (e.g. -Xrs): it keeps the JVM's behaviour.
            }
        }
        installed = true;
    }

    static void clear() { trainer = null; }
}
