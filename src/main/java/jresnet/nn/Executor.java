package jresnet.nn;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import jresnet.backend.Backend;
import jresnet.optim.Optimizer;
import jresnet.tensor.HostArray;
import jresnet.tensor.Shape;
import jresnet.tensor.Tensor;

/**
 * Binds a model to a backend for batches of up to {@code capacity} samples. Owns every backend
 * buffer: weights, gradients, optimizer slots, one activation per node, and a pool of gradient
 * buffers reused across steps (a buffer returns to the pool once the node that produced its tensor
 * has run backward). Nothing is allocated after the first step. A ReLU whose only consumer is a
 * BatchNormalization runs fused with it (the tutorial's relu_bn), and so does a ReLU that is the only
 * consumer of a BatchNormalization or an Add (He et al.'s BN → ReLU and Add → ReLU): neither writes
 * the tensor between them. A batch norm whose only consumer is such an Add runs with the Add and its
 * ReLU as one step (He et al.'s BN → Add → ReLU), storing neither the normalized tensor nor the sum.
 */
public final class Executor implements AutoCloseable {
    private final Model model;
    private final Backend backend;
    private final int capacity;
    private final List<Step> steps = new ArrayList<>();
    private final Map<String, Tensor> params = new LinkedHashMap<>();
    private final Map<String, Tensor> paramGrads = new LinkedHashMap<>();
    private final Map<SymbolicTensor, Tensor> activations = new IdentityHashMap<>();
    private final Map<Shape, ArrayDeque<Tensor>> freeGradients = new HashMap<>();
    private final Map<Tensor, Integer> gradientHolders = new IdentityHashMap<>();
    private final List<Tensor> owned = new ArrayList<>();
    private final Tensor labels, logitGradient, probabilities;
    private final Tensor[] trainableParams, gradients;
    private Tensor[] statistics, statisticsBackup;
    private Optimizer optimizer;
    private final List<Tensor[]> slots = new ArrayList<>();
    private long iterations;
    private double labelSmoothing;

    private final class Step {
        final Node node;
        final List<SymbolicTensor> inputs;
        final boolean reluBefore;
        /** He et al.'s BN → Add → ReLU: inputs are the batch norm's and the Add's other one. */
        final boolean addAfter;
        /** The tensor the step writes: the node's output, or that of the ReLU fused after it. */
        final SymbolicTensor output;
        final Tensor[] saved;

        Step(Node node, List<SymbolicTensor> inputs, boolean reluBefore, boolean addAfter, SymbolicTensor output) {
            this.node = node;
            this.inputs = inputs;
            this.reluBefore = reluBefore;
            this.addAfter = addAfter;
            this.output = output;
            this.saved = node.layer().savedState(Model.inputShapes(node)).stream().map(Executor.this::allocateParameter)
                    .toArray(Tensor[]::new);
        }
    }

    public Executor(Model model, Backend backend, int capacity) {
        this.model = model;
        this.backend = backend;
        this.capacity = capacity;
        Map<SymbolicTensor, Integer> consumers = new IdentityHashMap<>();
        for (Node n : model.nodes()) for (SymbolicTensor t : n.inputs()) consumers.merge(t, 1, Integer::sum);
        for (Node node : model.nodes()) {
            if (node.layer() instanceof InputLayer) continue;
            if (node.layer() instanceof ReLU && fusesIntoNext(node, consumers)) continue;
            if (node.layer() instanceof ReLU && reluAfter(node.inputs().get(0).producer(), consumers) == node) continue;
            if (runsAtItsAdd(node, consumers)) continue;
            Node after = reluAfter(node, consumers);
            Node batchNorm = batchNormBefore(node, consumers);
            if (batchNorm != null) {
                SymbolicTensor normalized = batchNorm.output();
                SymbolicTensor shortcut = node.inputs().get(0) == normalized ? node.inputs().get(1) : node.inputs().get(0);
                steps.add(new Step(batchNorm, List.of(batchNorm.inputs().get(0), shortcut), false, true, after.output()));
                continue;
            }
            SymbolicTensor in0 = node.inputs().isEmpty() ? null : node.inputs().get(0);
            boolean fused = reluBefore(node, consumers);
            steps.add(new Step(node, fused ? in0.producer().inputs() : node.inputs(), fused, false,
                    after == null ? node.output() : after.output()));
        }
        requireFits(capacity);
        activations.put(model.input(), allocate(model.input().shape()));
        for (Step s : steps) activations.put(s.output, allocate(s.output.shape()));
        for (Weight w : model.weightList()) {
            Tensor t = allocateParameter(w.spec().shape());
            params.put(w.name(), t);
            if (w.trainable()) paramGrads.put(w.name(), allocateParameter(w.spec().shape()));
        }
        pushWeights();
        labels = backend.allocate(Shape.of(capacity));
        owned.add(labels);
        logitGradient = allocate(model.output().shape());
        probabilities = allocate(model.output().shape());
        trainableParams = paramGrads.keySet().stream().map(params::get).toArray(Tensor[]::new);
        gradients = paramGrads.values().toArray(Tensor[]::new);
    }

