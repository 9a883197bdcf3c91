package jresnet.backend.cuda;

import static jcuda.driver.JCudaDriver.cuMemcpyDtoDAsync;

/** Elementwise ops on CUDA: ReLU (kernels/relu.cu), the sum of two tensors and He et al.'s Add → ReLU (kernels/add.cu), flatten. */
final class CudaElementwise {
    private final CudaContext device;

    CudaElementwise(CudaContext device) {
        this.device = device;
    }

    void reluForward(CudaTensor x, CudaTensor y) {
        device.launchOver(x.elements(), "relu_forward", x, y, x.elements());
    }

    void reluBackward(CudaTensor x, CudaTensor dy, CudaTensor dx) {
        device.launchOver(x.elements(), "relu_backward", x, dy, dx, x.elements());
    }

    /** out = a + b: residual connections forward, and gradients summed where a tensor feeds two layers. */
    void add(CudaTensor a, CudaTensor b, CudaTensor out) {
        device.launchOver(out.elements(), "add", a, b, out, out.elements());
    }

    /** He et al.'s Add → ReLU: y = relu(a + b). */
    void addReluForward(CudaTensor a, CudaTensor b, CudaTensor y) {
        device.launchOver(y.elements(), "add_relu_forward", a, b, y, y.elements());
    }

    /** NHWC storage is already row-major [N, features]: flattening, and its inverse, is a copy. */
    void copyActivation(CudaTensor src, CudaTensor dst, String op) {
        if (src.elements() != dst.elements()) throw new IllegalArgumentException(op + " " + src.shape() + " -> " + dst.shape());
        CudaCheck.driver(cuMemcpyDtoDAsync(dst.ptr(), src.ptr(), src.bytes(), device.stream), op + " " + src.shape());
    }
}
