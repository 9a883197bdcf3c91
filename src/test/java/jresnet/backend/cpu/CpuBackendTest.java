package jresnet.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import jresnet.backend.ConvGeometry;
import jresnet.backend.Padding;
import jresnet.backend.reference.RefTensor;
import jresnet.backend.reference.ReferenceBackend;
import jresnet.tensor.Shape;
import jresnet.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every op of the CPU backend against the reference on fresh random inputs. CPU outputs are
 * NaN-poisoned before each call so an element left unwritten fails; the error is ‖cpu − ref‖ / ‖ref‖.
 * Each test runs with one thread and with three (an odd split over the two-core machine).
 */
class CpuBackendTest {
    private static final double TOLERANCE = 1e-5;
    private static final ReferenceBackend REF = new ReferenceBackend();
    private static CpuBackend single, three;

    private long seed;
    private SplittableRandom random;
    private CpuBackend cpu;

    @BeforeAll static void start() {
        single = new CpuBackend(1);
        three = new CpuBackend(3);
    }

    @AfterAll static void stop() {
        single.close();
        three.close();
    }

    /** A tensor on both backends holding the same values. */
    private record Pair(RefTensor ref, CpuTensor cpu) {}

    private void setUp(int threads) {
        seed = System.nanoTime();
        random = new SplittableRandom(seed);
        cpu = threads == 1 ? single : three;
    }

    private Pair random(double scale, int... dims) {
        Shape shape = Shape.of(dims);
        float[] values = new float[shape.elements()];
        for (int i = 0; i < values.length; i++) values[i] = (float) ((random.nextDouble() * 2 - 1) * scale);
        return pair(shape, values);
    }

    private Pair pair(Shape shape, float[] values) {
        RefTensor r = REF.allocate(shape);
        REF.copyFromHost(values, r);
        CpuTensor c = cpu.allocate(shape);
        cpu.copyFromHost(values, c);
        return new Pair(r, c);
    }

    /** An output: the CPU side is NaN-filled. */
    private Pair output(int... dims) {
        Pair p = pair(Shape.of(dims), new float[Shape.of(dims).elements()]);
        Arrays.fill(p.cpu().data(), Float.NaN);
        return p;
    }

    private Pair copyOf(Pair p) {
        float[] values = new float[p.cpu().size()];
        cpu.copyToHost(p.cpu(), values);
        return pair(p.cpu().shape(), values);
    }

    private void assertClose(String what, Pair p) {
        float[] c = new float[p.cpu().size()];
        cpu.copyToHost(p.cpu(), c);
        double[] r = p.ref().data();
        double diff = 0, norm = 0;
        for (int i = 0; i < c.length; i++) {
            diff += (c[i] - r[i]) * (c[i] - r[i]);
            norm += r[i] * r[i];
        }
        double error = Math.sqrt(diff / norm);
        assertTrue(error < TOLERANCE, what + ": relative error " + error + " (seed " + seed + ", threads "
                + cpu.threads() + ")");
    }

    private static final int[][] CONVOLUTIONS = {
            // batch, h, w, inC, kernel, outC, stride, same?
            {3, 9, 9, 16, 3, 16, 1, 1}, {2, 8, 8, 16, 3, 32, 2, 1}, {3, 7, 6, 3, 3, 17, 1, 1},
            {2, 8, 8, 20, 1, 40, 2, 1}, {2, 9, 7, 5, 3, 10, 2, 0}, {1, 10, 10, 33, 3, 48, 1, 1},
            {20, 4, 4, 8, 3, 8, 1, 1}, {2, 6, 7, 4, 2, 9, 1, 1}, {2, 8, 8, 6, 3, 5, 1, 0}, {2, 5, 5, 12, 1, 7, 1, 1},
            // full-size CIFAR planes: resnet20's first stage and its stem
            {2, 32, 32, 16, 3, 16, 1, 1}, {2, 32, 32, 3, 3, 16, 1, 1}, {2, 6, 34, 4, 3, 4, 1, 0}, {1, 4, 32, 5, 2, 12, 1, 1},
            {1, 3, 64, 8, 3, 8, 1, 1},
    };

    private ConvGeometry geometry(int[] c) {
        return ConvGeometry.of(Shape.of(c[0], c[1], c[2], c[3]), c[4], c[4], c[5], c[6],
                c[7] == 1 ? Padding.SAME : Padding.VALID);
    }

