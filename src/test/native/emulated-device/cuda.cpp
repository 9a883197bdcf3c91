// A stand-in for libcuda.so.1 (the CUDA driver API) that runs on the CPU, for tests only.
//
// "Device" memory is host memory, so a CUdeviceptr is a host address; kernels are kernels/*.cu compiled
// as C++ (device_builtins.h), each CUDA thread a fiber (its own stack) so that __syncthreads() works. It is strict
// where the real driver is, and stricter where a bug would otherwise go unnoticed:
//   - work queued on a stream runs as late as the API allows: only when something waits for it (a
//     synchronization, an event wait, a synchronous copy, a cuDNN/cuBLAS call on that stream, a free).
//     So a pinned buffer rewritten before its asynchronous copy ran, or a stream that reads another
//     stream's result without waiting for its event, gets the wrong data; and like the real driver,
//     an error in queued work is reported by a later call;
//   - fresh allocations are filled with 0xFF bytes (NaN as float), so a read of unwritten memory shows;
//   - every allocation has guard bytes on both sides, checked before and after each kernel and at every
//     synchronization (copies are bounds-checked when queued): a write out of bounds fails like an
//     illegal address, and as in the real driver the context stays broken;
//   - copies and memsets must lie inside one allocation;
//   - the current context is per thread, as in the real driver;
//   - a block whose threads do not all reach the same __syncthreads() call fails the launch, and between
//     barriers its threads run in a shuffled order, so a missing barrier shows as a wrong result.
// A kernel whose first launch never reaches __syncthreads() runs later launches without fibers.
// What it cannot show: the other legal orders of independent work (it tries only the latest one; blocks
// run in index order), uninitialized shared memory (a function-local static: zero at first, then the
// previous block's values), fiber stack overflows (no guard page), timing, or hardware numerics (no FMA
// contraction, host libm instead of the CUDA math library).
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "device_builtins.h"
#include "kernel_table.h"

typedef int CUresult;
typedef int CUdevice;
typedef unsigned long long CUdeviceptr;
typedef struct Context *CUcontext;
typedef struct Module *CUmodule;
typedef const KernelEntry *CUfunction;
typedef struct Stream *CUstream;
typedef struct Event *CUevent;

enum : CUresult {
    CUDA_SUCCESS = 0,
    CUDA_ERROR_INVALID_VALUE = 1,
    CUDA_ERROR_OUT_OF_MEMORY = 2,
    CUDA_ERROR_NOT_INITIALIZED = 3,
    CUDA_ERROR_INVALID_DEVICE = 101,
    CUDA_ERROR_INVALID_IMAGE = 200,
    CUDA_ERROR_INVALID_CONTEXT = 201,
    CUDA_ERROR_INVALID_HANDLE = 400,
    CUDA_ERROR_NOT_FOUND = 500,
    CUDA_ERROR_ILLEGAL_ADDRESS = 700,
    CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES = 701,
    CUDA_ERROR_LAUNCH_FAILED = 719,
    CUDA_ERROR_NOT_SUPPORTED = 801,
};

// CUdevice_attribute values used by the backend.
enum { ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75, ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76 };

struct Context { int retained = 0; };
struct Module { int unused; };
// Work queued on a stream; completed counts the operations that have run, enqueued those queued.
struct Stream {
    bool blocking = true;  // created without CU_STREAM_NON_BLOCKING: ordered with the legacy stream
    std::deque<std::function<void()>> pending;
    uint64_t enqueued = 0, completed = 0;
};

// Where an event was last recorded: done once its stream has completed that many operations.
struct Event {
    Stream *stream = nullptr;
    uint64_t ticket = 0;
};

uint3 threadIdx, blockIdx;
dim3 blockDim, gridDim;

namespace {

constexpr const char *DEVICE_NAME = "jresnet emulated device (CPU stand-in for tests, not a GPU)";
// 16 GiB, or the bytes $JRESNET_EMULATED_DEVICE_MEMORY says (to test running out of device memory).
const size_t TOTAL_MEMORY = [] {
    const char *bytes = std::getenv("JRESNET_EMULATED_DEVICE_MEMORY");
    return bytes != nullptr ? size_t(std::strtoull(bytes, nullptr, 10)) : size_t(16) << 30;
}();
constexpr size_t ALIGNMENT = 256;
constexpr size_t GUARD = 256;
constexpr unsigned char GUARD_BYTE = 0xA5;
constexpr size_t FIBER_STACK = 64 * 1024;
constexpr unsigned MAX_THREADS_PER_BLOCK = 1024;
constexpr uint32_t FATBIN_MAGIC = 0xBA55ED50;

std::mutex device_lock;
bool initialized = false;
CUresult sticky_error = CUDA_SUCCESS;  // like the real driver: after an illegal address, the context is lost
Context primary_context;
thread_local CUcontext current_context = nullptr;
std::set<Module *> modules;
std::set<Stream *> streams;
// The null stream, CU_STREAM_LEGACY and CU_STREAM_PER_THREAD. The real per-thread stream does not wait
// for other blocking streams; treating it as the legacy one is stricter ordering, so it could hide a
// missing wait (the backend does not use it).
Stream legacy_stream;
std::set<Event *> events;
std::map<uintptr_t, size_t> device_allocations;  // user address -> requested bytes
std::map<uintptr_t, size_t> host_allocations;  // pinned (cuMemAllocHost) address -> bytes
size_t bytes_allocated = 0;

// Modules, streams and events: handles the library hands out and must recognize when they come back.
template <typename Handle> CUresult create_handle(std::set<Handle *> &live, Handle **out) {
    Handle *handle = new Handle();
    live.insert(handle);
    *out = handle;
    return CUDA_SUCCESS;
}

template <typename Handle> CUresult destroy_handle(std::set<Handle *> &live, Handle *handle) {
    if (live.erase(handle) == 0) return CUDA_ERROR_INVALID_HANDLE;
    delete handle;
    return CUDA_SUCCESS;
}

// How often each API function was called: written, one "name count" line each, to the file that
// $JRESNET_EMULATED_DEVICE_CALLS names when the library is unloaded (so tests can count per-step work).
// The destructor of the object that owns the counts writes them, so they still exist then.
struct CallCounts {
    std::mutex lock;
    std::map<std::string, long> counts;

