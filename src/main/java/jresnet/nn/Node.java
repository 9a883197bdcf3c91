package jresnet.nn;

import java.util.List;

/** One application of a layer to symbolic inputs; ids follow creation order, which is topological. */
public final class Node {
    private static final java.util.concurrent.atomic.AtomicLong IDS = new java.util.concurrent.atomic.AtomicLong();

    private final long id = IDS.getAndIncrement();
    private final Layer layer;
    private final List<SymbolicTensor> inputs;
    private final SymbolicTensor output;

    Node(Layer layer, List<SymbolicTensor> inputs) {
        this.layer = layer;
        this.inputs = List.copyOf(inputs);
        this.output = new SymbolicTensor(layer.outputShape(inputs.stream().map(SymbolicTensor::shape).toList()), this);
    }

    public long id() { return id; }

    public Layer layer() { return layer; }

    public List<SymbolicTensor> inputs() { return inputs; }

    public SymbolicTensor output() { return output; }
}