    private static int[] dims(Shape s) { return s.dims(); }

    @ParameterizedTest @ValueSource(ints = {1, 3})
    void convolutionForwardWithAndWithoutBias(int threads) {
        setUp(threads);
        for (int[] c : CONVOLUTIONS) {
            ConvGeometry g = geometry(c);
            Pair x = random(2, dims(g.inputShape())), k = random(0.5, dims(g.kernelShape())), b = random(1, g.outC());
            for (Pair bias : new Pair[] {b, null}) {
                Pair y = output(dims(g.outputShape()));
                REF.conv2dForward(x.ref(), k.ref(), bias == null ? null : bias.ref(), y.ref(), g);
                cpu.conv2dForward(x.cpu(), k.cpu(), bias == null ? null : bias.cpu(), y.cpu(), g);
                assertClose("conv forward " + g + (bias == null ? " no bias" : ""), y);
            }
        }
    }

    @ParameterizedTest @ValueSource(ints = {1, 3})
    void convolutionBackwardData(int threads) {
        setUp(threads);
        for (int[] c : CONVOLUTIONS) {
            ConvGeometry g = geometry(c);
            Pair dy = random(1, dims(g.outputShape())), k = random(0.5, dims(g.kernelShape()));
            Pair dx = output(dims(g.inputShape()));
            REF.conv2dBackwardData(dy.ref(), k.ref(), dx.ref(), g);
            cpu.conv2dBackwardData(dy.cpu(), k.cpu(), dx.cpu(), g);
            assertClose("conv backward data " + g, dx);
        }
    }

    @ParameterizedTest @ValueSource(ints = {1, 3})
    void convolutionBackwardFilterWithAndWithoutBias(int threads) {
        setUp(threads);
        for (int[] c : CONVOLUTIONS) {
            ConvGeometry g = geometry(c);
            Pair x = random(2, dims(g.inputShape())), dy = random(1, dims(g.outputShape()));
            Pair dk = output(dims(g.kernelShape())), db = output(g.outC());
            REF.conv2dBackwardFilter(x.ref(), dy.ref(), dk.ref(), db.ref(), g);
            cpu.conv2dBackwardFilter(x.cpu(), dy.cpu(), dk.cpu(), db.cpu(), g);
            assertClose("conv backward filter " + g, dk);
            assertClose("conv backward bias " + g, db);
            Pair dk2 = output(dims(g.kernelShape()));
            REF.conv2dBackwardFilter(x.ref(), dy.ref(), dk2.ref(), null, g);
            cpu.conv2dBackwardFilter(x.cpu(), dy.cpu(), dk2.cpu(), null, g);
            assertClose("conv backward filter without bias " + g, dk2);
        }
    }

