package jresnet.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import jresnet.backend.Backend;
import jresnet.backend.reference.ReferenceBackend;
import jresnet.models.HeNets;
import jresnet.models.TutorialNets;
import jresnet.nn.Executor;
import jresnet.nn.Model;
import jresnet.nn.Weight;
import jresnet.optim.Optimizer;
import jresnet.optim.Sgd;
import jresnet.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * A full training step (forward, loss, backward, update) of small ResNets through the executor on
 * both backends from the same weights: the loss, every gradient and every updated weight agree.
 */
class CpuTrainingStepTest {
    private static final double TOLERANCE = 1e-3;

    /**
     * He et al.'s 8-layer ResNet (option-A shortcuts, global average pooling) on mean-subtracted
     * pixels as the he2015 recipe feeds it; two SGD steps, so the second uses the momentum the first left.
     */
    @Test void heResNetStepsMatchReference() {
        compareSteps(HeNets.resnet(8), new Sgd(new long[0], new double[] {0.1}, 0.9, 1e-4), 6, 127.5f, 2);
    }

    /**
     * The tutorial's ResNet in small (fused relu_bn, 1x1 projection, biases, Flatten) on raw pixels.
     * One SGD step: under Adam a first update is lr·g/(|g| + ε), whose sign is noise where a gradient
     * is rounding-sized; the Adam arithmetic is compared op by op in the backend contract tests.
     */
    @Test void tutorialResNetStepMatchesReference() {
        compareSteps(TutorialNets.resnet(new int[] {1, 1}, 8, 4, "tiny"), new Sgd(new long[0], new double[] {0.01}, 0.9, 0),
                5, 0, 1);
    }

    private static void compareSteps(Model model, Optimizer optimizer, int n, float pixelOffset, int steps) {
        long seed = Long.getLong("jresnet.test.seed", System.nanoTime());
        SplittableRandom random = new SplittableRandom(seed);
        model.initializeWeights(seed);
        float[] images = new float[n * 32 * 32 * 3], labels = new float[n];
        for (int i = 0; i < images.length; i++) images[i] = random.nextInt(256) - pixelOffset;
        for (int i = 0; i < n; i++) labels[i] = random.nextInt(10);
        try (ReferenceBackend reference = new ReferenceBackend(); CpuBackend cpu = new CpuBackend();
             Executor onReference = new Executor(model, reference, n); Executor onCpu = new Executor(model, cpu, n)) {
            onReference.attachOptimizer(optimizer);
            onCpu.attachOptimizer(optimizer);
            for (int step = 0; step < steps; step++) {
                double[] expected = onReference.lossAndGradients(images, labels, n);
                double[] actual = onCpu.lossAndGradients(images, labels, n);
                String context = model.name() + " step " + step + " (seed " + seed + ")";
                assertEquals(expected[0], actual[0], TOLERANCE * Math.abs(expected[0]), "loss, " + context);
                // Gradients: all together within 5e-3, each within 2e-2. Two float32 effects that are not bugs
                // need the room: a small reduction such as the input BatchNormalization's dbeta (a sum over
                // every pixel that mostly cancels) carries the rounding of the terms it sums, not of its small
                // result; and about one run in ten has a pre-activation within rounding of zero, where float
                // and double take different sides of a ReLU (seen: 1.6e-3 overall). A wrong op is off by O(1).
                // Later steps check the loss and the updated weights: after an update, float rounding in the
                // forward pass may flip a ReLU whose input sits at zero, which moves a gradient by more than rounding.
                double diff = 0, norm = 0;
                for (Weight w : model.weightList()) {
                    if (step == 0 && w.trainable()) {
                        double[] d = assertRelative(w.name() + " gradient, " + context, onReference.gradient(w.name()),
                                reference, onCpu.gradient(w.name()), cpu, 20 * TOLERANCE, gradientFloor(w, onReference, reference));
                        diff += d[0] * d[0];
                        norm += d[1] * d[1];
                    }
                }
                assertTrue(Math.sqrt(diff) <= 5 * TOLERANCE * Math.sqrt(norm), "all gradients, " + context + ": |cpu - ref| "
                        + Math.sqrt(diff) + " against |ref| " + Math.sqrt(norm));
                onReference.trainStep(images, labels, n);
                onCpu.trainStep(images, labels, n);
                // Weights that start at zero (biases, beta) are just −lr·gradient after the first update, so
                // each weight gets the gradients' room; all of them together are held to 1e-3.
                double weightDiff = 0, weightNorm = 0;
                for (Weight w : model.weightList()) {
                    double[] d = assertRelative(w.name() + " after update, " + context, onReference.parameter(w.name()),
                            reference, onCpu.parameter(w.name()), cpu, 20 * TOLERANCE, 0);
                    weightDiff += d[0] * d[0];
                    weightNorm += d[1] * d[1];
                }
                assertTrue(Math.sqrt(weightDiff) <= TOLERANCE * Math.sqrt(weightNorm), "all weights after update, " + context);
                // Both go on from the same (float) weights: float-sized differences would otherwise flip
                // ReLUs whose input sits near zero, which moves a gradient by more than rounding.
                onReference.pullWeights();
                onReference.pushWeights();
                onCpu.pushWeights();
            }
        }
    }

    /**
     * A convolution bias in front of BatchNormalization has a true gradient of exactly zero (the batch
     * mean removes it); both backends return rounding noise there, so it is compared absolutely
     * against the layer's kernel gradient instead.
     */
    private static double gradientFloor(Weight w, Executor executor, Backend backend) {
        if (!w.name().endsWith(".bias") || w.name().startsWith("dense")) return 0;
        String kernel = w.name().replace(".bias", ".kernel");
        return TOLERANCE * norm(executor.gradient(kernel), backend);
    }

    /** Asserts |actual − expected| ≤ tolerance·|expected| + floor; returns {|actual − expected|, |expected|}. */
    private static double[] assertRelative(String what, Tensor expected, Backend eb, Tensor actual, Backend ab,
                                           double tolerance, double floor) {
        float[] e = host(expected, eb), a = host(actual, ab);
        double diff = 0, norm = 0;
        for (int i = 0; i < e.length; i++) {
            diff += (double) (a[i] - e[i]) * (a[i] - e[i]);
            norm += (double) e[i] * e[i];
        }
        double error = Math.sqrt(diff), scale = Math.sqrt(norm);
        assertTrue(error <= tolerance * scale + floor, what + ": |cpu - ref| " + error + " against |ref| " + scale);
        return new double[] {error, scale};
    }

    private static double norm(Tensor t, Backend b) {
        double sum = 0;
        for (float v : host(t, b)) sum += (double) v * v;
        return Math.sqrt(sum);
    }

    private static float[] host(Tensor t, Backend b) {
        float[] values = new float[t.shape().elements()];
        b.copyToHost(t, values);
        return values;
    }
}
