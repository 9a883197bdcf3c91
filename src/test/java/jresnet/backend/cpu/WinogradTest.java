package jresnet.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import java.util.stream.Stream;
import jresnet.TestSeeds;
import jresnet.backend.ConvGeometry;
import jresnet.backend.Padding;
import jresnet.backend.reference.RefTensor;
import jresnet.backend.reference.ReferenceBackend;
import jresnet.tensor.Shape;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Winograd F(4x4, 3x3), forced on for every pass, against the reference backend (double precision)
 * on fresh random inputs: odd and even sizes (partial tiles at the bottom and right), one and many
 * channels (partial vectors), batch 1 and more, "same" and "valid" padding, one and two threads.
 * The error is relative, ‖cpu − reference‖ / ‖reference‖, and each test prints it.
 *
 * <p>The bound is 2e-5, twice that of im2col + SGEMM in the contract tests: the input transform grows
 * values by up to 100x (B^T's rows sum to 10 in absolute value, twice) and G's sixths and twelfths
 * are inexact in binary, so the rounding is about 10x that of F(2x2, 3x3) (which only adds, subtracts
 * and halves, and stayed at 1e-7 to 5e-7); observed errors are 4e-8 to 3.4e-6, most near 1e-6.
 */
class WinogradTest {
    static final double BOUND = 2e-5;
    private static final ReferenceBackend REF = new ReferenceBackend();

    static Stream<Arguments> shapes() {
        return Stream.of(1, 2).flatMap(threads -> Stream.of(
                Arguments.of(threads, ConvGeometry.of(Shape.of(1, 5, 7, 1), 3, 3, 1, 1, Padding.SAME)),
                Arguments.of(threads, ConvGeometry.of(Shape.of(3, 9, 9, 16), 3, 3, 16, 1, Padding.SAME)),
                Arguments.of(threads, ConvGeometry.of(Shape.of(2, 7, 6, 3), 3, 3, 17, 1, Padding.SAME)),
                Arguments.of(threads, ConvGeometry.of(Shape.of(1, 10, 10, 33), 3, 3, 48, 1, Padding.SAME)),
                Arguments.of(threads, ConvGeometry.of(Shape.of(5, 8, 8, 64), 3, 3, 64, 1, Padding.SAME)),
                Arguments.of(threads, ConvGeometry.of(Shape.of(4, 1, 1, 8), 3, 3, 8, 1, Padding.SAME)),
                Arguments.of(threads, ConvGeometry.of(Shape.of(2, 6, 11, 4), 3, 3, 5, 1, Padding.VALID)),
                Arguments.of(threads, ConvGeometry.of(Shape.of(2, 13, 14, 9), 3, 3, 20, 1, Padding.VALID)),
                // wide enough that the GEMMs pack A's rows where the machine's tuning packs any, so that at
                // 256 bits the transforms write B's pairs of panels interleaved (Sgemm.rowAt)
                Arguments.of(threads, ConvGeometry.of(Shape.of(1, 6, 5, WIDE), 3, 3, WIDE, 1, Padding.SAME))));
    }

    /**
     * Channels past the C from which this JVM's tuning packs A's rows (or past the widest it tried, where
     * it packs none), with an odd and a partial panel.
     */
    private static final int WIDE = (Math.min(SgemmTuning.packedRowsFromPanels(), SgemmTuning.WIDEST_CANDIDATE) + 1) * Sgemm.LANES
            + Sgemm.LANES / 2;

    @Test void theWideShapeInterleavesWhereTheKernelsDo() {
        assertEquals(Sgemm.INTERLEAVED_PAIRS && SgemmTuning.packedRowsFromPanels() != SgemmTuning.NEVER, Sgemm.interleavedPanels(WIDE) > 0);
    }

    @ParameterizedTest @MethodSource("shapes")
    void forwardMatchesTheReference(int threads, ConvGeometry g) {
        long seed = TestSeeds.next();
        SplittableRandom random = new SplittableRandom(seed);
        float[] x = values(g.inputShape(), random), kernel = values(g.kernelShape(), random), bias = values(Shape.of(g.outC()), random);
        RefTensor expected = REF.allocate(g.outputShape());
        REF.conv2dForward(ref(x, g.inputShape()), ref(kernel, g.kernelShape()), ref(bias, Shape.of(g.outC())), expected, g);
        CpuTensor got = new CpuTensor(g.outputShape(), new float[g.outputShape().elements()]);
        try (CpuBackend cpu = new CpuBackend(threads, ConvolutionRule.WINOGRAD)) {
            cpu.conv2dForward(cpu(x, g.inputShape()), cpu(kernel, g.kernelShape()), cpu(bias, Shape.of(g.outC())), got, g);
        }
        assertWithinBound("forward " + g + ", seed " + seed, got, expected);
    }

    @ParameterizedTest @MethodSource("shapes")
    void backwardDataMatchesTheReference(int threads, ConvGeometry g) {
        long seed = TestSeeds.next();
        SplittableRandom random = new SplittableRandom(seed);
        float[] dy = values(g.outputShape(), random), kernel = values(g.kernelShape(), random);
        RefTensor expected = REF.allocate(g.inputShape());
        REF.conv2dBackwardData(ref(dy, g.outputShape()), ref(kernel, g.kernelShape()), expected, g);
        CpuTensor got = new CpuTensor(g.inputShape(), new float[g.inputShape().elements()]);
        try (CpuBackend cpu = new CpuBackend(threads, ConvolutionRule.WINOGRAD)) {
            cpu.conv2dBackwardData(cpu(dy, g.outputShape()), cpu(kernel, g.kernelShape()), got, g);
        }
        assertWithinBound("backward-data " + g + ", seed " + seed, got, expected);
    }

    @ParameterizedTest @MethodSource("shapes")
    void backwardFilterMatchesTheReference(int threads, ConvGeometry g) {
        long seed = TestSeeds.next();
        SplittableRandom random = new SplittableRandom(seed);
        float[] x = values(g.inputShape(), random), dy = values(g.outputShape(), random);
        RefTensor expected = REF.allocate(g.kernelShape());
        REF.conv2dBackwardFilter(ref(x, g.inputShape()), ref(dy, g.outputShape()), expected, null, g);
        CpuTensor got = new CpuTensor(g.kernelShape(), new float[g.kernelShape().elements()]);
        CpuTensor again = new CpuTensor(g.kernelShape(), new float[g.kernelShape().elements()]);
        try (CpuBackend cpu = new CpuBackend(threads, ConvolutionRule.WINOGRAD)) {
            cpu.conv2dBackwardFilter(cpu(x, g.inputShape()), cpu(dy, g.outputShape()), got, null, g);
            cpu.conv2dBackwardFilter(cpu(x, g.inputShape()), cpu(dy, g.outputShape()), again, null, g);
        }
        assertWithinBound("backward-filter " + g + ", seed " + seed, got, expected);
        // per-stripe partial sums added in stripe order, whichever worker ran each stripe: the same bits every time (exact resume)
        assertArrayEquals(got.data(), again.data(), "backward-filter twice " + g + ", seed " + seed);
    }

    private static float[] values(Shape shape, SplittableRandom random) {
        float[] v = new float[shape.elements()];
        for (int i = 0; i < v.length; i++) v[i] = (float) (random.nextDouble() * 2 - 1);
        return v;
    }

    private static RefTensor ref(float[] values, Shape shape) {
        RefTensor t = REF.allocate(shape);
        REF.copyFromHost(values, t);
        return t;
    }

    private static CpuTensor cpu(float[] values, Shape shape) { return new CpuTensor(shape, values.clone()); }

    private static void assertWithinBound(String what, CpuTensor got, RefTensor expected) {
        double diff = 0, norm = 0;
        for (int i = 0; i < got.size(); i++) {
            double d = got.data()[i] - expected.data()[i];
            diff += d * d;
            norm += expected.data()[i] * expected.data()[i];
        }
        double error = Math.sqrt(diff / norm);
        System.out.printf("%s: relative error %.2e%n", what, error);
        assertTrue(error <= BOUND, what + ": relative error " + error + " > " + BOUND);
    }
}
