package jresnet.backend.reference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import jresnet.TestSeeds;
import jresnet.backend.ConvGeometry;
import jresnet.backend.Padding;
import jresnet.tensor.Shape;
import org.junit.jupiter.api.Test;

/**
 * Every reference op's backward against central differences in double. The scalar checked is
 * L = Σ y·r for a random r, so dy = r.
 */
class ReferenceGradientTest {
    private final ReferenceBackend b = new ReferenceBackend();
    private final long seed = TestSeeds.next();
    private final SplittableRandom random = new SplittableRandom(seed);

    private RefTensor randomTensor(Shape s) {
        double[] v = new double[s.elements()];
        for (int i = 0; i < v.length; i++) v[i] = random.nextDouble(-1, 1);
        return b.tensor(s, v);
    }

    private static double dot(RefTensor a, RefTensor r) {
        double s = 0;
        for (int i = 0; i < a.size(); i++) s += a.data()[i] * r.data()[i];
        return s;
    }

    /** Compares analytic[i] with the central difference of loss() with respect to wrt[i]. */
    private void assertGradient(String what, RefTensor wrt, RefTensor analytic, java.util.function.DoubleSupplier loss) {
        double h = 1e-6, num2 = 0, diff2 = 0;
        for (int i = 0; i < wrt.size(); i++) {
            double saved = wrt.data()[i];
            wrt.data()[i] = saved + h;
            double up = loss.getAsDouble();
            wrt.data()[i] = saved - h;
            double down = loss.getAsDouble();
            wrt.data()[i] = saved;
            double numeric = (up - down) / (2 * h);
            num2 += numeric * numeric;
            diff2 += (numeric - analytic.data()[i]) * (numeric - analytic.data()[i]);
        }
        assertTrue(num2 > 0, what + ": gradient is zero everywhere (seed " + seed + ")");
        double rel = Math.sqrt(diff2 / num2);
        assertTrue(rel < 1e-6, what + ": relative error " + rel + " (seed " + seed + ")");
    }

    private void checkConv(Shape in, int k, int filters, int stride, Padding padding) {
        RefTensor x = randomTensor(in);
        ConvGeometry g = ConvGeometry.of(in, k, k, filters, stride, padding);
        RefTensor kernel = randomTensor(g.kernelShape()), bias = randomTensor(Shape.of(filters));
        RefTensor y = b.allocate(g.outputShape()), r = randomTensor(g.outputShape());
        java.util.function.DoubleSupplier loss = () -> {
            b.conv2dForward(x, kernel, bias, y, g);
            return dot(y, r);
        };
        RefTensor dx = b.allocate(in), dk = b.allocate(g.kernelShape()), db = b.allocate(Shape.of(filters));
        b.conv2dBackwardData(r, kernel, dx, g);
        b.conv2dBackwardFilter(x, r, dk, db, g);
        String what = "conv " + in + " k" + k + " s" + stride + " " + padding;
        assertGradient(what + " dx", x, dx, loss);
        assertGradient(what + " dkernel", kernel, dk, loss);
        assertGradient(what + " dbias", bias, db, loss);
    }

    @Test void conv2dSameStrideOne() { checkConv(Shape.of(2, 5, 5, 3), 3, 4, 1, Padding.SAME); }

    @Test void conv2dSameStrideTwoEvenSizeAsymmetricPadding() { checkConv(Shape.of(2, 6, 6, 2), 3, 3, 2, Padding.SAME); }

    @Test void conv2dSameStrideTwoOddSize() { checkConv(Shape.of(1, 7, 7, 2), 3, 2, 2, Padding.SAME); }

    @Test void conv2dOneByOneStrideTwo() { checkConv(Shape.of(2, 6, 6, 3), 1, 4, 2, Padding.SAME); }

    @Test void conv2dValid() { checkConv(Shape.of(2, 6, 5, 2), 3, 2, 1, Padding.VALID); }

