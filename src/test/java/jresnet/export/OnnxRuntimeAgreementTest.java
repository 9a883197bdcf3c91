package jresnet.export;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.OrtSession.SessionOptions.OptLevel;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import jresnet.TestData;
import jresnet.backend.reference.ReferenceBackend;
import jresnet.data.BatchTransform;
import jresnet.data.Cifar10;
import jresnet.data.Dataset;
import jresnet.models.ModelZoo;
import jresnet.nn.Model;
import jresnet.tensor.HostArray;
import jresnet.train.Recipe;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * ONNX Runtime, run on the exported graph, against jresnet's predict on the reference backend (the
 * oracle, float64): same probabilities within 1e-5 on real CIFAR-10 test images, for a batch of 7
 * and the first of them alone (the batch axis is dynamic), with ONNX Runtime's graph optimizations off (each node as
 * exported) and fully on (fusions such as Conv+BatchNormalization must not change results).
 * resnet30 and plain30 take raw pixels (keras recipe); resnet20 and resnet56 carry the he2015 pixel
 * mean, subtracted inside the graph.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OnnxRuntimeAgreementTest {
    static final double TOLERANCE = 1e-5;
    private static final int BATCH = 7, CALIBRATION_IMAGES = 4;

    /** One model's export and the reference's probabilities for the test images. */
    record Case(byte[] onnx, HostArray images, HostArray reference) {}

    private final Map<String, Case> cases = new HashMap<>();

    @ParameterizedTest
    @ValueSource(strings = {"resnet30", "plain30", "resnet20", "resnet56"})
    void agreesWithTheReferenceBackendWithoutGraphOptimizations(String model) throws Exception {
        assertAgreement(prepare(model), OptLevel.NO_OPT);
    }

    @ParameterizedTest
    @ValueSource(strings = {"resnet30", "plain30", "resnet20", "resnet56"})
    void agreesWithTheReferenceBackendWithEveryGraphOptimization(String model) throws Exception {
        assertAgreement(prepare(model), OptLevel.ALL_OPT);
    }

    private static void assertAgreement(Case c, OptLevel level) throws OrtException {
        float[] expected = c.reference().data();
        float[][] batch = run(c.onnx(), level, c.images(), 0, BATCH);
        float[][] single = run(c.onnx(), level, c.images(), 0, 1);
        assertEquals(BATCH, batch.length);
        assertEquals(1, single.length);
        assertClose(expected, 0, single[0], level + ", batch of 1");
        for (int i = 0; i < BATCH; i++) assertClose(expected, i, batch[i], level + ", image " + i + " of a batch of " + BATCH);
    }

    private static void assertClose(float[] expected, int image, float[] actual, String what) {
        assertEquals(10, actual.length, what);
        for (int k = 0; k < 10; k++) {
            double difference = Math.abs(actual[k] - expected[image * 10 + k]);
            assertTrue(difference <= TOLERANCE, what + ": class " + k + " differs by " + difference);
        }
    }

    static float[][] run(byte[] onnx, OptLevel level, HostArray images, int from, int n) throws OrtException {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        int image = Dataset.IMAGE_BYTES;
        float[] pixels = Arrays.copyOfRange(images.data(), from * image, (from + n) * image);
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setOptimizationLevel(level);
            try (OrtSession session = env.createSession(onnx, options);
                 OnnxTensor input = OnnxTensor.createTensor(env, FloatBuffer.wrap(pixels), new long[] {n, 32, 32, 3});
                 OrtSession.Result result = session.run(Map.of(OnnxExport.INPUT, input))) {
                return (float[][]) result.get(OnnxExport.OUTPUT).orElseThrow().getValue();
            }
        }
    }

    private Case prepare(String name) throws IOException {
        Case c = cases.get(name);
        if (c == null) {
            c = build(name, 1);
            cases.put(name, c);
        }
        return c;
    }

    /**
     * Exports {@code name} with stand-in trained weights and predicts the first test images with the
     * reference backend, preprocessed exactly as {@code jresnet predict} does.
     */
    static Case build(String name, long seed) throws IOException {
        Path data = TestData.cifar10();
        Model model = ModelZoo.create(name);
        Recipe recipe = Recipe.defaultFor(name);
        Map<String, String> metadata = new LinkedHashMap<>(recipe.inferenceMetadata(Cifar10.training(data, 1000)));
        metadata.put(Recipe.METADATA_KEY, recipe.cliName());
        Dataset test = Cifar10.test(data, BATCH + CALIBRATION_IMAGES);
        HostArray images = TrainedStandIn.images(test, 0, BATCH);
        TrainedStandIn.randomize(model, seed, preprocessed(TrainedStandIn.images(test, BATCH, CALIBRATION_IMAGES), metadata));
        byte[] onnx = OnnxExport.build(model, metadata, name, Cifar10.classNames(data), OnnxExport.DEFAULT_OPSET).toByteArray();
        HostArray reference;
        try (ReferenceBackend backend = new ReferenceBackend()) {
            reference = model.predict(backend, preprocessed(images, metadata), BATCH);
        }
        assertInformative(reference, name);
        return new Case(onnx, images, reference);
    }

    static HostArray preprocessed(HostArray images, Map<String, String> metadata) {
        HostArray copy = new HostArray(images.shape(), images.data().clone());
        BatchTransform transform = Recipe.inferenceTransform(metadata, "test metadata");
        if (transform != null) transform.apply(copy.data(), copy.shape().dim(0), null);
        return copy;
    }

    /**
     * Softmax outputs all near 0 or 1 would agree even for a wrong graph, and so would nearly uniform
     * ones: the stand-in weights must give confident but not saturated predictions.
     */
    private static void assertInformative(HostArray probabilities, String model) {
        int rows = probabilities.shape().dim(0), classes = probabilities.shape().dim(1);
        double meanTop = 0;
        for (int i = 0; i < rows; i++) {
            double top = 0;
            for (int k = 0; k < classes; k++) top = Math.max(top, probabilities.data()[i * classes + k]);
            meanTop += top / rows;
        }
        assertTrue(meanTop > 0.15 && meanTop < 0.95, model + ": the stand-in weights give a mean top probability of " + meanTop);
    }
}