    /** Both plain and relu-fused batch normalization; channel counts off and on the vector width. */
    @ParameterizedTest @ValueSource(ints = {1, 3})
    void batchNormalizationTrainingInferenceAndBackward(int threads) {
        setUp(threads);
        for (int channels : new int[] {3, 16, 37}) {
            for (boolean relu : new boolean[] {false, true}) {
                for (double drift : new double[] {0, 300}) {
                    String what = (relu ? "relu_bn" : "bn") + " channels " + channels + " drift " + drift;
                    // offset and scale like raw pixels, where a naive one-pass variance would cancel; with
                    // drift the later rows move away from the first ones
                    Pair x = random(100, 5, 7, 6, channels);
                    addToAll(x, relu ? 20 : 128);
                    for (int i = x.cpu().size() / 2; i < x.cpu().size(); i++) {
                        x.cpu().data()[i] += (float) drift;
                        x.ref().data()[i] = x.cpu().data()[i];
                    }
                    Pair gamma = random(2, channels), beta = random(1, channels);
                    Pair mm = random(1, channels), mv = random(1, channels);
                    addToAll(mv, 1.5);
                    Pair y = output(5, 7, 6, channels), sm = output(channels), si = output(channels);
                    if (relu) {
                        REF.reluBatchNormTrainForward(x.ref(), gamma.ref(), beta.ref(), mm.ref(), mv.ref(), y.ref(), sm.ref(), si.ref(), 0.99, 1e-3);
                        cpu.reluBatchNormTrainForward(x.cpu(), gamma.cpu(), beta.cpu(), mm.cpu(), mv.cpu(), y.cpu(), sm.cpu(), si.cpu(), 0.99, 1e-3);
                    } else {
                        REF.batchNormTrainForward(x.ref(), gamma.ref(), beta.ref(), mm.ref(), mv.ref(), y.ref(), sm.ref(), si.ref(), 0.99, 1e-3);
                        cpu.batchNormTrainForward(x.cpu(), gamma.cpu(), beta.cpu(), mm.cpu(), mv.cpu(), y.cpu(), sm.cpu(), si.cpu(), 0.99, 1e-3);
                    }
                    assertClose(what + " train y", y);
                    assertClose(what + " saved mean", sm);
                    assertClose(what + " saved inv std", si);
                    assertClose(what + " moving mean", mm);
                    assertClose(what + " moving variance", mv);

                    Pair yInfer = output(5, 7, 6, channels);
                    if (relu) {
                        REF.reluBatchNormInferForward(x.ref(), gamma.ref(), beta.ref(), mm.ref(), mv.ref(), yInfer.ref(), 1e-3);
                        cpu.reluBatchNormInferForward(x.cpu(), gamma.cpu(), beta.cpu(), mm.cpu(), mv.cpu(), yInfer.cpu(), 1e-3);
                    } else {
                        REF.batchNormInferForward(x.ref(), gamma.ref(), beta.ref(), mm.ref(), mv.ref(), yInfer.ref(), 1e-3);
                        cpu.batchNormInferForward(x.cpu(), gamma.cpu(), beta.cpu(), mm.cpu(), mv.cpu(), yInfer.cpu(), 1e-3);
                    }
                    assertClose(what + " inference y", yInfer);

                    Pair dy = random(1, 5, 7, 6, channels);
                    Pair dx = output(5, 7, 6, channels), dGamma = output(channels), dBeta = output(channels);
                    if (relu) {
                        REF.reluBatchNormBackward(x.ref(), dy.ref(), gamma.ref(), sm.ref(), si.ref(), dx.ref(), dGamma.ref(), dBeta.ref());
                        cpu.reluBatchNormBackward(x.cpu(), dy.cpu(), gamma.cpu(), sm.cpu(), si.cpu(), dx.cpu(), dGamma.cpu(), dBeta.cpu());
                    } else {
                        REF.batchNormBackward(x.ref(), dy.ref(), gamma.ref(), sm.ref(), si.ref(), dx.ref(), dGamma.ref(), dBeta.ref(), 1e-3);
                        cpu.batchNormBackward(x.cpu(), dy.cpu(), gamma.cpu(), sm.cpu(), si.cpu(), dx.cpu(), dGamma.cpu(), dBeta.cpu(), 1e-3);
                    }
                    assertClose(what + " dx", dx);
                    assertClose(what + " dGamma", dGamma);
                    assertClose(what + " dBeta", dBeta);
                }
            }
        }
    }

    private void addToAll(Pair p, double value) {
        for (int i = 0; i < p.cpu().size(); i++) {
            p.cpu().data()[i] += (float) value;
            p.ref().data()[i] = p.cpu().data()[i];
        }
    }

    @ParameterizedTest @ValueSource(ints = {1, 3})
    void elementwiseOps(int threads) {
        setUp(threads);
        int[] dims = {3, 50, 41, 7};
        Pair x = random(1, dims), dy = random(1, dims), other = random(1, dims);
        check("relu forward", dims, y -> REF.reluForward(x.ref(), y.ref()), y -> cpu.reluForward(x.cpu(), y.cpu()));
        check("relu backward", dims, dx -> REF.reluBackward(x.ref(), dy.ref(), dx.ref()),
                dx -> cpu.reluBackward(x.cpu(), dy.cpu(), dx.cpu()));
        check("add", dims, o -> REF.add(x.ref(), other.ref(), o.ref()), o -> cpu.add(x.cpu(), other.cpu(), o.cpu()));
        check("copy", dims, o -> REF.copy(x.ref(), o.ref()), o -> cpu.copy(x.cpu(), o.cpu()));
        int[] flat = {3, 50 * 41 * 7};
        check("flatten", flat, o -> REF.flatten(x.ref(), o.ref()), o -> cpu.flatten(x.cpu(), o.cpu()));
        Pair flatGradient = random(1, flat);
        check("unflatten", dims, o -> REF.unflatten(flatGradient.ref(), o.ref()),
                o -> cpu.unflatten(flatGradient.cpu(), o.cpu()));
        Pair inPlace = copyOf(x);
        REF.add(inPlace.ref(), other.ref(), inPlace.ref());
        cpu.add(inPlace.cpu(), other.cpu(), inPlace.cpu());
        assertClose("add in place", inPlace);
        Pair filled = output(dims);
        REF.fill(filled.ref(), 0.25f);
        cpu.fill(filled.cpu(), 0.25f);
        assertClose("fill", filled);
    }

