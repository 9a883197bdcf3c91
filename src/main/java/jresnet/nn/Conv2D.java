package jresnet.nn;

import java.util.ArrayList;
import java.util.List;
import jresnet.backend.ConvGeometry;
import jresnet.backend.Padding;
import jresnet.tensor.Shape;

/** Keras Conv2D, channels_last: kernel [kh, kw, in, filters], bias on by default. */
public final class Conv2D extends Layer {
    private final int filters, kernelSize, strides;
    private final Padding padding;
    private final boolean useBias;
    private final Initializer kernelInitializer;

    /** Conv2D(filters, kernel_size) with Keras's defaults: strides 1, padding "valid". */
    public Conv2D(int filters, int kernelSize) { this(filters, kernelSize, 1, "valid"); }

    /** Conv2D(filters, kernel_size, strides, padding) with Keras defaults otherwise. */
    public Conv2D(int filters, int kernelSize, int strides, String padding) {
        this(filters, kernelSize, strides, Padding.parse(padding), true, Initializer.GLOROT_UNIFORM, null);
    }

    public Conv2D(int filters, int kernelSize, int strides, Padding padding, boolean useBias,
                  Initializer kernelInitializer, String name) {
        super(name);
        if (filters <= 0 || kernelSize <= 0 || strides <= 0) {
            throw new IllegalArgumentException("Conv2D needs positive filters, kernel_size and strides, got "
                    + filters + ", " + kernelSize + ", " + strides);
        }
        this.filters = filters;
        this.kernelSize = kernelSize;
        this.strides = strides;
        this.padding = padding;
        this.useBias = useBias;
        this.kernelInitializer = kernelInitializer;
    }

    @Override public String kerasClassName() { return "Conv2D"; }

    public int filters() { return filters; }

    public int kernelSize() { return kernelSize; }

    public int strides() { return strides; }

    public Padding padding() { return padding; }

    public boolean useBias() { return useBias; }

    public ConvGeometry geometry(Shape batchInput) {
        return ConvGeometry.of(batchInput, kernelSize, kernelSize, filters, strides, padding);
    }

    @Override public Shape outputShape(List<Shape> inputShapes) {
        Shape in = single(inputShapes, name());
        if (in.rank() != 3) throw new IllegalArgumentException(name() + " expects (h, w, channels), got " + in);
        return geometry(in.withBatch(1)).outputShape().dropLeading();
    }

    @Override public List<ParamSpec> params(List<Shape> inputShapes) {
        int inChannels = inputShapes.get(0).dim(2);
        List<ParamSpec> specs = new ArrayList<>();
        specs.add(new ParamSpec("kernel", Shape.of(kernelSize, kernelSize, inChannels, filters), true, kernelInitializer));
        if (useBias) specs.add(new ParamSpec("bias", Shape.of(filters), true, Initializer.ZEROS));
        return specs;
    }

    @Override public void forward(LayerContext c) {
        c.backend().conv2dForward(c.input(0), c.param("kernel"), useBias ? c.param("bias") : null, c.output(),
                geometry(c.input(0).shape()));
    }

    @Override public void backward(LayerContext c) {
        ConvGeometry g = geometry(c.input(0).shape());
        c.backend().conv2dBackwardFilter(c.input(0), c.outputGradient(), c.paramGradient("kernel"),
                useBias ? c.paramGradient("bias") : null, g);
        if (c.needsInputGradient(0)) {
            c.backend().conv2dBackwardData(c.outputGradient(), c.param("kernel"), c.inputGradient(0), g);
        }
    }
}
