package jresnet.optim;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import jresnet.backend.Backend;
import jresnet.tensor.Tensor;

/** Keras Adam: lr 1e-3, β1 0.9, β2 0.999, ε 1e-7 by default, with Keras's bias-corrected step size. */
public final class Adam implements Optimizer {
    private final double learningRate, beta1, beta2, epsilon;

    public Adam() { this(1e-3, 0.9, 0.999, 1e-7); }

    public Adam(double learningRate, double beta1, double beta2, double epsilon) {
        if (!(learningRate > 0 && Double.isFinite(learningRate)) || !(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)
                || !(epsilon > 0 && Double.isFinite(epsilon))) {
            throw new IllegalArgumentException("Adam needs a positive learning rate, beta_1 and beta_2 in [0, 1) and a positive "
                    + "epsilon, got " + learningRate + ", " + beta1 + ", " + beta2 + ", " + epsilon);
        }
        this.learningRate = learningRate;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.epsilon = epsilon;
    }

    @Override public String name() { return "adam"; }

    @Override public List<String> slotNames() { return List.of("m", "v"); }

    @Override public double learningRate(long iteration) { return learningRate; }

    @Override public void update(Backend backend, Tensor[] params, Tensor[] grads, List<Tensor[]> slots, long iteration) {
        double lrT = learningRate * Math.sqrt(1 - Math.pow(beta2, iteration)) / (1 - Math.pow(beta1, iteration));
        backend.adamUpdate(params, grads, slots.get(0), slots.get(1), lrT, beta1, beta2, epsilon);
    }

    @Override public Map<String, Object> config() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("name", name());
        c.put("learning_rate", learningRate);
        c.put("beta_1", beta1);
        c.put("beta_2", beta2);
        c.put("epsilon", epsilon);
        return c;
    }
}