    /** Runs one op on both backends into a fresh poisoned output of the given shape and compares. */
    private void check(String what, int[] outputDims, Consumer<Pair> onReference, Consumer<Pair> onCpu) {
        Pair out = output(outputDims);
        onReference.accept(out);
        onCpu.accept(out);
        assertClose(what, out);
    }

    @ParameterizedTest @ValueSource(ints = {1, 3})
    void poolingAndGlobalAverage(int threads) {
        setUp(threads);
        Pair x = random(3, 4, 8, 8, 19);
        ConvGeometry pool4 = ConvGeometry.of(x.cpu().shape(), 4, 4, 19, 4, Padding.VALID);
        ConvGeometry global = ConvGeometry.of(x.cpu().shape(), 8, 8, 19, 1, Padding.VALID);
        check("average pool forward", new int[] {4, 2, 2, 19}, y -> REF.averagePoolForward(x.ref(), y.ref(), pool4),
                y -> cpu.averagePoolForward(x.cpu(), y.cpu(), pool4));
        check("global average forward", new int[] {4, 19}, y -> REF.averagePoolForward(x.ref(), y.ref(), global),
                y -> cpu.averagePoolForward(x.cpu(), y.cpu(), global));
        Pair dy = random(1, 4, 2, 2, 19), dyGlobal = random(1, 4, 19);
        check("average pool backward", new int[] {4, 8, 8, 19}, dx -> REF.averagePoolBackward(dy.ref(), dx.ref(), pool4),
                dx -> cpu.averagePoolBackward(dy.cpu(), dx.cpu(), pool4));
        check("global average backward", new int[] {4, 8, 8, 19},
                dx -> REF.averagePoolBackward(dyGlobal.ref(), dx.ref(), global),
                dx -> cpu.averagePoolBackward(dyGlobal.cpu(), dx.cpu(), global));
    }

    @ParameterizedTest @ValueSource(ints = {1, 3})
    void optionAShortcut(int threads) {
        setUp(threads);
        Pair x = random(1, 3, 8, 8, 16);
        check("subsample channel pad forward", new int[] {3, 4, 4, 32},
                y -> REF.subsampleChannelPadForward(x.ref(), y.ref(), 2, 8),
                y -> cpu.subsampleChannelPadForward(x.cpu(), y.cpu(), 2, 8));
        Pair dy = random(1, 3, 4, 4, 32);
        check("subsample channel pad backward", new int[] {3, 8, 8, 16},
                dx -> REF.subsampleChannelPadBackward(dy.ref(), dx.ref(), 2, 8),
                dx -> cpu.subsampleChannelPadBackward(dy.cpu(), dx.cpu(), 2, 8));
    }

    /** rows x in -> out: the tutorial's narrow head (out under one vector), and a wide layer (two-panel tiles). */
    @ParameterizedTest @CsvSource({"1, 9, 70, 10", "3, 9, 70, 10", "1, 37, 50, 40", "3, 37, 50, 40"})
    void denseForwardAndBackward(int threads, int rows, int in, int out) {
        setUp(threads);
        Pair x = random(1, rows, in), k = random(0.3, in, out), b = random(1, out), dy = random(1, rows, out);
        check("dense forward", new int[] {rows, out}, y -> REF.denseForward(x.ref(), k.ref(), b.ref(), y.ref()),
                y -> cpu.denseForward(x.cpu(), k.cpu(), b.cpu(), y.cpu()));
        Pair dx = output(rows, in), dk = output(in, out), db = output(out);
        REF.denseBackward(x.ref(), k.ref(), dy.ref(), dx.ref(), dk.ref(), db.ref());
        cpu.denseBackward(x.cpu(), k.cpu(), dy.cpu(), dx.cpu(), dk.cpu(), db.cpu());
        assertClose("dense dx", dx);
        assertClose("dense dKernel", dk);
        assertClose("dense dBias", db);
        Pair dk2 = output(in, out), db2 = output(out);
        REF.denseBackward(x.ref(), k.ref(), dy.ref(), null, dk2.ref(), db2.ref());
        cpu.denseBackward(x.cpu(), k.cpu(), dy.cpu(), null, dk2.cpu(), db2.cpu());
        assertClose("dense dKernel without dx", dk2);
    }

