package jresnet.nn;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import jresnet.UserException;
import jresnet.backend.Backend;
import jresnet.optim.Optimizer;
import jresnet.tensor.HostArray;
import jresnet.tensor.Shape;

/**
 * A Keras functional model: a static graph from one input to one output, and its weights on the
 * host. It never knows which backend runs it: an {@link Executor} binds it to one.
 */
public final class Model {
    private final String name;
    private final SymbolicTensor input, output;
    private final List<Node> nodes;
    private final List<Weight> weights = new ArrayList<>();
    private final Map<String, HostArray> values = new LinkedHashMap<>();

    public Model(SymbolicTensor input, SymbolicTensor output) { this(input, output, "model"); }

    public Model(SymbolicTensor input, SymbolicTensor output, String name) {
        if (input == null || output == null) {
            throw new IllegalArgumentException("a model needs an input and an output tensor, got " + input + " and " + output);
        }
        if (!(input.producer().layer() instanceof InputLayer)) {
            throw new IllegalArgumentException("model input must come from Input(), got " + input);
        }
        this.name = name;
        this.input = input;
        this.output = output;
        this.nodes = reachable(output);
        if (nodes.get(0) != input.producer()) {
            throw new IllegalArgumentException("the output does not depend on the model input " + input);
        }
        Set<String> names = new HashSet<>();
        Set<Layer> applied = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        for (Node node : nodes) {
            if (!applied.add(node.layer())) {
                throw new IllegalArgumentException("layer " + node.layer().name() + " is applied twice in this graph; sharing a layer "
                        + "(its weights) between two places is not supported: create a second layer");
            }
            if (node.layer() instanceof InputLayer && node != input.producer()) {
                throw new IllegalArgumentException("the graph has a second input: " + node.layer().name());
            }
            if (node.layer() instanceof Dense d && d.softmax() && node.output() != output) {
                throw new IllegalArgumentException(d.name() + ": a softmax Dense must be the model output");
            }
            if (!names.add(node.layer().name())) {
                throw new IllegalArgumentException("layer name used twice: " + node.layer().name());
            }
            for (ParamSpec spec : node.layer().params(inputShapes(node))) {
                weights.add(new Weight(node.layer().name() + "." + spec.suffix(), node.layer(), spec));
            }
        }
        initializeWeights(0);
    }

    /** Nodes the output depends on, in creation (hence topological) order. */
    private static List<Node> reachable(SymbolicTensor output) {
        Set<Node> seen = new HashSet<>();
        List<Node> stack = new ArrayList<>(List.of(output.producer()));
        while (!stack.isEmpty()) {
            Node n = stack.remove(stack.size() - 1);
            if (seen.add(n)) n.inputs().forEach(t -> stack.add(t.producer()));
        }
        List<Node> sorted = new ArrayList<>(seen);
        sorted.sort((a, b) -> Long.compare(a.id(), b.id()));
        return sorted;
    }

    static List<Shape> inputShapes(Node node) {
        return node.inputs().stream().map(SymbolicTensor::shape).toList();
    }

    public String name() { return name; }

    public SymbolicTensor input() { return input; }

    public SymbolicTensor output() { return output; }

    /** Nodes in execution order, the input first. */
    public List<Node> nodes() { return Collections.unmodifiableList(nodes); }

    /** Weights in Keras order (layer by layer, each layer's own order). */
    public List<Weight> weightList() { return Collections.unmodifiableList(weights); }

    /** True when the output is a softmax Dense: predictions apply the softmax to its logits. */
    public boolean softmaxOutput() { return output.producer().layer() instanceof Dense d && d.softmax(); }

    /** Fresh weights from each layer's initializers, deterministically from the seed. */
    public void initializeWeights(long seed) {
        SplittableRandom root = new SplittableRandom(seed);
        for (Weight w : weights) {
            values.put(w.name(), new HostArray(w.spec().shape(), w.spec().initializer().sample(w.spec().shape(), root.split())));
        }
    }