    /** Every activation (and its gradient) of a batch is one array: its element count must fit an int. */
    private void requireFits(int batch) {
        long largest = model.input().shape().size();
        for (Step s : steps) largest = Math.max(largest, s.output.shape().size());
        if (largest * batch > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("a batch of " + batch + " is too large for " + model.name() + ": its largest tensor would hold "
                    + largest * batch + " values, more than one array can (" + Integer.MAX_VALUE + "); use a batch of at most "
                    + Integer.MAX_VALUE / largest);
        }
    }

    /** Whether {@code node} is a BatchNormalization whose input comes from a ReLU that fuses into it. */
    private boolean reluBefore(Node node, Map<SymbolicTensor, Integer> consumers) {
        return node.layer() instanceof BatchNormalization && node.inputs().get(0).producer().layer() instanceof ReLU
                && fusesIntoNext(node.inputs().get(0).producer(), consumers);
    }

    /**
     * The ReLU that alone consumes {@code node}'s output, if node is an Add or a BatchNormalization without a
     * ReLU fused before it, and that ReLU does not fuse into a BatchNormalization after it instead.
     */
    private Node reluAfter(Node node, Map<SymbolicTensor, Integer> consumers) {
        SymbolicTensor out = node.output();
        boolean fusable = node.layer() instanceof Add
                || node.layer() instanceof BatchNormalization && !reluBefore(node, consumers);
        if (!fusable || out == model.output() || consumers.getOrDefault(out, 0) != 1) return null;
        return model.nodes().stream().filter(n -> n.layer() instanceof ReLU && n.inputs().contains(out)
                && !fusesIntoNext(n, consumers)).findFirst().orElse(null);
    }

    /**
     * He et al.'s BN → Add → ReLU: the BatchNormalization without a ReLU before it whose output only
     * {@code add} consumes, if add is an Add with its ReLU fused after it. That batch norm then runs in
     * the Add's place, with the Add and the ReLU fused into it, so the shortcut is computed by then.
     */
    private Node batchNormBefore(Node add, Map<SymbolicTensor, Integer> consumers) {
        if (!(add.layer() instanceof Add) || reluAfter(add, consumers) == null) return null;
        for (SymbolicTensor in : add.inputs()) {
            Node producer = in.producer();
            if (producer.layer() instanceof BatchNormalization && !reluBefore(producer, consumers)
                    && consumers.getOrDefault(in, 0) == 1 && in != model.output()) {
                return producer;
            }
        }
        return null;
    }

    /** Whether {@code node} is a batch norm that runs fused into the Add after it (see {@link #batchNormBefore}). */
    private boolean runsAtItsAdd(Node node, Map<SymbolicTensor, Integer> consumers) {
        if (!(node.layer() instanceof BatchNormalization) || consumers.getOrDefault(node.output(), 0) != 1) return false;
        return model.nodes().stream().anyMatch(n -> n.inputs().contains(node.output()) && batchNormBefore(n, consumers) == node);
    }

    private boolean fusesIntoNext(Node relu, Map<SymbolicTensor, Integer> consumers) {
        SymbolicTensor out = relu.output();
        if (out == model.output() || consumers.getOrDefault(out, 0) != 1) return false;
        return model.nodes().stream().anyMatch(n -> n.layer() instanceof BatchNormalization && n.inputs().contains(out));
    }

