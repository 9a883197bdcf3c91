// Backend.add: out = a + b (out may alias a or b). The forward of a residual connection, and the sum
// of the gradients reaching a tensor that feeds two layers. A residual connection's own backward needs
// no kernel of its own: both branches get one gradient tensor (relu_backward's, where a ReLU follows).
#include "common.cuh"

extern "C" __global__ void add(const float* a, const float* b, float* out, long long n) {
    FOR_EACH_INDEX(i, n) out[i] = a[i] + b[i];
}

// He et al.'s Add -> ReLU: the sum is never stored. Its gradient, one tensor for both branches, is
// relu_backward on y.
extern "C" __global__ void add_relu_forward(const float* a, const float* b, float* y, long long n) {
    FOR_EACH_INDEX(i, n) y[i] = relu(a[i] + b[i]);
}