    /** The current weights by Keras name (live arrays: an executor writes into them on sync). */
    public Map<String, HostArray> weights() { return Collections.unmodifiableMap(values); }

    /**
     * Replaces every weight; names and shapes must match this model exactly. {@code source} names the
     * origin (a file) for messages.
     */
    public void setWeights(Map<String, HostArray> newValues, String source) {
        for (String key : newValues.keySet()) {
            if (!values.containsKey(key)) {
                throw new UserException(source + ": tensor '" + key + "' does not belong to model " + name
                        + " (expected names like '" + weights.get(0).name() + "')");
            }
        }
        for (Weight w : weights) {
            HostArray v = newValues.get(w.name());
            if (v == null) throw new UserException(source + ": missing tensor '" + w.name() + "' " + w.spec().shape());
            if (!v.shape().equals(w.spec().shape())) {
                throw new UserException(source + ": tensor '" + w.name() + "' has shape " + v.shape()
                        + ", model " + name + " expects " + w.spec().shape());
            }
            requireUsable(w.name(), v, source);
        }
        for (Weight w : weights) {
            float[] src = newValues.get(w.name()).data();
            System.arraycopy(src, 0, values.get(w.name()).data(), 0, src.length);
        }
    }

    /**
     * A non-finite weight makes every output NaN, a negative moving variance makes inference take the
     * square root of a negative number; neither can come from training, so such a file is corrupt.
     */
    private static void requireUsable(String tensor, HostArray value, String source) {
        float[] data = value.data();
        boolean variance = tensor.endsWith(".moving_variance");
        for (int i = 0; i < data.length; i++) {
            if (!Float.isFinite(data[i])) {
                throw new UserException(source + ": tensor '" + tensor + "' holds " + data[i] + " at index "
                        + value.shape().indexString(i) + "; weights must be finite numbers");
            }
            if (variance && data[i] < 0) {
                throw new UserException(source + ": tensor '" + tensor + "' holds a negative variance " + data[i]
                        + " at index " + value.shape().indexString(i));
            }
        }
    }

    // ---- Keras-style API: compile once, then fit / evaluate (jresnet.train.Fit) and predict on a backend ----

    private Optimizer optimizer;

    /**
     * Keras's compile: the optimizer, the loss ("sparse_categorical_crossentropy", computed from the
     * logits of a softmax output) and the metrics (only "accuracy").
     */
    public void compile(Optimizer optimizer, String loss, String... metrics) {
        if (!"sparse_categorical_crossentropy".equals(loss)) {
            throw new IllegalArgumentException("loss must be sparse_categorical_crossentropy, got " + loss);
        }
        for (String m : metrics) {
            if (!"accuracy".equals(m)) throw new IllegalArgumentException("the only metric is accuracy, got " + m);
        }
        if (!softmaxOutput()) throw new IllegalArgumentException(name + ": the output must be a softmax Dense");
        if (optimizer == null) throw new IllegalArgumentException("compile needs an optimizer, got null");
        this.optimizer = optimizer;
        this.optimizerState = null;
    }

    /** The optimizer given to {@link #compile}, null before. */
    public Optimizer optimizer() { return optimizer; }

    /** An optimizer's progress: its slots by "&lt;weight&gt;.&lt;slot&gt;" and the updates applied. */
    public record OptimizerState(Map<String, HostArray> slots, long iterations) {}

    private OptimizerState optimizerState;

    /**
     * Where the compiled optimizer stands after the last fit (null before one, and after
     * {@link #compile}): as in Keras, a later fit goes on from it (Adam's moments, the update count
     * that drives a schedule) rather than starting the optimizer again.
     */
    public OptimizerState optimizerState() { return optimizerState; }

    public void keepOptimizerState(OptimizerState state) { this.optimizerState = state; }

