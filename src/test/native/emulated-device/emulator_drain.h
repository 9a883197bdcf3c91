/* Shared by the cuDNN and cuBLAS stand-ins, which compute at call time: the emulated libcuda runs
   queued work as late as it may, so before a call uses a stream, the work queued there runs first,
   as the real library's kernels would follow it on that stream. Without the emulated libcuda loaded
   (a test harness of its own) there is no queued work. */
#pragma once
#include <dlfcn.h>
#include <stddef.h>

/* 0 when the stream's earlier work ran (or there is none to run), else the driver's error. */
static inline int drain_stream(void *stream) {
    static int (*drain)(void *) = NULL;
    static int looked = 0;
    if (!looked) {
        void *cuda = dlopen("libcuda.so.1", RTLD_LAZY | RTLD_NOLOAD);
        if (cuda != NULL) *(void **)&drain = dlsym(cuda, "jresnet_emulator_drain");
        looked = drain != NULL;
    }
    return drain != NULL ? drain(stream) : 0;
}
