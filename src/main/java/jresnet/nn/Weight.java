package jresnet.nn;

/** A model weight: its Keras name "<layer>.<suffix>", owning layer and spec. */
public record Weight(String name, Layer layer, ParamSpec spec) {
    public boolean trainable() { return spec.trainable(); }
}
