package jresnet.nn;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import jresnet.TestSeeds;
import jresnet.backend.reference.RefTensor;
import jresnet.backend.reference.ReferenceBackend;
import jresnet.models.TutorialNets;
import org.junit.jupiter.api.Test;

/** Whole graphs (fan-out, Add, every ReLU fusion, Flatten, pooling, Dense) against central differences. */
class ModelGradientTest {
    /** The tutorial's relu_bn fusion, a 1x1 projection, Flatten. */
    @Test void smallResNetGradientsMatchCentralDifferences() {
        long seed = TestSeeds.next();
        Model model = TutorialNets.resnet(new int[] {1, 1}, 2, 16, "tiny");
        SplittableRandom random = new SplittableRandom(seed);
        float[] images = new float[3 * 32 * 32 * 3];
        for (int i = 0; i < images.length; i++) images[i] = random.nextInt(256);
        assertGradientsMatch(model, images, 3, seed, ex -> {});
    }

    /**
     * He et al.'s blocks on a small input: BN → ReLU and BN → Add → ReLU run fused (neither the second
     * batch norm's output nor the sum is stored), an identity and an option-A shortcut, the latter made
     * after the branch, global average pooling.
     */
    @Test void heBlocksWithFusedAddReluMatchCentralDifferences() {
        SymbolicTensor input = Input.of(6, 6, 3);
        SymbolicTensor t = new ReLU().apply(convBn(input, 4, 1));
        SymbolicTensor identityBranch = convBn(new ReLU().apply(convBn(t, 4, 1)), 4, 1);
        SymbolicTensor identitySum = new Add().apply(t, identityBranch);
        t = new ReLU().apply(identitySum);
        SymbolicTensor paddedBranch = convBn(new ReLU().apply(convBn(t, 8, 2)), 8, 1);
        SymbolicTensor projected = new SubsampleChannelPad(2, 8).apply(t);
        SymbolicTensor paddedSum = new Add().apply(paddedBranch, projected);
        t = new ReLU().apply(paddedSum);
        Model model = new Model(input, new Dense(10, "softmax").apply(new GlobalAveragePooling2D().apply(t)), "he-tiny");
        assertGradientsMatchOnCenteredInputs(model, 4, ex -> {
            for (SymbolicTensor fused : List.of(identityBranch, identitySum, paddedBranch, paddedSum)) {
                assertFalse(ex.stores(fused), fused + " is stored: BN → Add → ReLU did not fuse");
            }
        });
    }

    /** A batch norm whose output feeds more than its Add, or an Add without a ReLU after it, runs on its own. */
    @Test void batchNormsThatCannotFuseWithTheirAddMatchCentralDifferences() {
        SymbolicTensor input = Input.of(5, 5, 2);
        SymbolicTensor t = new ReLU().apply(convBn(input, 3, 1));
        SymbolicTensor reused = convBn(t, 3, 1);
        SymbolicTensor first = new ReLU().apply(new Add().apply(t, reused));
        SymbolicTensor unrectified = convBn(first, 3, 1);
        SymbolicTensor plainSum = new Add().apply(unrectified, reused);
        Model model = new Model(input, new Dense(10, "softmax").apply(new GlobalAveragePooling2D().apply(plainSum)), "no-fusion");
        assertGradientsMatchOnCenteredInputs(model, 3, ex -> {
            assertTrue(ex.stores(reused), "a batch norm with two consumers fused into one of them");
            assertTrue(ex.stores(unrectified), "a batch norm fused into an Add with no ReLU after it");
        });
    }

    /**
     * Adds hand their inputs one gradient buffer, which a later sum must not write while another gradient
     * still holds it: a's gradient from the Add (shared with b's) is summed with l's before b's branch has
     * run backward; a tensor added to itself; an unfused Add whose sum feeds two layers; a tensor whose
     * gradient arrives from three places.
     */
    @Test void addsSharingGradientBuffersMatchCentralDifferences() {
        SymbolicTensor input = Input.of(5, 5, 2);
        SymbolicTensor a = new ReLU().apply(convBn(input, 3, 1));
        SymbolicTensor b = convBn(a, 3, 1);
        SymbolicTensor l = convBn(a, 3, 1);
        SymbolicTensor t = new Add().apply(new Add().apply(a, b), l);
        SymbolicTensor doubled = new Add().apply(t, t);
        SymbolicTensor fanOut = new Add().apply(doubled, convBn(doubled, 3, 1));
        SymbolicTensor rectified = new ReLU().apply(new Add().apply(fanOut, convBn(fanOut, 3, 1)));
        SymbolicTensor last = new Add().apply(rectified, t);
        Model model = new Model(input, new Dense(10, "softmax").apply(new GlobalAveragePooling2D().apply(last)), "shared-sums");
        assertGradientsMatchOnCenteredInputs(model, 3, ex -> {});
    }

