package jresnet.export;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import jresnet.backend.Backend;
import jresnet.backend.cpu.CpuBackend;
import jresnet.data.Dataset;
import jresnet.nn.BatchNormalization;
import jresnet.nn.Dense;
import jresnet.nn.Model;
import jresnet.nn.Node;
import jresnet.nn.SymbolicTensor;
import jresnet.nn.Weight;
import jresnet.tensor.HostArray;
import jresnet.tensor.Shape;

/**
 * Random weights that behave like trained ones where export can go wrong: every gamma, beta and bias
 * random, and each BatchNormalization's moving statistics near (not equal to) the real statistics of
 * its input on some images. Statistics left at their initial 0/1 would hide a swapped mean and
 * variance, and raw-pixel inputs would push every softmax to 0/1, where any graph looks right.
 *
 * <p>Biases and betas are positive (0.2..1), so most ReLU inputs are positive. With zero-centred
 * ones a random 30-layer plain net amplifies float32 rounding by a few hundred (each ReLU then
 * BatchNormalization raises a perturbation's share of the signal by about 1.2): measured on plain30,
 * float32 ONNX Runtime then differed from the float64 reference by 1e-5 to 2.3e-5 whatever the
 * graph, and the 1e-5 check would test that noise instead of the export; with positive shifts
 * it was 2.4e-6 to 3.8e-6 over three seeds.
 */
final class TrainedStandIn {
    private TrainedStandIn() {}

    /**
     * Randomizes model's weights from seed; the moving statistics come from calibration images (NHWC,
     * already preprocessed as predict would), run on the CPU backend layer by layer.
     */
    static void randomize(Model model, long seed, HostArray calibration) {
        SplittableRandom random = new SplittableRandom(seed);
        model.initializeWeights(seed);
        Map<String, HostArray> weights = model.weights();
        for (Weight w : model.weightList()) {
            switch (w.spec().suffix()) {
                case "gamma" -> fill(weights.get(w.name()), random, 0.6, 1.4);
                case "beta", "bias" -> fill(weights.get(w.name()), random, 0.2, 1.0);
                default -> { }
            }
        }
        try (Backend cpu = new CpuBackend()) {
            for (Node node : model.nodes()) {
                if (!(node.layer() instanceof BatchNormalization) && !(node.layer() instanceof Dense)) continue;
                HostArray activations = node.inputs().get(0) == model.input() ? calibration
                        : activations(model, node.inputs().get(0), calibration, cpu);
                String name = node.layer().name();
                if (node.layer() instanceof Dense) {
                    scaleToLogitSpread(activations, weights.get(name + ".kernel").data(), weights.get(name + ".bias").data());
                } else {
                    setMovingStatistics(activations, weights.get(name + ".moving_mean").data(),
                            weights.get(name + ".moving_variance").data(), random);
                }
            }
        }
    }

    /** What the model computes at {@code tensor} for these images, with its current weights. */
    private static HostArray activations(Model model, SymbolicTensor tensor, HostArray images, Backend backend) {
        Model prefix = new Model(model.input(), tensor, model.name() + " up to " + tensor);
        Map<String, HostArray> weights = new LinkedHashMap<>();
        for (Weight w : prefix.weightList()) weights.put(w.name(), model.weights().get(w.name()));
        prefix.setWeights(weights, "calibration");
        return prefix.predict(backend, images, images.shape().dim(0));
    }

    /**
     * Scales a Dense layer so its outputs spread with standard deviation {@value #LOGIT_SPREAD} on the
     * calibration images: softmax outputs confident but not saturated, whatever the features' size.
     */
    private static void scaleToLogitSpread(HostArray features, float[] kernel, float[] bias) {
        int units = bias.length, inputs = kernel.length / units, rows = features.data().length / inputs;
        double sum = 0, squares = 0;
        for (int r = 0; r < rows; r++) {
            for (int u = 0; u < units; u++) {
                double z = bias[u];
                for (int i = 0; i < inputs; i++) z += features.data()[r * inputs + i] * kernel[i * units + u];
                sum += z;
                squares += z * z;
            }
        }
        double n = (double) rows * units, spread = Math.sqrt(Math.max(squares / n - (sum / n) * (sum / n), 1e-12));
        float scale = (float) (LOGIT_SPREAD / spread);
        for (int i = 0; i < kernel.length; i++) kernel[i] *= scale;
        for (int u = 0; u < units; u++) bias[u] *= scale;
    }

    private static final double LOGIT_SPREAD = 1.5;

    /** Per channel (last axis): the mean shifted by up to 0.3 standard deviations, the variance scaled by 0.6..1.6. */
    private static void setMovingStatistics(HostArray activations, float[] mean, float[] variance, SplittableRandom random) {
        int channels = mean.length, rows = activations.data().length / channels;
        for (int c = 0; c < channels; c++) {
            double sum = 0, squares = 0;
            for (int r = 0; r < rows; r++) {
                double v = activations.data()[r * channels + c];
                sum += v;
                squares += v * v;
            }
            double m = sum / rows, var = Math.max(squares / rows - m * m, 1e-2);
            mean[c] = (float) (m + random.nextDouble(-0.3, 0.3) * Math.sqrt(var));
            variance[c] = (float) (var * random.nextDouble(0.6, 1.6));
        }
    }

    private static void fill(HostArray array, SplittableRandom random, double from, double to) {
        float[] data = array.data();
        for (int i = 0; i < data.length; i++) data[i] = (float) random.nextDouble(from, to);
    }

    /** n images of a data set from index {@code from} as an NHWC batch of 0..255 floats. */
    static HostArray images(Dataset data, int from, int n) {
        float[] x = new float[n * Dataset.IMAGE_BYTES];
        for (int i = 0; i < n; i++) data.copyImageNhwc(from + i, x, i * Dataset.IMAGE_BYTES);
        return new HostArray(Shape.of(n, Dataset.HEIGHT, Dataset.WIDTH, Dataset.CHANNELS), x);
    }
}