    ~CallCounts() {
        const char *path = std::getenv("JRESNET_EMULATED_DEVICE_CALLS");
        FILE *out = path == nullptr ? nullptr : std::fopen(path, "w");
        if (out == nullptr) return;
        for (const auto &[api, count] : counts) std::fprintf(out, "%s %ld\n", api.c_str(), count);
        std::fclose(out);
    }
} calls;

void count_call(const char *api) {
    std::lock_guard<std::mutex> guard(calls.lock);
    calls.counts[api]++;
}

CUresult fail(CUresult status, const std::string &message) {
    std::fprintf(stderr, "emulated libcuda: %s\n", message.c_str());
    return status;
}

unsigned char *raw_block(uintptr_t user) { return reinterpret_cast<unsigned char *>(user) - GUARD; }

bool guards_intact(uintptr_t user, size_t bytes) {
    const unsigned char *raw = raw_block(user);
    for (size_t i = 0; i < GUARD; i++) {
        if (raw[i] != GUARD_BYTE || raw[GUARD + bytes + i] != GUARD_BYTE) return false;
    }
    return true;
}

// Launches and copies are checked as they happen; a guard found damaged at a synchronization point
// was hit by a cuDNN or cuBLAS call, which write device memory without going through this library.
constexpr const char *LIBRARY_CALLS = "a cuDNN or cuBLAS call since the last check";

// After anything that wrote device memory: a damaged guard means a write out of bounds.
CUresult check_guards(const char *after) {
    for (const auto &[user, bytes] : device_allocations) {
        if (!guards_intact(user, bytes)) {
            sticky_error = CUDA_ERROR_ILLEGAL_ADDRESS;
            char message[256];
            std::snprintf(message, sizeof message, "%s wrote outside the %zu-byte allocation at 0x%" PRIxPTR,
                          after, bytes, user);
            return fail(CUDA_ERROR_ILLEGAL_ADDRESS, message);
        }
    }
    return CUDA_SUCCESS;
}

// Whether [address, address + bytes) lies inside one block of allocations (address -> bytes).
bool inside(const std::map<uintptr_t, size_t> &allocations, uintptr_t address, size_t bytes) {
    auto it = allocations.upper_bound(address);
    if (it == allocations.begin()) return false;
    --it;
    return address >= it->first && address + bytes <= it->first + it->second;
}

bool inside_allocation(CUdeviceptr ptr, size_t bytes) { return inside(device_allocations, ptr, bytes); }

// An asynchronous copy is asynchronous only with pinned host memory; from or to pageable memory the
// driver finishes with the host buffer before returning (JCuda may release a Java array right after).
bool pinned(const void *host, size_t bytes) {
    return inside(host_allocations, reinterpret_cast<uintptr_t>(host), bytes);
}

CUresult require_context() {
    if (!initialized) return CUDA_ERROR_NOT_INITIALIZED;
    if (sticky_error != CUDA_SUCCESS) return sticky_error;
    if (current_context == nullptr) return fail(CUDA_ERROR_INVALID_CONTEXT, "no current context on this thread");
    if (current_context->retained == 0) {
        return fail(CUDA_ERROR_INVALID_CONTEXT, "the current context was released (used after close?)");
    }
    return CUDA_SUCCESS;
}

// The null stream and the two special handles (legacy, per-thread) are valid without being created.
bool special_stream(CUstream s) { return reinterpret_cast<uintptr_t>(s) <= 2; }

bool valid_stream(CUstream s) { return special_stream(s) || streams.count(s) != 0; }

Stream *resolve(CUstream s) { return special_stream(s) ? &legacy_stream : s; }

// Runs s's queued work until it has completed ticket operations; an operation that waits for
// another stream's event runs that stream first.
void run_until(Stream *s, uint64_t ticket) {
    while (s->completed < ticket && !s->pending.empty()) {
        std::function<void()> operation = std::move(s->pending.front());
        s->pending.pop_front();
        s->completed++;
        if (sticky_error == CUDA_SUCCESS) operation();  // after a fault the rest is discarded
    }
}

void finish(Stream *s) { run_until(s, s->enqueued); }

void finish_blocking_streams() {
    for (Stream *s : streams) if (s->blocking) finish(s);
}

void finish_all() {
    for (Stream *s : streams) finish(s);
}

// Runs all work queued on stream (for the legacy stream: on every blocking stream), then reports.
CUresult drain(CUstream stream) {
    if (!valid_stream(stream)) return CUDA_ERROR_INVALID_HANDLE;
    if (special_stream(stream)) finish_blocking_streams(); else finish(stream);
    return sticky_error != CUDA_SUCCESS ? sticky_error : check_guards(LIBRARY_CALLS);
}

// Queues operation on s; on the legacy stream it runs at once, after all blocking streams' work.
void enqueue(Stream *s, std::function<void()> operation) {
    if (s == &legacy_stream) {
        finish_blocking_streams();
        if (sticky_error == CUDA_SUCCESS) operation();
        return;
    }
    s->pending.push_back(std::move(operation));
    s->enqueued++;
}

CUresult copy_check(CUdeviceptr device, size_t bytes, const char *what) {
    if (bytes == 0) return CUDA_SUCCESS;
    if (!inside_allocation(device, bytes)) {
        char message[160];
        std::snprintf(message, sizeof message, "%s of %zu bytes at 0x%llx is not inside one allocation", what, bytes,
                      device);
        return fail(CUDA_ERROR_INVALID_VALUE, message);
    }
    return CUDA_SUCCESS;
}

// ---- fibers: one per CUDA thread of the block being run ----

// Saves the callee-saved registers on the current stack, stores its pointer in *save, switches to the
// stack at load and restores the registers saved there. x86-64 System V only (as are JCuda's natives);
// ucontext's swapcontext would do the same with two signal-mask system calls per switch, which made
// the fibers the emulator's bottleneck.
extern "C" void jresnet_switch_stack(void **save, void *load);
asm(R"(
    .text
    .globl jresnet_switch_stack
    .hidden jresnet_switch_stack
    .type jresnet_switch_stack, @function
jresnet_switch_stack:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .size jresnet_switch_stack, .-jresnet_switch_stack
)");

struct Fiber {
    void *stack_pointer;  // where jresnet_switch_stack left it
    uint3 index;
    bool finished;
    const void *barrier;  // the __syncthreads() call it waits at
};

void *scheduler_stack_pointer;
std::set<const KernelEntry *> kernels_without_barriers;  // learnt from their first launch
bool block_reached_barrier = false;
std::vector<Fiber> fibers;
std::vector<char> fiber_stacks;
Fiber *running_fiber = nullptr;
const KernelEntry *running_kernel = nullptr;
void **running_params = nullptr;

// threadIdx of the block's t-th thread, x fastest, as CUDA numbers them.
uint3 thread_index(unsigned t) {
    return uint3{t % blockDim.x, (t / blockDim.x) % blockDim.y, t / (blockDim.x * blockDim.y)};
}

// A fiber's first frame: runs its thread, then hands control back for good (the stack is set up
// afresh for the next thread).
void fiber_main() {
    running_kernel->run_thread(running_params);
    running_fiber->finished = true;
    void *discarded;
    jresnet_switch_stack(&discarded, scheduler_stack_pointer);
    __builtin_unreachable();
}

// A stack that jresnet_switch_stack will "return" into fiber_main on: six register slots, fiber_main's
// address, and an empty return slot so fiber_main starts with the stack alignment of a call.
void *fresh_stack(char *base, size_t size) {
    auto top = reinterpret_cast<uintptr_t>(base + size) & ~uintptr_t(15);
    auto *slots = reinterpret_cast<void **>(top) - 8;
    for (int i = 0; i < 6; i++) slots[i] = nullptr;
    slots[6] = reinterpret_cast<void *>(&fiber_main);
    slots[7] = nullptr;
    return slots;
}

// Threads run in a new random order between two barriers, as warps may on a GPU, so that a missing
// __syncthreads() shows as a wrong result instead of being hidden by a fixed order. Seeded: reproducible.
uint64_t shuffle_state = 0x9E3779B97F4A7C15ull;

void shuffle(std::vector<unsigned> &order) {
    for (size_t i = order.size(); i > 1; i--) {
        shuffle_state ^= shuffle_state << 13;
        shuffle_state ^= shuffle_state >> 7;
        shuffle_state ^= shuffle_state << 17;
        std::swap(order[i - 1], order[shuffle_state % i]);
    }
}

// Runs one block to completion; false when its threads disagree about a barrier.
bool run_block(unsigned threads) {
    for (unsigned t = 0; t < threads; t++) {
        Fiber &f = fibers[t];
        f.index = thread_index(t);
        f.finished = false;
        f.stack_pointer = fresh_stack(fiber_stacks.data() + size_t(t) * FIBER_STACK, FIBER_STACK);
    }
    std::vector<unsigned> order(threads);
    for (unsigned t = 0; t < threads; t++) order[t] = t;
    for (;;) {
        shuffle(order);
        unsigned finished = 0, waiting = 0;
        for (unsigned t : order) {
            Fiber &f = fibers[t];
            if (f.finished) continue;
            running_fiber = &f;
            threadIdx = f.index;
            jresnet_switch_stack(&scheduler_stack_pointer, f.stack_pointer);
            if (f.finished) finished++; else waiting++;
        }
        if (waiting == 0) return true;
        block_reached_barrier = true;
        // Some threads left while others wait at __syncthreads(), or threads wait at different
        // __syncthreads() calls: undefined behaviour on a GPU.
        if (finished != 0) return false;
        const void *barrier = nullptr;
        for (unsigned t = 0; t < threads; t++) {
            if (fibers[t].finished) continue;
            if (barrier != nullptr && fibers[t].barrier != barrier) return false;
            barrier = fibers[t].barrier;
        }
        // Every live thread is at the same barrier; the next round releases them all.
    }
}

void launch(const KernelEntry *kernel, dim3 grid, dim3 block, void **params) {
    // Damage found now was done at call time by a cuDNN or cuBLAS stand-in, not by this kernel.
    if (check_guards(LIBRARY_CALLS) != CUDA_SUCCESS) return;
    unsigned threads = block.x * block.y * block.z;
    if (fibers.size() < threads) {
        fibers.resize(threads);
        fiber_stacks.resize(size_t(threads) * FIBER_STACK);
    }
    gridDim = grid;
    blockDim = block;
    running_kernel = kernel;
    running_params = params;
    // A kernel that never reached __syncthreads() in its first launch runs its threads as plain calls
    // from then on (fibers cost a context switch per thread).
    bool plain = kernels_without_barriers.count(kernel) != 0;
    block_reached_barrier = false;
    for (unsigned z = 0; z < grid.z; z++) {
        for (unsigned y = 0; y < grid.y; y++) {
            for (unsigned x = 0; x < grid.x; x++) {
                blockIdx = uint3{x, y, z};
                if (plain) {
                    running_fiber = nullptr;
                    for (unsigned t = 0; t < threads; t++) {
                        threadIdx = thread_index(t);
                        kernel->run_thread(params);
                    }
                } else if (!run_block(threads)) {
                    sticky_error = CUDA_ERROR_LAUNCH_FAILED;
                    fail(CUDA_ERROR_LAUNCH_FAILED, std::string(kernel->name)
                            + ": threads of one block did not all reach the same __syncthreads() call");
                    return;
                }
            }
        }
    }
    if (!plain && !block_reached_barrier) kernels_without_barriers.insert(kernel);
    check_guards(kernel->name);
}

// The argument values, copied when the launch is queued (as the driver does), and pointers to them.
struct Arguments {
    std::vector<uint64_t> storage;  // 8 bytes per parameter: every kernel parameter fits
    std::vector<void *> pointers;

