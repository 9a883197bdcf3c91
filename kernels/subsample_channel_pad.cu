// He et al.'s option-A shortcut: spatial subsampling by `stride` plus zero channels on both sides.
#include "common.cuh"

extern "C" __global__ void subsample_channel_pad_forward(const float* x, float* y, int batch, int inH, int inW,
                                                         int inC, int outH, int outW, int outC, int stride,
                                                         int padBefore) {
    long long n = (long long)batch * outH * outW * outC;
    FOR_EACH_INDEX(i, n) {
        NhwcIndex at = decode_nhwc(i, outH, outW, outC);
        int ic = at.c - padBefore;
        y[i] = (ic >= 0 && ic < inC)
                ? x[(((long long)at.b * inH + at.h * stride) * inW + at.w * stride) * inC + ic]
                : 0.0f;
    }
}

extern "C" __global__ void subsample_channel_pad_backward(const float* dy, float* dx, int batch, int inH, int inW,
                                                          int inC, int outH, int outW, int outC, int stride,
                                                          int padBefore) {
    long long n = (long long)batch * inH * inW * inC;
    FOR_EACH_INDEX(i, n) {
        NhwcIndex at = decode_nhwc(i, inH, inW, inC);
        int h = at.h, w = at.w;
        bool sampled = h % stride == 0 && w % stride == 0 && h / stride < outH && w / stride < outW;
        dx[i] = sampled ? dy[(((long long)at.b * outH + h / stride) * outW + w / stride) * outC + at.c + padBefore]
                        : 0.0f;
    }
}
