// SGD with momentum and L2 weight decay over every parameter of a model in one launch: blockIdx.y picks the parameter,
// blockIdx.x/threadIdx.x stride over its elements. The pointer table lives on the device.
#include "common.cuh"

// slots = [w0, g0, velocity0, ...]: g' = g + wd w; velocity = momentum velocity + g'; w -= lr velocity, or with
// nesterov != 0, w -= lr (g' + momentum velocity).
extern "C" __global__ void sgd_update(float* const* slots, const long long* sizes, float lr, float momentum,
                                      float weightDecay, int nesterov) {
    int k = blockIdx.y;
    float* w = slots[3 * k];
    const float* g = slots[3 * k + 1];
    float* velocity = slots[3 * k + 2];
    FOR_EACH_INDEX(i, sizes[k]) {
        float wi = w[i];
        float vi = momentum * velocity[i] + g[i] + weightDecay * wi;
        velocity[i] = vi;
        w[i] = wi - lr * (nesterov ? g[i] + weightDecay * wi + momentum * vi : vi);
    }
}
