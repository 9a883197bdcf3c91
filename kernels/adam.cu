// Adam (Keras form) over every parameter of a model in one launch: blockIdx.y picks the parameter,
// blockIdx.x/threadIdx.x stride over its elements. The pointer table lives on the device.
#include "common.cuh"

// slots = [w0, g0, m0, v0, w1, g1, m1, v1, ...]; sizes[k] = element count of parameter k.
extern "C" __global__ void adam_update(float* const* slots, const long long* sizes, float lrT, float beta1,
                                       float beta2, float epsilon) {
    int k = blockIdx.y;
    float* w = slots[4 * k];
    const float* g = slots[4 * k + 1];
    float* m = slots[4 * k + 2];
    float* v = slots[4 * k + 3];
    FOR_EACH_INDEX(i, sizes[k]) {
        float gi = g[i];
        float mi = beta1 * m[i] + (1.0f - beta1) * gi;
        float vi = beta2 * v[i] + (1.0f - beta2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        w[i] -= lrT * mi / (sqrtf(vi) + epsilon);
    }
}