    private Tensor allocate(Shape perSample) {
        Tensor t = backend.allocate(perSample.withBatch(capacity));
        owned.add(t);
        return t;
    }

    private Tensor allocateParameter(Shape shape) {
        Tensor t = backend.allocateParameter(shape);
        owned.add(t);
        return t;
    }

    public Model model() { return model; }

    public Backend backend() { return backend; }

    public int capacity() { return capacity; }

    // ---- weights and optimizer state ----

    /** Copies the model's host weights into the backend. */
    public void pushWeights() {
        model.weights().forEach((name, value) -> backend.copyFromHost(value.data(), params.get(name)));
    }

    /** Copies the backend's weights into the model's host weights. */
    public void pullWeights() {
        model.weights().forEach((name, value) -> backend.copyToHost(params.get(name), value.data()));
    }

    /** Zero-initialised slots for a fresh optimizer; the update counter restarts at 0. */
    public void attachOptimizer(Optimizer optimizer) {
        this.optimizer = optimizer;
        this.iterations = 0;
        slots.clear();
        for (String ignored : optimizer.slotNames()) {
            Tensor[] perParam = new Tensor[paramGrads.size()];
            int p = 0;
            for (String name : paramGrads.keySet()) {
                perParam[p] = allocateParameter(params.get(name).shape());
                backend.fill(perParam[p++], 0f);
            }
            slots.add(perParam);
        }
    }

    public Optimizer optimizer() { return optimizer; }

    /**
     * Label smoothing e of the training loss from now on (0, the default: plain cross-entropy).
     * Evaluation always reports the plain cross-entropy, so validation losses compare across recipes.
     */
    public void useLabelSmoothing(double e) {
        if (!(e >= 0 && e < 1)) throw new IllegalArgumentException("label smoothing must be in [0, 1), got " + e);
        labelSmoothing = e;
    }

    /** Updates applied so far. */
    public long iterations() { return iterations; }

    /** Optimizer slots on the host, named "<weight>.<slot>" (e.g. conv2d.kernel.m). */
    public Map<String, HostArray> optimizerState() {
        Map<String, HostArray> out = new LinkedHashMap<>();
        for (int k = 0; k < slots.size(); k++) {
            int p = 0;
            for (String name : paramGrads.keySet()) {
                Tensor t = slots.get(k)[p++];
                float[] data = new float[t.shape().elements()];
                backend.copyToHost(t, data);
                out.put(name + "." + optimizer.slotNames().get(k), new HostArray(t.shape(), data));
            }
        }
        return out;
    }

    /** Restores slots saved by {@link #optimizerState()} and the update counter. */
    public void restoreOptimizerState(Map<String, HostArray> state, long iterations, String source) {
        for (int k = 0; k < slots.size(); k++) {
            int p = 0;
            for (String name : paramGrads.keySet()) {
                String key = name + "." + optimizer.slotNames().get(k);
                HostArray v = state.get(key);
                Tensor t = slots.get(k)[p++];
                if (v == null || !v.shape().equals(t.shape())) {
                    throw new jresnet.UserException(source + ": optimizer slot '" + key + "' "
                            + (v == null ? "is missing" : "has shape " + v.shape() + ", expected " + t.shape()));
                }
                backend.copyFromHost(v.data(), t);
            }
        }
        this.iterations = iterations;
    }

    // ---- running ----

    /**
     * Keeps the moving statistics of the last good step when a step's loss is not finite (the forward
     * pass updates them before the loss is known), so a skipped batch leaves no trace. Costs a copy of
     * the non-trainable weights per step, so only runs that skip bad batches ask for it.
     */
    public void keepStatisticsOfSkippedSteps() {
        if (statisticsBackup != null) return;
        statistics = model.weightList().stream().filter(w -> !w.trainable()).map(w -> params.get(w.name()))
                .toArray(Tensor[]::new);
        statisticsBackup = java.util.Arrays.stream(statistics).map(t -> allocateParameter(t.shape())).toArray(Tensor[]::new);
    }

