// Softmax cross-entropy from logits, fused with its gradient and the accuracy count. One block walks
// all rows and reduces in a fixed order, so the loss is deterministic and read back as two doubles.
#include "common.cuh"

#define XENT_THREADS 256

// result[0] = sum of (1-e)·(-log softmax(z)[label]) + e·mean_k(-log softmax(z)[k]) for label smoothing e,
// result[1] = rows whose first maximum is the label.
// dLogits (may be null) = (softmax - ((1-e)·onehot + e/classes)) / rows. e = 0 computes exactly what the
// unsmoothed loss did.
extern "C" __global__ void softmax_xent(const float* logits, const float* labels, float* dLogits, int rows,
                                        int classes, float smoothing, double* result) {
    __shared__ double lossScratch[XENT_THREADS];
    __shared__ double correctScratch[XENT_THREADS];
    double loss = 0.0, correct = 0.0;
    for (int r = threadIdx.x; r < rows; r += blockDim.x) {
        const float* z = logits + (long long)r * classes;
        int label = (int)labels[r];
        float max = z[0];
        int argmax = 0;
        for (int k = 1; k < classes; k++) {
            if (z[k] > max) { max = z[k]; argmax = k; }
        }
        float sum = 0.0f;
        for (int k = 0; k < classes; k++) sum += expf(z[k] - max);
        float labelLoss = logf(sum) - (z[label] - max);
        if (smoothing == 0.0f) {
            loss += (double)labelLoss;
        } else {
            float shiftedSum = 0.0f;
            for (int k = 0; k < classes; k++) shiftedSum += z[k] - max;
            float uniformLoss = logf(sum) - shiftedSum / classes;
            loss += (double)((1.0f - smoothing) * labelLoss + smoothing * uniformLoss);
        }
        correct += argmax == label ? 1.0 : 0.0;
        if (dLogits != nullptr) {
            float* d = dLogits + (long long)r * classes;
            float offTarget = smoothing / classes;
            for (int k = 0; k < classes; k++) {
                float target = (k == label ? 1.0f - smoothing : 0.0f) + offTarget;
                d[k] = (expf(z[k] - max) / sum - target) / rows;
            }
        }
    }
    lossScratch[threadIdx.x] = loss;
    correctScratch[threadIdx.x] = correct;
    __syncthreads();
    for (int stride = blockDim.x / 2; stride > 0; stride /= 2) {
        if (threadIdx.x < stride) {
            lossScratch[threadIdx.x] += lossScratch[threadIdx.x + stride];
            correctScratch[threadIdx.x] += correctScratch[threadIdx.x + stride];
        }
        __syncthreads();
    }
    if (threadIdx.x == 0) {
        result[0] = lossScratch[0];
        result[1] = correctScratch[0];
    }
}

extern "C" __global__ void softmax_rows(const float* logits, float* probabilities, int rows, int classes) {
    for (long long r = (long long)blockIdx.x * blockDim.x + threadIdx.x; r < rows; r += (long long)gridDim.x * blockDim.x) {
        const float* z = logits + r * classes;
        float* p = probabilities + r * classes;
        float max = z[0];
        for (int k = 1; k < classes; k++) max = fmaxf(max, z[k]);
        float sum = 0.0f;
        for (int k = 0; k < classes; k++) sum += expf(z[k] - max);
        for (int k = 0; k < classes; k++) p[k] = expf(z[k] - max) / sum;
    }
}
