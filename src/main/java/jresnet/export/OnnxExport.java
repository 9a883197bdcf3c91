package jresnet.export;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import jresnet.UserException;
import jresnet.Version;
import jresnet.data.Cifar10;
import jresnet.data.DataLocator;
import jresnet.data.HeAugmentation;
import jresnet.export.proto.Onnx.ModelProto;
import jresnet.export.proto.Onnx.OperatorSetIdProto;
import jresnet.export.proto.Onnx.StringStringEntryProto;
import jresnet.io.AtomicFiles;
import jresnet.io.FileErrors;
import jresnet.io.Json;
import jresnet.io.Safetensors;
import jresnet.models.ModelZoo;
import jresnet.nn.InputLayer;
import jresnet.nn.Model;
import jresnet.nn.Node;
import jresnet.nn.SymbolicTensor;
import jresnet.tensor.Shape;
import jresnet.train.Recipe;

/**
 * A trained model as an ONNX file that takes what {@code predict} takes and returns what it
 * returns: input {@value #INPUT}, float32 [N, 32, 32, 3] NHWC raw 0..255 pixels; output
 * {@value #OUTPUT}, float32 [N, classes]. The inference preprocessing recorded with the weights (the
 * he2015 per-pixel mean) is part of the graph; then one Transpose to NCHW and one or a few nodes per
 * layer (see {@link LayerEmitters}), found by walking the model's graph, so any model built from
 * these layers exports.
 */
public final class OnnxExport {
    public static final String INPUT = "images", OUTPUT = "probabilities", BATCH = "N";
    public static final int DEFAULT_OPSET = 17, MIN_OPSET = 13, MAX_OPSET = 23;
    /** Metadata keys of the exported model. */
    public static final String VERSION_KEY = "jresnet_version", MODEL_KEY = "model", RECIPE_KEY = "recipe",
            CLASS_NAMES_KEY = "class_names", PIXEL_MEAN_KEY = "pixel_mean_in_graph";

    private OnnxExport() {}

    /** What {@code jresnet export} was asked for. {@code dataFlag} (may be null) locates batches.meta.txt. */
    public record Request(String model, Path weights, Path output, int opset, boolean overwrite, String dataFlag) {}

    /**
     * Checks the request, builds the graph and writes it atomically: a failure leaves no file and no
     * existing file changed. Returns one line saying what was written.
     */
    public static String run(Request r) throws IOException {
        Model model = ModelZoo.create(r.model());
        checkOutput(r.output(), r.overwrite());
        Safetensors.File weights = Safetensors.read(r.weights());
        ModelZoo.requireWeightsOf(model, weights.metadata(), r.weights().toString());
        model.setWeights(weights.tensors(), r.weights().toString());
        Path data = DataLocator.findWithoutDownload(r.dataFlag());
        List<String> classNames = data == null ? Cifar10.OFFICIAL_CLASS_NAMES : Cifar10.classNames(data);
        ModelProto onnx = build(model, weights.metadata(), r.weights().toString(), classNames, r.opset());
        write(onnx, r.output());
        boolean mean = weights.metadata().containsKey(Recipe.PIXEL_MEAN);
        return String.format(Locale.ROOT, "wrote %s: %s, ONNX opset %d, %,d parameters%s; %s %s -> %s %s", r.output(),
                model.name(), r.opset(), model.countParams(), mean ? ", the pixel mean subtracted in the graph" : "",
                INPUT, dims(model.input().shape()), OUTPUT, dims(model.output().shape()));
    }

    /**
     * Without overwrite the output may not exist, and its folder must exist and be writable: refused
     * before any work, so nothing the user made is replaced by accident. (The command line has already
     * refused an output that is the weights file or a folder.)
     */
    static void checkOutput(Path output, boolean overwrite) {
        if (Files.exists(output) && !overwrite) {
            throw new UserException("--output " + output + " already exists; pass --overwrite to replace it");
        }
        AtomicFiles.requireWritableFolder("--output", output);
    }

    /** Writes the model through a temporary sibling renamed into place. */
    static void write(ModelProto onnx, Path output) {
        try {
            AtomicFiles.write(output, onnx::writeTo);
        } catch (IOException e) {
            throw new UserException("--output " + output + ": cannot write it (" + FileErrors.reason(e) + ")", e);
        }
    }

