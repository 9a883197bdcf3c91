package jresnet.backend.cuda;

import static jcuda.jcudnn.JCudnn.cudnnBatchNormalizationBackward;
import static jcuda.jcudnn.JCudnn.cudnnBatchNormalizationForwardInference;
import static jcuda.jcudnn.JCudnn.cudnnBatchNormalizationForwardTraining;
import static jcuda.jcudnn.JCudnn.cudnnCreateTensorDescriptor;
import static jcuda.jcudnn.JCudnn.cudnnDeriveBNTensorDescriptor;
import static jcuda.jcudnn.JCudnn.cudnnDestroyTensorDescriptor;
import static jcuda.jcudnn.JCudnn.cudnnSetTensor4dDescriptor;
import static jcuda.jcudnn.cudnnBatchNormMode.CUDNN_BATCHNORM_SPATIAL;
import static jcuda.jcudnn.cudnnDataType.CUDNN_DATA_FLOAT;
import static jcuda.jcudnn.cudnnTensorFormat.CUDNN_TENSOR_NHWC;
import static jresnet.backend.cuda.CudaContext.one;
import static jresnet.backend.cuda.CudaContext.zero;

import java.util.HashMap;
import java.util.Map;
import jcuda.jcudnn.cudnnTensorDescriptor;
import jresnet.tensor.Shape;

/**
 * Batch normalization on CUDA over all axes but the channels: the plain one with cuDNN (spatial mode
 * over NHWC), the tutorial's relu_bn with our fused kernels (kernels/relu_bn.cu), He et al.'s BN → ReLU
 * as cuDNN's forward with the ReLU in place after it and our fused backward (kernels/bn_relu.cu).
 */
final class CudaBatchNorm implements AutoCloseable {
    private final CudaContext device;
    private final Map<Shape, cudnnTensorDescriptor[]> descriptors = new HashMap<>();

    CudaBatchNorm(CudaContext device) {
        this.device = device;
    }

    /** {x/y descriptor, per-channel descriptor} for an activation shape (rank 2 = [N, C] as N x C x 1 x 1). */
    private cudnnTensorDescriptor[] descriptors(Shape shape) {
        return descriptors.computeIfAbsent(shape, s -> {
            cudnnTensorDescriptor data = new cudnnTensorDescriptor(), channels = new cudnnTensorDescriptor();
            String what = "batch norm descriptors " + s;
            CudaCheck.cudnn(cudnnCreateTensorDescriptor(data), what);
            CudaCheck.cudnn(cudnnCreateTensorDescriptor(channels), what);
            int n = s.dim(0), c = s.dim(-1);
            int h = s.rank() == 4 ? s.dim(1) : 1, w = s.rank() == 4 ? s.dim(2) : 1;
            if (s.rank() != 4 && s.rank() != 2) throw new IllegalArgumentException(what + ": expected rank 2 or 4");
            CudaCheck.cudnn(cudnnSetTensor4dDescriptor(data, CUDNN_TENSOR_NHWC, CUDNN_DATA_FLOAT, n, c, h, w), what);
            CudaCheck.cudnn(cudnnDeriveBNTensorDescriptor(channels, data, CUDNN_BATCHNORM_SPATIAL), what);
            return new cudnnTensorDescriptor[] {data, channels};
        });
    }

    // ---- plain batch norm: cuDNN ----

    void trainForward(CudaTensor x, CudaTensor gamma, CudaTensor beta, CudaTensor movingMean, CudaTensor movingVariance,
                      CudaTensor y, CudaTensor savedMean, CudaTensor savedInvStd, double momentum, double epsilon) {
        cudnnTensorDescriptor[] d = descriptors(x.shape());
        // cuDNN's running update is new = (1 - factor) old + factor batch: factor = 1 - momentum.
        CudaCheck.cudnn(cudnnBatchNormalizationForwardTraining(device.cudnn, CUDNN_BATCHNORM_SPATIAL, one(), zero(),
                d[0], x.ptr(), d[0], y.ptr(), d[1], gamma.ptr(), beta.ptr(), 1 - momentum,
                movingMean.ptr(), movingVariance.ptr(), epsilon, savedMean.ptr(), savedInvStd.ptr()),
                "batchNormTrainForward " + x.shape());
    }

    void inferForward(CudaTensor x, CudaTensor gamma, CudaTensor beta, CudaTensor movingMean, CudaTensor movingVariance,
                      CudaTensor y, double epsilon) {
        cudnnTensorDescriptor[] d = descriptors(x.shape());
        CudaCheck.cudnn(cudnnBatchNormalizationForwardInference(device.cudnn, CUDNN_BATCHNORM_SPATIAL, one(), zero(),
                d[0], x.ptr(), d[0], y.ptr(), d[1], gamma.ptr(), beta.ptr(), movingMean.ptr(), movingVariance.ptr(),
                epsilon), "batchNormInferForward " + x.shape());
    }