    /**
     * Runs one training step on a batch (NHWC pixels, labels as class indices); returns {loss sum,
     * correct}. A non-finite loss applies no update (see also {@link #keepStatisticsOfSkippedSteps}).
     */
    public double[] trainStep(float[] images, float[] classLabels, int n) {
        if (optimizer == null) throw new IllegalStateException("attachOptimizer first");
        if (statisticsBackup != null) {
            for (int i = 0; i < statisticsBackup.length; i++) backend.copy(statistics[i], statisticsBackup[i]);
        }
        double[] result = lossAndGradients(images, classLabels, n);
        if (!Double.isFinite(result[0])) {
            if (statisticsBackup != null) {
                for (int i = 0; i < statisticsBackup.length; i++) backend.copy(statisticsBackup[i], statistics[i]);
            }
            return result;
        }
        iterations++;
        optimizer.update(backend, trainableParams, gradients, slots, iterations);
        return result;
    }

    /**
     * Training-mode forward, loss and backward without an update: leaves every trainable weight's
     * gradient of the mean loss in {@link #gradient}. Returns {loss sum, correct}.
     */
    public double[] lossAndGradients(float[] images, float[] classLabels, int n) {
        loadBatch(images, classLabels, n);
        forward(n, true);
        double[] result = backend.softmaxCrossEntropy(activations.get(model.output()).withBatch(n),
                labels.withBatch(n), logitGradient.withBatch(n), labelSmoothing);
        backward(n);
        return result;
    }

    /** A weight's backend tensor, by Keras name. */
    public Tensor parameter(String name) { return params.get(name); }

    /** A trainable weight's gradient from the last backward pass. */
    public Tensor gradient(String name) { return paramGrads.get(name); }

    /**
     * A model tensor's value from the last forward pass, at the executor's capacity: the input or a node's
     * output. The tensors inside a fused step (between a ReLU and the layer fused with it, and a batch norm's
     * output and the sum in BN → Add → ReLU) are never stored (see {@link #stores}).
     */
    public Tensor activation(SymbolicTensor t) {
        Tensor value = activations.get(t);
        if (value == null) {
            throw new IllegalArgumentException(t + " is not stored: it lies inside layers that run fused (a ReLU and the layer"
                    + " next to it, or a batch norm, the Add after it and that Add's ReLU)");
        }
        return value;
    }

    /** Whether the forward pass stores {@code t} (every tensor but those inside layers that run fused). */
    public boolean stores(SymbolicTensor t) { return activations.containsKey(t); }

    /** Inference on a labelled batch; returns {loss sum, correct}. */
    public double[] evaluateBatch(float[] images, float[] classLabels, int n) {
        loadBatch(images, classLabels, n);
        forward(n, false);
        return backend.softmaxCrossEntropy(activations.get(model.output()).withBatch(n), labels.withBatch(n), null);
    }

    /** Inference: the model's output for n samples (softmax probabilities for a softmax output). */
    public float[] predictBatch(float[] images, int n) {
        backend.copyFromHost(images, activations.get(model.input()).withBatch(n));
        forward(n, false);
        Tensor out = activations.get(model.output()).withBatch(n);
        if (model.softmaxOutput()) {
            backend.softmax(out, probabilities.withBatch(n));
            out = probabilities.withBatch(n);
        }
        float[] result = new float[out.shape().elements()];
        backend.copyToHost(out, result);
        return result;
    }

    private void loadBatch(float[] images, float[] classLabels, int n) {
        if (n > capacity) throw new IllegalArgumentException("batch " + n + " exceeds capacity " + capacity);
        backend.copyFromHost(images, activations.get(model.input()).withBatch(n));
        backend.copyFromHost(classLabels, labels.withBatch(n));
    }

    /** The forward pass over the batch already loaded into the input. */
    public void forward(int n, boolean training) {
        for (Step s : steps) s.node.layer().forward(new Context(s, n, training, null, null));
    }

