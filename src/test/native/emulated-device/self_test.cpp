// Checks that the emulated libcuda catches what it claims to catch, with kernels written to be wrong.
// Linked against cuda.cpp with this file's kernel table instead of kernels/*.cu; run by
// native-build/emulated-device.sh, which fails when this prints a FAIL line.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <thread>

#include <sys/wait.h>
#include <unistd.h>

#include "device_builtins.h"
#include "kernel_table.h"

#define FOR_EACH_INDEX(i, n) \
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (long long)gridDim.x * blockDim.x)

extern "C" void write_index(float *y, long long n) {
    FOR_EACH_INDEX(i, n) y[i] = (float)i;
}

// Tree sum over one block of 256 threads; with_barrier = 0 drops the barrier inside the loop.
extern "C" void block_sum(const float *x, float *sum, int with_barrier) {
    __shared__ float partial[256];
    partial[threadIdx.x] = x[threadIdx.x];
    __syncthreads();
    for (unsigned stride = 128; stride > 0; stride /= 2) {
        if (threadIdx.x < stride) partial[threadIdx.x] += partial[threadIdx.x + stride];
        if (with_barrier) __syncthreads();
    }
    if (threadIdx.x == 0) *sum = partial[0];
}

// Threads 0-31 leave early while the others wait at a barrier.
extern "C" void divergent_barrier(float *y) {
    if (threadIdx.x < 32) return;
    __syncthreads();
    y[threadIdx.x] = 1.0f;
}

// Even and odd threads wait at two different __syncthreads() calls.
extern "C" void split_barriers(float *y) {
    if (threadIdx.x % 2 == 0) {
        y[threadIdx.x] = 1.0f;
        __syncthreads();
    } else {
        __syncthreads();
        y[threadIdx.x] = 2.0f;
    }
}

const KernelEntry emulated_kernels[] = {EMULATED_KERNEL(write_index), EMULATED_KERNEL(block_sum),
                                        EMULATED_KERNEL(divergent_barrier), EMULATED_KERNEL(split_barriers)};
const int emulated_kernel_count = 4;

typedef unsigned long long CUdeviceptr;
extern "C" {
int cuInit(unsigned);
int cuDevicePrimaryCtxRetain(void **, int);
int cuCtxSetCurrent(void *);
int cuMemAlloc_v2(CUdeviceptr *, size_t);
int cuMemcpyHtoD_v2(CUdeviceptr, const void *, size_t);
int cuMemcpyDtoH_v2(void *, CUdeviceptr, size_t);
int cuMemcpyHtoDAsync_v2(CUdeviceptr, const void *, size_t, void *);
int cuMemAllocHost_v2(void **, size_t);
int cuMemcpyDtoDAsync_v2(CUdeviceptr, CUdeviceptr, size_t, void *);
int cuStreamCreate(void **, unsigned);
int cuStreamSynchronize(void *);
int cuEventCreate(void **, unsigned);
int cuEventRecord(void *, void *);
int cuStreamWaitEvent(void *, void *, unsigned);
int cuModuleLoadData(void **, const void *);
int cuModuleGetFunction(const KernelEntry **, void *, const char *);
int cuLaunchKernel(const KernelEntry *, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, void *,
                   void **, void **);
}

static int failures = 0;

static void expect(bool ok, const char *what) {
    std::printf("%s %s\n", ok ? "ok  " : "FAIL", what);
    if (!ok) failures++;
}

