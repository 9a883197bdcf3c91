package jresnet.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.function.Supplier;
import jresnet.tensor.Shape;
import jresnet.tensor.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** One SGD update worked out by hand, with heavy-ball and with Nesterov momentum (CUDA: against the reference in CudaBackendContractTest). */
class NesterovMomentumTest {
    /**
     * w = 1, g = 0.5, velocity = 0.2, lr 0.1, momentum 0.9, weight decay 0.01: g' = 0.51, velocity =
     * 0.9·0.2 + 0.51 = 0.69; heavy ball w = 1 − 0.1·0.69 = 0.931; Nesterov w = 1 − 0.1·(0.51 + 0.9·0.69) = 0.8869.
     */
    @ParameterizedTest @MethodSource(HostBackends.ALL)
    void oneUpdateMatchesTheHandComputedCase(Supplier<Backend> make) {
        try (Backend b = make.get()) {
            for (boolean nesterov : new boolean[] {false, true}) {
                Tensor w = b.allocateParameter(Shape.of(1)), g = b.allocateParameter(Shape.of(1)), v = b.allocateParameter(Shape.of(1));
                b.copyFromHost(new float[] {1}, w);
                b.copyFromHost(new float[] {0.5f}, g);
                b.copyFromHost(new float[] {0.2f}, v);
                b.sgdUpdate(new Tensor[] {w}, new Tensor[] {g}, new Tensor[] {v}, 0.1, 0.9, 0.01, nesterov);
                float[] weight = new float[1], velocity = new float[1];
                b.copyToHost(w, weight);
                b.copyToHost(v, velocity);
                assertArrayEquals(new float[] {0.69f}, velocity, 1e-6f);
                assertArrayEquals(new float[] {nesterov ? 0.8869f : 0.931f}, weight, 1e-6f, "nesterov " + nesterov);
                for (Tensor t : new Tensor[] {w, g, v}) t.close();
            }
        }
    }
}
