// TensorFlow "same" padding can be asymmetric (one extra row/column at the bottom/right), which cuDNN
// cannot express; such convolutions run on an explicitly zero-padded copy of the input.
#include "common.cuh"

extern "C" __global__ void pad_nhwc(const float* x, float* padded, int batch, int inH, int inW, int channels,
                                    int padH, int padW, int padTop, int padLeft) {
    long long n = (long long)batch * padH * padW * channels;
    FOR_EACH_INDEX(i, n) {
        int c = (int)(i % channels);
        long long rest = i / channels;
        int w = (int)(rest % padW) - padLeft; rest /= padW;
        int h = (int)(rest % padH) - padTop;
        int b = (int)(rest / padH);
        padded[i] = (h >= 0 && h < inH && w >= 0 && w < inW)
                ? x[(((long long)b * inH + h) * inW + w) * channels + c]
                : 0.0f;
    }
}

// The gradient of pad_nhwc: the interior of the padded gradient.
extern "C" __global__ void crop_nhwc(const float* padded, float* x, int batch, int inH, int inW, int channels,
                                     int padH, int padW, int padTop, int padLeft) {
    long long n = (long long)batch * inH * inW * channels;
    FOR_EACH_INDEX(i, n) {
        int c = (int)(i % channels);
        long long rest = i / channels;
        int w = (int)(rest % inW); rest /= inW;
        int h = (int)(rest % inH);
        int b = (int)(rest / inH);
        x[i] = padded[(((long long)b * padH + h + padTop) * padW + w + padLeft) * channels + c];
    }
}
