package jresnet.export;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.OrtSession.SessionOptions.OptLevel;
import ai.onnxruntime.TensorInfo;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import jresnet.TestData;
import jresnet.UserException;
import jresnet.Version;
import jresnet.backend.reference.ReferenceBackend;
import jresnet.data.Cifar10;
import jresnet.export.proto.Onnx.AttributeProto;
import jresnet.export.proto.Onnx.ModelProto;
import jresnet.export.proto.Onnx.NodeProto;
import jresnet.export.proto.Onnx.StringStringEntryProto;
import jresnet.export.proto.Onnx.TensorShapeProto;
import jresnet.export.proto.Onnx.ValueInfoProto;
import jresnet.io.Json;
import jresnet.models.ModelZoo;
import jresnet.nn.Dense;
import jresnet.nn.Flatten;
import jresnet.nn.Input;
import jresnet.nn.Model;
import jresnet.tensor.HostArray;
import jresnet.train.Recipe;
import org.junit.jupiter.api.Test;

/** The exported graph's contract (names, types, metadata, padding, epsilon) and every opset the exporter offers. */
class OnnxExportTest {
    private static final String TINY = "tutorial-resnet-1.1-w8";

    private static Map<String, String> he2015Metadata(Path data) throws Exception {
        Map<String, String> metadata = new LinkedHashMap<>(Recipe.HE2015.inferenceMetadata(Cifar10.training(data, 500)));
        metadata.put(Recipe.METADATA_KEY, "he2015");
        return metadata;
    }

    @Test
    void heNetGraphFollowsTheContract() throws Exception {
        Path data = TestData.cifar10();
        Model model = ModelZoo.create("resnet20");
        List<String> classes = Cifar10.classNames(data);
        ModelProto onnx = ModelProto.parseFrom(OnnxExport.build(model, he2015Metadata(data), "w", classes, 17).toByteArray());

        assertEquals(8, onnx.getIrVersion());
        assertEquals(1, onnx.getOpsetImportCount());
        assertEquals("", onnx.getOpsetImport(0).getDomain());
        assertEquals(17, onnx.getOpsetImport(0).getVersion());
        assertEquals("jresnet", onnx.getProducerName());
        assertTensorType(onnx.getGraph().getInputList(), "images", 32, 32, 3);
        assertTensorType(onnx.getGraph().getOutputList(), "probabilities", 10);
        assertEquals(Map.of("jresnet_version", Version.current(), "model", "resnet20", "recipe", "he2015",
                "class_names", Json.compact(classes), "pixel_mean_in_graph", "true"), metadata(onnx));

        List<NodeProto> nodes = onnx.getGraph().getNodeList();
        assertEquals("Sub", nodes.get(0).getOpType());
        assertEquals(List.of("images", "pixel_mean"), nodes.get(0).getInputList());
        assertEquals("Transpose", nodes.get(1).getOpType());
        assertEquals(List.of(0L, 3L, 1L, 2L), ints(nodes.get(1), "perm"));
        assertEquals(1, count(nodes, "Transpose"), "one transpose to NCHW and none back: global pooling keeps channel order");
        assertEquals(Set.of("Sub", "Transpose", "Conv", "BatchNormalization", "Relu", "Add", "Slice", "Pad",
                "GlobalAveragePool", "Flatten", "Gemm", "Softmax"), nodes.stream().map(NodeProto::getOpType).collect(Collectors.toSet()));
        assertEquals(2, count(nodes, "Slice"), "option-A shortcuts where the two later stages halve the size");
        assertEquals(2, count(nodes, "Pad"));
        assertEquals("probabilities", nodes.get(nodes.size() - 1).getOutput(0));

        for (NodeProto conv : nodes.stream().filter(n -> n.getOpType().equals("Conv")).toList()) {
            // TensorFlow "same": stride 1 pads one pixel each side; stride 2 on an even size pads only the bottom and right
            List<Long> expected = ints(conv, "strides").get(0) == 2 ? List.of(0L, 0L, 1L, 1L) : List.of(1L, 1L, 1L, 1L);
            assertEquals(expected, ints(conv, "pads"), conv.getName());
        }
        for (NodeProto bn : nodes.stream().filter(n -> n.getOpType().equals("BatchNormalization")).toList()) {
            assertEquals(1e-3f, attribute(bn, "epsilon").getF(), bn.getName());
            assertEquals(5, bn.getInputCount());
        }
    }

