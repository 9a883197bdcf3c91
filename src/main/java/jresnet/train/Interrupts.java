package jresnet.train;

import sun.misc.Signal;

/**
 * Ctrl-C (SIGINT) and SIGTERM (sent by timeout, Docker and job schedulers) ask the running training
 * loop to stop after its current step, so it can write a checkpoint; the command then exits with
 * 130 or 143 as a shell expects. A second signal exits at once.
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

    private static volatile Trainer trainer;
    private static volatile boolean installed, requested;

    private Interrupts() {}

    static synchronized void stopOnSignal(Trainer t) {
        trainer = t;
        requested = false;
        if (installed) return;
        for (StopSignal s : StopSignal.values()) {
            try {
                Signal.handle(new Signal(s.name()), signal -> {
                    Trainer current = trainer;
                    if (current == null || requested) System.exit(s.exitCode);
                    requested = true;
                    current.requestStop(s.reason, s.exitCode);
                });
            } catch (IllegalArgumentException e) {
                // This signal cannot be handled here (e.g. -Xrs): it keeps the JVM's behaviour.
            }
        }
        installed = true;
    }

    static void clear() { trainer = null; }
}