    Arguments(const KernelEntry *kernel, void **params) : storage(kernel->parameter_count), pointers(kernel->parameter_count) {
        for (size_t i = 0; i < kernel->parameter_count; i++) {
            std::memcpy(&storage[i], params[i], kernel->parameter_sizes[i]);
            pointers[i] = &storage[i];
        }
    }
};

}  // namespace

void __syncthreads() {
    if (running_fiber == nullptr) {
        std::fprintf(stderr, "emulated libcuda: %s reached __syncthreads() after a launch that never did; "
                     "the emulator cannot run such a kernel\n", running_kernel->name);
        std::abort();
    }
    running_fiber->barrier = __builtin_return_address(0);
    jresnet_switch_stack(&running_fiber->stack_pointer, scheduler_stack_pointer);
}

#define API extern "C" __attribute__((visibility("default")))
#define LOCKED std::lock_guard<std::mutex> guard(device_lock)
#define ENTER count_call(__func__); LOCKED
#define REQUIRE_CONTEXT                              \
    do {                                             \
        CUresult status_ = require_context();        \
        if (status_ != CUDA_SUCCESS) return status_; \
    } while (0)

API CUresult cuInit(unsigned int flags) {
    ENTER;
    if (flags != 0) return CUDA_ERROR_INVALID_VALUE;
    initialized = true;
    return CUDA_SUCCESS;
}