    @Test
    void rawPixelModelHasNoMeanAndFlattensInKerasOrder() throws Exception {
        Path data = TestData.cifar10();
        ModelProto onnx = OnnxExport.build(ModelZoo.create(TINY), Map.of(), "w", Cifar10.classNames(data), 17);
        List<NodeProto> nodes = onnx.getGraph().getNodeList();
        assertEquals(0, count(nodes, "Sub"));
        assertEquals("Transpose", nodes.get(0).getOpType());
        assertEquals("images", nodes.get(0).getInput(0));
        assertEquals("keras", metadata(onnx).get("recipe"));
        assertEquals("false", metadata(onnx).get("pixel_mean_in_graph"));
        NodeProto flatten = nodes.stream().filter(n -> n.getOpType().equals("Flatten")).findFirst().orElseThrow();
        NodeProto back = nodes.stream().filter(n -> n.getOutput(0).equals(flatten.getInput(0))).findFirst().orElseThrow();
        assertEquals("Transpose", back.getOpType());
        assertEquals(List.of(0L, 2L, 3L, 1L), ints(back, "perm"));
    }

    @Test
    void everyOfferedOpsetRunsInOnnxRuntimeWithTheSameResults() throws Exception {
        assertTrue(OnnxExport.build(ModelZoo.create("resnet20"), Recipe.FAST.inferenceMetadata(Cifar10.training(TestData.cifar10(), 100)),
                "w", Cifar10.classNames(TestData.cifar10()), 17).getGraph().getNodeList().stream().anyMatch(n -> n.getOpType().equals("Mul")));
        Path data = TestData.cifar10();
        for (String name : List.of(TINY, "resnet20")) {
            Model model = ModelZoo.create(name);
            // the fast recipe's normalisation: a mean image, then a scale per channel
            Map<String, String> metadata = name.equals(TINY) ? Map.of() : Recipe.FAST.inferenceMetadata(Cifar10.training(data, 500));
            HostArray images = TrainedStandIn.images(Cifar10.test(data, 6), 0, 2);
            TrainedStandIn.randomize(model, 7, OnnxRuntimeAgreementTest.preprocessed(TrainedStandIn.images(Cifar10.test(data, 6), 2, 4), metadata));
            HostArray reference;
            try (ReferenceBackend backend = new ReferenceBackend()) {
                reference = model.predict(backend, OnnxRuntimeAgreementTest.preprocessed(images, metadata), 2);
            }
            for (int opset = OnnxExport.MIN_OPSET; opset <= OnnxExport.MAX_OPSET; opset++) {
                ModelProto onnx = OnnxExport.build(model, metadata, "w", Cifar10.classNames(data), opset);
                assertEquals(opset, onnx.getOpsetImport(0).getVersion());
                float[][] p = OnnxRuntimeAgreementTest.run(onnx.toByteArray(), OptLevel.NO_OPT, images, 0, 2);
                for (int i = 0; i < 2; i++) {
                    for (int k = 0; k < 10; k++) {
                        double difference = Math.abs(p[i][k] - reference.data()[i * 10 + k]);
                        assertTrue(difference <= OnnxRuntimeAgreementTest.TOLERANCE, name + " opset " + opset + ": " + difference);
                    }
                }
            }
        }
    }

