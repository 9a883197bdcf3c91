package jresnet.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import jresnet.TestData;
import jresnet.backend.cpu.CpuBackend;
import jresnet.data.Cifar10;
import jresnet.data.Dataset;
import jresnet.optim.Adam;
import jresnet.tensor.HostArray;
import jresnet.tensor.Shape;
import jresnet.train.EpochMetrics;
import jresnet.train.Fit;
import org.junit.jupiter.api.Test;

/** The Keras-style surface: Input → layers → Model, compile, Fit.fit, Fit.evaluate, predict. */
class ModelApiTest {
    @Test void compileFitEvaluatePredict() throws Exception {
        LayerNames.reset();
        SymbolicTensor inputs = Input.of(32, 32, 3);
        SymbolicTensor t = new BatchNormalization().apply(inputs);
        t = new Conv2D(4, 3, 2, "same").apply(t);
        t = new BatchNormalization().apply(new ReLU().apply(t));
        SymbolicTensor shortcut = t;
        t = new Conv2D(4, 3, 1, "same").apply(t);
        t = new Add().apply(shortcut, t);
        t = new AveragePooling2D(4).apply(t);
        t = new Flatten().apply(t);
        Model model = new Model(inputs, new Dense(10, "softmax").apply(t));
        assertEquals(List.of("input_1", "batch_normalization", "conv2d", "re_lu", "batch_normalization_1", "conv2d_1",
                "add", "average_pooling2d", "flatten", "dense"), model.nodes().stream().map(n -> n.layer().name()).toList());
        assertThrows(IllegalStateException.class, () -> Fit.fit(model, new CpuBackend(), null, null, 1, 8, 0));
        assertThrows(IllegalArgumentException.class, () -> model.compile(new Adam(), "mse", "accuracy"));
        model.compile(new Adam(), "sparse_categorical_crossentropy", "accuracy");

        Dataset train = Cifar10.training(TestData.cifar10(), 64), test = Cifar10.test(TestData.cifar10(), 32);
        try (CpuBackend backend = new CpuBackend()) {
            float[] before = model.weights().get("conv2d.kernel").data().clone();
            List<EpochMetrics> history = Fit.fit(model, backend, train, test, 2, 16, 1);
            assertEquals(2, history.size());
            assertTrue(Double.isFinite(history.get(1).valAccuracy()));
            assertTrue(!java.util.Arrays.equals(before, model.weights().get("conv2d.kernel").data()), "fit updates the model's weights");
            double[] evaluation = Fit.evaluate(model, backend, test, 16);
            assertEquals(history.get(1).valLoss(), evaluation[0], 1e-6);
            assertEquals(history.get(1).valAccuracy(), evaluation[1], 0);

            float[] images = new float[3 * 32 * 32 * 3];
            for (int i = 0; i < 3; i++) test.copyImageNhwc(i, images, i * 32 * 32 * 3);
            HostArray p = model.predict(backend, new HostArray(Shape.of(3, 32, 32, 3), images), 2);
            assertEquals(Shape.of(3, 10), p.shape());
            try (Executor ex = new Executor(model, backend, 3)) {
                assertArrayEquals(ex.predictBatch(images, 3), p.data(), 1e-6f);
            }
        }
    }

    /** A small compiled model on 32 x 32 x 3 inputs with {@code classes} outputs. */
    private static Model small(int classes, jresnet.optim.Optimizer optimizer) {
        SymbolicTensor inputs = Input.of(32, 32, 3);
        SymbolicTensor t = new Flatten().apply(new AveragePooling2D(8).apply(new Conv2D(2, 3, 1, "same").apply(inputs)));
        Model model = new Model(inputs, new Dense(classes, "softmax").apply(t));
        model.compile(optimizer, "sparse_categorical_crossentropy", "accuracy");
        return model;
    }

    /** As Keras's fit, a second fit goes on from where the optimizer stood; compile starts it again. */
    @Test void aSecondFitGoesOnFromTheOptimizersProgress() {
        // lr 0.1 for the first update, 0 after it: a second fit that restarted the schedule would move the weights
        Model model = small(10, new jresnet.optim.Sgd(new long[] {1}, new double[] {0.1, 0.0}, 0, 0));
        String kernel = model.output().producer().layer().name() + ".kernel";
        Dataset data = jresnet.data.RandomRecords.dataset(16, 3);
        try (CpuBackend backend = new CpuBackend()) {
            float[] before = model.weights().get(kernel).data().clone();
            Fit.fit(model, backend, data, null, 1, 16, 0);
            float[] afterFirst = model.weights().get(kernel).data().clone();
            assertTrue(!java.util.Arrays.equals(before, afterFirst), "the first update moves the weights");
            assertEquals(1, model.optimizerState().iterations());
            Fit.fit(model, backend, data, null, 1, 16, 0);
            assertArrayEquals(afterFirst, model.weights().get(kernel).data(), "lr 0 from the second update on");
            assertEquals(2, model.optimizerState().iterations());

            model.compile(new jresnet.optim.Sgd(new long[] {1}, new double[] {0.1, 0.0}, 0, 0), "sparse_categorical_crossentropy");
            assertEquals(null, model.optimizerState());
            Fit.fit(model, backend, data, null, 1, 16, 0);
            assertTrue(!java.util.Arrays.equals(afterFirst, model.weights().get(kernel).data()), "compile starts again");
        }
    }