API CUresult cuDriverGetVersion(int *version) {
    if (version == nullptr) return CUDA_ERROR_INVALID_VALUE;
    *version = 13000;
    return CUDA_SUCCESS;
}

API CUresult cuDeviceGetCount(int *count) {
    ENTER;
    if (!initialized) return CUDA_ERROR_NOT_INITIALIZED;
    if (count == nullptr) return CUDA_ERROR_INVALID_VALUE;
    *count = 1;
    return CUDA_SUCCESS;
}

API CUresult cuDeviceGet(CUdevice *device, int ordinal) {
    ENTER;
    if (!initialized) return CUDA_ERROR_NOT_INITIALIZED;
    if (device == nullptr) return CUDA_ERROR_INVALID_VALUE;
    if (ordinal != 0) return CUDA_ERROR_INVALID_DEVICE;
    *device = 0;
    return CUDA_SUCCESS;
}

API CUresult cuDeviceGetName(char *name, int length, CUdevice device) {
    if (device != 0) return CUDA_ERROR_INVALID_DEVICE;
    if (name == nullptr || length <= 0) return CUDA_ERROR_INVALID_VALUE;
    std::snprintf(name, size_t(length), "%s", DEVICE_NAME);
    return CUDA_SUCCESS;
}

API CUresult cuDeviceGetAttribute(int *value, int attribute, CUdevice device) {
    if (device != 0) return CUDA_ERROR_INVALID_DEVICE;
    if (value == nullptr) return CUDA_ERROR_INVALID_VALUE;
    switch (attribute) {
        case ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR: *value = 9; return CUDA_SUCCESS;
        case ATTRIBUTE_COMPUTE_CAPABILITY_MINOR: *value = 0; return CUDA_SUCCESS;
        default: return fail(CUDA_ERROR_NOT_SUPPORTED, "cuDeviceGetAttribute " + std::to_string(attribute));
    }
}

