// Bias for convolutions and dense layers: y[row, c] += bias[c], and its gradient, the column sum of
// dy, reduced in double per row chunk and then per channel (same scheme as relu_bn statistics).
#include "common.cuh"

extern "C" __global__ void bias_add(float* y, const float* bias, long long n, int channels) {
    FOR_EACH_INDEX(i, n) y[i] += bias[(int)(i % channels)];
}

extern "C" __global__ void column_sum_partials(const float* dy, int rows, int channels, int rowsPerChunk,
                                               double* partial) {
    column_chunk_sums<1>(rows, channels, rowsPerChunk, partial,
                         [=](long long i, int, double* sums) { sums[0] += dy[i]; });
}

extern "C" __global__ void column_sum_finalize(const double* partial, int chunks, int channels, float* out) {
    int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= channels) return;
    double sum = 0.0;
    for (int k = 0; k < chunks; k++) sum += partial[(long long)k * channels + c];
    out[c] = (float)sum;
}
