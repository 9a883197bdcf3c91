// Average pooling, NHWC, valid padding: every window lies inside the input.
#include "common.cuh"

extern "C" __global__ void avg_pool_forward(const float* x, float* y, int batch, int inH, int inW, int channels,
                                            int kernelH, int kernelW, int strideH, int strideW,
                                            int outH, int outW) {
    long long n = (long long)batch * outH * outW * channels;
    float scale = 1.0f / (kernelH * kernelW);
    FOR_EACH_INDEX(i, n) {
        NhwcIndex at = decode_nhwc(i, outH, outW, channels);
        const float* window = x + (((long long)at.b * inH + at.h * strideH) * inW + at.w * strideW) * channels + at.c;
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
        NhwcIndex at = decode_nhwc(i, inH, inW, channels);
        int h = at.h, w = at.w;
        int ohFirst = h < kernelH ? 0 : (h - kernelH) / strideH + 1;
        int ohLast = min(outH - 1, h / strideH);
        int owFirst = w < kernelW ? 0 : (w - kernelW) / strideW + 1;
        int owLast = min(outW - 1, w / strideW);
        float sum = 0.0f;
        for (int oh = ohFirst; oh <= ohLast; oh++) {
            for (int ow = owFirst; ow <= owLast; ow++) {
                sum += dy[(((long long)at.b * outH + oh) * outW + ow) * channels + at.c];
            }
        }
        dx[i] = sum * scale;
    }
}
