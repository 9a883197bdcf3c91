package jresnet.optim;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import jresnet.backend.Backend;
import jresnet.tensor.Tensor;

/**
 * SGD with momentum and L2 weight decay under a piecewise-constant learning rate: values[k] applies
 * once k boundaries have been passed (He et al.: 0.1, then /10 after 32k and 48k iterations).
 */
public final class Sgd implements Optimizer {
    private final long[] boundaries;
    private final double[] values;
    private final double momentum, weightDecay;

    public Sgd(long[] boundaries, double[] values, double momentum, double weightDecay) {
        if (values.length != boundaries.length + 1) {
            throw new IllegalArgumentException("need one more learning rate than boundaries");
        }
        this.boundaries = boundaries.clone();
        this.values = values.clone();
        this.momentum = momentum;
        this.weightDecay = weightDecay;
    }

    @Override public String name() { return "sgd"; }

    @Override public List<String> slotNames() { return List.of("momentum"); }

    @Override public double learningRate(long iteration) {
        int k = 0;
        while (k < boundaries.length && iteration - 1 >= boundaries[k]) k++;
        return values[k];
    }

    @Override public void update(Backend backend, Tensor[] params, Tensor[] grads, List<Tensor[]> slots, long iteration) {
        backend.sgdUpdate(params, grads, slots.get(0), learningRate(iteration), momentum, weightDecay);
    }

    @Override public Map<String, Object> config() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("name", name());
        c.put("boundaries", java.util.Arrays.stream(boundaries).boxed().toList());
        c.put("learning_rates", java.util.Arrays.stream(values).boxed().toList());
        c.put("momentum", momentum);
        c.put("weight_decay", weightDecay);
        return c;
    }
}
