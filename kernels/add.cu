// Backend.add: out = a + b (out may alias a or b). The forward of a residual connection, and the sum
// of the gradients reaching a tensor that feeds two layers. A residual connection's own backward needs
// no kernel (the gradient of the sum reaches both branches unchanged), unless a ReLU follows it.
#include "common.cuh"

extern "C" __global__ void add(const float* a, const float* b, float* out, long long n) {
    FOR_EACH_INDEX(i, n) out[i] = a[i] + b[i];
}

// He et al.'s Add -> ReLU: the sum is never stored.
extern "C" __global__ void add_relu_forward(const float* a, const float* b, float* y, long long n) {
    FOR_EACH_INDEX(i, n) y[i] = relu(a[i] + b[i]);
}

// Both branches' gradients in one pass: dy passes where the output y is above 0.
extern "C" __global__ void add_relu_backward(const float* y, const float* dy, float* da, float* db, long long n) {
    FOR_EACH_INDEX(i, n) {
        float g = y[i] > 0.0f ? dy[i] : 0.0f;
        da[i] = g;
        db[i] = g;
    }
}
