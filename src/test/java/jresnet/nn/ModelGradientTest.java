package jresnet.nn;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import jresnet.TestSeeds;
import jresnet.backend.reference.RefTensor;
import jresnet.backend.reference.ReferenceBackend;
import jresnet.models.TutorialNets;
import org.junit.jupiter.api.Test;

/** The whole graph (fan-out, Add, fused relu_bn, Flatten, Dense) against central differences. */
class ModelGradientTest {
    @Test void smallResNetGradientsMatchCentralDifferences() {
        long seed = TestSeeds.next();
        SplittableRandom random = new SplittableRandom(seed);
        Model model = TutorialNets.resnet(new int[] {1, 1}, 2, 16, "tiny");
        model.initializeWeights(seed);
        int n = 3;
        float[] images = new float[n * 32 * 32 * 3], labels = new float[n];
        for (int i = 0; i < images.length; i++) images[i] = random.nextInt(256);
        for (int i = 0; i < n; i++) labels[i] = random.nextInt(10);
        try (ReferenceBackend b = new ReferenceBackend(); Executor ex = new Executor(model, b, n)) {
            ex.lossAndGradients(images, labels, n);
            java.util.Map<String, double[]> gradients = new java.util.HashMap<>();
            for (Weight w : model.weightList()) {
                if (w.trainable()) gradients.put(w.name(), ((RefTensor) ex.gradient(w.name())).data().clone());
            }
            for (Weight w : model.weightList()) {
                if (!w.trainable()) continue;
                RefTensor p = (RefTensor) ex.parameter(w.name());
                double[] analytic = gradients.get(w.name());
                double num2 = 0, diff2 = 0, h = 1e-7;
                for (int i = 0; i < Math.min(p.size(), 6); i++) {
                    int at = random.nextInt(p.size());
                    double saved = p.data()[at];
                    p.data()[at] = saved + h;
                    double up = ex.lossAndGradients(images, labels, n)[0] / n;
                    p.data()[at] = saved - h;
                    double down = ex.lossAndGradients(images, labels, n)[0] / n;
                    p.data()[at] = saved;
                    double numeric = (up - down) / (2 * h);
                    num2 += numeric * numeric;
                    diff2 += (numeric - analytic[at]) * (numeric - analytic[at]);
                }
                // An absolute floor: a bias in front of BatchNormalization has an almost-zero gradient, and
                // a perturbation may push a pre-activation across the ReLU's kink.
                double err = Math.sqrt(diff2), scale = Math.sqrt(num2);
                assertTrue(err <= 1e-4 * scale + 1e-7, w.name() + ": error " + err + " against " + scale + " (seed " + seed + ")");
            }
        }
    }
}
