// TensorFlow "same" padding can be asymmetric (one extra row/column at the bottom/right), which cuDNN
// cannot express; such convolutions run on an explicitly zero-padded copy of the input.
#include "common.cuh"

extern "C" __global__ void pad_nhwc(const float* x, float* padded, int batch, int inH, int inW, int channels,
                                    int padH, int padW, int padTop, int padLeft) {
    long long n = (long long)batch * padH * padW * channels;
    FOR_EACH_INDEX(i, n) {
        NhwcIndex at = decode_nhwc(i, padH, padW, channels);
        int h = at.h - padTop, w = at.w - padLeft;
        padded[i] = (h >= 0 && h < inH && w >= 0 && w < inW)
                ? x[(((long long)at.b * inH + h) * inW + w) * channels + at.c]
                : 0.0f;
    }
}

// The gradient of pad_nhwc: the interior of the padded gradient.
extern "C" __global__ void crop_nhwc(const float* padded, float* x, int batch, int inH, int inW, int channels,
                                     int padH, int padW, int padTop, int padLeft) {
    long long n = (long long)batch * inH * inW * channels;
    FOR_EACH_INDEX(i, n) {
        NhwcIndex at = decode_nhwc(i, inH, inW, channels);
        x[i] = padded[(((long long)at.b * padH + at.h + padTop) * padW + at.w + padLeft) * channels + at.c];
    }
}
