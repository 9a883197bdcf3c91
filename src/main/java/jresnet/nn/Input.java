package jresnet.nn;

import jresnet.tensor.Shape;

/** Keras's Input(shape): a symbolic tensor with a per-sample shape. */
public final class Input {
    private Input() {}

    public static SymbolicTensor of(int... shape) {
        return of(Shape.of(shape), null);
    }

    public static SymbolicTensor of(Shape shape, String name) {
        return new Node(new InputLayer(shape, name), java.util.List.of()).output();
    }
}
