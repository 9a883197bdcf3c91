// He et al.'s BN -> ReLU: the forward is cuDNN's batch norm with relu_forward in place after it; the
// backward is fused here so the ReLU's gradient is never stored: dy passes where the forward output
// y is above 0, then the batch-norm gradient as cuDNN's. Sums in double per (row chunk, channel),
// combined by relu_bn_grad_finalize (deterministic, no atomics).
#include "common.cuh"

// partial[chunk][0][c] = sum dy', partial[chunk][1][c] = sum dy' * xhat, dy' = dy where y > 0.
extern "C" __global__ void bn_relu_grad_partials(const float* x, const float* y, const float* dy, const float* mean,
                                                 const float* invStd, int rows, int channels, int rowsPerChunk,
                                                 double* partial) {
    column_chunk_sums<2>(rows, channels, rowsPerChunk, partial, [=](long long i, int c, double* sums) {
        double g = y[i] > 0.0f ? dy[i] : 0.0f;
        sums[0] += g;
        sums[1] += g * (double)((x[i] - mean[c]) * invStd[c]);
    });
}

// dx = gamma * invStd / M * (M * dy' - dBeta - xhat * dGamma).
extern "C" __global__ void bn_relu_backward_apply(const float* x, const float* y, const float* dy, const float* gamma,
                                                  const float* mean, const float* invStd, const float* dGamma,
                                                  const float* dBeta, float* dx, long long n, int channels,
                                                  int rows) {
    FOR_EACH_INDEX(i, n) {
        int c = (int)(i % channels);
        float g = y[i] > 0.0f ? dy[i] : 0.0f;
        float xhat = (x[i] - mean[c]) * invStd[c];
        dx[i] = gamma[c] * invStd[c] * (g - (dBeta[c] + xhat * dGamma[c]) / rows);
    }
}
