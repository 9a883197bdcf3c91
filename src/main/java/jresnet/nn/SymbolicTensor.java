package jresnet.nn;

import jresnet.tensor.Shape;

/** A graph edge: the output of a node, with its per-sample shape (no batch axis). */
public final class SymbolicTensor {
    private final Shape shape;
    private final Node producer;

    SymbolicTensor(Shape shape, Node producer) {
        this.shape = shape;
        this.producer = producer;
    }

    /** Shape without the batch axis, as Keras prints it after "None". */
    public Shape shape() { return shape; }

    public Node producer() { return producer; }

    @Override public String toString() { return producer.layer().name() + " " + shape; }
}
