package jresnet.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import jresnet.backend.Backend;
import jresnet.backend.ConvGeometry;
import jresnet.backend.Padding;
import jresnet.backend.reference.ReferenceBackend;
import jresnet.models.TutorialNets;
import jresnet.nn.Executor;
import jresnet.nn.Model;
import jresnet.nn.Weight;
import jresnet.optim.Adam;
import jresnet.tensor.Shape;
import jresnet.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every op of the CUDA backend against the reference backend on fresh random inputs, outputs poisoned
 * with NaN before each call, TF32 off. Error: ||cuda - reference|| / ||reference||, at most 1e-5 for
 * elementwise ops, 1e-4 for reductions (batch norm, pooling, loss, GEMM) and 5e-4 for convolutions with
 * the algorithms cuDNN picks for training. Skipped, with doctor's findings, where no GPU is usable.
 *
 * <p>The Maven build also runs this class on the emulated device (native-build/emulated-device.sh: CPU
 * stand-ins for libcuda, cuDNN and cuBLAS, with kernels/*.cu compiled for the CPU), so the backend's Java
 * path and our kernels are checked on every build (see {@link GpuAvailability}).
 */
@Tag("gpu")
class CudaBackendGpuTest {
    static final double ELEMENTWISE = 1e-5, REDUCTION = 1e-4, CONVOLUTION = 5e-4;

    static CudaBackend cuda;
    static ReferenceBackend reference;
    static String skipReason;

    long seed;
    SplittableRandom random;

    @BeforeAll
    static void open() {
        skipReason = GpuAvailability.skipReason().orElse(null);
        if (skipReason != null) {
            System.err.println("CudaBackendGpuTest skipped: " + skipReason);
            return;
        }
        cuda = CudaBackend.open();
        reference = new ReferenceBackend();
    }

    @AfterAll
    static void close() {
        if (cuda != null) {
            System.out.println("cuDNN algorithms chosen (forward, backward data, backward filter):");
            cuda.convolutionAlgorithms().forEach((g, a) -> System.out.println("  " + g + " -> " + java.util.Arrays.toString(a)));
            System.out.println("pool: " + cuda.poolStatistics());
            cuda.close();
        }
    }

    @BeforeEach
    void seed() {
        assumeTrue(skipReason == null, () -> skipReason);
        seed = System.nanoTime();
        random = new SplittableRandom(seed);
    }

    /** The same logical tensor on both backends. */
    record Pair(Tensor c, Tensor r) {
        Shape shape() { return c.shape(); }
    }

    Pair random(Shape s, boolean parameter, double scale, double offset) {
        float[] values = new float[s.elements()];
        for (int i = 0; i < values.length; i++) values[i] = (float) (offset + scale * gaussian());
        return of(s, parameter, values);
    }

    Pair random(Shape s) { return random(s, false, 1, 0); }

    Pair parameter(Shape s) { return random(s, true, 1, 0); }

    Pair of(Shape s, boolean parameter, float[] values) {
        Tensor c = parameter ? cuda.allocateParameter(s) : cuda.allocate(s);
        Tensor r = parameter ? reference.allocateParameter(s) : reference.allocate(s);
        cuda.copyFromHost(values, c);
        reference.copyFromHost(values, r);
        return new Pair(c, r);
    }

    /** An output: NaN on the device, so an element the op forgets to write fails the comparison. */
    Pair output(Shape s, boolean parameter) {
        Tensor c = parameter ? cuda.allocateParameter(s) : cuda.allocate(s);
        cuda.fill(c, Float.NaN);
        return new Pair(c, parameter ? reference.allocateParameter(s) : reference.allocate(s));
    }

    Pair output(Shape s) { return output(s, false); }

    double gaussian() {
        double u = random.nextDouble(), v = random.nextDouble();
        return Math.sqrt(-2 * Math.log(1 - u)) * Math.cos(2 * Math.PI * v);
    }

    void expectClose(String what, Pair p, double tolerance) {
        float[] c = new float[p.shape().elements()], r = new float[c.length];
        cuda.copyToHost(p.c(), c);
        reference.copyToHost(p.r(), r);
        double diff = 0, norm = 0;
        for (int i = 0; i < c.length; i++) {
            assertTrue(Float.isFinite(c[i]), what + ": element " + i + " is " + c[i] + " (seed " + seed + ")");
            diff += (c[i] - (double) r[i]) * (c[i] - (double) r[i]);
            norm += (double) r[i] * r[i];
        }
        double error = Math.sqrt(diff) / Math.max(Math.sqrt(norm), 1e-30);
        assertTrue(error <= tolerance, what + " " + p.shape() + ": relative error " + error + " > " + tolerance + " (seed " + seed + ")");
    }

    // ---- memory ----

    @Test
    void hostCopiesRoundTripInLogicalLayouts() {
        for (boolean parameter : new boolean[] {false, true}) {
            Shape s = Shape.of(3, 3, 5, 7);
            float[] values = new float[s.elements()], back = new float[s.elements()];
            for (int i = 0; i < values.length; i++) values[i] = i;
            Tensor t = parameter ? cuda.allocateParameter(s) : cuda.allocate(s);
            cuda.copyFromHost(values, t);
            cuda.copyToHost(t, back);
            assertEquals(java.util.Arrays.toString(values), java.util.Arrays.toString(back));
            t.close();
        }
        Pair a = random(Shape.of(6, 4, 4, 3));
        Pair b = output(Shape.of(6, 4, 4, 3));
        cuda.copy(a.c(), b.c());
        reference.copy(a.r(), b.r());
        expectClose("copy", b, 0);
        Pair view = new Pair(a.c().withBatch(2), a.r().withBatch(2));
        cuda.fill(view.c(), 0.25f);
        reference.fill(view.r(), 0.25f);
        expectClose("fill through a view, then the whole tensor", a, 0);
    }

    // ---- convolution ----

    static Stream<Arguments> convolutions() {
        return Stream.of(
                Arguments.of(Shape.of(4, 8, 8, 3), 3, 16, 1, Padding.SAME),
                Arguments.of(Shape.of(4, 8, 8, 16), 3, 32, 2, Padding.SAME),   // asymmetric: pad 0 top, 1 bottom
                Arguments.of(Shape.of(4, 9, 9, 8), 3, 8, 2, Padding.SAME),     // odd size: symmetric
                Arguments.of(Shape.of(4, 8, 8, 16), 1, 32, 2, Padding.SAME),   // no padding
                Arguments.of(Shape.of(3, 7, 6, 5), 3, 4, 1, Padding.VALID),
                Arguments.of(Shape.of(2, 32, 32, 3), 3, 64, 1, Padding.SAME));
    }

    @ParameterizedTest
    @MethodSource("convolutions")
    void convolutionMatchesReference(Shape input, int k, int filters, int stride, Padding padding) {
        ConvGeometry g = ConvGeometry.of(input, k, k, filters, stride, padding);
        Pair x = random(input), kernel = parameter(g.kernelShape()), bias = parameter(Shape.of(filters));
        Pair y = output(g.outputShape());
        cuda.conv2dForward(x.c(), kernel.c(), bias.c(), y.c(), g);
        reference.conv2dForward(x.r(), kernel.r(), bias.r(), y.r(), g);
        expectClose("conv2dForward " + g, y, CONVOLUTION);

        Pair dy = random(g.outputShape());
        Pair dx = output(input);
        cuda.conv2dBackwardData(dy.c(), kernel.c(), dx.c(), g);
        reference.conv2dBackwardData(dy.r(), kernel.r(), dx.r(), g);
        expectClose("conv2dBackwardData " + g, dx, CONVOLUTION);

        Pair dKernel = output(g.kernelShape(), true), dBias = output(Shape.of(filters), true);
        cuda.conv2dBackwardFilter(x.c(), dy.c(), dKernel.c(), dBias.c(), g);
        reference.conv2dBackwardFilter(x.r(), dy.r(), dKernel.r(), dBias.r(), g);
        expectClose("conv2dBackwardFilter " + g, dKernel, CONVOLUTION);
        expectClose("conv2d bias gradient " + g, dBias, REDUCTION);

        Pair noBias = output(g.outputShape());
        cuda.conv2dForward(x.c(), kernel.c(), null, noBias.c(), g);
        reference.conv2dForward(x.r(), kernel.r(), null, noBias.r(), g);
        expectClose("conv2dForward without bias " + g, noBias, CONVOLUTION);
    }

    // ---- batch normalization ----

    static Stream<Arguments> normalizations() {
        return Stream.of(Arguments.of(Shape.of(8, 6, 6, 16), false), Arguments.of(Shape.of(8, 6, 6, 16), true),
                Arguments.of(Shape.of(16, 40), false), Arguments.of(Shape.of(16, 40), true),
                Arguments.of(Shape.of(32, 16, 16, 48), true));
    }

    @ParameterizedTest
    @MethodSource("normalizations")
    void batchNormalizationMatchesReference(Shape shape, boolean fusedRelu) {
        Shape channels = Shape.of(shape.dim(-1));
        Pair x = random(shape, false, 2, 0.5);
        Pair gamma = random(channels, true, 0.3, 1), beta = random(channels, true, 0.3, 0);
        Pair movingMean = random(channels, true, 0.1, 0), movingVariance = random(channels, true, 0.1, 1);
        Pair y = output(shape), savedMean = output(channels, true), savedInvStd = output(channels, true);
        double momentum = 0.99, epsilon = 1e-3;
        String name = fusedRelu ? "reluBatchNorm" : "batchNorm";
        for (Backend b : List.of(cuda, reference)) {
            boolean c = b == cuda;
            if (fusedRelu) {
                b.reluBatchNormTrainForward(pick(x, c), pick(gamma, c), pick(beta, c), pick(movingMean, c),
                        pick(movingVariance, c), pick(y, c), pick(savedMean, c), pick(savedInvStd, c), momentum, epsilon);
            } else {
                b.batchNormTrainForward(pick(x, c), pick(gamma, c), pick(beta, c), pick(movingMean, c),
                        pick(movingVariance, c), pick(y, c), pick(savedMean, c), pick(savedInvStd, c), momentum, epsilon);
            }
        }
        expectClose(name + "TrainForward y", y, REDUCTION);
        expectClose(name + "TrainForward saved mean", savedMean, REDUCTION);
        expectClose(name + "TrainForward saved 1/std", savedInvStd, REDUCTION);
        expectClose(name + "TrainForward moving mean", movingMean, REDUCTION);
        expectClose(name + "TrainForward moving variance", movingVariance, REDUCTION);

        Pair dy = random(shape), dx = output(shape), dGamma = output(channels, true), dBeta = output(channels, true);
        for (Backend b : List.of(cuda, reference)) {
            boolean c = b == cuda;
            if (fusedRelu) {
                b.reluBatchNormBackward(pick(x, c), pick(dy, c), pick(gamma, c), pick(savedMean, c), pick(savedInvStd, c),
                        pick(dx, c), pick(dGamma, c), pick(dBeta, c));
            } else {
                b.batchNormBackward(pick(x, c), pick(dy, c), pick(gamma, c), pick(savedMean, c), pick(savedInvStd, c),
                        pick(dx, c), pick(dGamma, c), pick(dBeta, c), epsilon);
            }
        }
        expectClose(name + "Backward dx", dx, REDUCTION);
        expectClose(name + "Backward dGamma", dGamma, REDUCTION);
        expectClose(name + "Backward dBeta", dBeta, REDUCTION);

        Pair inferred = output(shape);
        for (Backend b : List.of(cuda, reference)) {
            boolean c = b == cuda;
            if (fusedRelu) {
                b.reluBatchNormInferForward(pick(x, c), pick(gamma, c), pick(beta, c), pick(movingMean, c),
                        pick(movingVariance, c), pick(inferred, c), epsilon);
            } else {
                b.batchNormInferForward(pick(x, c), pick(gamma, c), pick(beta, c), pick(movingMean, c),
                        pick(movingVariance, c), pick(inferred, c), epsilon);
            }
        }
        expectClose(name + "InferForward", inferred, REDUCTION);
    }

    private static Tensor pick(Pair p, boolean cudaSide) { return cudaSide ? p.c() : p.r(); }

    // ---- elementwise, pooling, shortcut ----

    @Test
    void elementwiseOpsMatchReference() {
        Shape s = Shape.of(5, 7, 7, 12);
        Pair x = random(s), dy = random(s), y = output(s), dx = output(s);
        cuda.reluForward(x.c(), y.c());
        reference.reluForward(x.r(), y.r());
        expectClose("reluForward", y, ELEMENTWISE);
        cuda.reluBackward(x.c(), dy.c(), dx.c());
        reference.reluBackward(x.r(), dy.r(), dx.r());
        expectClose("reluBackward", dx, ELEMENTWISE);

        Pair sum = output(s);
        cuda.add(x.c(), dy.c(), sum.c());
        reference.add(x.r(), dy.r(), sum.r());
        expectClose("add", sum, ELEMENTWISE);
        cuda.add(sum.c(), x.c(), sum.c());
        reference.add(sum.r(), x.r(), sum.r());
        expectClose("add into its own input", sum, ELEMENTWISE);

        Shape flat = Shape.of(5, 7 * 7 * 12);
        Pair f = output(flat), back = output(s);
        cuda.flatten(x.c(), f.c());
        reference.flatten(x.r(), f.r());
        expectClose("flatten", f, ELEMENTWISE);
        cuda.unflatten(f.c(), back.c());
        reference.unflatten(f.r(), back.r());
        expectClose("unflatten", back, ELEMENTWISE);
    }

    /** A NaN stays NaN through ReLU and relu_bn, as on the reference: a diverged step must show in the loss. */
    @Test
    void reluKeepsNanLikeTheReference() {
        Shape s = Shape.of(2, 3, 3, 4), channels = Shape.of(4);
        float[] values = new float[s.elements()];
        for (int i = 0; i < values.length; i++) values[i] = (float) gaussian();
        values[5] = Float.NaN;
        Pair x = of(s, false, values), y = output(s), z = output(s);
        Pair gamma = random(channels, true, 0.3, 1), beta = random(channels, true, 0.3, 0);
        Pair mean = random(channels, true, 0.1, 0), variance = random(channels, true, 0.1, 1);
        cuda.reluForward(x.c(), y.c());
        reference.reluForward(x.r(), y.r());
        cuda.reluBatchNormInferForward(x.c(), gamma.c(), beta.c(), mean.c(), variance.c(), z.c(), 1e-3);
        reference.reluBatchNormInferForward(x.r(), gamma.r(), beta.r(), mean.r(), variance.r(), z.r(), 1e-3);
        for (Pair p : List.of(y, z)) {
            float[] c = new float[s.elements()], r = new float[s.elements()];
            cuda.copyToHost(p.c(), c);
            reference.copyToHost(p.r(), r);
            for (int i = 0; i < c.length; i++) {
                assertEquals(Float.isNaN(r[i]), Float.isNaN(c[i]), "element " + i + ": cuda " + c[i] + ", reference " + r[i]);
            }
            assertTrue(Float.isNaN(c[5]));
        }
    }

    @Test
    void averagePoolingMatchesReference() {
        for (int[] c : new int[][] {{8, 8, 4, 4}, {9, 7, 2, 2}, {6, 6, 3, 1}}) {
            Shape in = Shape.of(3, c[0], c[1], 10);
            ConvGeometry g = ConvGeometry.of(in, c[2], c[2], 10, c[3], Padding.VALID);
            Pair x = random(in), y = output(g.outputShape());
            cuda.averagePoolForward(x.c(), y.c(), g);
            reference.averagePoolForward(x.r(), y.r(), g);
            expectClose("averagePoolForward " + g, y, REDUCTION);
            Pair dy = random(g.outputShape()), dx = output(in);
            cuda.averagePoolBackward(dy.c(), dx.c(), g);
            reference.averagePoolBackward(dy.r(), dx.r(), g);
            expectClose("averagePoolBackward " + g, dx, REDUCTION);
        }
    }

    @Test
    void subsampleChannelPadMatchesReference() {
        Shape in = Shape.of(3, 8, 8, 16), out = Shape.of(3, 4, 4, 32);
        Pair x = random(in), y = output(out);
        cuda.subsampleChannelPadForward(x.c(), y.c(), 2, 8);
        reference.subsampleChannelPadForward(x.r(), y.r(), 2, 8);
        expectClose("subsampleChannelPadForward", y, ELEMENTWISE);
        Pair dy = random(out), dx = output(in);
        cuda.subsampleChannelPadBackward(dy.c(), dx.c(), 2, 8);
        reference.subsampleChannelPadBackward(dy.r(), dx.r(), 2, 8);
        expectClose("subsampleChannelPadBackward", dx, ELEMENTWISE);
    }

    // ---- dense and loss ----

    @Test
    void denseMatchesReference() {
        int rows = 12, in = 96, out = 10;
        Pair x = random(Shape.of(rows, in)), kernel = parameter(Shape.of(in, out)), bias = parameter(Shape.of(out));
        Pair y = output(Shape.of(rows, out));
        cuda.denseForward(x.c(), kernel.c(), bias.c(), y.c());
        reference.denseForward(x.r(), kernel.r(), bias.r(), y.r());
        expectClose("denseForward", y, REDUCTION);
        Pair dy = random(Shape.of(rows, out)), dx = output(Shape.of(rows, in));
        Pair dKernel = output(Shape.of(in, out), true), dBias = output(Shape.of(out), true);
        cuda.denseBackward(x.c(), kernel.c(), dy.c(), dx.c(), dKernel.c(), dBias.c());
        reference.denseBackward(x.r(), kernel.r(), dy.r(), dx.r(), dKernel.r(), dBias.r());
        expectClose("denseBackward dx", dx, REDUCTION);
        expectClose("denseBackward dKernel", dKernel, REDUCTION);
        expectClose("denseBackward dBias", dBias, REDUCTION);
        cuda.denseBackward(x.c(), kernel.c(), dy.c(), null, dKernel.c(), dBias.c());
        expectClose("denseBackward dKernel without dx", dKernel, REDUCTION);
    }

    @Test
    void softmaxCrossEntropyMatchesReference() {
        int rows = 300, classes = 10;
        Pair logits = random(Shape.of(rows, classes), false, 3, 0);
        float[] labelValues = new float[rows];
        for (int i = 0; i < rows; i++) labelValues[i] = random.nextInt(classes);
        Pair labels = of(Shape.of(rows), false, labelValues);
        Pair d = output(Shape.of(rows, classes));
        double[] c = cuda.softmaxCrossEntropy(logits.c(), labels.c(), d.c());
        double[] r = reference.softmaxCrossEntropy(logits.r(), labels.r(), d.r());
        assertTrue(Math.abs(c[0] - r[0]) <= REDUCTION * Math.abs(r[0]), "loss " + c[0] + " vs " + r[0] + " (seed " + seed + ")");
        assertEquals(r[1], c[1], "correct count (seed " + seed + ")");
        expectClose("softmaxCrossEntropy dLogits", d, ELEMENTWISE);
        double[] withoutGradient = cuda.softmaxCrossEntropy(logits.c(), labels.c(), null);
        assertEquals(c[0], withoutGradient[0], 0.0);

        double[] smoothed = cuda.softmaxCrossEntropy(logits.c(), labels.c(), d.c(), 0.1);
        double[] smoothedReference = reference.softmaxCrossEntropy(logits.r(), labels.r(), d.r(), 0.1);
        assertTrue(Math.abs(smoothed[0] - smoothedReference[0]) <= REDUCTION * Math.abs(smoothedReference[0]),
                "smoothed loss " + smoothed[0] + " vs " + smoothedReference[0] + " (seed " + seed + ")");
        assertEquals(smoothedReference[1], smoothed[1], "correct count with smoothing (seed " + seed + ")");
        expectClose("softmaxCrossEntropy smoothed dLogits", d, ELEMENTWISE);

        Pair p = output(Shape.of(rows, classes));
        cuda.softmax(logits.c(), p.c());
        reference.softmax(logits.r(), p.r());
        expectClose("softmax", p, ELEMENTWISE);
    }

    // ---- optimizers ----

    @Test
    void optimizersUpdateEveryParameterLikeTheReference() {
        List<Shape> shapes = List.of(Shape.of(3, 3, 16, 32), Shape.of(32), Shape.of(100, 10), Shape.of(1));
        List<Pair> w = new ArrayList<>(), g = new ArrayList<>(), m = new ArrayList<>(), v = new ArrayList<>();
        for (Shape s : shapes) {
            // Weights well away from zero: an updated weight near zero is a float32 cancellation that
            // the 1e-5 bound would flag on a one-element parameter for any correct implementation.
            w.add(random(s, true, 0.1, 1));
            g.add(random(s, true, 1e-2, 0));
            m.add(random(s, true, 1e-3, 0));
            v.add(random(s, true, 0, 1e-4));
        }
        for (int step = 1; step <= 3; step++) {
            double lrT = 1e-3 * Math.sqrt(1 - Math.pow(0.999, step)) / (1 - Math.pow(0.9, step));
            cuda.adamUpdate(side(w, true), side(g, true), side(m, true), side(v, true), lrT, 0.9, 0.999, 1e-7);
            reference.adamUpdate(side(w, false), side(g, false), side(m, false), side(v, false), lrT, 0.9, 0.999, 1e-7);
        }
        for (int i = 0; i < shapes.size(); i++) {
            expectClose("adam w" + i, w.get(i), ELEMENTWISE);
            expectClose("adam m" + i, m.get(i), ELEMENTWISE);
            expectClose("adam v" + i, v.get(i), ELEMENTWISE);
        }
        for (int step = 1; step <= 3; step++) {
            cuda.sgdUpdate(side(w, true), side(g, true), side(m, true), 0.1, 0.9, 5e-4);
            reference.sgdUpdate(side(w, false), side(g, false), side(m, false), 0.1, 0.9, 5e-4);
        }
        for (int i = 0; i < shapes.size(); i++) {
            expectClose("sgd w" + i, w.get(i), ELEMENTWISE);
            expectClose("sgd velocity" + i, m.get(i), ELEMENTWISE);
        }
        for (int step = 1; step <= 3; step++) {
            cuda.sgdUpdate(side(w, true), side(g, true), side(m, true), 0.1, 0.9, 5e-4, true);
            reference.sgdUpdate(side(w, false), side(g, false), side(m, false), 0.1, 0.9, 5e-4, true);
        }
        for (int i = 0; i < shapes.size(); i++) {
            expectClose("nesterov sgd w" + i, w.get(i), ELEMENTWISE);
            expectClose("nesterov sgd velocity" + i, m.get(i), ELEMENTWISE);
        }
    }

    private static Tensor[] side(List<Pair> pairs, boolean cudaSide) {
        return pairs.stream().map(p -> pick(p, cudaSide)).toArray(Tensor[]::new);
    }

    // ---- a whole model ----

    @Test
    void smallResNetTrainsLikeTheReference() {
        Model model = TutorialNets.resnet(new int[] {1, 1}, 8, 4, "tiny");
        model.initializeWeights(seed);
        int n = 16, steps = 20;
        try (Executor c = new Executor(model, cuda, n); Executor r = new Executor(model, reference, n)) {
            float[][] images = new float[steps][n * 32 * 32 * 3], labels = new float[steps][n];
            for (int s = 0; s < steps; s++) {
                for (int i = 0; i < images[s].length; i++) images[s][i] = random.nextInt(256);
                for (int i = 0; i < n; i++) labels[s][i] = random.nextInt(10);
            }
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

    private static double norm(float[] values) {
        double sum = 0;
        for (float v : values) sum += (double) v * v;
        return Math.sqrt(sum);
    }
}
