package jresnet.backend.cuda;

import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;
import jcuda.jcublas.JCublas2;
import jcuda.jcudnn.JCudnn;

/** Status checks for the three CUDA APIs; every failure names the operation and its shapes. */
final class CudaCheck {
    private CudaCheck() {}

    /** A CUDA, cuDNN or cuBLAS call failed. */
    static final class CudaFailure extends RuntimeException {
        CudaFailure(String message) { super(message); }
    }

    static void driver(int status, String operation) {
        if (status == CUresult.CUDA_SUCCESS) return;
        String[] name = {null};
        JCudaDriver.cuGetErrorName(status, name);
        throw new CudaFailure(operation + ": CUDA driver error " + status + " (" + (name[0] == null ? "unknown" : name[0]) + ")");
    }

    static void cudnn(int status, String operation) {
        if (status == 0) return;
        // The string comes from the loaded cuDNN itself, so it is right for cuDNN 9's status codes too.
        throw new CudaFailure(operation + ": cuDNN error " + status + " (" + JCudnn.cudnnGetErrorString(status) + ")");
    }

    static void cublas(int status, String operation) {
        if (status == 0) return;
        throw new CudaFailure(operation + ": cuBLAS error " + status + " (" + JCublas2.cublasGetStatusString(status) + ")");
    }
}
