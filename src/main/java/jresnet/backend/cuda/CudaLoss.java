package jresnet.backend.cuda;

import static jcuda.driver.JCudaDriver.cuMemcpyDtoH;

import jcuda.Pointer;

/**
 * Softmax cross-entropy and softmax on CUDA (kernels/softmax_xent.cu). The loss read-back is the one
 * device-to-host wait of a training step.
 */
final class CudaLoss implements AutoCloseable {
    private final CudaContext device;
    /** {loss sum, correct count} as two doubles, written by the loss kernel. */
    private final DevicePool.Block result;

    CudaLoss(CudaContext device) {
        this.device = device;
        this.result = device.pool.acquire(2 * Double.BYTES);
    }

    double[] softmaxCrossEntropy(CudaTensor logits, CudaTensor labels, CudaTensor dLogits, double labelSmoothing) {
        int rows = logits.shape().dim(0), classes = logits.shape().dim(1);
        String what = "softmaxCrossEntropy " + logits.shape();
        // One block: a fixed-order reduction, so the loss does not depend on scheduling.
        device.launch("softmax_xent", 1, 1, CudaContext.THREADS, 1, logits, labels, dLogits, rows, classes,
                (float) labelSmoothing, result.ptr);
        device.sync(what);
        double[] sums = new double[2];
        CudaCheck.driver(cuMemcpyDtoH(Pointer.to(sums), result.ptr, 2L * Double.BYTES), what + ": read back");
        return sums;
    }

    void softmax(CudaTensor logits, CudaTensor probabilities) {
        int rows = logits.shape().dim(0), classes = logits.shape().dim(1);
        device.launchOver(rows, "softmax_rows", logits, probabilities, rows, classes);
    }

    @Override public void close() {
        device.pool.release(result);
    }
}
