// Average pooling, NHWC, valid padding: every window lies inside the input.
#include "common.cuh"

extern "C" __global__ void avg_pool_forward(const float* x, float* y, int batch, int inH, int inW, int channels,
                                            int kernelH, int kernelW, int strideH, int strideW,
                                            int outH, int outW) {
    long long n = (long long)batch * outH * outW * channels;
    float scale = 1.0f / (kernelH * kernelW);
    FOR_EACH_INDEX(i, n) {
        int c = (int)(i % channels);
        long long rest = i / channels;
        int ow = (int)(rest % outW); rest /= outW;
        int oh = (int)(rest % outH);
        int b = (int)(rest / outH);
        const float* window = x + (((long long)b * inH + oh * strideH) * inW + ow * strideW) * channels + c;
        float sum = 0.0f;
        for (int kh = 0; kh < kernelH; kh++) {
            for (int kw = 0; kw < kernelW; kw++) sum += window[((long long)kh * inW + kw) * channels];
        }
        y[i] = sum * scale;
    }
}

// Gathers, per input element, the gradients of every window that contains it (no atomics).
extern "C" __global__ void avg_pool_backward(const float* dy, float* dx, int batch, int inH, int inW, int channels,
                                             int kernelH, int kernelW, int strideH, int strideW,
                                             int outH, int outW) {
    long long n = (long long)batch * inH * inW * channels;
    float scale = 1.0f / (kernelH * kernelW);
    FOR_EACH_INDEX(i, n) {
        int c = (int)(i % channels);
        long long rest = i / channels;
        int w = (int)(rest % inW); rest /= inW;
        int h = (int)(rest % inH);
        int b = (int)(rest / inH);
        int ohFirst = h < kernelH ? 0 : (h - kernelH) / strideH + 1;
        int ohLast = min(outH - 1, h / strideH);
        int owFirst = w < kernelW ? 0 : (w - kernelW) / strideW + 1;
        int owLast = min(outW - 1, w / strideW);
        float sum = 0.0f;
        for (int oh = ohFirst; oh <= ohLast; oh++) {
            for (int ow = owFirst; ow <= owLast; ow++) {
                sum += dy[(((long long)b * outH + oh) * outW + ow) * channels + c];
            }
        }
        dx[i] = sum * scale;
    }
}
