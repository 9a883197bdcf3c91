package jresnet.optim;

import java.util.List;
import java.util.Map;
import jresnet.backend.Backend;
import jresnet.tensor.Tensor;

/** An optimizer: its per-parameter slots and one update of every trainable parameter. */
public interface Optimizer {
    /** "adam" or "sgd". */
    String name();

    /** Names of the per-parameter state tensors (zero-initialised), e.g. m and v for Adam. */
    List<String> slotNames();

    /** The learning rate of update number {@code iteration} (1-based). */
    double learningRate(long iteration);

    /** Applies update number {@code iteration} (1-based); slots.get(k)[p] is slot k of parameter p. */
    void update(Backend backend, Tensor[] params, Tensor[] grads, List<Tensor[]> slots, long iteration);

    /** Hyper-parameters, for the run configuration. */
    Map<String, Object> config();
}
