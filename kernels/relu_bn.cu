// The tutorial's relu_bn: y = BN(ReLU(x)) over all axes but the channels, fused so the ReLU output
// is never stored. Statistics accumulate in double per (row chunk, channel) and are combined by a
// finalize kernel, so sums over 10^5 elements keep float accuracy without atomics (deterministic).
#include "common.cuh"

// partial[chunk][0][c] = sum relu(x), partial[chunk][1][c] = sum relu(x)^2 over the chunk's rows.
extern "C" __global__ void relu_bn_stat_partials(const float* x, int rows, int channels, int rowsPerChunk,
                                                 double* partial) {
    column_chunk_sums<2>(rows, channels, rowsPerChunk, partial, [=](long long i, int, double* sums) {
        double v = relu(x[i]);
        sums[0] += v;
        sums[1] += v * v;
    });
}

// Batch mean, biased variance -> saved statistics; unbiased variance -> moving variance.
extern "C" __global__ void relu_bn_stat_finalize(const double* partial, int chunks, int rows, int channels,
                                                 float momentum, float epsilon, float* savedMean,
                                                 float* savedInvStd, float* movingMean, float* movingVariance) {
    int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= channels) return;
    double sum = 0.0, squares = 0.0;
    for (int k = 0; k < chunks; k++) {
        sum += partial[(long long)k * 2 * channels + c];
        squares += partial[(long long)k * 2 * channels + channels + c];
    }
    double mean = sum / rows;
    double difference = squares / rows - mean * mean;
    double variance = difference < 0.0 ? 0.0 : difference;  // rounding can make it negative; NaN stays NaN
    savedMean[c] = (float)mean;
    savedInvStd[c] = (float)(1.0 / sqrt(variance + (double)epsilon));
    double unbiased = rows > 1 ? variance * rows / (rows - 1) : variance;
    movingMean[c] = (float)(momentum * (double)movingMean[c] + (1.0 - momentum) * mean);
    movingVariance[c] = (float)(momentum * (double)movingVariance[c] + (1.0 - momentum) * unbiased);
}

extern "C" __global__ void relu_bn_train_apply(const float* x, float* y, const float* gamma, const float* beta,
                                               const float* mean, const float* invStd, long long n, int channels) {
    FOR_EACH_INDEX(i, n) {
        int c = (int)(i % channels);
        y[i] = gamma[c] * (relu(x[i]) - mean[c]) * invStd[c] + beta[c];
    }
}

extern "C" __global__ void relu_bn_infer(const float* x, float* y, const float* gamma, const float* beta,
                                         const float* movingMean, const float* movingVariance, float epsilon,
                                         long long n, int channels) {
    FOR_EACH_INDEX(i, n) {
        int c = (int)(i % channels);
        y[i] = gamma[c] * (relu(x[i]) - movingMean[c]) * rsqrtf(movingVariance[c] + epsilon) + beta[c];
    }
}

// partial[chunk][0][c] = sum dy, partial[chunk][1][c] = sum dy * xhat, xhat = (relu(x) - mean) * invStd.
extern "C" __global__ void relu_bn_grad_partials(const float* x, const float* dy, const float* mean,
                                                 const float* invStd, int rows, int channels, int rowsPerChunk,
                                                 double* partial) {
    column_chunk_sums<2>(rows, channels, rowsPerChunk, partial, [=](long long i, int c, double* sums) {
        double g = dy[i];
        sums[0] += g;
        sums[1] += g * (double)((relu(x[i]) - mean[c]) * invStd[c]);
    });
}

extern "C" __global__ void relu_bn_grad_finalize(const double* partial, int chunks, int channels,
                                                 float* dGamma, float* dBeta) {
    int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= channels) return;
    double sumDy = 0.0, sumDyXhat = 0.0;
    for (int k = 0; k < chunks; k++) {
        sumDy += partial[(long long)k * 2 * channels + c];
        sumDyXhat += partial[(long long)k * 2 * channels + channels + c];
    }
    dBeta[c] = (float)sumDy;
    dGamma[c] = (float)sumDyXhat;
}

// dx = relu'(x) * gamma * invStd / M * (M * dy - dBeta - xhat * dGamma).
extern "C" __global__ void relu_bn_backward_apply(const float* x, const float* dy, const float* gamma,
                                                  const float* mean, const float* invStd, const float* dGamma,
                                                  const float* dBeta, float* dx, long long n, int channels,
                                                  int rows) {
    FOR_EACH_INDEX(i, n) {
        int c = (int)(i % channels);
        float xi = x[i];
        if (xi > 0.0f) {
            float xhat = (xi - mean[c]) * invStd[c];
            dx[i] = gamma[c] * invStd[c] * (dy[i] - (dBeta[c] + xhat * dGamma[c]) / rows);
        } else {
            dx[i] = 0.0f;
        }
    }
}
