package jresnet.backend;

import static org.junit.jupiter.api.Assertions.assertTrue;

import jresnet.nn.Executor;
import jresnet.nn.Node;
import jresnet.nn.ReLU;
import jresnet.nn.SymbolicTensor;

/**
 * Whether two executors of one model took the same side of every ReLU in their last forward pass. The
 * gradient of a ReLU jumps at zero: where float rounding puts a pre-activation on the other side of zero
 * than the reference's double did, the gradient flowing back through that element changes by its full size
 * and so does every gradient below it (seen: one element of 41k, 1% of the gradient below it, 2.5% of the
 * input BatchNormalization's gamma gradient, which then sums mostly cancelling terms). Both answers are
 * right to float precision, so gradients of two backends are compared only on batches where every ReLU
 * decides alike; a different side farther from zero than rounding is a wrong forward pass and fails.
 */
public final class ReluDecisions {
    /** How far from zero, relative to the RMS of the ReLU's input, float rounding may move a pre-activation. */
    private static final double ROUNDING = 1e-3;
    /**
     * Batches drawn at most: a ReLU input within rounding of zero is the exception (one batch in several at
     * most for these small nets), so twenty such batches in a row are a forward pass that is off, not chance.
     */
    private static final int MAX_DRAWS = 20;

    private ReluDecisions() {}

    /**
     * Fills {@code images} and {@code labels} by {@code draw} until both executors, run forward and backward
     * on the first n samples, take the same side of every ReLU.
     */
    public static void drawBatch(Executor expected, Executor actual, float[] images, float[] labels, int n, Runnable draw,
                                 String context) {
        for (int attempt = 1; ; attempt++) {
            draw.run();
            expected.lossAndGradients(images, labels, n);
            actual.lossAndGradients(images, labels, n);
            if (differingSides(expected, actual, n, context) == 0) return;
            assertTrue(attempt < MAX_DRAWS, "a ReLU input within rounding of zero in each of " + attempt + " batches, " + context);
        }
    }

    /**
     * The number of ReLU inputs (over every ReLU of the model, the first n samples) on which the two
     * executors took different sides of zero; asserts each of them lies within rounding of zero.
     */
    static int differingSides(Executor expected, Executor actual, int n, String context) {
        int differing = 0;
        for (Node node : expected.model().nodes()) {
            if (!(node.layer() instanceof ReLU)) continue;
            // the ReLU's input, unless a batch normalization before it was fused with it: then its output,
            // where a side taken differently shows as a positive value against a zero
            SymbolicTensor preActivation = node.inputs().get(0);
            boolean input = expected.stores(preActivation);
            SymbolicTensor seen = input ? preActivation : node.output();
            float[] e = host(expected, seen, n), a = host(actual, seen, n);
            double sumOfSquares = 0;
            for (float v : e) sumOfSquares += (double) v * v;
            double rounding = ROUNDING * Math.sqrt(sumOfSquares / e.length);
            for (int i = 0; i < e.length; i++) {
                if ((e[i] > 0) == (a[i] > 0)) continue;
                differing++;
                assertTrue(Math.abs(e[i] - a[i]) <= rounding && Math.abs(e[i]) <= rounding, node.layer().name()
                        + (input ? " input " : " output ") + i + ": " + a[i] + " against " + e[i] + ", beyond rounding of zero ("
                        + rounding + "), " + context);
            }
        }
        return differing;
    }

    private static float[] host(Executor executor, SymbolicTensor t, int n) {
        float[] values = new float[t.shape().withBatch(n).elements()];
        executor.backend().copyToHost(executor.activation(t).withBatch(n), values);
        return values;
    }
}