API CUresult cuDeviceTotalMem_v2(size_t *bytes, CUdevice device) {
    if (device != 0) return CUDA_ERROR_INVALID_DEVICE;
    if (bytes == nullptr) return CUDA_ERROR_INVALID_VALUE;
    *bytes = TOTAL_MEMORY;
    return CUDA_SUCCESS;
}

API CUresult cuDevicePrimaryCtxRetain(CUcontext *context, CUdevice device) {
    ENTER;
    if (!initialized) return CUDA_ERROR_NOT_INITIALIZED;
    if (device != 0) return CUDA_ERROR_INVALID_DEVICE;
    if (context == nullptr) return CUDA_ERROR_INVALID_VALUE;
    primary_context.retained++;
    *context = &primary_context;
    return CUDA_SUCCESS;
}

API CUresult cuDevicePrimaryCtxRelease_v2(CUdevice device) {
    ENTER;
    if (device != 0) return CUDA_ERROR_INVALID_DEVICE;
    if (primary_context.retained == 0) return fail(CUDA_ERROR_INVALID_CONTEXT, "primary context released more often than retained");
    primary_context.retained--;
    return CUDA_SUCCESS;
}

API CUresult cuCtxSetCurrent(CUcontext context) {
    ENTER;
    if (!initialized) return CUDA_ERROR_NOT_INITIALIZED;
    if (context != nullptr && (context != &primary_context || primary_context.retained == 0)) {
        return fail(CUDA_ERROR_INVALID_CONTEXT, "cuCtxSetCurrent with a context that is not retained");
    }
    current_context = context;
    return CUDA_SUCCESS;
}

API CUresult cuCtxGetCurrent(CUcontext *context) {
    if (context == nullptr) return CUDA_ERROR_INVALID_VALUE;
    *context = current_context;
    return CUDA_SUCCESS;
}

API CUresult cuCtxSynchronize() {
    ENTER;
    REQUIRE_CONTEXT;
    finish_all();
    return sticky_error != CUDA_SUCCESS ? sticky_error : check_guards(LIBRARY_CALLS);
}

API CUresult cuMemGetInfo_v2(size_t *free, size_t *total) {
    ENTER;
    REQUIRE_CONTEXT;
    if (free == nullptr || total == nullptr) return CUDA_ERROR_INVALID_VALUE;
    *total = TOTAL_MEMORY;
    *free = TOTAL_MEMORY - bytes_allocated;
    return CUDA_SUCCESS;
}

