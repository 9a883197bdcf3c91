package jresnet.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import jresnet.TestSeeds;
import jresnet.backend.ReluDecisions;
import jresnet.backend.reference.ReferenceBackend;
import jresnet.models.TutorialNets;
import jresnet.nn.Executor;
import jresnet.nn.Model;
import jresnet.nn.Weight;
import jresnet.optim.Adam;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A small ResNet on the CUDA backend against the reference backend: its gradients, and its loss after
 * 20 Adam steps, with no device allocation after the second step. The ops one by one are
 * {@link CudaBackendContractTest}'s. Skipped, with doctor's findings, where no GPU is usable; the Maven
 * build also runs it on the emulated device (see {@link GpuAvailability}).
 */
@Tag("gpu")
class CudaTrainingGpuTest {
    static final double REDUCTION = 1e-4, CONVOLUTION = 5e-4;

    static CudaBackend cuda;
    static ReferenceBackend reference;
    static String skipReason;

    @BeforeAll
    static void open() {
        skipReason = GpuAvailability.skipReason().orElse(null);
        if (skipReason != null) {
            System.err.println("CudaTrainingGpuTest skipped: " + skipReason);
            return;
        }
        cuda = CudaBackend.open();
        reference = new ReferenceBackend();
    }

    @AfterAll
    static void close() {
        if (cuda != null) cuda.close();
    }

    @Test
    void smallResNetTrainsLikeTheReference() {
        assumeTrue(skipReason == null, () -> skipReason);
        long seed = TestSeeds.next();
        SplittableRandom random = new SplittableRandom(seed);
        Model model = TutorialNets.resnet(new int[] {1, 1}, 8, 4, "tiny");
        model.initializeWeights(seed);
        int n = 16, steps = 20;
        try (Executor c = new Executor(model, cuda, n); Executor r = new Executor(model, reference, n)) {
            float[][] images = new float[steps][n * 32 * 32 * 3], labels = new float[steps][n];
            ReluDecisions.drawBatch(r, c, images[0], labels[0], n, () -> randomBatch(random, images[0], labels[0]),
                    "seed " + seed);
            for (int s = 1; s < steps; s++) randomBatch(random, images[s], labels[s]);
            double[] lc = c.lossAndGradients(images[0], labels[0], n), lr = r.lossAndGradients(images[0], labels[0], n);
            assertTrue(Math.abs(lc[0] - lr[0]) <= REDUCTION * lr[0], "first loss " + lc[0] + " vs " + lr[0] + " (seed " + seed + ")");
            Map<String, float[]> gc = new HashMap<>(), gr = new HashMap<>();
            double largest = 0;
            for (Weight w : model.weightList()) {
                if (!w.trainable()) continue;
                float[] a = new float[w.spec().shape().elements()], b = new float[a.length];
                cuda.copyToHost(c.gradient(w.name()), a);
                reference.copyToHost(r.gradient(w.name()), b);
                gc.put(w.name(), a);
                gr.put(w.name(), b);
                largest = Math.max(largest, norm(b));
            }
            for (String name : gr.keySet()) {
                double diff = 0;
                float[] a = gc.get(name), b = gr.get(name);
                for (int i = 0; i < a.length; i++) diff += (a[i] - (double) b[i]) * (a[i] - (double) b[i]);
                // A floor relative to the largest gradient: biases in front of batch norm have gradients
                // that are zero up to rounding on both sides.
                assertTrue(Math.sqrt(diff) <= CONVOLUTION * norm(b) + 1e-6 * largest,
                        "gradient of " + name + ": error " + Math.sqrt(diff) + " against " + norm(b) + " (seed " + seed + ")");
            }

            c.attachOptimizer(new Adam());
            r.attachOptimizer(new Adam());
            double lastC = 0, lastR = 0;
            long allocationsAfterSecondStep = 0;
            for (int s = 0; s < steps; s++) {
                lastC = c.trainStep(images[s], labels[s], n)[0] / n;
                lastR = r.trainStep(images[s], labels[s], n)[0] / n;
                if (s == 1) allocationsAfterSecondStep = cuda.poolStatistics().deviceAllocations();
            }
            assertEquals(allocationsAfterSecondStep, cuda.poolStatistics().deviceAllocations(),
                    "training steps after the second must not allocate device memory: " + cuda.poolStatistics());
            assertTrue(Math.abs(lastC - lastR) <= 1e-3 * Math.abs(lastR),
                    "loss after " + steps + " steps: " + lastC + " vs " + lastR + " (seed " + seed + ")");
        }
    }

    private static void randomBatch(SplittableRandom random, float[] images, float[] labels) {
        for (int i = 0; i < images.length; i++) images[i] = random.nextInt(256);
        for (int i = 0; i < labels.length; i++) labels[i] = random.nextInt(10);
    }

    private static double norm(float[] values) {
        double sum = 0;
        for (float v : values) sum += (double) v * v;
        return Math.sqrt(sum);
    }
}
