// Binds each kernel of kernels/*.cu to a name, with a thunk that unpacks cuLaunchKernel's
// kernelParams (an array of pointers to the argument values) into a typed call.
#pragma once
#include <cstddef>
#include <utility>

struct KernelEntry {
    const char *name;
    void (*run_thread)(void **params);  // runs one CUDA thread; threadIdx/blockIdx are already set
    const std::size_t *parameter_sizes;  // bytes of each parameter, as the driver copies them at launch
    std::size_t parameter_count;
};

template <typename F> struct KernelSignature;
template <typename... Args> struct KernelSignature<void (*)(Args...)> {
    static constexpr std::size_t count = sizeof...(Args);
    static constexpr std::size_t sizes[sizeof...(Args) + 1] = {sizeof(Args)..., 0};

    template <void (*Kernel)(Args...), std::size_t... I>
    static void call(void **params, std::index_sequence<I...>) {
        Kernel(*static_cast<Args *>(params[I])...);
    }
    template <void (*Kernel)(Args...)>
    static void thunk(void **params) {
        call<Kernel>(params, std::index_sequence_for<Args...>{});
    }
};

#define EMULATED_KERNEL(name)                                                                                   \
    KernelEntry {                                                                                               \
        #name, &KernelSignature<decltype(&name)>::thunk<&name>, KernelSignature<decltype(&name)>::sizes,        \
            KernelSignature<decltype(&name)>::count                                                             \
    }

extern const KernelEntry emulated_kernels[];
extern const int emulated_kernel_count;