    /**
     * Keras's predict, in inference mode (batch norm on its moving statistics): the outputs for
     * inputs of shape (N, ...the model input's shape), such as CIFAR-10 images (N, 32, 32, 3) of 0-255
     * values; softmax probabilities where the model ends in a softmax Dense, its raw outputs otherwise.
     */
    public HostArray predict(Backend backend, HostArray images, int batchSize) {
        Shape perSample = input.shape();
        if (images.shape().rank() != perSample.rank() + 1 || !images.shape().dropLeading().equals(perSample)) {
            throw new IllegalArgumentException("predict expects (N, " + perSample.toString().substring(1) + ", got "
                    + images.shape());
        }
        if (batchSize < 1) throw new IllegalArgumentException("predict needs a batch size of at least 1, got " + batchSize);
        int n = images.shape().dim(0), in = perSample.elements(), out = output.shape().elements();
        batchSize = Math.min(batchSize, n); // buffers for rows that are not there would only cost memory
        // the executor first: it refuses a batch whose tensors (the input among them) do not fit an array
        try (Executor executor = new Executor(this, backend, batchSize)) {
            float[] result = new float[n * out], chunk = new float[batchSize * in];
            for (int from = 0; from < n; from += batchSize) {
                int count = Math.min(batchSize, n - from);
                System.arraycopy(images.data(), from * in, chunk, 0, count * in);
                System.arraycopy(executor.predictBatch(chunk, count), 0, result, from * out, count * out);
            }
            return new HostArray(output.shape().withBatch(n), result);
        }
    }

    public long countParams() { return count(null); }

    public long countTrainableParams() { return count(true); }

    public long countNonTrainableParams() { return count(false); }

    private long count(Boolean trainable) {
        long n = 0;
        for (Weight w : weights) if (trainable == null || w.trainable() == trainable) n += w.spec().shape().size();
        return n;
    }

    /** A Keras-like summary table with the totals. */
    public String summary() {
        List<String[]> rows = new ArrayList<>();
        for (Node node : nodes) {
            Layer layer = node.layer();
            long params = layer.params(inputShapes(node)).stream().mapToLong(p -> p.shape().size()).sum();
            String shape = "(None, " + java.util.Arrays.stream(node.output().shape().dims()).mapToObj(String::valueOf)
                    .collect(java.util.stream.Collectors.joining(", ")) + ")";
            if (layer instanceof InputLayer) shape = "[" + shape + "]";
            List<String> from = node.inputs().stream().map(t -> "'" + t.producer().layer().name() + "[0][0]'").toList();
            rows.add(new String[] {layer.name() + " (" + layer.kerasClassName() + ")", shape,
                    String.format(java.util.Locale.ROOT, "%,d", params), from.toString()});
        }
        int[] widths = {"Layer (type)".length(), "Output Shape".length(), "Param #".length(), "Connected to".length()};
        for (String[] r : rows) for (int i = 0; i < 4; i++) widths[i] = Math.max(widths[i], r[i].length());
        int total = widths[0] + widths[1] + widths[2] + widths[3] + 7;
        StringBuilder b = new StringBuilder();
        b.append("Model: \"").append(name).append("\"\n").append("_".repeat(total)).append('\n');
        appendRow(b, widths, new String[] {"Layer (type)", "Output Shape", "Param #", "Connected to"});
        b.append("=".repeat(total)).append('\n');
        for (int i = 0; i < rows.size(); i++) {
            appendRow(b, widths, rows.get(i));
            b.append(i + 1 < rows.size() ? "\n" : "");
        }
        b.append("=".repeat(total)).append('\n');
        b.append(String.format(java.util.Locale.ROOT, "Total params: %,d%n", countParams()));
        b.append(String.format(java.util.Locale.ROOT, "Trainable params: %,d%n", countTrainableParams()));
        b.append(String.format(java.util.Locale.ROOT, "Non-trainable params: %,d%n", countNonTrainableParams()));
        b.append("_".repeat(total)).append('\n');
        return b.toString();
    }

    private static void appendRow(StringBuilder b, int[] widths, String[] cells) {
        b.append(' ');
        for (int i = 0; i < cells.length; i++) {
            b.append(cells[i]).append(" ".repeat(widths[i] - cells[i].length() + (i < 3 ? 2 : 0)));
        }
        b.append('\n');
    }
}