    @Test
    void onnxRuntimeSeesTheContract() throws Exception {
        Path data = TestData.cifar10();
        byte[] onnx = OnnxExport.build(ModelZoo.create(TINY), Map.of(), "w", Cifar10.classNames(data), 17).toByteArray();
        try (OrtSession session = OrtEnvironment.getEnvironment().createSession(onnx)) {
            assertEquals(Set.of("images"), session.getInputNames());
            assertEquals(Set.of("probabilities"), session.getOutputNames());
            assertEquals("[-1, 32, 32, 3]", Arrays.toString(((TensorInfo) session.getInputInfo().get("images").getInfo()).getShape()));
            assertEquals("[-1, 10]", Arrays.toString(((TensorInfo) session.getOutputInfo().get("probabilities").getInfo()).getShape()));
            assertEquals("jresnet", session.getMetadata().getProducerName());
            assertEquals(Json.compact(Cifar10.classNames(data)), session.getMetadata().getCustomMetadataValue("class_names").orElseThrow());
            assertEquals(TINY, session.getMetadata().getCustomMetadataValue("model").orElseThrow());
        }
    }

    @Test
    void refusesWhatTheContractCannotHold() throws Exception {
        List<String> classes = Cifar10.classNames(TestData.cifar10());
        var input = Input.of(32, 32, 3);
        Model logits = new Model(input, new Dense(10, null).apply(new Flatten().apply(input)), "logits");
        UserException noSoftmax = assertThrows(UserException.class, () -> OnnxExport.build(logits, Map.of(), "w", classes, 17));
        assertTrue(noSoftmax.getMessage().contains("does not end in a softmax"), noSoftmax.getMessage());

        Model tiny = ModelZoo.create(TINY);
        UserException names = assertThrows(UserException.class, () -> OnnxExport.build(tiny, Map.of(), "w", classes.subList(0, 9), 17));
        assertEquals("batches.meta.txt names 9 classes, model " + TINY + " has 10 outputs", names.getMessage());

        assertThrows(IllegalArgumentException.class, () -> OnnxExport.build(tiny, Map.of(), "w", classes, OnnxExport.MIN_OPSET - 1));
        assertThrows(IllegalArgumentException.class, () -> OnnxExport.build(tiny, Map.of(), "w", classes, OnnxExport.MAX_OPSET + 1));
        UserException recipe = assertThrows(UserException.class,
                () -> OnnxExport.build(tiny, Map.of("recipe", "sgd9000"), "w.safetensors", classes, 17));
        assertEquals("w.safetensors: metadata 'recipe' names an unknown recipe 'sgd9000'", recipe.getMessage());
        assertFalse(OnnxExport.build(tiny, Map.of(), "w", classes, 17).getGraph().getInitializerList().isEmpty());
    }

    private static void assertTensorType(List<ValueInfoProto> values, String name, int... perSample) {
        assertEquals(1, values.size());
        ValueInfoProto v = values.get(0);
        assertEquals(name, v.getName());
        assertEquals(1, v.getType().getTensorType().getElemType(), "float32");
        List<TensorShapeProto.Dimension> dims = v.getType().getTensorType().getShape().getDimList();
        assertEquals(perSample.length + 1, dims.size());
        assertEquals("N", dims.get(0).getDimParam());
        for (int i = 0; i < perSample.length; i++) assertEquals(perSample[i], dims.get(i + 1).getDimValue());
    }

    private static Map<String, String> metadata(ModelProto onnx) {
        return onnx.getMetadataPropsList().stream()
                .collect(Collectors.toMap(StringStringEntryProto::getKey, StringStringEntryProto::getValue));
    }

    private static long count(List<NodeProto> nodes, String opType) {
        return nodes.stream().filter(n -> n.getOpType().equals(opType)).count();
    }

    private static AttributeProto attribute(NodeProto node, String name) {
        return node.getAttributeList().stream().filter(a -> a.getName().equals(name)).findFirst().orElseThrow();
    }

    private static List<Long> ints(NodeProto node, String name) { return attribute(node, name).getIntsList(); }
}
