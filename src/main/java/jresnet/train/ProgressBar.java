package jresnet.train;

import java.io.PrintStream;
import java.util.Locale;

/**
 * Keras-style progress: "Epoch 1/20", then per step "  17/391 [>....] - ETA: 1:02 - loss: 2.0312 -
 * accuracy: 0.2511" (redrawn in place on a terminal, one line per step otherwise), and at the end of
 * the epoch the time, per-step time and validation metrics.
 */
public final class ProgressBar implements Callback {
    private static final int WIDTH = 30;

    private final PrintStream out;
    private final boolean terminal;
    private long epochStart;
    private int firstStep, steps;

    public ProgressBar(PrintStream out, boolean terminal) {
        this.out = out;
        this.terminal = terminal;
    }

    @Override public void onEpochBegin(int epoch, int epochs, int steps) {
        out.printf(Locale.ROOT, "Epoch %d/%d%n", epoch + 1, epochs);
        epochStart = System.nanoTime();
        firstStep = -1;
        this.steps = steps;
    }

    @Override public void onStepEnd(int step, int steps, double meanLoss, double meanAccuracy) {
        if (firstStep < 0) firstStep = step - 1;
        if (step == steps) return;
        double elapsed = (System.nanoTime() - epochStart) / 1e9;
        double eta = elapsed / (step - firstStep) * (steps - step);
        String line = String.format(Locale.ROOT, "%s - ETA: %s", bar(step, steps), duration(eta))
                + (Double.isNaN(meanLoss) ? " - no batch trained yet (skipped)"
                        : String.format(Locale.ROOT, " - loss: %.4f - accuracy: %.4f", meanLoss, meanAccuracy));
        if (terminal) {
            out.print("\r" + line);
        } else {
            out.println(line);
        }
        out.flush();
    }

    @Override public void onEpochEnd(EpochMetrics m, TrainingState state) {
        StringBuilder b = new StringBuilder(bar(steps, steps));
        b.append(String.format(Locale.ROOT, " - %.0fs %.0fms/step - loss: %.4f - accuracy: %.4f",
                m.seconds(), 1000 * m.seconds() / steps, m.loss(), m.accuracy()));
        if (Double.isFinite(m.valLoss())) {
            b.append(String.format(Locale.ROOT, " - val_loss: %.4f - val_accuracy: %.4f", m.valLoss(), m.valAccuracy()));
        }
        out.println((terminal ? "\r" : "") + b);
        out.flush();
    }

    @Override public void onBatchSkipped(String reason) {
        out.println((terminal ? "\n" : "") + "warning: skipped batch: " + reason);
    }

    /** The command reports the stop in one line of its own; on a terminal the bar's line is ended first. */
    @Override public void onInterrupted(TrainingState state, String reason) {
        if (terminal) out.println();
        out.flush();
    }

    private String bar(int step, int steps) {
        int digits = String.valueOf(steps).length();
        int filled = (int) ((long) WIDTH * step / steps);
        String arrow = step >= steps ? "=".repeat(WIDTH)
                : "=".repeat(Math.max(filled - 1, 0)) + ">" + ".".repeat(WIDTH - Math.max(filled, 1));
        return String.format(Locale.ROOT, "%" + digits + "d/%d [%s]", step, steps, arrow);
    }

    static String duration(double seconds) {
        long s = Math.round(seconds);
        if (s >= 3600) return String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60);
        if (s >= 60) return String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
        return s + "s";
    }
}