template <typename Check> static bool in_child(Check check) {
    std::fflush(stdout);
    pid_t child = fork();
    if (child == 0) _exit(check() ? 0 : 1);
    int status = 0;
    waitpid(child, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static const KernelEntry *kernel(void *module, const char *name) {
    const KernelEntry *f = nullptr;
    cuModuleGetFunction(&f, module, name);
    return f;
}

int main() {
    void *context, *module;
    cuInit(0);
    cuDevicePrimaryCtxRetain(&context, 0);

    int status = -1;
    std::thread([&] { CUdeviceptr p; status = cuMemAlloc_v2(&p, 4); }).join();
    expect(status == 201, "a thread without a current context gets CUDA_ERROR_INVALID_CONTEXT");
    cuCtxSetCurrent(context);

    unsigned magic = 0xBA55ED50, not_fatbin = 0x464C457F;
    expect(cuModuleLoadData(&module, &not_fatbin) == 200, "an image that is not a fatbin is refused");
    expect(cuModuleLoadData(&module, &magic) == 0, "a fatbin image loads");

    CUdeviceptr x, sum, y;
    cuMemAlloc_v2(&x, 256 * sizeof(float));
    cuMemAlloc_v2(&sum, sizeof(float));
    cuMemAlloc_v2(&y, 256 * sizeof(float));
    float fresh;
    cuMemcpyDtoH_v2(&fresh, x, sizeof fresh);
    expect(std::isnan(fresh), "fresh device memory reads as NaN");

    float ones[256];
    for (float &v : ones) v = 1.0f;
    cuMemcpyHtoD_v2(x, ones, sizeof ones);
    float result[2];
    for (int with_barrier = 1; with_barrier >= 0; with_barrier--) {
        void *params[] = {&x, &sum, &with_barrier};
        cuLaunchKernel(kernel(module, "block_sum"), 1, 1, 1, 256, 1, 1, 0, nullptr, params, nullptr);
        cuMemcpyDtoH_v2(&result[with_barrier], sum, sizeof(float));
    }
    expect(result[1] == 256.0f, "a block reduction with its barriers sums 256 ones to 256");
    expect(result[0] != 256.0f, "the same reduction without the loop's barrier gives a wrong sum");

    // Queued work runs as late as it may.
    void *copies, *reader, *copied;
    cuStreamCreate(&copies, 1);  // CU_STREAM_NON_BLOCKING, like the backend's copy stream
    cuStreamCreate(&reader, 0);
    cuEventCreate(&copied, 2);
    CUdeviceptr a, b, c;
    cuMemAlloc_v2(&a, sizeof(float));
    cuMemAlloc_v2(&b, sizeof(float));
    cuMemAlloc_v2(&c, sizeof(float));
    float *pinned, pageable = 5.0f, seen = 0.0f;
    cuMemAllocHost_v2(reinterpret_cast<void **>(&pinned), sizeof(float));
    *pinned = 1.0f;
    cuMemcpyHtoDAsync_v2(a, pinned, sizeof(float), copies);
    *pinned = 2.0f;
    cuStreamSynchronize(copies);
    cuMemcpyDtoH_v2(&seen, a, sizeof seen);
    expect(seen == 2.0f, "an asynchronous upload from pinned memory reads it when its stream runs the copy");

    cuMemcpyHtoDAsync_v2(a, &pageable, sizeof pageable, copies);
    pageable = 6.0f;
    cuStreamSynchronize(copies);
    cuMemcpyDtoH_v2(&seen, a, sizeof seen);
    expect(seen == 5.0f, "from pageable memory it has copied before it returns, as the driver does");

    *pinned = 3.0f;
    cuMemcpyHtoDAsync_v2(b, pinned, sizeof(float), copies);
    cuEventRecord(copied, copies);
    cuStreamWaitEvent(reader, copied, 0);
    cuMemcpyDtoDAsync_v2(c, b, sizeof(float), reader);
    cuStreamSynchronize(reader);
    cuMemcpyDtoH_v2(&seen, c, sizeof seen);
    expect(seen == 3.0f, "a stream that waits for another stream's event sees that stream's copy");

    *pinned = 4.0f;
    cuMemcpyHtoDAsync_v2(b, pinned, sizeof(float), copies);
    cuMemcpyDtoDAsync_v2(c, b, sizeof(float), reader);
    cuStreamSynchronize(reader);
    cuMemcpyDtoH_v2(&seen, c, sizeof seen);
    expect(seen == 3.0f, "without the wait it reads what was there before the other stream's copy");
    cuStreamSynchronize(copies);

    // A failed launch breaks the context for good, as on a GPU: each of these runs in its own process.
    expect(in_child([&] {
               void *params[] = {&y};
               cuLaunchKernel(kernel(module, "divergent_barrier"), 1, 1, 1, 64, 1, 1, 0, copies, params, nullptr);
               return cuStreamSynchronize(copies) == 719;
           }),
           "threads leaving while others wait at __syncthreads() fail the launch, reported at the next synchronization");
    expect(in_child([&] {
               void *params[] = {&y};
               cuLaunchKernel(kernel(module, "split_barriers"), 1, 1, 1, 64, 1, 1, 0, copies, params, nullptr);
               return cuStreamSynchronize(copies) == 719;
           }),
           "threads waiting at two different __syncthreads() calls fail the launch");
    expect(in_child([&] {
               long long n = 257;
               void *params[] = {&y, &n};
               return cuLaunchKernel(kernel(module, "write_index"), 2, 1, 1, 256, 1, 1, 0, copies, params, nullptr) == 0
                   && cuStreamSynchronize(copies) == 700 && cuMemcpyDtoH_v2(&fresh, y, sizeof fresh) == 700;
           }),
           "a queued kernel writing one float past its allocation makes the next synchronization fail with "
           "CUDA_ERROR_ILLEGAL_ADDRESS, and every call after it");
    return failures == 0 ? 0 : 1;
}