    /** Known values: a 3x3 all-ones kernel over 1..16 (4x4), stride 2 "same": pads bottom/right only. */
    @Test void conv2dStrideTwoPaddingByHand() {
        double[] v = new double[16];
        for (int i = 0; i < 16; i++) v[i] = i + 1;
        RefTensor x = b.tensor(Shape.of(1, 4, 4, 1), v);
        ConvGeometry g = ConvGeometry.of(x.shape(), 3, 3, 1, 2, Padding.SAME);
        RefTensor kernel = b.tensor(Shape.of(3, 3, 1, 1), new double[] {1, 1, 1, 1, 1, 1, 1, 1, 1});
        RefTensor y = b.allocate(g.outputShape());
        b.conv2dForward(x, kernel, null, y, g);
        // windows start at rows/cols 0 and 2; the second one covers rows 2..3 (+ a zero row).
        assertEquals(1 + 2 + 3 + 5 + 6 + 7 + 9 + 10 + 11, y.data()[0], 0);
        assertEquals(3 + 4 + 7 + 8 + 11 + 12, y.data()[1], 0);
        assertEquals(9 + 10 + 11 + 13 + 14 + 15, y.data()[2], 0);
        assertEquals(11 + 12 + 15 + 16, y.data()[3], 0);
    }

    private void checkBatchNorm(boolean relu) {
        Shape in = Shape.of(3, 2, 2, 3);
        RefTensor x = randomTensor(in), gamma = randomTensor(Shape.of(3)), beta = randomTensor(Shape.of(3));
        RefTensor mm = b.allocate(Shape.of(3)), mv = b.allocate(Shape.of(3)), sm = b.allocate(Shape.of(3)),
                si = b.allocate(Shape.of(3)), y = b.allocate(in), r = randomTensor(in);
        java.util.function.DoubleSupplier loss = () -> {
            if (relu) b.reluBatchNormTrainForward(x, gamma, beta, mm, mv, y, sm, si, 0.99, 1e-3);
            else b.batchNormTrainForward(x, gamma, beta, mm, mv, y, sm, si, 0.99, 1e-3);
            return dot(y, r);
        };
        loss.getAsDouble();
        RefTensor dx = b.allocate(in), dg = b.allocate(Shape.of(3)), dbeta = b.allocate(Shape.of(3));
        if (relu) b.reluBatchNormBackward(x, r, gamma, sm, si, dx, dg, dbeta);
        else b.batchNormBackward(x, r, gamma, sm, si, dx, dg, dbeta, 1e-3);
        String what = relu ? "relu_bn" : "batch norm";
        assertGradient(what + " dx", x, dx, loss);
        assertGradient(what + " dgamma", gamma, dg, loss);
        assertGradient(what + " dbeta", beta, dbeta, loss);
    }

    @Test void batchNorm() { checkBatchNorm(false); }

    @Test void reluBatchNorm() { checkBatchNorm(true); }

    @Test void batchNormStatisticsFollowKeras() {
        RefTensor x = b.tensor(Shape.of(4, 1, 1, 1), new double[] {1, 2, 3, 6});
        RefTensor one = b.tensor(Shape.of(1), new double[] {1}), zero = b.tensor(Shape.of(1), new double[] {0});
        RefTensor mm = b.tensor(Shape.of(1), new double[] {0}), mv = b.tensor(Shape.of(1), new double[] {1});
        RefTensor sm = b.allocate(Shape.of(1)), si = b.allocate(Shape.of(1)), y = b.allocate(x.shape());
        b.batchNormTrainForward(x, one, zero, mm, mv, y, sm, si, 0.99, 1e-3);
        // mean 3, biased variance 3.5, unbiased 14/3
        assertEquals(0.03, mm.data()[0], 1e-12);
        assertEquals(0.99 + 0.01 * 14.0 / 3, mv.data()[0], 1e-12);
        assertEquals((1 - 3) / Math.sqrt(3.5 + 1e-3), y.data()[0], 1e-12);
        b.batchNormInferForward(x, one, zero, mm, mv, y, 1e-3);
        assertEquals((1 - 0.03) / Math.sqrt(mv.data()[0] + 1e-3), y.data()[0], 1e-12);
    }

    @Test void reluAndAdd() {
        Shape s = Shape.of(2, 3, 3, 2);
        RefTensor x = randomTensor(s), y = b.allocate(s), r = randomTensor(s), dx = b.allocate(s);
        b.reluBackward(x, r, dx);
        assertGradient("relu", x, dx, () -> { b.reluForward(x, y); return dot(y, r); });
        RefTensor a = randomTensor(s), c = randomTensor(s);
        b.add(a, c, y);
        for (int i = 0; i < y.size(); i++) assertEquals(a.data()[i] + c.data()[i], y.data()[i], 0);
    }

    @Test void averagePool() {
        Shape in = Shape.of(2, 4, 6, 3);
        ConvGeometry g = ConvGeometry.of(in, 2, 2, 3, 2, Padding.VALID);
        RefTensor x = randomTensor(in), y = b.allocate(g.outputShape()), r = randomTensor(g.outputShape());
        RefTensor dx = b.allocate(in);
        b.averagePoolBackward(r, dx, g);
        assertGradient("average pool", x, dx, () -> { b.averagePoolForward(x, y, g); return dot(y, r); });
    }

