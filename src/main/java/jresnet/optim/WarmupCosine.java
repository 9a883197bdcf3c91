package jresnet.optim;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A linear warm-up to {@code peak} over the first {@code warmupIterations} updates (update t gets
 * peak·t/warmup), then a cosine decay per update towards 0 (Loshchilov and Hutter's SGDR without
 * restarts): update t after the warm-up gets peak·(1 + cos(π·(t − warmup − 1)/(total − warmup)))/2,
 * so the first decayed update still runs at the peak and the last one just above 0. Updates past
 * {@code totalIterations} (a run resumed with more epochs) stay at 0.
 */
public final class WarmupCosine implements LearningRateSchedule {
    private final double peak;
    private final long warmupIterations, totalIterations;

    public WarmupCosine(double peak, long warmupIterations, long totalIterations) {
        if (!(peak > 0) || warmupIterations < 0 || totalIterations <= warmupIterations) {
            throw new IllegalArgumentException("warm-up cosine schedule needs peak > 0 and 0 <= warm-up < total updates, got peak "
                    + peak + ", warm-up " + warmupIterations + ", total " + totalIterations);
        }
        this.peak = peak;
        this.warmupIterations = warmupIterations;
        this.totalIterations = totalIterations;
    }

    @Override public double at(long iteration) {
        if (iteration <= warmupIterations) return peak * iteration / warmupIterations;
        if (iteration > totalIterations) return 0;
        double progress = (double) (iteration - warmupIterations - 1) / (totalIterations - warmupIterations);
        return peak * 0.5 * (1 + Math.cos(Math.PI * progress));
    }

    @Override public Map<String, Object> config() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("schedule", "linear warm-up then cosine, per update");
        c.put("peak_learning_rate", peak);
        c.put("warmup_iterations", warmupIterations);
        c.put("total_iterations", totalIterations);
        return c;
    }
}
