// Shared by the kernels: launch-shape helpers and the column (per-channel) reduction used by
// batch normalization and bias gradients. Data are row-major [rows, channels] (NHWC flattened).
#pragma once

// Grid-stride loop so any launch size covers any element count.
#define FOR_EACH_INDEX(i, n) \
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < (n); \
         i += (long long)gridDim.x * blockDim.x)

// ReLU that keeps NaN, as TensorFlow's and the CPU backend's do: fmaxf(NaN, 0) is 0, which would hide a
// diverged step from --on-nan and from the checkpoint guard.
__device__ __forceinline__ float relu(float x) { return x < 0.0f ? 0.0f : x; }

// Coordinates of flat index i in an NHWC tensor of the given height, width and channels.
struct NhwcIndex {
    int b, h, w, c;
};

__device__ __forceinline__ NhwcIndex decode_nhwc(long long i, int height, int width, int channels) {
    NhwcIndex at;
    at.c = (int)(i % channels);
    long long rest = i / channels;
    at.w = (int)(rest % width);
    rest /= width;
    at.h = (int)(rest % height);
    at.b = (int)(rest / height);
    return at;
}

// Column reductions run in blocks of COLUMN_TILE channels x ROW_LANES rows: a warp reads 32
// consecutive channels of one row, which is one coalesced transaction for NHWC data.
#define COLUMN_TILE 32
#define ROW_LANES 8

// Sums `value` over the ROW_LANES threads of a block that share a channel; thread row 0 gets the sum.
__device__ __forceinline__ double sum_over_row_lanes(double value, double (*scratch)[COLUMN_TILE]) {
    scratch[threadIdx.y][threadIdx.x] = value;
    __syncthreads();
    double total = 0.0;
    if (threadIdx.y == 0) {
        for (int lane = 0; lane < ROW_LANES; lane++) total += scratch[lane][threadIdx.x];
    }
    __syncthreads();
    return total;
}

// The first pass of a column reduction over [rows, channels] data: block (x, chunk) sums SUMS terms
// over the chunk's rows for COLUMN_TILE channels and writes them to partial[chunk][s][c]; a finalize
// kernel then combines the chunks. add(i, c, sums) adds element i's terms (channel c) into sums.
template <int SUMS, typename Add>
__device__ __forceinline__ void column_chunk_sums(int rows, int channels, int rowsPerChunk, double* partial, Add add) {
    __shared__ double scratch[ROW_LANES][COLUMN_TILE];
    int c = blockIdx.x * COLUMN_TILE + threadIdx.x;
    int chunk = blockIdx.y;
    int end = min(rows, (chunk + 1) * rowsPerChunk);
    double sums[SUMS] = {};
    if (c < channels) {
        for (int r = chunk * rowsPerChunk + threadIdx.y; r < end; r += ROW_LANES) {
            add((long long)r * channels + c, c, sums);
        }
    }
    for (int s = 0; s < SUMS; s++) {
        double total = sum_over_row_lanes(sums[s], scratch);
        if (threadIdx.y == 0 && c < channels) partial[((long long)chunk * SUMS + s) * channels + c] = total;
    }
}
