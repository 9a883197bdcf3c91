package jresnet.backend.cuda;

import static jcuda.jcublas.JCublas2.cublasSgemm;
import static jcuda.jcublas.cublasOperation.CUBLAS_OP_N;
import static jcuda.jcublas.cublasOperation.CUBLAS_OP_T;
import static jresnet.backend.cuda.CudaContext.one;
import static jresnet.backend.cuda.CudaContext.zero;

/**
 * Dense layers on CUDA with cuBLAS SGEMM: row-major [N, in] x [in, out] is the column-major
 * out x N product of the transposed shapes, so no transposition is needed.
 */
final class CudaDense {
    private final CudaContext device;

    CudaDense(CudaContext device) {
        this.device = device;
    }

    void forward(CudaTensor x, CudaTensor kernel, CudaTensor bias, CudaTensor y) {
        int rows = x.shape().dim(0), in = kernel.shape().dim(0), out = kernel.shape().dim(1);
        String what = "denseForward x " + x.shape() + " kernel " + kernel.shape();
        CudaCheck.cublas(cublasSgemm(device.cublas, CUBLAS_OP_N, CUBLAS_OP_N, out, rows, in, one(), kernel.ptr(), out,
                x.ptr(), in, zero(), y.ptr(), out), what);
        if (bias != null) device.launchOver(y.elements(), "bias_add", y, bias, y.elements(), out);
    }

    void backward(CudaTensor x, CudaTensor kernel, CudaTensor dy, CudaTensor dx, CudaTensor dKernel, CudaTensor dBias) {
        int rows = x.shape().dim(0), in = kernel.shape().dim(0), out = kernel.shape().dim(1);
        String what = "denseBackward x " + x.shape() + " kernel " + kernel.shape();
        if (dx != null) {
            CudaCheck.cublas(cublasSgemm(device.cublas, CUBLAS_OP_T, CUBLAS_OP_N, in, rows, out, one(), kernel.ptr(),
                    out, dy.ptr(), out, zero(), dx.ptr(), in), what + ": dx");
        }
        CudaCheck.cublas(cublasSgemm(device.cublas, CUBLAS_OP_N, CUBLAS_OP_T, out, in, rows, one(), dy.ptr(), out,
                x.ptr(), in, zero(), dKernel.ptr(), out), what + ": dKernel");
        if (dBias != null) device.columnSums(dy, rows, out, dBias);
    }
}