    /** A ReLU between two batch norms fuses into one of them only: the one after it (relu_bn). */
    @Test void reluBetweenTwoBatchNormsFusesOnce() {
        SymbolicTensor input = Input.of(5, 5, 2);
        SymbolicTensor normalized = convBn(input, 3, 1);
        SymbolicTensor rectified = new ReLU().apply(normalized);
        SymbolicTensor t = new BatchNormalization().apply(rectified);
        Model model = new Model(input, new Dense(10, "softmax").apply(new GlobalAveragePooling2D().apply(t)), "bn-relu-bn");
        assertGradientsMatchOnCenteredInputs(model, 3, ex -> {
            assertTrue(ex.stores(normalized), "the first batch norm's output is not stored");
            assertFalse(ex.stores(rectified), "the ReLU did not fuse into the batch norm after it");
        });
    }

    private static SymbolicTensor convBn(SymbolicTensor x, int filters, int stride) {
        return new BatchNormalization().apply(new Conv2D(filters, 3, stride, "same").apply(x));
    }

    /** n inputs of the model's shape, uniform in [-1, 1). */
    private static void assertGradientsMatchOnCenteredInputs(Model model, int n, java.util.function.Consumer<Executor> check) {
        long seed = TestSeeds.next();
        SplittableRandom random = new SplittableRandom(seed);
        float[] images = new float[model.input().shape().withBatch(n).elements()];
        for (int i = 0; i < images.length; i++) images[i] = (float) (random.nextDouble() * 2 - 1);
        assertGradientsMatch(model, images, n, seed, check);
    }

    private static void assertGradientsMatch(Model model, float[] images, int n, long seed,
                                             java.util.function.Consumer<Executor> check) {
        SplittableRandom random = new SplittableRandom(seed ^ 0x9E3779B97F4A7C15L);
        model.initializeWeights(seed);
        float[] labels = new float[n];
        for (int i = 0; i < n; i++) labels[i] = random.nextInt(10);
        try (ReferenceBackend b = new ReferenceBackend(); Executor ex = new Executor(model, b, n)) {
            check.accept(ex);
            ex.lossAndGradients(images, labels, n);
            Map<String, double[]> gradients = new HashMap<>();
            for (Weight w : model.weightList()) {
                if (w.trainable()) gradients.put(w.name(), ((RefTensor) ex.gradient(w.name())).data().clone());
            }
            for (Weight w : model.weightList()) {
                if (!w.trainable()) continue;
                RefTensor p = (RefTensor) ex.parameter(w.name());
                double[] analytic = gradients.get(w.name());
                double num2 = 0, diff2 = 0, h = 1e-7;
                int checked = 0;
                for (int draw = 0; draw < 30 && checked < Math.min(p.size(), 6); draw++) {
                    int at = random.nextInt(p.size());
                    double saved = p.data()[at];
                    double middle = ex.lossAndGradients(images, labels, n)[0] / n;
                    p.data()[at] = saved + h;
                    double up = ex.lossAndGradients(images, labels, n)[0] / n;
                    p.data()[at] = saved - h;
                    double down = ex.lossAndGradients(images, labels, n)[0] / n;
                    p.data()[at] = saved;
                    double numeric = (up - down) / (2 * h), right = (up - middle) / h, left = (middle - down) / h;
                    // A pre-activation within the perturbation of a ReLU's kink makes the slopes on either side
                    // differ by far more than the curvature does: the central difference means nothing there.
                    if (Math.abs(right - left) > 1e-4 * Math.abs(numeric) + 1e-7) continue;
                    checked++;
                    num2 += numeric * numeric;
                    diff2 += (numeric - analytic[at]) * (numeric - analytic[at]);
                }
                assertTrue(checked >= Math.min(p.size(), 3), model.name() + " " + w.name() + ": only " + checked
                        + " of 30 perturbations stayed clear of every ReLU's kink (seed " + seed + ")");
                // An absolute floor: a bias in front of BatchNormalization has an almost-zero gradient.
                double err = Math.sqrt(diff2), scale = Math.sqrt(num2);
                assertTrue(err <= 1e-4 * scale + 1e-7, model.name() + " " + w.name() + ": error " + err + " against " + scale
                        + " (seed " + seed + ")");
            }
        }
    }
}
