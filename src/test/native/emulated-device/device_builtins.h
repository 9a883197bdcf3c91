// What kernels/*.cu expect from nvcc, for compiling them as host C++ on the emulated device.
// Each CUDA thread of a block runs as a fiber (see cuda.cpp); the scheduler sets threadIdx and
// blockIdx before it resumes a fiber, and __syncthreads() hands control back to the scheduler.
#pragma once
#include <cmath>
#include <type_traits>

struct uint3 { unsigned int x, y, z; };
struct dim3 { unsigned int x, y, z; };

extern uint3 threadIdx, blockIdx;
extern dim3 blockDim, gridDim;

// Opaque on purpose: the compiler must reload threadIdx after every barrier.
void __syncthreads();

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
// One block runs at a time, so a function-local static is that block's shared memory.
#define __shared__ static

inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }

template <typename A, typename B> inline std::common_type_t<A, B> min(A a, B b) { return b < a ? b : a; }
template <typename A, typename B> inline std::common_type_t<A, B> max(A a, B b) { return a < b ? b : a; }
