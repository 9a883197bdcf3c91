package jresnet.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.SplittableRandom;
import jresnet.TestSeeds;
import jresnet.backend.ConvGeometry;
import jresnet.backend.Padding;
import jresnet.tensor.Shape;
import org.junit.jupiter.api.Test;

/**
 * Sums over tasks that workers take as they free up (WorkerPool.runStripes): the same bits on every
 * run, whichever worker ran which stripe, which exact resume relies on.
 */
class StripedSumsTest {
    private static final int REPEATS = 20;

    @Test void im2colBackwardFilterGivesTheSameBitsEveryTime() {
        // stride 2: never Winograd; 64 blocks of im2col rows, so the stripes have several each
        ConvGeometry g = ConvGeometry.of(Shape.of(32, 16, 16, 8), 3, 3, 16, 2, Padding.SAME);
        SplittableRandom random = new SplittableRandom(TestSeeds.next());
        CpuTensor x = filled(g.inputShape(), random), dy = filled(g.outputShape(), random);
        try (CpuBackend cpu = new CpuBackend(2, ConvolutionRule.IM2COL)) {
            float[] first = null;
            for (int run = 0; run < REPEATS; run++) {
                CpuTensor dk = new CpuTensor(g.kernelShape(), new float[g.kernelShape().elements()]);
                cpu.conv2dBackwardFilter(x, dy, dk, null, g);
                if (first == null) first = dk.data();
                else assertArrayEquals(first, dk.data(), "backward-filter, run " + run);
            }
        }
    }

    @Test void channelMomentsGiveTheSameBitsEveryTime() {
        int rows = 64 * 256 + 17, channels = 24;
        SplittableRandom random = new SplittableRandom(TestSeeds.next());
        float[] values = new float[rows * channels], shift = new float[channels];
        for (int i = 0; i < values.length; i++) values[i] = (float) random.nextGaussian();
        try (WorkerPool pool = new WorkerPool(2)) {
            ChannelSums sums = new ChannelSums(pool);
            double[][] first = sums.shiftedMoments(values, rows, channels, shift, true);
            for (int run = 1; run < REPEATS; run++) {
                double[][] again = sums.shiftedMoments(values, rows, channels, shift, true);
                assertArrayEquals(first[0], again[0], "sums, run " + run);
                assertArrayEquals(first[1], again[1], "sums of squares, run " + run);
            }
        }
    }

    private static CpuTensor filled(Shape shape, SplittableRandom random) {
        float[] v = new float[shape.elements()];
        for (int i = 0; i < v.length; i++) v[i] = (float) (random.nextDouble() * 2 - 1);
        return new CpuTensor(shape, v);
    }
}