    void backward(CudaTensor x, CudaTensor dy, CudaTensor gamma, CudaTensor savedMean, CudaTensor savedInvStd,
                  CudaTensor dx, CudaTensor dGamma, CudaTensor dBeta, double epsilon) {
        cudnnTensorDescriptor[] d = descriptors(x.shape());
        CudaCheck.cudnn(cudnnBatchNormalizationBackward(device.cudnn, CUDNN_BATCHNORM_SPATIAL, one(), zero(), one(),
                zero(), d[0], x.ptr(), d[0], dy.ptr(), d[0], dx.ptr(), d[1], gamma.ptr(), dGamma.ptr(), dBeta.ptr(),
                epsilon, savedMean.ptr(), savedInvStd.ptr()), "batchNormBackward " + x.shape());
    }

    // ---- relu_bn: our fused kernels ----

    void reluTrainForward(CudaTensor x, CudaTensor gamma, CudaTensor beta, CudaTensor movingMean,
                          CudaTensor movingVariance, CudaTensor y, CudaTensor savedMean, CudaTensor savedInvStd,
                          double momentum, double epsilon) {
        int channels = x.shape().dim(-1);
        int rows = Math.toIntExact(x.elements() / channels);
        device.reduceColumns(rows, channels, 2, "relu_bn_stat_partials", new Object[] {x}, "relu_bn_stat_finalize",
                rows, channels, (float) momentum, (float) epsilon, savedMean, savedInvStd, movingMean, movingVariance);
        device.launchOver(x.elements(), "relu_bn_train_apply", x, y, gamma, beta, savedMean, savedInvStd, x.elements(),
                channels);
    }

    void reluInferForward(CudaTensor x, CudaTensor gamma, CudaTensor beta, CudaTensor movingMean,
                          CudaTensor movingVariance, CudaTensor y, double epsilon) {
        device.launchOver(x.elements(), "relu_bn_infer", x, y, gamma, beta, movingMean, movingVariance,
                (float) epsilon, x.elements(), x.shape().dim(-1));
    }

    void reluBackward(CudaTensor x, CudaTensor dy, CudaTensor gamma, CudaTensor savedMean, CudaTensor savedInvStd,
                      CudaTensor dx, CudaTensor dGamma, CudaTensor dBeta) {
        int channels = x.shape().dim(-1);
        int rows = Math.toIntExact(x.elements() / channels);
        device.reduceColumns(rows, channels, 2, "relu_bn_grad_partials", new Object[] {x, dy, savedMean, savedInvStd},
                "relu_bn_grad_finalize", channels, dGamma, dBeta);
        device.launchOver(x.elements(), "relu_bn_backward_apply", x, dy, gamma, savedMean, savedInvStd, dGamma, dBeta,
                dx, x.elements(), channels, rows);
    }

    // ---- BN → ReLU: cuDNN forward, ReLU in place; our fused backward ----

    void trainForwardRelu(CudaTensor x, CudaTensor gamma, CudaTensor beta, CudaTensor movingMean,
                          CudaTensor movingVariance, CudaTensor y, CudaTensor savedMean, CudaTensor savedInvStd,
                          double momentum, double epsilon) {
        trainForward(x, gamma, beta, movingMean, movingVariance, y, savedMean, savedInvStd, momentum, epsilon);
        device.launchOver(y.elements(), "relu_forward", y, y, y.elements());
    }

    void inferForwardRelu(CudaTensor x, CudaTensor gamma, CudaTensor beta, CudaTensor movingMean,
                          CudaTensor movingVariance, CudaTensor y, double epsilon) {
        inferForward(x, gamma, beta, movingMean, movingVariance, y, epsilon);
        device.launchOver(y.elements(), "relu_forward", y, y, y.elements());
    }

    void backwardRelu(CudaTensor x, CudaTensor y, CudaTensor dy, CudaTensor gamma, CudaTensor savedMean,
                      CudaTensor savedInvStd, CudaTensor dx, CudaTensor dGamma, CudaTensor dBeta) {
        int channels = x.shape().dim(-1);
        int rows = Math.toIntExact(x.elements() / channels);
        device.reduceColumns(rows, channels, 2, "bn_relu_grad_partials", new Object[] {x, y, dy, savedMean, savedInvStd},
                "relu_bn_grad_finalize", channels, dGamma, dBeta);
        device.launchOver(x.elements(), "bn_relu_backward_apply", x, y, dy, gamma, savedMean, savedInvStd, dGamma, dBeta,
                dx, x.elements(), channels, rows);
    }

    @Override public void close() {
        for (cudnnTensorDescriptor[] d : descriptors.values()) {
            for (cudnnTensorDescriptor t : d) CudaCheck.cudnn(cudnnDestroyTensorDescriptor(t), "close: batch norm descriptor");
        }
        descriptors.clear();
    }
}
