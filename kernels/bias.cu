// Bias for convolutions and dense layers: y[row, c] += bias[c], and its gradient, the column sum of
// dy, reduced in double per row chunk and then per channel (same scheme as relu_bn statistics).
#include "common.cuh"

extern "C" __global__ void bias_add(float* y, const float* bias, long long n, int channels) {
    FOR_EACH_INDEX(i, n) y[i] += bias[(int)(i % channels)];
}

extern "C" __global__ void column_sum_partials(const float* dy, int rows, int channels, int rowsPerChunk,
                                               double* partial) {
    __shared__ double scratch[ROW_LANES][COLUMN_TILE];
    int c = blockIdx.x * COLUMN_TILE + threadIdx.x;
    int chunk = blockIdx.y;
    int end = min(rows, (chunk + 1) * rowsPerChunk);
    double sum = 0.0;
    if (c < channels) {
        for (int r = chunk * rowsPerChunk + threadIdx.y; r < end; r += ROW_LANES) {
            sum += dy[(long long)r * channels + c];
        }
    }
    sum = sum_over_row_lanes(sum, scratch);
    if (threadIdx.y == 0 && c < channels) partial[(long long)chunk * channels + c] = sum;
}

extern "C" __global__ void column_sum_finalize(const double* partial, int chunks, int channels, float* out) {
    int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= channels) return;
    double sum = 0.0;
    for (int k = 0; k < chunks; k++) sum += partial[(long long)k * channels + c];
    out[c] = (float)sum;
}
