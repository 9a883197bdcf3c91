package jresnet.nn;

import jresnet.tensor.Shape;

/** One weight of a layer: its suffix (kernel, bias, gamma, ...), shape, trainability and initializer. */
public record ParamSpec(String suffix, Shape shape, boolean trainable, Initializer initializer) {
}
