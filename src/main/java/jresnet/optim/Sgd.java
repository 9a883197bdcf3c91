package jresnet.optim;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import jresnet.backend.Backend;
import jresnet.tensor.Tensor;

/**
 * SGD with momentum (heavy ball, or Nesterov's) and L2 weight decay (on every trainable weight) under
 * a learning-rate schedule, e.g. He et al.'s piecewise-constant one or a warm-up then cosine one.
 */
public final class Sgd implements Optimizer {
    private final LearningRateSchedule schedule;
    private final double momentum, weightDecay;
    private final boolean nesterov;

    /** Piecewise-constant: values[k] applies once k boundaries have been passed. */
    public Sgd(long[] boundaries, double[] values, double momentum, double weightDecay) {
        this(new PiecewiseConstant(boundaries, values), momentum, weightDecay, false);
    }

    public Sgd(LearningRateSchedule schedule, double momentum, double weightDecay, boolean nesterov) {
        this.schedule = schedule;
        this.momentum = momentum;
        this.weightDecay = weightDecay;
        this.nesterov = nesterov;
    }

    @Override public String name() { return "sgd"; }

    @Override public List<String> slotNames() { return List.of("momentum"); }

    @Override public double learningRate(long iteration) { return schedule.at(iteration); }

    @Override public void update(Backend backend, Tensor[] params, Tensor[] grads, List<Tensor[]> slots, long iteration) {
        backend.sgdUpdate(params, grads, slots.get(0), learningRate(iteration), momentum, weightDecay, nesterov);
    }

    @Override public Map<String, Object> config() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("name", name());
        c.putAll(schedule.config());
        c.put("momentum", momentum);
        if (nesterov) c.put("nesterov", true);  // absent: heavy ball, as in the configurations written before Nesterov existed
        c.put("weight_decay", weightDecay);
        return c;
    }
}
