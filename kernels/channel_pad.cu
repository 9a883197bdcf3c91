// He et al.'s option-A shortcut: spatial subsampling by `stride` plus zero channels on both sides.
#include "common.cuh"

extern "C" __global__ void subsample_channel_pad_forward(const float* x, float* y, int batch, int inH, int inW,
                                                         int inC, int outH, int outW, int outC, int stride,
                                                         int padBefore) {
    long long n = (long long)batch * outH * outW * outC;
    FOR_EACH_INDEX(i, n) {
        int c = (int)(i % outC);
        long long rest = i / outC;
        int ow = (int)(rest % outW); rest /= outW;
        int oh = (int)(rest % outH);
        int b = (int)(rest / outH);
        int ic = c - padBefore;
        y[i] = (ic >= 0 && ic < inC)
                ? x[(((long long)b * inH + oh * stride) * inW + ow * stride) * inC + ic]
                : 0.0f;
    }
}

extern "C" __global__ void subsample_channel_pad_backward(const float* dy, float* dx, int batch, int inH, int inW,
                                                          int inC, int outH, int outW, int outC, int stride,
                                                          int padBefore) {
    long long n = (long long)batch * inH * inW * inC;
    FOR_EACH_INDEX(i, n) {
        int c = (int)(i % inC);
        long long rest = i / inC;
        int w = (int)(rest % inW); rest /= inW;
        int h = (int)(rest % inH);
        int b = (int)(rest / inH);
        bool sampled = h % stride == 0 && w % stride == 0 && h / stride < outH && w / stride < outW;
        dx[i] = sampled ? dy[(((long long)b * outH + h / stride) * outW + w / stride) * outC + c + padBefore]
                        : 0.0f;
    }
}
