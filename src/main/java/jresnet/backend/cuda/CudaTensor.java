package jresnet.backend.cuda;

import jcuda.driver.CUdeviceptr;
import jresnet.tensor.Shape;
import jresnet.tensor.Tensor;

/**
 * A float32 device buffer. Activations are stored NHWC as their logical shape says; a rank-4 parameter
 * (a convolution kernel, logically [kh, kw, in, out]) is stored [out, kh, kw, in], the layout cuDNN's
 * NHWC filter descriptor expects. Copies to and from the host translate.
 */
final class CudaTensor implements Tensor {
    private final CudaBackend owner;
    private final Shape shape;
    private final DevicePool.Block block;
    private final boolean kernelLayout;
    /** Null for a view: a view shares its base's block and frees nothing. */
    private final CudaTensor base;
    private boolean closed;

    CudaTensor(CudaBackend owner, Shape shape, DevicePool.Block block, boolean kernelLayout) {
        this(owner, shape, block, kernelLayout, null);
    }

    private CudaTensor(CudaBackend owner, Shape shape, DevicePool.Block block, boolean kernelLayout, CudaTensor base) {
        this.owner = owner;
        this.shape = shape;
        this.block = block;
        this.kernelLayout = kernelLayout;
        this.base = base;
    }

    @Override public Shape shape() { return shape; }

    CUdeviceptr ptr() {
        if (closed || (base != null && base.closed)) throw new IllegalStateException("tensor " + shape + " used after close()");
        return block.ptr;
    }

    long elements() { return shape.size(); }

    long bytes() { return shape.size() * Float.BYTES; }

    boolean kernelLayout() { return kernelLayout; }

    CudaBackend owner() { return owner; }

    @Override public CudaTensor withBatch(int n) {
        if (n > shape.dim(0)) throw new IllegalArgumentException("batch " + n + " exceeds " + shape);
        return new CudaTensor(owner, shape.withLeading(n), block, kernelLayout, base == null ? this : base);
    }

    @Override public void close() {
        if (closed) return;
        closed = true;
        if (base == null) owner.release(block);
    }
}
