package jresnet.export;

import static jresnet.export.OnnxGraph.integer;
import static jresnet.export.OnnxGraph.ints;
import static jresnet.export.OnnxGraph.real;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import jresnet.UserException;
import jresnet.backend.ConvGeometry;
import jresnet.nn.Add;
import jresnet.nn.AveragePooling2D;
import jresnet.nn.BatchNormalization;
import jresnet.nn.Conv2D;
import jresnet.nn.Dense;
import jresnet.nn.Flatten;
import jresnet.nn.GlobalAveragePooling2D;
import jresnet.nn.Layer;
import jresnet.nn.Node;
import jresnet.nn.ReLU;
import jresnet.nn.SubsampleChannelPad;
import jresnet.tensor.HostArray;
import jresnet.tensor.Shape;

/**
 * One ONNX emitter per layer type. Layout convention: a Keras (h, w, c) tensor is held in the graph
 * as NCHW [N, c, h, w] (what ONNX's Conv and pooling take), a Keras (f) tensor as [N, f]. Each
 * emitter names its main node after the Keras layer and its helper nodes and constants
 * "layer/what"; weights keep their Keras names.
 */
final class LayerEmitters {
    /** What an emitter writes into: the graph, and the model's weights by Keras name. */
    record Target(OnnxGraph graph, Map<String, HostArray> weights) {
        float[] weight(Layer layer, String suffix) { return weights.get(layer.name() + "." + suffix).data(); }
    }

    /** Writes one application of a layer; returns the value holding its output, which it names {@code output}. */
    @FunctionalInterface
    interface Emitter<L extends Layer> {
        String emit(L layer, Node node, List<String> inputs, String output, Target target);
    }

    private static final Map<Class<? extends Layer>, Emitter<?>> BY_TYPE = new HashMap<>();

    static {
        register(ReLU.class, (layer, node, in, out, t) -> t.graph().node("Relu", layer.name(), in, out));
        register(Add.class, (layer, node, in, out, t) -> t.graph().node("Add", layer.name(), in, out));
        register(Conv2D.class, LayerEmitters::conv);
        register(BatchNormalization.class, LayerEmitters::batchNormalization);
        register(AveragePooling2D.class, LayerEmitters::averagePooling);
        register(GlobalAveragePooling2D.class, LayerEmitters::globalAveragePooling);
        register(SubsampleChannelPad.class, LayerEmitters::subsampleChannelPad);
        register(Flatten.class, LayerEmitters::flatten);
        register(Dense.class, LayerEmitters::dense);
    }

    private LayerEmitters() {}

    private static <L extends Layer> void register(Class<L> type, Emitter<L> emitter) { BY_TYPE.put(type, emitter); }

    @SuppressWarnings("unchecked")
    static String emit(Node node, List<String> inputs, String output, Target target) {
        Emitter<Layer> emitter = (Emitter<Layer>) BY_TYPE.get(node.layer().getClass());
        if (emitter == null) {
            throw new UserException("layer " + node.layer().name() + " (" + node.layer().kerasClassName()
                    + ") has no ONNX export yet");
        }
        return emitter.emit(node.layer(), node, inputs, output, target);
    }

    /** Conv with TensorFlow's "same"/"valid" padding as explicit (possibly asymmetric) pads; kernel HWIO → OIHW. */
    private static String conv(Conv2D layer, Node node, List<String> in, String out, Target t) {
        ConvGeometry g = layer.geometry(node.inputs().get(0).shape().withBatch(1));
        float[] hwio = t.weight(layer, "kernel"), oihw = new float[hwio.length];
        for (int o = 0; o < g.outC(); o++)
            for (int i = 0; i < g.inC(); i++)
                for (int y = 0; y < g.kernelH(); y++)
                    for (int x = 0; x < g.kernelW(); x++)
                        oihw[((o * g.inC() + i) * g.kernelH() + y) * g.kernelW() + x] =
                                hwio[((y * g.kernelW() + x) * g.inC() + i) * g.outC() + o];
        List<String> inputs = new ArrayList<>(List.of(in.get(0),
                t.graph().floats(layer.name() + ".kernel", new int[] {g.outC(), g.inC(), g.kernelH(), g.kernelW()}, oihw)));
        if (layer.useBias()) inputs.add(t.graph().floats(layer.name() + ".bias", new int[] {g.outC()}, t.weight(layer, "bias")));
        return t.graph().node("Conv", layer.name(), inputs, out,
                ints("kernel_shape", g.kernelH(), g.kernelW()),
                ints("strides", g.strideH(), g.strideW()),
                ints("pads", g.padTop(), g.padLeft(), g.padBottom(), g.padRight()),
                ints("dilations", 1, 1));
    }

