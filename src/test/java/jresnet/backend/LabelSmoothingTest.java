package jresnet.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.function.Supplier;
import jresnet.tensor.Shape;
import jresnet.tensor.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Label smoothing's loss and gradient against a case worked out by hand (the CUDA kernel is checked against the reference in CudaBackendContractTest). */
class LabelSmoothingTest {
    /**
     * Two samples, three classes, e = 0.3. Row 0: logits (0, ln 3, ln 4), so softmax (1/8, 3/8, 1/2),
     * label 2; row 1: logits (0, 0, 0), softmax 1/3 each, label 0. Per sample the smoothed loss is
     * 0.7·(−ln p_label) + 0.3·mean_k(−ln p_k); the gradient is (p − (0.7·onehot + 0.1)) / 2.
     */
    @ParameterizedTest @MethodSource(HostBackends.ALL)
    void smoothedLossAndGradientMatchTheHandComputedCase(Supplier<Backend> make) {
        try (Backend b = make.get()) {
            Tensor logits = b.allocate(Shape.of(2, 3)), labels = b.allocate(Shape.of(2)), d = b.allocate(Shape.of(2, 3));
            b.copyFromHost(new float[] {0, (float) Math.log(3), (float) Math.log(4), 0, 0, 0}, logits);
            b.copyFromHost(new float[] {2, 0}, labels);

            double row0 = 0.7 * Math.log(2) + 0.3 * (Math.log(8) + Math.log(8.0 / 3) + Math.log(2)) / 3;
            double row1 = Math.log(3);  // every class has p = 1/3: smoothing leaves the loss at ln 3
            double[] r = b.softmaxCrossEntropy(logits, labels, d, 0.3);
            assertEquals(row0 + row1, r[0], 1e-6);
            assertEquals(2, r[1], "row 0's maximum is its label; row 1's first maximum is class 0, its label");
            float[] gradient = new float[6];
            b.copyToHost(d, gradient);
            assertArrayEquals(new float[] {
                    (float) ((1.0 / 8 - 0.1) / 2), (float) ((3.0 / 8 - 0.1) / 2), (float) ((0.5 - 0.8) / 2),
                    (float) ((1.0 / 3 - 0.8) / 2), (float) ((1.0 / 3 - 0.1) / 2), (float) ((1.0 / 3 - 0.1) / 2)},
                    gradient, 1e-6f);

            double[] plain = b.softmaxCrossEntropy(logits, labels, d, 0);
            assertEquals(Math.log(2) + Math.log(3), plain[0], 1e-6, "e = 0 is the plain cross-entropy");
            assertArrayEquals(plain, b.softmaxCrossEntropy(logits, labels, null));
            for (Tensor t : new Tensor[] {logits, labels, d}) t.close();
        }
    }
}