    @ParameterizedTest @ValueSource(ints = {1, 3})
    void softmaxAndCrossEntropy(int threads) {
        setUp(threads);
        Pair logits = random(8, 13, 10);
        float[] classes = new float[13];
        for (int i = 0; i < classes.length; i++) classes[i] = random.nextInt(10);
        Pair labels = pair(Shape.of(13), classes);
        Pair dLogits = output(13, 10);
        double[] r = REF.softmaxCrossEntropy(logits.ref(), labels.ref(), dLogits.ref());
        double[] c = cpu.softmaxCrossEntropy(logits.cpu(), labels.cpu(), dLogits.cpu());
        assertEquals(r[0], c[0], 1e-5 * Math.abs(r[0]), "loss sum (seed " + seed + ")");
        assertEquals(r[1], c[1], "correct count (seed " + seed + ")");
        assertClose("dLogits", dLogits);
        double[] withoutGradient = cpu.softmaxCrossEntropy(logits.cpu(), labels.cpu(), null);
        assertEquals(c[0], withoutGradient[0]);
        r = REF.softmaxCrossEntropy(logits.ref(), labels.ref(), dLogits.ref(), 0.1);
        c = cpu.softmaxCrossEntropy(logits.cpu(), labels.cpu(), dLogits.cpu(), 0.1);
        assertEquals(r[0], c[0], 1e-5 * Math.abs(r[0]), "smoothed loss sum (seed " + seed + ")");
        assertEquals(r[1], c[1], "correct count with smoothing (seed " + seed + ")");
        assertClose("smoothed dLogits", dLogits);
        check("softmax", new int[] {13, 10}, p -> REF.softmax(logits.ref(), p.ref()),
                p -> cpu.softmax(logits.cpu(), p.cpu()));
    }

    /** Several parameters of odd sizes, one larger than a task chunk. */
    @ParameterizedTest @ValueSource(ints = {1, 3})
    void optimizerUpdates(int threads) {
        setUp(threads);
        int[] sizes = {7, 40_000, 129};
        Pair[] w = new Pair[3], g = new Pair[3], m = new Pair[3], v = new Pair[3];
        for (int p = 0; p < 3; p++) {
            w[p] = random(1, sizes[p]);
            g[p] = random(0.1, sizes[p]);
            m[p] = random(0.01, sizes[p]);
            v[p] = random(0.01, sizes[p]);
            addToAll(v[p], 0.011);
        }
        REF.adamUpdate(refs(w), refs(g), refs(m), refs(v), 1e-3, 0.9, 0.999, 1e-7);
        cpu.adamUpdate(cpus(w), cpus(g), cpus(m), cpus(v), 1e-3, 0.9, 0.999, 1e-7);
        for (int p = 0; p < 3; p++) {
            assertClose("adam w" + p, w[p]);
            assertClose("adam m" + p, m[p]);
            assertClose("adam v" + p, v[p]);
        }
        REF.sgdUpdate(refs(w), refs(g), refs(m), 0.1, 0.9, 1e-4);
        cpu.sgdUpdate(cpus(w), cpus(g), cpus(m), 0.1, 0.9, 1e-4);
        for (int p = 0; p < 3; p++) {
            assertClose("sgd w" + p, w[p]);
            assertClose("sgd velocity" + p, m[p]);
        }
        REF.sgdUpdate(refs(w), refs(g), refs(m), 0.1, 0.9, 5e-4, true);
        cpu.sgdUpdate(cpus(w), cpus(g), cpus(m), 0.1, 0.9, 5e-4, true);
        for (int p = 0; p < 3; p++) {
            assertClose("nesterov sgd w" + p, w[p]);
            assertClose("nesterov sgd velocity" + p, m[p]);
        }
    }

    private static Tensor[] refs(Pair[] pairs) { return Arrays.stream(pairs).map(Pair::ref).toArray(Tensor[]::new); }

    private static Tensor[] cpus(Pair[] pairs) { return Arrays.stream(pairs).map(Pair::cpu).toArray(Tensor[]::new); }
}