    /** Inference BatchNormalization over axis 1 (channels of NCHW, features of [N, f]) with the moving statistics. */
    private static String batchNormalization(BatchNormalization layer, Node node, List<String> in, String out, Target t) {
        int[] channels = {node.inputs().get(0).shape().dim(-1)};
        List<String> inputs = new ArrayList<>(List.of(in.get(0)));
        for (String suffix : List.of("gamma", "beta", "moving_mean", "moving_variance")) {
            inputs.add(t.graph().floats(layer.name() + "." + suffix, channels, t.weight(layer, suffix)));
        }
        return t.graph().node("BatchNormalization", layer.name(), inputs, out, real("epsilon", (float) layer.epsilon()));
    }

    /** Keras's valid-padding average pool: no pads, so every window averages pool² real pixels. */
    private static String averagePooling(AveragePooling2D layer, Node node, List<String> in, String out, Target t) {
        return t.graph().node("AveragePool", layer.name(), in, out,
                ints("kernel_shape", layer.poolSize(), layer.poolSize()), ints("strides", layer.strides(), layer.strides()));
    }

    /** GlobalAveragePool gives [N, c, 1, 1]; Flatten makes it Keras's (c). */
    private static String globalAveragePooling(GlobalAveragePooling2D layer, Node node, List<String> in, String out, Target t) {
        String pooled = t.graph().node("GlobalAveragePool", layer.name(), in, layer.name() + "/pooled");
        return t.graph().node("Flatten", layer.name() + "/flatten", List.of(pooled), out, integer("axis", 1));
    }

    /** Option A: every stride-th pixel (a strided Slice), then zero channels before and after (a channel Pad). */
    private static String subsampleChannelPad(SubsampleChannelPad layer, Node node, List<String> in, String out, Target t) {
        Shape input = node.inputs().get(0).shape();
        String name = layer.name();
        OnnxGraph g = t.graph();
        String subsampled = g.node("Slice", name + "/subsample", List.of(in.get(0),
                g.int64s(name + "/starts", 0, 0), g.int64s(name + "/ends", input.dim(0), input.dim(1)),
                g.int64s(name + "/axes", 2, 3), g.int64s(name + "/steps", layer.stride(), layer.stride())),
                name + "/subsampled");
        long before = layer.padBefore(input), after = layer.channels() - input.dim(2) - before;
        return g.node("Pad", name, List.of(subsampled, g.int64s(name + "/pads", 0, before, 0, 0, 0, after, 0, 0)), out);
    }

    /** Keras flattens channels-last: an NCHW input goes back to NHWC first, so Dense kernels keep their row order. */
    private static String flatten(Flatten layer, Node node, List<String> in, String out, Target t) {
        String x = in.get(0);
        if (node.inputs().get(0).shape().rank() == 3) {
            x = t.graph().node("Transpose", layer.name() + "/to_nhwc", List.of(x), layer.name() + "/nhwc", ints("perm", 0, 2, 3, 1));
        }
        return t.graph().node("Flatten", layer.name(), List.of(x), out, integer("axis", 1));
    }

    /** Gemm with the Keras kernel [in, units] as B as it is; a softmax Dense adds Softmax over the units. */
    private static String dense(Dense layer, Node node, List<String> in, String out, Target t) {
        int inputs = node.inputs().get(0).shape().dim(0), units = node.output().shape().dim(0);
        OnnxGraph g = t.graph();
        List<String> operands = List.of(in.get(0), g.floats(layer.name() + ".kernel", new int[] {inputs, units}, t.weight(layer, "kernel")),
                g.floats(layer.name() + ".bias", new int[] {units}, t.weight(layer, "bias")));
        if (!layer.softmax()) return g.node("Gemm", layer.name(), operands, out);
        String logits = g.node("Gemm", layer.name(), operands, layer.name() + "/logits");
        return g.node("Softmax", layer.name() + "/softmax", List.of(logits), out, integer("axis", 1));
    }
}