    /**
     * The ONNX model of {@code model} with its current weights. {@code weightsMetadata} is the weights
     * file's metadata (pixel mean, recipe), {@code source} names that file in messages, and
     * {@code classNames} are the names of the outputs in order.
     */
    public static ModelProto build(Model model, Map<String, String> weightsMetadata, String source, List<String> classNames,
                                   int opset) {
        if (opset < MIN_OPSET || opset > MAX_OPSET) {
            throw new IllegalArgumentException("ONNX opset " + opset + " is outside " + MIN_OPSET + ".." + MAX_OPSET);
        }
        if (!model.softmaxOutput()) {
            throw new UserException("model " + model.name() + " does not end in a softmax Dense; the exported graph returns probabilities");
        }
        int classes = model.output().shape().dim(-1);
        if (classNames.size() != classes) {
            throw new UserException(Cifar10.CLASS_NAMES_FILE + " names " + classNames.size() + " classes, model " + model.name()
                    + " has " + classes + " outputs");
        }
        HeAugmentation normalization = Recipe.recordedNormalization(weightsMetadata, source);
        float[] pixelMean = normalization == null ? null : normalization.mean();
        Recipe recipe = Recipe.recorded(weightsMetadata, source);
        Shape input = model.input().shape();
        if (pixelMean != null && pixelMean.length != input.elements()) {
            throw new UserException(source + ": the pixel mean has " + pixelMean.length + " values, model " + model.name()
                    + " takes images of " + input + " = " + input.elements());
        }

        OnnxGraph graph = new OnnxGraph();
        graph.input(INPUT, BATCH, input.dims(), "images, NHWC, RGB values 0..255 as float32 (what jresnet predict reads)");
        String x = INPUT;
        if (pixelMean != null) {
            x = graph.node("Sub", "subtract_pixel_mean", List.of(x, graph.floats("pixel_mean", input.dims(), pixelMean)), "centered");
            float[] scale = normalization.channelScale();
            if (!Arrays.equals(scale, new float[] {1, 1, 1})) {
                x = graph.node("Mul", "scale_channels", List.of(x, graph.floats("channel_scale", new int[] {scale.length}, scale)), "normalized");
            }
        }
        if (input.rank() == 3) x = graph.node("Transpose", "to_nchw", List.of(x), "images_nchw", OnnxGraph.ints("perm", 0, 3, 1, 2));

        Map<SymbolicTensor, String> values = new IdentityHashMap<>();
        values.put(model.input(), x);
        LayerEmitters.Target target = new LayerEmitters.Target(graph, model.weights());
        for (Node node : model.nodes()) {
            if (node.layer() instanceof InputLayer) continue;
            List<String> inputs = node.inputs().stream().map(values::get).toList();
            String name = node.output() == model.output() ? OUTPUT : node.layer().name();
            values.put(node.output(), LayerEmitters.emit(node, inputs, name, target));
        }
        graph.output(OUTPUT, BATCH, model.output().shape().dims(), "softmax probabilities, one row per image, columns in the order of "
                + CLASS_NAMES_KEY);
        graph.proto().setName(model.name()).setDocString("jresnet " + model.name() + ", a CIFAR-10 classifier");

        ModelProto.Builder onnx = ModelProto.newBuilder()
                .setIrVersion(irVersion(opset))
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(opset))
                .setProducerName("jresnet")
                .setProducerVersion(Version.current())
                .setDocString("jresnet " + model.name() + ": " + INPUT + " float32 [N, 32, 32, 3] NHWC raw 0..255 -> " + OUTPUT
                        + " float32 [N, " + classes + "]")
                .setGraph(graph.proto());
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put(VERSION_KEY, Version.current());
        metadata.put(MODEL_KEY, model.name());
        metadata.put(RECIPE_KEY, recipe.cliName());
        metadata.put(CLASS_NAMES_KEY, Json.compact(classNames));
        metadata.put(PIXEL_MEAN_KEY, Boolean.toString(pixelMean != null));
        metadata.forEach((k, v) -> onnx.addMetadataProps(StringStringEntryProto.newBuilder().setKey(k).setValue(v)));
        return onnx.build();
    }

    /** The oldest IR version that carries an opset (ONNX's release table): what runtimes of that era read. */
    static int irVersion(int opset) {
        if (opset <= 14) return 7;
        if (opset <= 18) return 8;
        if (opset <= 20) return 9;
        if (opset <= 22) return 10;
        return 11;
    }

    private static String dims(Shape perSample) {
        StringBuilder b = new StringBuilder("[" + BATCH);
        for (int d : perSample.dims()) b.append(", ").append(d);
        return b.append(']').toString();
    }
}
