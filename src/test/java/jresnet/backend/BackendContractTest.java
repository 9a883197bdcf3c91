package jresnet.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import jresnet.TestSeeds;
import jresnet.backend.reference.RefTensor;
import jresnet.backend.reference.ReferenceBackend;
import jresnet.tensor.Shape;
import jresnet.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The contract of every {@link Backend} op, written once: each op runs on the backend under test and on
 * the {@link ReferenceBackend} (the oracle) with the same fresh random inputs, over one table of
 * geometries for every backend. Outputs on the tested side are filled with NaN first, so an element an
 * op forgets to write fails. The error is ‖tested − reference‖ / ‖reference‖, bounded per kind of op
 * ({@link Tolerances}); messages carry the seed and the backend.
 *
 * <p>A subclass opens the backend and names its tolerances. To add an op: one test here (see the
 * checklist in {@link Backend}), and every backend is held to it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class BackendContractTest {
    /**
     * Bounds on the relative error: elementwise ops (and optimizer updates), reductions (batch norm,
     * pooling, dense layers, loss, bias gradients) and convolutions.
     */
    public record Tolerances(double elementwise, double reduction, double convolution) {}

    private static final ReferenceBackend REF = new ReferenceBackend();

    private Backend tested;
    private String unavailable;
    private long seed;
    private SplittableRandom random;

    /** The backend under test; called once per test class. */
    protected abstract Backend open();

    protected abstract Tolerances tolerances();

    /** Why the backend cannot run here (its tests are then skipped); empty where it can. */
    protected Optional<String> unavailableReason() { return Optional.empty(); }

    /** The backend under test as messages name it (e.g. with its thread count). */
    protected String describe(Backend backend) { return backend.name(); }

    protected Backend backend() { return tested; }

    @BeforeAll
    void openBackend() {
        unavailable = unavailableReason().orElse(null);
        if (unavailable != null) {
            System.err.println(getClass().getSimpleName() + " skipped: " + unavailable);
            return;
        }
        tested = open();
    }

    @AfterAll
    void closeBackend() {
        if (tested != null) tested.close();
    }

    @BeforeEach
    void seed() {
        assumeTrue(unavailable == null, () -> unavailable);
        seed = TestSeeds.next();
        random = new SplittableRandom(seed);
    }

    // ---- the shared helpers ----

    /** The same logical tensor on the tested backend and on the reference. */
    public record Pair(Tensor tested, RefTensor ref) {
        public Shape shape() { return ref.shape(); }
    }

    /** Picks one side of each pair, so an op is written once and run on both backends. */
    @FunctionalInterface
    public interface Side {
        Tensor of(Pair p);

        default Tensor[] all(List<Pair> pairs) { return pairs.stream().map(this::of).toArray(Tensor[]::new); }
    }

    @FunctionalInterface
    public interface Op {
        void run(Backend backend, Side side);
    }

    /** Runs the op on the reference, then on the tested backend; a null pair stands for a null tensor. */
    protected void onBoth(Op op) {
        op.run(REF, p -> p == null ? null : p.ref());
        op.run(tested, p -> p == null ? null : p.tested());
    }

    /** Uniform values in [offset − scale, offset + scale]. */
    protected Pair random(Shape shape, double scale, double offset) {
        float[] values = new float[shape.elements()];
        for (int i = 0; i < values.length; i++) values[i] = (float) (offset + (random.nextDouble() * 2 - 1) * scale);
        return of(shape, false, values);
    }

    protected Pair random(Shape shape, double scale) { return random(shape, scale, 0); }

    /** Like {@link #random(Shape, double, double)} in parameter storage (kernels, gamma, optimizer slots). */
    protected Pair parameter(Shape shape, double scale, double offset) {
        Pair p = random(shape, scale, offset);
        float[] values = hostValues(p);
        return of(shape, true, values);
    }

    protected Pair of(Shape shape, boolean parameter, float[] values) {
        Tensor t = parameter ? tested.allocateParameter(shape) : tested.allocate(shape);
        RefTensor r = parameter ? REF.allocateParameter(shape) : REF.allocate(shape);
        tested.copyFromHost(values, t);
        REF.copyFromHost(values, r);
        return new Pair(t, r);
    }

    /** An output: NaN on the tested side, so an element the op leaves unwritten fails the comparison. */
    protected Pair output(Shape shape) { return output(shape, false); }

    protected Pair parameterOutput(Shape shape) { return output(shape, true); }

    private Pair output(Shape shape, boolean parameter) {
        Tensor t = parameter ? tested.allocateParameter(shape) : tested.allocate(shape);
        tested.fill(t, Float.NaN);
        return new Pair(t, parameter ? REF.allocateParameter(shape) : REF.allocate(shape));
    }

    private float[] hostValues(Pair p) {
        float[] values = new float[p.shape().elements()];
        tested.copyToHost(p.tested(), values);
        return values;
    }

    protected String where() { return " (seed " + seed + ", " + describe(tested) + ")"; }

    /** Every element finite, and ‖tested − reference‖ / ‖reference‖ at most the tolerance. */
    protected void assertClose(String what, Pair p, double tolerance) {
        float[] t = hostValues(p);
        double[] r = p.ref().data();
        double diff = 0, norm = 0;
        for (int i = 0; i < t.length; i++) {
            if (!Float.isFinite(t[i])) throw new AssertionError(what + ": element " + i + " is " + t[i] + where());
            diff += (t[i] - r[i]) * (t[i] - r[i]);
            norm += r[i] * r[i];
        }
        double error = Math.sqrt(diff) / Math.max(Math.sqrt(norm), 1e-30);
        assertTrue(error <= tolerance, what + " " + p.shape() + ": relative error " + error + " > " + tolerance + where());
    }

    private static Shape shape(int... dims) { return Shape.of(dims); }

    // ---- memory ----

    @Test
    void hostCopiesRoundTripInLogicalLayouts() {
        for (boolean parameter : new boolean[] {false, true}) {
            for (Shape s : List.of(shape(3, 3, 5, 7), shape(6, 10), shape(9))) {
                float[] values = new float[s.elements()], back = new float[s.elements()];
                for (int i = 0; i < values.length; i++) values[i] = i;
                Tensor t = parameter ? tested.allocateParameter(s) : tested.allocate(s);
                tested.copyFromHost(values, t);
                tested.copyToHost(t, back);
                assertArrayEquals(values, back, (parameter ? "parameter " : "activation ") + s + where());
                t.close();
            }
        }
    }

    @Test
    void copyAndFill() {
        Pair a = random(shape(6, 4, 4, 3), 1), b = output(shape(6, 4, 4, 3));
        onBoth((be, s) -> be.copy(s.of(a), s.of(b)));
        assertClose("copy", b, 0);
        Pair filled = output(shape(3, 50, 41, 7));
        onBoth((be, s) -> be.fill(s.of(filled), 0.25f));
        assertClose("fill", filled, 0);
        onBoth((be, s) -> be.fill(s.of(a).withBatch(2), 0.25f));
        assertClose("fill through a view, then the whole tensor", a, 0);
    }

    // ---- convolution ----

    /** Input shape, kernel size, filters, stride, padding. */
    static Stream<Arguments> convolutions() {
        return Stream.of(
                convolution(3, 9, 9, 16, 3, 16, 1, Padding.SAME), convolution(2, 8, 8, 16, 3, 32, 2, Padding.SAME),
                convolution(3, 7, 6, 3, 3, 17, 1, Padding.SAME), convolution(2, 8, 8, 20, 1, 40, 2, Padding.SAME),
                convolution(2, 9, 7, 5, 3, 10, 2, Padding.VALID), convolution(1, 10, 10, 33, 3, 48, 1, Padding.SAME),
                convolution(20, 4, 4, 8, 3, 8, 1, Padding.SAME), convolution(2, 6, 7, 4, 2, 9, 1, Padding.SAME),
                convolution(2, 8, 8, 6, 3, 5, 1, Padding.VALID), convolution(2, 5, 5, 12, 1, 7, 1, Padding.SAME),
                convolution(4, 8, 8, 3, 3, 16, 1, Padding.SAME),
                convolution(4, 8, 8, 16, 3, 32, 2, Padding.SAME),   // asymmetric "same": pad 0 top, 1 bottom
                convolution(4, 9, 9, 8, 3, 8, 2, Padding.SAME),     // odd size: symmetric
                convolution(4, 8, 8, 16, 1, 32, 2, Padding.SAME),   // no padding at all
                convolution(3, 7, 6, 5, 3, 4, 1, Padding.VALID),
                // full-size CIFAR planes: resnet20's first stage and its stem, the tutorial's stem, and long rows
                convolution(2, 32, 32, 16, 3, 16, 1, Padding.SAME), convolution(2, 32, 32, 3, 3, 16, 1, Padding.SAME),
                convolution(2, 32, 32, 3, 3, 64, 1, Padding.SAME), convolution(2, 6, 34, 4, 3, 4, 1, Padding.VALID),
                convolution(1, 4, 32, 5, 2, 12, 1, Padding.SAME), convolution(1, 3, 64, 8, 3, 8, 1, Padding.SAME));
    }

    private static Arguments convolution(int n, int h, int w, int c, int k, int filters, int stride, Padding padding) {
        return Arguments.of(ConvGeometry.of(Shape.of(n, h, w, c), k, k, filters, stride, padding));
    }

    @ParameterizedTest @MethodSource("convolutions")
    void convolutionForwardWithAndWithoutBias(ConvGeometry g) {
        Pair x = random(g.inputShape(), 2), kernel = parameter(g.kernelShape(), 0.5, 0), bias = parameter(shape(g.outC()), 1, 0);
        Pair y = output(g.outputShape()), noBias = output(g.outputShape());
        onBoth((b, s) -> b.conv2dForward(s.of(x), s.of(kernel), s.of(bias), s.of(y), g));
        assertClose("conv2dForward " + g, y, tolerances().convolution());
        onBoth((b, s) -> b.conv2dForward(s.of(x), s.of(kernel), null, s.of(noBias), g));
        assertClose("conv2dForward without bias " + g, noBias, tolerances().convolution());
    }

    @ParameterizedTest @MethodSource("convolutions")
    void convolutionBackwardData(ConvGeometry g) {
        Pair dy = random(g.outputShape(), 1), kernel = parameter(g.kernelShape(), 0.5, 0), dx = output(g.inputShape());
        onBoth((b, s) -> b.conv2dBackwardData(s.of(dy), s.of(kernel), s.of(dx), g));
        assertClose("conv2dBackwardData " + g, dx, tolerances().convolution());
    }

    @ParameterizedTest @MethodSource("convolutions")
    void convolutionBackwardFilterWithAndWithoutBias(ConvGeometry g) {
        Pair x = random(g.inputShape(), 2), dy = random(g.outputShape(), 1);
        Pair dKernel = parameterOutput(g.kernelShape()), dBias = parameterOutput(shape(g.outC()));
        onBoth((b, s) -> b.conv2dBackwardFilter(s.of(x), s.of(dy), s.of(dKernel), s.of(dBias), g));
        assertClose("conv2dBackwardFilter " + g, dKernel, tolerances().convolution());
        assertClose("conv2d bias gradient " + g, dBias, tolerances().reduction());
        Pair dKernelOnly = parameterOutput(g.kernelShape());
        onBoth((b, s) -> b.conv2dBackwardFilter(s.of(x), s.of(dy), s.of(dKernelOnly), null, g));
        assertClose("conv2dBackwardFilter without bias " + g, dKernelOnly, tolerances().convolution());
    }

    // ---- batch normalization ----

    /** How batch-norm inputs are drawn. */
    enum Activations {
        /** Around zero, about unit scale: activations inside a network. */
        CENTERED,
        /** Offset and scale like raw pixels, where a naive one-pass variance would cancel. */
        PIXELS,
        /** Pixels whose later rows move 300 away from the first ones. */
        DRIFTING
    }

    /**
     * Where a ReLU runs with the batch norm: none, before it (the tutorial's relu_bn), after it (He et al.'s
     * BN → ReLU), after a shortcut added to it (He et al.'s BN → Add → ReLU).
     */
    enum Relu { NONE, BEFORE, AFTER, ADD_AFTER }

    /** Channel counts off and on the vector width, rank 2 (after a dense layer) and a full training batch. */
    static Stream<Arguments> normalizations() {
        List<Shape> shapes = List.of(shape(5, 7, 6, 3), shape(5, 7, 6, 16), shape(5, 7, 6, 37), shape(8, 6, 6, 16),
                shape(16, 40), shape(32, 16, 16, 48));
        List<Arguments> cases = new ArrayList<>();
        for (Shape s : shapes) {
            for (Activations a : Activations.values()) {
                for (Relu relu : Relu.values()) cases.add(Arguments.of(s, a, relu));
            }
        }
        return cases.stream();
    }

    private Pair activations(Shape shape, Activations kind, Relu relu) {
        if (kind == Activations.CENTERED) return random(shape, 2, 0.5);
        float[] values = new float[shape.elements()];
        double offset = relu == Relu.BEFORE ? 20 : 128;
        for (int i = 0; i < values.length; i++) {
            double drift = kind == Activations.DRIFTING && i >= values.length / 2 ? 300 : 0;
            values[i] = (float) (offset + drift + (random.nextDouble() * 2 - 1) * 100);
        }
        return of(shape, false, values);
    }

    @ParameterizedTest @MethodSource("normalizations")
    void batchNormalizationTrainingInferenceAndBackward(Shape shape, Activations kind, Relu relu) {
        Shape channels = shape(shape.dim(-1));
        double momentum = 0.99, epsilon = 1e-3, tolerance = tolerances().reduction();
        String name = switch (relu) {
            case NONE -> "batchNorm";
            case BEFORE -> "reluBatchNorm";
            case AFTER -> "batchNormRelu";
            case ADD_AFTER -> "batchNormAddRelu";
        } + " " + shape + " " + kind;
        Pair x = activations(shape, kind, relu), shortcut = random(shape, 1);
        Pair gamma = parameter(channels, 2, 0), beta = parameter(channels, 1, 0);
        Pair movingMean = parameter(channels, 1, 0), movingVariance = parameter(channels, 1, 1.5);
        Pair y = output(shape), savedMean = parameterOutput(channels), savedInvStd = parameterOutput(channels);
        onBoth((b, s) -> {
            switch (relu) {
                case NONE -> b.batchNormTrainForward(s.of(x), s.of(gamma), s.of(beta), s.of(movingMean), s.of(movingVariance),
                        s.of(y), s.of(savedMean), s.of(savedInvStd), momentum, epsilon);
                case BEFORE -> b.reluBatchNormTrainForward(s.of(x), s.of(gamma), s.of(beta), s.of(movingMean),
                        s.of(movingVariance), s.of(y), s.of(savedMean), s.of(savedInvStd), momentum, epsilon);
                case AFTER -> b.batchNormReluTrainForward(s.of(x), s.of(gamma), s.of(beta), s.of(movingMean),
                        s.of(movingVariance), s.of(y), s.of(savedMean), s.of(savedInvStd), momentum, epsilon);
                case ADD_AFTER -> b.batchNormAddReluTrainForward(s.of(x), s.of(shortcut), s.of(gamma), s.of(beta),
                        s.of(movingMean), s.of(movingVariance), s.of(y), s.of(savedMean), s.of(savedInvStd), momentum, epsilon);
            }
        });
        assertClose(name + " train forward y", y, tolerance);
        assertClose(name + " saved mean", savedMean, tolerance);
        assertClose(name + " saved 1/std", savedInvStd, tolerance);
        assertClose(name + " moving mean", movingMean, tolerance);
        assertClose(name + " moving variance", movingVariance, tolerance);

        Pair inferred = output(shape);
        onBoth((b, s) -> {
            switch (relu) {
                case NONE -> b.batchNormInferForward(s.of(x), s.of(gamma), s.of(beta), s.of(movingMean), s.of(movingVariance),
                        s.of(inferred), epsilon);
                case BEFORE -> b.reluBatchNormInferForward(s.of(x), s.of(gamma), s.of(beta), s.of(movingMean),
                        s.of(movingVariance), s.of(inferred), epsilon);
                case AFTER -> b.batchNormReluInferForward(s.of(x), s.of(gamma), s.of(beta), s.of(movingMean),
                        s.of(movingVariance), s.of(inferred), epsilon);
                case ADD_AFTER -> b.batchNormAddReluInferForward(s.of(x), s.of(shortcut), s.of(gamma), s.of(beta),
                        s.of(movingMean), s.of(movingVariance), s.of(inferred), epsilon);
            }
        });
        assertClose(name + " inference forward", inferred, tolerance);

        Pair dy = random(shape, 1), dx = output(shape), dGamma = parameterOutput(channels), dBeta = parameterOutput(channels);
        // the ReLU's decisions come from a forward output both sides hold alike (half zeros), not from each
        // side's own y, whose elements near zero may fall either way by rounding
        Pair decided = reluOutputs(shape), dShortcut = output(shape);
        onBoth((b, s) -> {
            switch (relu) {
                case NONE -> b.batchNormBackward(s.of(x), s.of(dy), s.of(gamma), s.of(savedMean), s.of(savedInvStd),
                        s.of(dx), s.of(dGamma), s.of(dBeta), epsilon);
                case BEFORE -> b.reluBatchNormBackward(s.of(x), s.of(dy), s.of(gamma), s.of(savedMean), s.of(savedInvStd),
                        s.of(dx), s.of(dGamma), s.of(dBeta));
                case AFTER -> b.batchNormReluBackward(s.of(x), s.of(decided), s.of(dy), s.of(gamma), s.of(savedMean),
                        s.of(savedInvStd), s.of(dx), s.of(dGamma), s.of(dBeta), epsilon);
                case ADD_AFTER -> b.batchNormAddReluBackward(s.of(x), s.of(decided), s.of(dy), s.of(gamma), s.of(savedMean),
                        s.of(savedInvStd), s.of(dx), s.of(dShortcut), s.of(dGamma), s.of(dBeta), epsilon);
            }
        });
        if (relu == Relu.ADD_AFTER) assertClose(name + " backward dShortcut", dShortcut, tolerance);
        assertClose(name + " backward dx", dx, tolerance);
        assertClose(name + " backward dGamma", dGamma, tolerance);
        assertClose(name + " backward dBeta", dBeta, tolerance);
    }

    /** Values as a ReLU outputs them: zero for about half, the rest in (0, 1). */
    private Pair reluOutputs(Shape shape) {
        float[] values = new float[shape.elements()];
        for (int i = 0; i < values.length; i++) values[i] = (float) Math.max(0, random.nextDouble() * 2 - 1);
        return of(shape, false, values);
    }

    // ---- elementwise ----

    static Stream<Shape> elementwiseShapes() { return Stream.of(shape(3, 50, 41, 7), shape(5, 7, 7, 12)); }

    @ParameterizedTest @MethodSource("elementwiseShapes")
    void reluAddAddReluFlattenAndUnflatten(Shape shape) {
        double tolerance = tolerances().elementwise();
        Pair x = random(shape, 1), dy = random(shape, 1), other = random(shape, 1);
        Pair y = output(shape), dx = output(shape), sum = output(shape);
        onBoth((b, s) -> b.reluForward(s.of(x), s.of(y)));
        assertClose("reluForward", y, tolerance);
        onBoth((b, s) -> b.reluBackward(s.of(x), s.of(dy), s.of(dx)));
        assertClose("reluBackward", dx, tolerance);
        onBoth((b, s) -> b.add(s.of(x), s.of(other), s.of(sum)));
        assertClose("add", sum, tolerance);
        onBoth((b, s) -> b.add(s.of(sum), s.of(x), s.of(sum)));
        assertClose("add into its first input", sum, tolerance);
        onBoth((b, s) -> b.add(s.of(other), s.of(sum), s.of(sum)));
        assertClose("add into its second input", sum, tolerance);
        Pair rectified = output(shape);
        onBoth((b, s) -> b.addReluForward(s.of(x), s.of(other), s.of(rectified)));
        assertClose("addReluForward", rectified, tolerance);
        onBoth((b, s) -> b.addReluForward(s.of(sum), s.of(x), s.of(sum)));
        assertClose("addReluForward into its first input", sum, tolerance);

        Shape flat = shape(shape.dim(0), shape.elements() / shape.dim(0));
        Pair f = output(flat), flatGradient = random(flat, 1), back = output(shape);
        onBoth((b, s) -> b.flatten(s.of(x), s.of(f)));
        assertClose("flatten", f, tolerance);
        onBoth((b, s) -> b.unflatten(s.of(flatGradient), s.of(back)));
        assertClose("unflatten", back, tolerance);
    }

    /** A NaN stays NaN through ReLU, relu_bn and BN → ReLU, as on the reference: a diverged step must show in the loss. */
    @Test
    void nanStaysNanThroughReluAndReluBatchNorm() {
        Shape s = shape(2, 3, 3, 4), channels = shape(4);
        float[] values = new float[s.elements()];
        for (int i = 0; i < values.length; i++) values[i] = (float) (random.nextDouble() * 2 - 1);
        values[5] = Float.NaN;
        Pair x = of(s, false, values), y = output(s), z = output(s), after = output(s);
        Pair gamma = parameter(channels, 0.3, 1), beta = parameter(channels, 0.3, 0);
        Pair mean = parameter(channels, 0.1, 0), variance = parameter(channels, 0.1, 1);
        onBoth((b, side) -> b.reluForward(side.of(x), side.of(y)));
        onBoth((b, side) -> b.reluBatchNormInferForward(side.of(x), side.of(gamma), side.of(beta), side.of(mean),
                side.of(variance), side.of(z), 1e-3));
        onBoth((b, side) -> b.batchNormReluInferForward(side.of(x), side.of(gamma), side.of(beta), side.of(mean),
                side.of(variance), side.of(after), 1e-3));
        for (Pair p : List.of(y, z, after)) {
            float[] t = hostValues(p);
            double[] r = p.ref().data();
            for (int i = 0; i < t.length; i++) {
                assertEquals(Double.isNaN(r[i]), Float.isNaN(t[i]), "element " + i + ": " + t[i] + ", reference " + r[i] + where());
            }
            assertTrue(Float.isNaN(t[5]), "the NaN input's output is " + t[5] + where());
        }
    }

    // ---- pooling and the option-A shortcut ----

    /** Input shape, window, stride; a window over the whole plane is global pooling, output [N, C]. */
    static Stream<Arguments> poolings() {
        return Stream.of(Arguments.of(shape(4, 8, 8, 19), 4, 4), Arguments.of(shape(4, 8, 8, 19), 8, 1),
                Arguments.of(shape(3, 8, 8, 10), 4, 4), Arguments.of(shape(3, 9, 7, 10), 2, 2),
                Arguments.of(shape(3, 6, 6, 10), 3, 1));
    }

    @ParameterizedTest @MethodSource("poolings")
    void averagePoolingForwardAndBackward(Shape input, int window, int stride) {
        ConvGeometry g = ConvGeometry.of(input, window, window, input.dim(-1), stride, Padding.VALID);
        boolean global = g.outH() == 1 && g.outW() == 1;
        Shape out = global ? shape(g.batch(), g.outC()) : g.outputShape();
        Pair x = random(input, 3), y = output(out), dy = random(out, 1), dx = output(input);
        onBoth((b, s) -> b.averagePoolForward(s.of(x), s.of(y), g));
        assertClose("averagePoolForward " + g, y, tolerances().reduction());
        onBoth((b, s) -> b.averagePoolBackward(s.of(dy), s.of(dx), g));
        assertClose("averagePoolBackward " + g, dx, tolerances().reduction());
    }

    /** Input, output, channels padded before: whole vectors, and an odd size with channels that are not. */
    static Stream<Arguments> subsampleShapes() {
        return Stream.of(Arguments.of(shape(3, 8, 8, 16), shape(3, 4, 4, 32), 8),
                Arguments.of(shape(2, 7, 7, 5), shape(2, 4, 4, 13), 3));
    }

    @ParameterizedTest
    @MethodSource("subsampleShapes")
    void subsampleChannelPadForwardAndBackward(Shape in, Shape out, int padBefore) {
        Pair x = random(in, 1), y = output(out), dy = random(out, 1), dx = output(in);
        onBoth((b, s) -> b.subsampleChannelPadForward(s.of(x), s.of(y), 2, padBefore));
        assertClose("subsampleChannelPadForward " + in, y, tolerances().elementwise());
        onBoth((b, s) -> b.subsampleChannelPadBackward(s.of(dy), s.of(dx), 2, padBefore));
        assertClose("subsampleChannelPadBackward " + in, dx, tolerances().elementwise());
    }

    // ---- dense ----

    /**
     * Rows, in, out: the tutorial's narrow head (out under one vector), a wide layer (two-panel tiles)
     * and a head over a wider input.
     */
    static Stream<Arguments> denseLayers() {
        return Stream.of(Arguments.of(9, 70, 10), Arguments.of(37, 50, 40), Arguments.of(12, 96, 10));
    }

    @ParameterizedTest @MethodSource("denseLayers")
    void denseForwardAndBackward(int rows, int in, int out) {
        double tolerance = tolerances().reduction();
        Pair x = random(shape(rows, in), 1), kernel = parameter(shape(in, out), 0.3, 0), bias = parameter(shape(out), 1, 0);
        Pair y = output(shape(rows, out)), dy = random(shape(rows, out), 1);
        onBoth((b, s) -> b.denseForward(s.of(x), s.of(kernel), s.of(bias), s.of(y)));
        assertClose("denseForward", y, tolerance);
        Pair dx = output(shape(rows, in)), dKernel = parameterOutput(shape(in, out)), dBias = parameterOutput(shape(out));
        onBoth((b, s) -> b.denseBackward(s.of(x), s.of(kernel), s.of(dy), s.of(dx), s.of(dKernel), s.of(dBias)));
        assertClose("denseBackward dx", dx, tolerance);
        assertClose("denseBackward dKernel", dKernel, tolerance);
        assertClose("denseBackward dBias", dBias, tolerance);
        Pair dKernelOnly = parameterOutput(shape(in, out)), dBiasOnly = parameterOutput(shape(out));
        onBoth((b, s) -> b.denseBackward(s.of(x), s.of(kernel), s.of(dy), null, s.of(dKernelOnly), s.of(dBiasOnly)));
        assertClose("denseBackward dKernel without dx", dKernelOnly, tolerance);
        assertClose("denseBackward dBias without dx", dBiasOnly, tolerance);
    }

    // ---- loss ----

    /** Rows and the scale of the logits: a small batch of confident logits, a large one of milder ones. */
    static Stream<Arguments> losses() { return Stream.of(Arguments.of(13, 8.0), Arguments.of(300, 3.0)); }

    @ParameterizedTest @MethodSource("losses")
    void softmaxCrossEntropyAndSoftmax(int rows, double scale) {
        int classes = 10;
        Pair logits = random(shape(rows, classes), scale);
        float[] labelValues = new float[rows];
        for (int i = 0; i < rows; i++) labelValues[i] = random.nextInt(classes);
        Pair labels = of(shape(rows), false, labelValues), dLogits = output(shape(rows, classes));
        double[] r = REF.softmaxCrossEntropy(logits.ref(), labels.ref(), dLogits.ref());
        double[] t = tested.softmaxCrossEntropy(logits.tested(), labels.tested(), dLogits.tested());
        assertEquals(r[0], t[0], tolerances().reduction() * Math.abs(r[0]), "loss sum" + where());
        assertEquals(r[1], t[1], "correct count" + where());
        assertClose("softmaxCrossEntropy dLogits", dLogits, tolerances().elementwise());
        double[] withoutGradient = tested.softmaxCrossEntropy(logits.tested(), labels.tested(), null);
        assertEquals(t[0], withoutGradient[0], 0.0, "loss without the gradient" + where());
        assertEquals(t[1], withoutGradient[1], 0.0, "correct count without the gradient" + where());

        Pair smoothedDLogits = output(shape(rows, classes));
        double[] rs = REF.softmaxCrossEntropy(logits.ref(), labels.ref(), smoothedDLogits.ref(), 0.1);
        double[] ts = tested.softmaxCrossEntropy(logits.tested(), labels.tested(), smoothedDLogits.tested(), 0.1);
        assertEquals(rs[0], ts[0], tolerances().reduction() * Math.abs(rs[0]), "loss sum with label smoothing 0.1" + where());
        assertEquals(rs[1], ts[1], "correct count with label smoothing 0.1" + where());
        assertClose("softmaxCrossEntropy dLogits with label smoothing 0.1", smoothedDLogits, tolerances().elementwise());

        Pair probabilities = output(shape(rows, classes));
        onBoth((b, s) -> b.softmax(s.of(logits), s.of(probabilities)));
        assertClose("softmax", probabilities, tolerances().elementwise());
    }

    // ---- optimizers ----

    /**
     * One call updates parameters of every rank and odd sizes, one larger than a CPU task chunk, over
     * three steps each of Adam, SGD with heavy-ball momentum and SGD with Nesterov momentum. Weights stay well away from zero, and each gradient and first moment share a sign
     * with magnitudes away from zero: an updated value near zero is a float32 cancellation that the
     * elementwise bound would flag on a one-element parameter for any correct implementation.
     */
    @Test
    void adamSgdAndNesterovUpdateEveryParameter() {
        List<Shape> shapes = List.of(shape(3, 3, 16, 32), shape(32), shape(100, 10), shape(1), shape(7), shape(40_000),
                shape(129));
        List<Pair> w = new ArrayList<>(), g = new ArrayList<>(), m = new ArrayList<>(), v = new ArrayList<>();
        for (Shape s : shapes) {
            w.add(parameter(s, 0.1, 1));
            float[] gradient = new float[s.elements()], moment = new float[s.elements()];
            for (int i = 0; i < gradient.length; i++) {
                double sign = random.nextBoolean() ? 1 : -1;
                gradient[i] = (float) (sign * (0.5 + random.nextDouble()) * 1e-2);
                moment[i] = (float) (sign * (0.5 + random.nextDouble()) * 1e-3);
            }
            g.add(of(s, true, gradient));
            m.add(of(s, true, moment));
            v.add(parameter(s, 5e-5, 1.5e-4));
        }
        double tolerance = tolerances().elementwise();
        for (int step = 1; step <= 3; step++) {
            double lrT = 1e-3 * Math.sqrt(1 - Math.pow(0.999, step)) / (1 - Math.pow(0.9, step));
            onBoth((b, s) -> b.adamUpdate(s.all(w), s.all(g), s.all(m), s.all(v), lrT, 0.9, 0.999, 1e-7));
        }
        for (int i = 0; i < shapes.size(); i++) {
            assertClose("adam w" + i, w.get(i), tolerance);
            assertClose("adam m" + i, m.get(i), tolerance);
            assertClose("adam v" + i, v.get(i), tolerance);
        }
        for (int step = 1; step <= 3; step++) {
            onBoth((b, s) -> b.sgdUpdate(s.all(w), s.all(g), s.all(m), 0.1, 0.9, 5e-4));
        }
        for (int i = 0; i < shapes.size(); i++) {
            assertClose("sgd w" + i, w.get(i), tolerance);
            assertClose("sgd velocity" + i, m.get(i), tolerance);
        }
        for (int step = 1; step <= 3; step++) {
            onBoth((b, s) -> b.sgdUpdate(s.all(w), s.all(g), s.all(m), 0.1, 0.9, 5e-4, true));
        }
        for (int i = 0; i < shapes.size(); i++) {
            assertClose("nesterov sgd w" + i, w.get(i), tolerance);
            assertClose("nesterov sgd velocity" + i, m.get(i), tolerance);
        }
    }
}
