package jresnet.train;

import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;
import jresnet.backend.Backend;
import jresnet.backend.ConvGeometry;
import jresnet.nn.Conv2D;
import jresnet.nn.Dense;
import jresnet.nn.Executor;
import jresnet.nn.Model;
import jresnet.nn.Node;
import jresnet.optim.Optimizer;

/**
 * Times full training steps (forward, loss, backward, update) on synthetic random batches after a
 * warm-up, and converts the median step time into images/s and GFLOP/s of the model's layers.
 */
public final class Benchmark {
    private Benchmark() {}

    /** One measurement; {@link #toJson()} is the line {@code bench} prints last. */
    public record Result(String model, String device, int batch, double imagesPerSecond, double stepMsMedian,
                         double gflopsPerSecond, int vectorBits) {
        /** {@code vector_bits} is null where the backend has no SIMD width of its own (see {@link Backend#vectorBits}). */
        public String toJson() {
            return String.format(Locale.ROOT,
                    "{\"model\":\"%s\",\"device\":\"%s\",\"batch\":%d,\"images_per_s\":%.1f,\"step_ms_median\":%.2f,"
                            + "\"gflops_per_s\":%.1f,\"vector_bits\":%s}", escape(model), escape(device), batch,
                    imagesPerSecond, stepMsMedian, gflopsPerSecond, vectorBits > 0 ? Integer.toString(vectorBits) : "null");
        }

        private static String escape(String s) { return s.replace("\\", "\\\\").replace("\"", "\\\""); }
    }

    /**
     * FLOPs of one training step per image: each convolution's forward 2·K·K·Cin·Cout·Hout·Wout and
     * each dense layer's 2·in·out, times 3 (forward, backward-data, backward-filter).
     */
    public static long trainingFlopsPerImage(Model model) {
        long forward = 0;
        for (Node node : model.nodes()) {
            if (node.layer() instanceof Conv2D conv) {
                ConvGeometry g = conv.geometry(node.inputs().get(0).shape().withBatch(1));
                forward += g.forwardFlops();
            } else if (node.layer() instanceof Dense) {
                forward += 2L * node.inputs().get(0).shape().dim(0) * node.output().shape().dim(0);
            }
        }
        return 3 * forward;
    }

    /**
     * Runs {@code warmupSteps} untimed then {@code steps} timed training steps of {@code model} (its
     * current weights) on {@code backend} with batches of {@code batch} random pixels and labels.
     */
    public static Result run(Model model, Backend backend, Optimizer optimizer, int batch, int warmupSteps, int steps,
                             long seed) {
        return run(model, backend, optimizer, batch, warmupSteps, steps, seed, null);
    }

    /** As above, with {@code profile} (whose {@link OpProfile#backend()} is {@code backend}) recording the timed steps' ops. */
    public static Result run(Model model, Backend backend, Optimizer optimizer, int batch, int warmupSteps, int steps,
                             long seed, OpProfile profile) {
        if (batch <= 0 || steps <= 0 || warmupSteps < 0) {
            throw new IllegalArgumentException("benchmark needs batch > 0, steps > 0 and warm-up >= 0, got batch "
                    + batch + ", steps " + steps + ", warm-up " + warmupSteps);
        }
        SplittableRandom random = new SplittableRandom(seed);
        float[] images = new float[batch * model.input().shape().elements()], labels = new float[batch];
        for (int i = 0; i < images.length; i++) images[i] = random.nextInt(256);
        for (int i = 0; i < batch; i++) labels[i] = random.nextInt(model.output().shape().dim(0));
        double[] stepMs = new double[steps];
        try (Executor executor = new Executor(model, backend, batch)) {
            executor.attachOptimizer(optimizer);
            for (int s = 0; s < warmupSteps + steps; s++) {
                if (s == warmupSteps && profile != null) profile.record();
                long start = System.nanoTime();
                executor.trainStep(images, labels, batch);
                backend.synchronize();
                if (s >= warmupSteps) stepMs[s - warmupSteps] = (System.nanoTime() - start) / 1e6;
                if (profile != null) profile.stepDone();
            }
        }
        double median = median(stepMs);
        double imagesPerSecond = batch * 1000.0 / median;
        return new Result(model.name(), backend.name(), batch, imagesPerSecond, median,
                trainingFlopsPerImage(model) * imagesPerSecond / 1e9, backend.vectorBits());
    }

    static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int mid = sorted.length / 2;
        return sorted.length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}
