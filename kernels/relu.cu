// Plain ReLU, for models that apply it outside relu_bn.
#include "common.cuh"

extern "C" __global__ void relu_forward(const float* x, float* y, long long n) {
    FOR_EACH_INDEX(i, n) y[i] = relu(x[i]);
}

// dx = dy where x > 0 (the subgradient at 0 is 0, as in TensorFlow).
extern "C" __global__ void relu_backward(const float* x, const float* dy, float* dx, long long n) {
    FOR_EACH_INDEX(i, n) dx[i] = x[i] > 0.0f ? dy[i] : 0.0f;
}