    /** Datasets hold CIFAR-10 records: a model of another input shape, or too few outputs for a label, is refused in words. */
    @Test void fitAndEvaluateRefuseModelsTheDataDoesNotFit() {
        Dataset data = jresnet.data.RandomRecords.dataset(8, 5);
        try (CpuBackend backend = new CpuBackend()) {
            SymbolicTensor gray = Input.of(32, 32, 1);
            Model grayModel = new Model(gray, new Dense(10, "softmax").apply(new Flatten().apply(new AveragePooling2D(8).apply(gray))), "gray");
            grayModel.compile(new Adam(), "sparse_categorical_crossentropy", "accuracy");
            IllegalArgumentException shape = assertThrows(IllegalArgumentException.class, () -> Fit.fit(grayModel, backend, data, null, 1, 4, 0));
            assertEquals("model gray takes inputs of shape (32, 32, 1), but the training images are (32, 32, 3)", shape.getMessage());

            Model five = small(5, new Adam());
            int label = java.util.stream.IntStream.range(0, data.size()).filter(i -> data.label(i) >= 5).findFirst().orElseThrow();
            IllegalArgumentException classes = assertThrows(IllegalArgumentException.class, () -> Fit.evaluate(five, backend, data, 4));
            assertEquals("label " + data.label(label) + " of evaluated record " + label + " is outside 0..4: model model has 5 outputs",
                    classes.getMessage());
            Model ten = small(10, new Adam());
            assertEquals("the batch size must be at least 1, got 0",
                    assertThrows(IllegalArgumentException.class, () -> Fit.fit(ten, backend, data, null, 1, 0, 0)).getMessage());
            assertEquals("fit needs training images; the dataset is empty", assertThrows(IllegalArgumentException.class,
                    () -> Fit.fit(ten, backend, Dataset.ofRecords(new byte[0]), null, 1, 4, 0)).getMessage());
            assertThrows(IllegalArgumentException.class, () -> Fit.fit(ten, backend, data, null, -1, 4, 0));
        }
    }

    /** A closed CPU backend refuses work instead of waiting for worker threads that have ended. */
    @Test void aClosedCpuBackendRefusesWork() {
        Model model = small(10, new Adam());
        CpuBackend backend = new CpuBackend(2);
        backend.close();
        HostArray images = new HostArray(Shape.of(8, 32, 32, 3), new float[8 * 32 * 32 * 3]);
        IllegalStateException closed = assertThrows(IllegalStateException.class, () -> model.predict(backend, images, 8));
        assertEquals("the CPU backend is closed; open a new one", closed.getMessage());
    }

    /** A model builder counts its layer names from zero, and leaves the counters of a graph being built as they were. */
    @Test void aModelBuilderLeavesTheUsersNameCountersAsTheyWere() {
        LayerNames.reset();
        SymbolicTensor x = Input.of(32, 32, 3);
        for (int k = 0; k < 3; k++) x = new Conv2D(2, 3, 1, "same").apply(x);
        Model built = jresnet.models.ModelZoo.create("tutorial-resnet-1-w2");
        assertEquals("conv2d", built.nodes().stream().map(n -> n.layer().name()).filter(n -> n.startsWith("conv2d")).findFirst().orElseThrow());
        Conv2D next = new Conv2D(2, 3, 1, "same");
        x = next.apply(x);
        assertEquals("conv2d_3", next.name());
    }

    /** One layer object applied in two places would need shared weights, which a model does not have: said so. */
    @Test void aLayerAppliedTwiceIsNamedAsShared() {
        SymbolicTensor in = Input.of(32, 32, 3);
        Dense hidden = new Dense(4, null);
        SymbolicTensor twice = hidden.apply(hidden.apply(new Flatten().apply(in)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Model(in, new Dense(2, "softmax").apply(twice)));
        assertTrue(e.getMessage().startsWith("layer " + hidden.name() + " is applied twice in this graph; sharing a layer"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new AveragePooling2D(0));
        assertThrows(IllegalArgumentException.class, () -> new Conv2D(4, 3, 1, (String) null));
        assertThrows(IllegalArgumentException.class, () -> new BatchNormalization(-1, 1e-3, null));
        assertThrows(IllegalArgumentException.class, () -> new Adam(-1, 0.9, 0.999, 1e-7));
        assertThrows(IllegalArgumentException.class, () -> new Flatten().apply((SymbolicTensor) null));
    }

    /** Keras's shorter constructors: Conv2D(filters, kernel_size) is stride 1, "valid"; Dense(units) is linear. */
    @Test void kerasDefaultConstructors() {
        SymbolicTensor in = Input.of(7, 9, 3);
        SymbolicTensor conv = new Conv2D(4, 3).apply(in);
        assertEquals(Shape.of(5, 7, 4), conv.shape());
        Dense linear = new Dense(6);
        assertEquals(false, linear.softmax());
        assertEquals(Shape.of(6), linear.apply(new Flatten().apply(conv)).shape());
    }

    /** A batch larger than the images is cut to them; one no array can hold is refused with the largest that fits. */
    @Test void predictCutsItsBatchToTheImagesAndRefusesBatchesItCannotHold() {
        Model model = jresnet.models.TutorialNets.resnet(new int[] {1}, 4, 4, "tiny");
        HostArray images = new HostArray(Shape.of(1, 32, 32, 3), new float[32 * 32 * 3]);
        try (CpuBackend backend = new CpuBackend()) {
            assertEquals(Shape.of(1, 10), model.predict(backend, images, 600_000).shape());
            IllegalArgumentException tooLarge = assertThrows(IllegalArgumentException.class, () -> new Executor(model, backend, 600_000));
            assertEquals("a batch of 600000 is too large for tiny: its largest tensor would hold 2457600000 values, more than one "
                    + "array can (2147483647); use a batch of at most 524287", tooLarge.getMessage());
            assertThrows(IllegalArgumentException.class, () -> model.predict(backend, images, 0));
        }
    }
}
