package jresnet.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import jresnet.TestSeeds;
import jresnet.backend.Backend;
import jresnet.backend.ReluDecisions;
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
    /**
     * The bound on ‖cpu − ref‖ / ‖ref‖ of the loss, of each gradient and of each weight after an update. The
     * reference runs in double, so this is float32 rounding, about 1e-6 (at most 3.1e-6 over 30 seeds,
     * 2026-12-03; input BatchNormalization's beta and gamma gradients, which sum cancelling terms, are the
     * largest). It holds because batches on which a ReLU takes different sides (see {@link ReluDecisions})
     * are drawn again; a wrong op is off by O(1).
     */
    private static final double TOLERANCE = 1e-4;

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
        long seed = TestSeeds.next();
        SplittableRandom random = new SplittableRandom(seed);
        model.initializeWeights(seed);
        float[] images = new float[n * 32 * 32 * 3], labels = new float[n];
        try (ReferenceBackend reference = new ReferenceBackend(); CpuBackend cpu = new CpuBackend();
             Executor onReference = new Executor(model, reference, n); Executor onCpu = new Executor(model, cpu, n)) {
            onReference.attachOptimizer(optimizer);
            onCpu.attachOptimizer(optimizer);
            for (int step = 0; step < steps; step++) {
                String context = model.name() + " step " + step + " (seed " + seed + ")";
                ReluDecisions.drawBatch(onReference, onCpu, images, labels, n, () -> {
                    for (int i = 0; i < images.length; i++) images[i] = random.nextInt(256) - pixelOffset;
                    for (int i = 0; i < n; i++) labels[i] = random.nextInt(10);
                }, context);
                double[] expected = onReference.lossAndGradients(images, labels, n);
                double[] actual = onCpu.lossAndGradients(images, labels, n);
                assertEquals(expected[0], actual[0], TOLERANCE * Math.abs(expected[0]), "loss, " + context);
                for (Weight w : model.weightList()) {
                    if (!w.trainable()) continue;
                    assertRelative(w.name() + " gradient, " + context, onReference.gradient(w.name()), reference,
                            onCpu.gradient(w.name()), cpu, gradientFloor(w, onReference, reference));
                }
                onReference.trainStep(images, labels, n);
                onCpu.trainStep(images, labels, n);
                for (Weight w : model.weightList()) {
                    assertRelative(w.name() + " after update, " + context, onReference.parameter(w.name()), reference,
                            onCpu.parameter(w.name()), cpu, 0);
                }
                // Both go on from the same (float) weights, so the next step compares one step's arithmetic again.
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

    /** Asserts |actual − expected| ≤ TOLERANCE·|expected| + floor. */
    private static void assertRelative(String what, Tensor expected, Backend eb, Tensor actual, Backend ab, double floor) {
        float[] e = host(expected, eb), a = host(actual, ab);
        double diff = 0;
        for (int i = 0; i < e.length; i++) diff += (double) (a[i] - e[i]) * (a[i] - e[i]);
        double error = Math.sqrt(diff), scale = norm(expected, eb);
        assertTrue(error <= TOLERANCE * scale + floor, what + ": |cpu - ref| " + error + " against |ref| " + scale);
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
