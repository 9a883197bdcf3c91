package jresnet.optim;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/** values[k] applies once k boundaries (counted in updates) have been passed (He et al.: 0.1, then /10 after 32k and 48k). */
public final class PiecewiseConstant implements LearningRateSchedule {
    private final long[] boundaries;
    private final double[] values;

    public PiecewiseConstant(long[] boundaries, double[] values) {
        if (values.length != boundaries.length + 1) {
            throw new IllegalArgumentException("need one more learning rate than boundaries");
        }
        this.boundaries = boundaries.clone();
        this.values = values.clone();
    }

    @Override public double at(long iteration) {
        int k = 0;
        while (k < boundaries.length && iteration - 1 >= boundaries[k]) k++;
        return values[k];
    }

    @Override public Map<String, Object> config() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("boundaries", Arrays.stream(boundaries).boxed().toList());
        c.put("learning_rates", Arrays.stream(values).boxed().toList());
        return c;
    }
}