    @Test void subsampleChannelPad() {
        Shape in = Shape.of(2, 4, 4, 2), out = Shape.of(2, 2, 2, 4);
        RefTensor x = randomTensor(in), y = b.allocate(out), r = randomTensor(out), dx = b.allocate(in);
        b.subsampleChannelPadBackward(r, dx, 2, 1);
        assertGradient("option-A shortcut", x, dx, () -> { b.subsampleChannelPadForward(x, y, 2, 1); return dot(y, r); });
        b.subsampleChannelPadForward(x, y, 2, 1);
        assertEquals(0, y.data()[0], 0);
        assertEquals(x.data()[0], y.data()[1], 0);
        assertEquals(x.data()[(2 * 4 + 2) * 2 + 1], y.data()[(1 * 2 + 1) * 4 + 2], 0);
    }

    @Test void dense() {
        RefTensor x = randomTensor(Shape.of(3, 5)), k = randomTensor(Shape.of(5, 4)), bias = randomTensor(Shape.of(4));
        RefTensor y = b.allocate(Shape.of(3, 4)), r = randomTensor(Shape.of(3, 4));
        RefTensor dx = b.allocate(x.shape()), dk = b.allocate(k.shape()), db = b.allocate(bias.shape());
        b.denseBackward(x, k, r, dx, dk, db);
        java.util.function.DoubleSupplier loss = () -> { b.denseForward(x, k, bias, y); return dot(y, r); };
        assertGradient("dense dx", x, dx, loss);
        assertGradient("dense dkernel", k, dk, loss);
        assertGradient("dense dbias", bias, db, loss);
    }

    @Test void softmaxCrossEntropy() {
        RefTensor z = randomTensor(Shape.of(4, 5));
        RefTensor labels = b.tensor(Shape.of(4), new double[] {0, 4, 2, 2});
        RefTensor dz = b.allocate(z.shape());
        double[] result = b.softmaxCrossEntropy(z, labels, dz);
        assertGradient("softmax cross-entropy", z, dz, () -> b.softmaxCrossEntropy(z, labels, null)[0] / 4);
        double expected = 0;
        int correct = 0;
        for (int n = 0; n < 4; n++) {
            double sum = 0;
            int best = 0;
            for (int j = 0; j < 5; j++) {
                sum += Math.exp(z.data()[n * 5 + j]);
                if (z.data()[n * 5 + j] > z.data()[n * 5 + best]) best = j;
            }
            expected += Math.log(sum) - z.data()[n * 5 + (int) labels.data()[n]];
            if (best == (int) labels.data()[n]) correct++;
        }
        assertEquals(expected, result[0], 1e-12);
        assertEquals(correct, result[1], 0);
    }

    @Test void adamFollowsKerasFormula() {
        RefTensor w = b.tensor(Shape.of(2), new double[] {1, -1}), g = b.tensor(Shape.of(2), new double[] {0.5, -2});
        RefTensor m = b.allocate(Shape.of(2)), v = b.allocate(Shape.of(2));
        double lrT = 1e-3 * Math.sqrt(1 - 0.999) / (1 - 0.9);
        b.adamUpdate(new RefTensor[] {w}, new RefTensor[] {g}, new RefTensor[] {m}, new RefTensor[] {v}, lrT, 0.9, 0.999, 1e-7);
        double m0 = 0.1 * 0.5, v0 = 0.001 * 0.25;
        assertEquals(1 - lrT * m0 / (Math.sqrt(v0) + 1e-7), w.data()[0], 1e-15);
        assertEquals(0.1 * -2, m.data()[1], 1e-15);
    }

    @Test void sgdMomentumWithWeightDecay() {
        RefTensor w = b.tensor(Shape.of(1), new double[] {2}), g = b.tensor(Shape.of(1), new double[] {0.5});
        RefTensor vel = b.tensor(Shape.of(1), new double[] {1});
        b.sgdUpdate(new RefTensor[] {w}, new RefTensor[] {g}, new RefTensor[] {vel}, 0.1, 0.9, 1e-4);
        double velocity = 0.9 + 0.5 + 1e-4 * 2;
        assertEquals(velocity, vel.data()[0], 1e-15);
        assertEquals(2 - 0.1 * velocity, w.data()[0], 1e-15);
    }

}