API CUresult cuMemAlloc_v2(CUdeviceptr *ptr, size_t bytes) {
    ENTER;
    REQUIRE_CONTEXT;
    if (ptr == nullptr || bytes == 0) return CUDA_ERROR_INVALID_VALUE;
    if (bytes > TOTAL_MEMORY - bytes_allocated) return CUDA_ERROR_OUT_OF_MEMORY;
    size_t raw_bytes = (GUARD + bytes + GUARD + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
    auto *raw = static_cast<unsigned char *>(std::aligned_alloc(ALIGNMENT, raw_bytes));
    if (raw == nullptr) return CUDA_ERROR_OUT_OF_MEMORY;
    std::memset(raw, GUARD_BYTE, GUARD);
    std::memset(raw + GUARD, 0xFF, bytes);
    std::memset(raw + GUARD + bytes, GUARD_BYTE, raw_bytes - GUARD - bytes);
    uintptr_t user = reinterpret_cast<uintptr_t>(raw + GUARD);
    device_allocations[user] = bytes;
    bytes_allocated += bytes;
    *ptr = user;
    return CUDA_SUCCESS;
}

API CUresult cuMemFree_v2(CUdeviceptr ptr) {
    ENTER;
    REQUIRE_CONTEXT;
    finish_all();  // cuMemFree waits for the work that may still use the memory
    auto it = device_allocations.find(static_cast<uintptr_t>(ptr));
    if (it == device_allocations.end()) return fail(CUDA_ERROR_INVALID_VALUE, "cuMemFree of a pointer not from cuMemAlloc");
    if (!guards_intact(it->first, it->second)) {
        sticky_error = CUDA_ERROR_ILLEGAL_ADDRESS;
        return fail(CUDA_ERROR_ILLEGAL_ADDRESS, "cuMemFree found the allocation's guard bytes overwritten");
    }
    bytes_allocated -= it->second;
    std::free(raw_block(it->first));
    device_allocations.erase(it);
    return CUDA_SUCCESS;
}

API CUresult cuMemAllocHost_v2(void **ptr, size_t bytes) {
    ENTER;
    REQUIRE_CONTEXT;
    if (ptr == nullptr || bytes == 0) return CUDA_ERROR_INVALID_VALUE;
    void *host = std::aligned_alloc(ALIGNMENT, (bytes + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT);
    if (host == nullptr) return CUDA_ERROR_OUT_OF_MEMORY;
    host_allocations[reinterpret_cast<uintptr_t>(host)] = bytes;
    *ptr = host;
    return CUDA_SUCCESS;
}

API CUresult cuMemFreeHost(void *ptr) {
    ENTER;
    REQUIRE_CONTEXT;
    finish_all();
    if (host_allocations.erase(reinterpret_cast<uintptr_t>(ptr)) == 0) return fail(CUDA_ERROR_INVALID_VALUE, "cuMemFreeHost of a pointer not from cuMemAllocHost");
    std::free(ptr);
    return CUDA_SUCCESS;
}

namespace {

// Copies run when their stream gets to them: an asynchronous upload reads the host buffer then, as the
// copy engine reads pinned memory, and an asynchronous download writes it then.
CUresult host_to_device(CUdeviceptr dst, const void *src, size_t bytes, CUstream stream) {
    LOCKED;
    REQUIRE_CONTEXT;
    if (!valid_stream(stream)) return CUDA_ERROR_INVALID_HANDLE;
    if (bytes != 0 && src == nullptr) return CUDA_ERROR_INVALID_VALUE;
    CUresult status = copy_check(dst, bytes, "cuMemcpyHtoD destination");
    if (status != CUDA_SUCCESS) return status;
    auto copy = [=] { std::memcpy(reinterpret_cast<void *>(dst), src, bytes); };
    if (pinned(src, bytes)) {
        enqueue(resolve(stream), copy);
    } else {
        drain(stream);
        enqueue(&legacy_stream, copy);
    }
    return sticky_error;
}

CUresult device_to_host(void *dst, CUdeviceptr src, size_t bytes, CUstream stream) {
    LOCKED;
    REQUIRE_CONTEXT;
    if (!valid_stream(stream)) return CUDA_ERROR_INVALID_HANDLE;
    if (bytes != 0 && dst == nullptr) return CUDA_ERROR_INVALID_VALUE;
    CUresult status = copy_check(src, bytes, "cuMemcpyDtoH source");
    if (status != CUDA_SUCCESS) return status;
    auto copy = [=] { std::memcpy(dst, reinterpret_cast<const void *>(src), bytes); };
    if (pinned(dst, bytes)) {
        enqueue(resolve(stream), copy);
    } else {
        drain(stream);
        enqueue(&legacy_stream, copy);
    }
    return sticky_error != CUDA_SUCCESS ? sticky_error : check_guards(LIBRARY_CALLS);
}

CUresult device_to_device(CUdeviceptr dst, CUdeviceptr src, size_t bytes, CUstream stream) {
    LOCKED;
    REQUIRE_CONTEXT;
    if (!valid_stream(stream)) return CUDA_ERROR_INVALID_HANDLE;
    CUresult status = copy_check(src, bytes, "cuMemcpyDtoD source");
    if (status == CUDA_SUCCESS) status = copy_check(dst, bytes, "cuMemcpyDtoD destination");
    if (status != CUDA_SUCCESS) return status;
    enqueue(resolve(stream), [=] {
        std::memmove(reinterpret_cast<void *>(dst), reinterpret_cast<const void *>(src), bytes);
    });
    return sticky_error;
}

CUresult set_words(CUdeviceptr dst, unsigned int value, size_t count, CUstream stream) {
    LOCKED;
    REQUIRE_CONTEXT;
    if (!valid_stream(stream)) return CUDA_ERROR_INVALID_HANDLE;
    if (dst % 4 != 0) return fail(CUDA_ERROR_INVALID_VALUE, "cuMemsetD32 on an address not aligned to 4 bytes");
    CUresult status = copy_check(dst, count * 4, "cuMemsetD32");
    if (status != CUDA_SUCCESS) return status;
    enqueue(resolve(stream), [=] {
        auto *words = reinterpret_cast<unsigned int *>(dst);
        for (size_t i = 0; i < count; i++) words[i] = value;
    });
    return sticky_error;
}

}  // namespace

API CUresult cuMemcpyHtoD_v2(CUdeviceptr dst, const void *src, size_t bytes) { count_call(__func__); return host_to_device(dst, src, bytes, nullptr); }
API CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr dst, const void *src, size_t bytes, CUstream stream) { count_call(__func__); return host_to_device(dst, src, bytes, stream); }
API CUresult cuMemcpyDtoH_v2(void *dst, CUdeviceptr src, size_t bytes) { count_call(__func__); return device_to_host(dst, src, bytes, nullptr); }
API CUresult cuMemcpyDtoHAsync_v2(void *dst, CUdeviceptr src, size_t bytes, CUstream stream) { count_call(__func__); return device_to_host(dst, src, bytes, stream); }
API CUresult cuMemcpyDtoD_v2(CUdeviceptr dst, CUdeviceptr src, size_t bytes) { count_call(__func__); return device_to_device(dst, src, bytes, nullptr); }
API CUresult cuMemcpyDtoDAsync_v2(CUdeviceptr dst, CUdeviceptr src, size_t bytes, CUstream stream) { count_call(__func__); return device_to_device(dst, src, bytes, stream); }
API CUresult cuMemsetD32_v2(CUdeviceptr dst, unsigned int value, size_t count) { count_call(__func__); return set_words(dst, value, count, nullptr); }
API CUresult cuMemsetD32Async(CUdeviceptr dst, unsigned int value, size_t count, CUstream stream) { count_call(__func__); return set_words(dst, value, count, stream); }

API CUresult cuModuleLoadData(CUmodule *module, const void *image) {
    ENTER;
    REQUIRE_CONTEXT;
    if (module == nullptr || image == nullptr) return CUDA_ERROR_INVALID_VALUE;
    // The machine code is not run here (the kernels were compiled from the same sources for the CPU),
    // but the image must be what the real driver would accept: a fatbin.
    uint32_t magic;
    std::memcpy(&magic, image, sizeof magic);
    if (magic != FATBIN_MAGIC) return fail(CUDA_ERROR_INVALID_IMAGE, "cuModuleLoadData: the image is not a fatbin");
    return create_handle(modules, module);
}

API CUresult cuModuleGetFunction(CUfunction *function, CUmodule module, const char *name) {
    ENTER;
    REQUIRE_CONTEXT;
    if (function == nullptr || name == nullptr) return CUDA_ERROR_INVALID_VALUE;
    if (modules.count(module) == 0) return CUDA_ERROR_INVALID_HANDLE;
    for (int i = 0; i < emulated_kernel_count; i++) {
        if (std::strcmp(emulated_kernels[i].name, name) == 0) {
            *function = &emulated_kernels[i];
            return CUDA_SUCCESS;
        }
    }
    return fail(CUDA_ERROR_NOT_FOUND, std::string("cuModuleGetFunction: no kernel named ") + name);
}

API CUresult cuModuleUnload(CUmodule module) {
    ENTER;
    REQUIRE_CONTEXT;
    finish_all();
    return destroy_handle(modules, module);
}

API CUresult cuLaunchKernel(CUfunction function, unsigned gridX, unsigned gridY, unsigned gridZ, unsigned blockX,
                            unsigned blockY, unsigned blockZ, unsigned sharedMemBytes, CUstream stream,
                            void **kernelParams, void **extra) {
    ENTER;
    REQUIRE_CONTEXT;
    if (function == nullptr || function < emulated_kernels || function >= emulated_kernels + emulated_kernel_count) {
        return CUDA_ERROR_INVALID_HANDLE;
    }
    if (!valid_stream(stream)) return CUDA_ERROR_INVALID_HANDLE;
    std::string what = std::string("cuLaunchKernel ") + function->name;
    if (extra != nullptr) return fail(CUDA_ERROR_NOT_SUPPORTED, what + ": 'extra' parameters");
    if (sharedMemBytes != 0) return fail(CUDA_ERROR_NOT_SUPPORTED, what + ": dynamic shared memory");
    if (gridX == 0 || gridY == 0 || gridZ == 0 || blockX == 0 || blockY == 0 || blockZ == 0
        || gridX > 0x7fffffffu || gridY > 65535 || gridZ > 65535 || blockX > 1024 || blockY > 1024 || blockZ > 64) {
        return fail(CUDA_ERROR_INVALID_VALUE, what + ": grid or block dimension out of range");
    }
    if (uint64_t(blockX) * blockY * blockZ > MAX_THREADS_PER_BLOCK) {
        return fail(CUDA_ERROR_INVALID_VALUE, what + ": more than 1024 threads per block");
    }
    if (kernelParams == nullptr) return fail(CUDA_ERROR_INVALID_VALUE, what + ": kernelParams is null");
    auto arguments = std::make_shared<Arguments>(function, kernelParams);
    dim3 grid{gridX, gridY, gridZ}, block{blockX, blockY, blockZ};
    enqueue(resolve(stream), [=] { launch(function, grid, block, arguments->pointers.data()); });
    return sticky_error;
}

API CUresult cuStreamCreate(CUstream *stream, unsigned int flags) {
    ENTER;
    REQUIRE_CONTEXT;
    if (stream == nullptr || flags > 1) return CUDA_ERROR_INVALID_VALUE;
    create_handle(streams, stream);
    (*stream)->blocking = (flags & 1) == 0;  // CU_STREAM_NON_BLOCKING = 1
    return CUDA_SUCCESS;
}

API CUresult cuStreamDestroy_v2(CUstream stream) {
    ENTER;
    REQUIRE_CONTEXT;
    if (streams.count(stream) != 0) finish(stream);  // queued work still completes
    for (Event *e : events) if (e->stream == stream) e->stream = nullptr;  // complete, and no dangling stream
    return destroy_handle(streams, stream);
}

API CUresult cuStreamSynchronize(CUstream stream) {
    ENTER;
    REQUIRE_CONTEXT;
    return drain(stream);
}

API CUresult cuStreamWaitEvent(CUstream stream, CUevent event, unsigned int flags) {
    ENTER;
    REQUIRE_CONTEXT;
    if (!valid_stream(stream) || events.count(event) == 0) return CUDA_ERROR_INVALID_HANDLE;
    if (flags != 0) return CUDA_ERROR_INVALID_VALUE;
    Stream *recorded = event->stream;
    uint64_t ticket = event->ticket;
    if (recorded != nullptr) {
        enqueue(resolve(stream), [=] {
            if (streams.count(recorded) != 0) run_until(recorded, ticket);
        });
    }
    return sticky_error;
}

API CUresult cuEventCreate(CUevent *event, unsigned int flags) {
    ENTER;
    REQUIRE_CONTEXT;
    if (event == nullptr || flags > 0xF) return CUDA_ERROR_INVALID_VALUE;
    return create_handle(events, event);
}

API CUresult cuEventRecord(CUevent event, CUstream stream) {
    ENTER;
    REQUIRE_CONTEXT;
    if (events.count(event) == 0 || !valid_stream(stream)) return CUDA_ERROR_INVALID_HANDLE;
    Stream *s = resolve(stream);
    if (s == &legacy_stream) {
        finish_blocking_streams();
        event->stream = nullptr;  // everything before it has run
    } else {
        enqueue(s, [] {});
        event->stream = s;
        event->ticket = s->enqueued;
    }
    return sticky_error;
}

API CUresult cuEventSynchronize(CUevent event) {
    ENTER;
    REQUIRE_CONTEXT;
    if (events.count(event) == 0) return CUDA_ERROR_INVALID_HANDLE;
    if (event->stream != nullptr && streams.count(event->stream) != 0) run_until(event->stream, event->ticket);
    return sticky_error != CUDA_SUCCESS ? sticky_error : check_guards(LIBRARY_CALLS);
}

// For the cuDNN and cuBLAS stand-ins, which run their work at call time: the stream's queued work
// first, as the real libraries' kernels would follow it on that stream.
API CUresult jresnet_emulator_drain(CUstream stream) {
    LOCKED;
    REQUIRE_CONTEXT;
    return drain(stream);
}

API CUresult cuEventDestroy_v2(CUevent event) {
    ENTER;
    REQUIRE_CONTEXT;
    return destroy_handle(events, event);
}

namespace {
struct ErrorText { CUresult status; const char *name; const char *text; };
constexpr ErrorText ERRORS[] = {
    {CUDA_SUCCESS, "CUDA_SUCCESS", "no error"},
    {CUDA_ERROR_INVALID_VALUE, "CUDA_ERROR_INVALID_VALUE", "invalid argument"},
    {CUDA_ERROR_OUT_OF_MEMORY, "CUDA_ERROR_OUT_OF_MEMORY", "out of memory"},
    {CUDA_ERROR_NOT_INITIALIZED, "CUDA_ERROR_NOT_INITIALIZED", "initialization error"},
    {CUDA_ERROR_INVALID_DEVICE, "CUDA_ERROR_INVALID_DEVICE", "invalid device ordinal"},
    {CUDA_ERROR_INVALID_IMAGE, "CUDA_ERROR_INVALID_IMAGE", "device kernel image is invalid"},
    {CUDA_ERROR_INVALID_CONTEXT, "CUDA_ERROR_INVALID_CONTEXT", "invalid device context"},
    {CUDA_ERROR_INVALID_HANDLE, "CUDA_ERROR_INVALID_HANDLE", "invalid resource handle"},
    {CUDA_ERROR_NOT_FOUND, "CUDA_ERROR_NOT_FOUND", "named symbol not found"},
    {CUDA_ERROR_ILLEGAL_ADDRESS, "CUDA_ERROR_ILLEGAL_ADDRESS", "an illegal memory access was encountered"},
    {CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES, "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES", "too many resources requested for launch"},
    {CUDA_ERROR_LAUNCH_FAILED, "CUDA_ERROR_LAUNCH_FAILED", "unspecified launch failure"},
    {CUDA_ERROR_NOT_SUPPORTED, "CUDA_ERROR_NOT_SUPPORTED", "operation not supported"},
};
const ErrorText *error_text(CUresult status) {
    for (const ErrorText &e : ERRORS) if (e.status == status) return &e;
    return nullptr;
}
}  // namespace

API CUresult cuGetErrorName(CUresult status, const char **name) {
    const ErrorText *e = error_text(status);
    if (name == nullptr || e == nullptr) return CUDA_ERROR_INVALID_VALUE;
    *name = e->name;
    return CUDA_SUCCESS;
}

API CUresult cuGetErrorString(CUresult status, const char **text) {
    const ErrorText *e = error_text(status);
    if (text == nullptr || e == nullptr) return CUDA_ERROR_INVALID_VALUE;
    *text = e->text;
    return CUDA_SUCCESS;
}
