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

    @Test void predictRefusesBatchSizesItCannotHold() {
        Model model = jresnet.models.TutorialNets.resnet(new int[] {1}, 4, 4, "tiny");
        HostArray images = new HostArray(Shape.of(1, 32, 32, 3), new float[32 * 32 * 3]);
        try (CpuBackend backend = new CpuBackend()) {
            IllegalArgumentException tooLarge = assertThrows(IllegalArgumentException.class, () -> model.predict(backend, images, 600_000));
            assertEquals("a batch of 600000 is too large for tiny: its largest tensor would hold 2457600000 values, more than one "
                    + "array can (2147483647); use a batch of at most 524287", tooLarge.getMessage());
            assertThrows(IllegalArgumentException.class, () -> model.predict(backend, images, 0));
        }
    }
}
