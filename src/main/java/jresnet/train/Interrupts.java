package jresnet.train;

import sun.misc.Signal;

/**
 * Ctrl-C (SIGINT) asks the running training loop to stop after its current step, so it can write a
 * checkpoint; a second Ctrl-C exits at once.
 */
final class Interrupts {
    private static volatile Runnable handler;
    private static volatile boolean installed, requested;

    private Interrupts() {}

    static synchronized void onInterrupt(Runnable r) {
        handler = r;
        requested = false;
        if (installed) return;
        try {
            Signal.handle(new Signal("INT"), s -> {
                Runnable h = handler;
                if (h == null || requested) System.exit(130);
                requested = true;
                System.err.println("\ninterrupt: finishing the current step and writing a checkpoint (Ctrl-C again to quit now)");
                h.run();
            });
            installed = true;
        } catch (IllegalArgumentException e) {
            // No SIGINT on this platform/JVM configuration (e.g. -Xrs): training simply cannot be interrupted cleanly.
        }
    }

    static void clear() { handler = null; }
}