    /**
     * Gradient buffers may be shared: an Add hands both its inputs one tensor (see
     * {@link Layer.InputGradients}). Each buffer counts the gradients that hold it, returns to the pool
     * when none does, and is summed into only while it is held once.
     */
    private void backward(int n) {
        Map<SymbolicTensor, Tensor> grads = new IdentityHashMap<>();
        grads.put(model.output(), hold(logitGradient));
        for (int i = steps.size() - 1; i >= 0; i--) {
            Step s = steps.get(i);
            Tensor[] targets = new Tensor[s.inputs.size()];
            Tensor common = switch (s.node.layer().inputGradients(s.output != s.node.output())) {
                case SEPARATE -> null;
                case ONE_BUFFER -> acquire(s.inputs.get(0).shape().withBatch(capacity));
                case OUTPUT_GRADIENT -> hold(grads.get(s.output));
            };
            for (int k = 0; k < targets.length; k++) {
                targets[k] = common != null ? hold(common) : acquire(s.inputs.get(k).shape().withBatch(capacity));
            }
            if (common != null) release(common);
            s.node.layer().backward(new Context(s, n, true, grads.get(s.output), targets));
            for (int k = 0; k < targets.length; k++) {
                SymbolicTensor in = s.inputs.get(k);
                Tensor earlier = grads.get(in);
                if (earlier == null) {
                    grads.put(in, targets[k]);
                } else if (needsGradient(in)) {
                    grads.put(in, sum(earlier, targets[k], n));
                } else {
                    release(targets[k]);
                }
            }
            release(grads.remove(s.output));
        }
        grads.values().forEach(this::release);
    }

    /** a + b of two held gradients, written into one of them that no other gradient holds (else a fresh buffer); holds the sum. */
    private Tensor sum(Tensor a, Tensor b, int n) {
        Tensor into = !sharedGradient(a) ? a : !sharedGradient(b) ? b : acquire(a.shape());
        backend.add(a.withBatch(n), b.withBatch(n), into.withBatch(n));
        if (into != a) release(a);
        if (into != b) release(b);
        return into;
    }

    private boolean needsGradient(SymbolicTensor t) {
        return !(t.producer().layer() instanceof InputLayer);
    }

    /** A gradient buffer of this full (capacity) shape from the pool, held once. */
    private Tensor acquire(Shape full) {
        ArrayDeque<Tensor> free = freeGradients.get(full);
        return hold(free == null || free.isEmpty() ? allocate(full.dropLeading()) : free.pop());
    }

    private Tensor hold(Tensor t) {
        gradientHolders.merge(t, 1, Integer::sum);
        return t;
    }

    private boolean sharedGradient(Tensor t) { return gradientHolders.get(t) > 1; }

    /** Drops one hold; a buffer no gradient holds returns to the pool (the loss's own gradient stays the executor's). */
    private void release(Tensor t) {
        if (gradientHolders.merge(t, -1, Integer::sum) > 0) return;
        gradientHolders.remove(t);
        if (t != logitGradient) freeGradients.computeIfAbsent(t.shape(), k -> new ArrayDeque<>()).push(t);
    }

    private final class Context implements LayerContext {
        private final Step step;
        private final int n;
        private final boolean training;
        private final Tensor outputGradient;
        private final Tensor[] inputGradients;

        Context(Step step, int n, boolean training, Tensor outputGradient, Tensor[] inputGradients) {
            this.step = step;
            this.n = n;
            this.training = training;
            this.outputGradient = outputGradient;
            this.inputGradients = inputGradients;
        }

        @Override public Backend backend() { return backend; }

        @Override public boolean training() { return training; }

        @Override public Tensor input(int i) { return activations.get(step.inputs.get(i)).withBatch(n); }

        @Override public Tensor output() { return activations.get(step.output).withBatch(n); }

        @Override public Tensor param(String suffix) { return params.get(step.node.layer().name() + "." + suffix); }

        @Override public Tensor paramGradient(String suffix) {
            return paramGrads.get(step.node.layer().name() + "." + suffix);
        }

        @Override public Tensor saved(int i) { return step.saved[i]; }

        @Override public Tensor outputGradient() { return outputGradient.withBatch(n); }

        @Override public boolean needsInputGradient(int i) { return needsGradient(step.inputs.get(i)); }

        @Override public Tensor inputGradient(int i) { return inputGradients[i].withBatch(n); }

        @Override public boolean reluBefore() { return step.reluBefore; }

        @Override public boolean reluAfter() { return step.output != step.node.output(); }

        @Override public boolean addAfter() { return step.addAfter; }
    }

    @Override public void close() {
        for (Tensor t : owned) t.close();
        owned.clear();
    }
}
