package jresnet.nn;

import java.util.List;
import jresnet.tensor.Shape;

/**
 * He et al.'s option-A shortcut where a stage changes size: keeps every stride-th pixel and pads the
 * channels with zeros, half before and half after, up to {@code channels}. No weights.
 */
public final class SubsampleChannelPad extends Layer {
    private final int stride, channels;

    public SubsampleChannelPad(int stride, int channels) { this(stride, channels, null); }

    public SubsampleChannelPad(int stride, int channels, String name) {
        super(name);
        if (stride <= 0 || channels <= 0) {
            throw new IllegalArgumentException("SubsampleChannelPad needs positive stride and channels, got "
                    + stride + ", " + channels);
        }
        this.stride = stride;
        this.channels = channels;
    }

    @Override public String kerasClassName() { return "SubsampleChannelPad"; }

    public int stride() { return stride; }

    public int channels() { return channels; }

    /** Zero channels before the input's (the rest go after). */
    public int padBefore(Shape in) { return (channels - in.dim(-1)) / 2; }

    @Override public Shape outputShape(List<Shape> inputShapes) {
        Shape in = single(inputShapes, name());
        if (in.rank() != 3 || in.dim(2) > channels) {
            throw new IllegalArgumentException(name() + " expects (h, w, at most " + channels + " channels), got " + in);
        }
        return Shape.of((in.dim(0) + stride - 1) / stride, (in.dim(1) + stride - 1) / stride, channels);
    }

    @Override public void forward(LayerContext c) {
        c.backend().subsampleChannelPadForward(c.input(0), c.output(), stride, padBefore(c.input(0).shape()));
    }

    @Override public void backward(LayerContext c) {
        c.backend().subsampleChannelPadBackward(c.outputGradient(), c.inputGradient(0), stride,
                padBefore(c.input(0).shape()));
    }
}
