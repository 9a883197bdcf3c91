/*
 * TEST STAND-IN, NOT A PRODUCT: a CPU implementation of the part of the cuDNN 8 API that jresnet's CUDA
 * backend uses, built as libcudnn.so.8 for the "emulated device" (device pointers are host pointers;
 * a call first runs the work the emulated libcuda has queued on its stream, then computes at once).
 * It follows the cuDNN 8 API reference, not jresnet's expectations: an
 * argument real cuDNN rejects is rejected here with the status the reference documents.
 *
 * Only float data is computed (4-d tensors, group count 1); other data types are accepted by the Set*
 * functions, as by cuDNN, and make every compute call return CUDNN_STATUS_NOT_SUPPORTED.
 *
 * Built by native-build/emulated-device.sh, with the version node libcudnn.so.8 that JCudnn's native
 * imports every symbol with.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emulator_drain.h"
#include "tf32.h"

typedef enum {
    CUDNN_STATUS_SUCCESS = 0, CUDNN_STATUS_NOT_INITIALIZED = 1, CUDNN_STATUS_ALLOC_FAILED = 2,
    CUDNN_STATUS_BAD_PARAM = 3, CUDNN_STATUS_INTERNAL_ERROR = 4, CUDNN_STATUS_INVALID_VALUE = 5,
    CUDNN_STATUS_ARCH_MISMATCH = 6, CUDNN_STATUS_MAPPING_ERROR = 7, CUDNN_STATUS_EXECUTION_FAILED = 8,
    CUDNN_STATUS_NOT_SUPPORTED = 9, CUDNN_STATUS_LICENSE_ERROR = 10,
    CUDNN_STATUS_RUNTIME_PREREQUISITE_MISSING = 11, CUDNN_STATUS_RUNTIME_IN_PROGRESS = 12,
    CUDNN_STATUS_RUNTIME_FP_OVERFLOW = 13, CUDNN_STATUS_VERSION_MISMATCH = 14
} cudnnStatus_t;

typedef enum { CUDNN_TENSOR_NCHW = 0, CUDNN_TENSOR_NHWC = 1, CUDNN_TENSOR_NCHW_VECT_C = 2 } cudnnTensorFormat_t;
/* cuDNN 8.9 defines data types 0 (FLOAT) .. 14 (FAST_FLOAT_FOR_FP8). */
typedef enum { CUDNN_DATA_FLOAT = 0, CUDNN_DATA_DOUBLE = 1, CUDNN_DATA_INT8x4 = 5, CUDNN_DATA_UINT8x4 = 7, CUDNN_DATA_INT8x32 = 8,
               CUDNN_DATA_LAST = 14 } cudnnDataType_t;
typedef enum { CUDNN_CONVOLUTION = 0, CUDNN_CROSS_CORRELATION = 1 } cudnnConvolutionMode_t;
typedef enum { CUDNN_DEFAULT_MATH = 0, CUDNN_TENSOR_OP_MATH = 1, CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION = 2,
               CUDNN_FMA_MATH = 3 } cudnnMathType_t;
typedef enum { CUDNN_BATCHNORM_PER_ACTIVATION = 0, CUDNN_BATCHNORM_SPATIAL = 1,
               CUDNN_BATCHNORM_SPATIAL_PERSISTENT = 2 } cudnnBatchNormMode_t;
typedef enum { CUDNN_NON_DETERMINISTIC = 0, CUDNN_DETERMINISTIC = 1 } cudnnDeterminism_t;
typedef int cudnnConvolutionFwdAlgo_t, cudnnConvolutionBwdDataAlgo_t, cudnnConvolutionBwdFilterAlgo_t;
enum { FWD_ALGO_COUNT = 8, BWD_DATA_ALGO_COUNT = 6, BWD_FILTER_ALGO_COUNT = 7 };

/* The three perf structs of cuDNN 8 share this layout (every enum is an int). */
typedef struct {
    int algo;
    cudnnStatus_t status;
    float time;
    size_t memory;
    cudnnDeterminism_t determinism;
    cudnnMathType_t mathType;
    int reserved[3];
} cudnnConvolutionFwdAlgoPerf_t;
typedef cudnnConvolutionFwdAlgoPerf_t cudnnConvolutionBwdDataAlgoPerf_t, cudnnConvolutionBwdFilterAlgoPerf_t;

#define CUDNN_BN_MIN_EPSILON 0.0
#define EMULATED_VERSION 8907

/* A magic first field lets a destroyed or foreign object be told from a live one of the right kind. */
enum { HANDLE_MAGIC = 0x444e4e48, TENSOR_MAGIC = 0x444e4e54, FILTER_MAGIC = 0x444e4e46, CONV_MAGIC = 0x444e4e43 };

typedef struct cudnnContext { unsigned magic; void *stream; } *cudnnHandle_t;
/* dims and strides in N, C, H, W order (K, C, R, S for a filter); dims[0] == 0 means "not set yet". */
typedef struct cudnnTensorStruct { unsigned magic; int dtype; int dims[4]; long strides[4]; } *cudnnTensorDescriptor_t;
typedef struct cudnnFilterStruct { unsigned magic; int dtype; int dims[4]; long strides[4]; } *cudnnFilterDescriptor_t;
typedef struct cudnnConvolutionStruct {
    unsigned magic; int set; int pad[2], stride[2], dilation[2]; int mode, compute_type, math_type;
} *cudnnConvolutionDescriptor_t;
typedef void *cudaStream_t;

static cudnnStatus_t fail(cudnnStatus_t status, const char *function, const char *reason) {
    fprintf(stderr, "emulated cuDNN: %s: %s\n", function, reason);
    return status;
}

static cudnnStatus_t bad(const char *function, const char *reason) {
    return fail(CUDNN_STATUS_BAD_PARAM, function, reason);
}

static int valid_dtype(int t) { return t >= CUDNN_DATA_FLOAT && t <= CUDNN_DATA_LAST; }
static int vectorized_dtype(int t) { return t == CUDNN_DATA_INT8x4 || t == CUDNN_DATA_UINT8x4 || t == CUDNN_DATA_INT8x32; }

/* ---- library and handle ---- */

size_t cudnnGetVersion(void) { return EMULATED_VERSION; }

const char *cudnnGetErrorString(cudnnStatus_t status) {
    static const char *names[] = {
        "CUDNN_STATUS_SUCCESS", "CUDNN_STATUS_NOT_INITIALIZED", "CUDNN_STATUS_ALLOC_FAILED", "CUDNN_STATUS_BAD_PARAM",
        "CUDNN_STATUS_INTERNAL_ERROR", "CUDNN_STATUS_INVALID_VALUE", "CUDNN_STATUS_ARCH_MISMATCH",
        "CUDNN_STATUS_MAPPING_ERROR", "CUDNN_STATUS_EXECUTION_FAILED", "CUDNN_STATUS_NOT_SUPPORTED",
        "CUDNN_STATUS_LICENSE_ERROR", "CUDNN_STATUS_RUNTIME_PREREQUISITE_MISSING", "CUDNN_STATUS_RUNTIME_IN_PROGRESS",
        "CUDNN_STATUS_RUNTIME_FP_OVERFLOW", "CUDNN_STATUS_VERSION_MISMATCH"};
    if ((int)status < 0 || (size_t)status >= sizeof names / sizeof names[0]) return "CUDNN_UNKNOWN_STATUS";
    return names[status];
}

cudnnStatus_t cudnnCreate(cudnnHandle_t *handle) {
    if (!handle) return bad("cudnnCreate", "handle pointer is NULL");
    cudnnHandle_t h = calloc(1, sizeof *h);
    if (!h) return CUDNN_STATUS_ALLOC_FAILED;
    h->magic = HANDLE_MAGIC;
    *handle = h;
    return CUDNN_STATUS_SUCCESS;
}

static int live_handle(cudnnHandle_t h) { return h && h->magic == HANDLE_MAGIC; }

cudnnStatus_t cudnnDestroy(cudnnHandle_t handle) {
    if (!live_handle(handle)) return bad("cudnnDestroy", "handle is NULL or not a live handle");
    handle->magic = 0;
    free(handle);
    return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnSetStream(cudnnHandle_t handle, cudaStream_t stream) {
    if (!live_handle(handle)) return bad("cudnnSetStream", "handle is NULL or not a live handle");
    handle->stream = stream;
    return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnGetStream(cudnnHandle_t handle, cudaStream_t *stream) {
    if (!live_handle(handle) || !stream) return bad("cudnnGetStream", "NULL handle or stream pointer");
    *stream = handle->stream;
    return CUDNN_STATUS_SUCCESS;
}

/* ---- descriptors ---- */

#define CREATE_DESTROY(Kind, type, MAGIC)                                                                  \
    cudnnStatus_t cudnnCreate##Kind##Descriptor(type *desc) {                                              \
        if (!desc) return bad("cudnnCreate" #Kind "Descriptor", "pointer is NULL"); \
        type d = calloc(1, sizeof *d);                                                                     \
        if (!d) return CUDNN_STATUS_ALLOC_FAILED;                                                          \
        d->magic = MAGIC;                                                                                  \
        *desc = d;                                                                                         \
        return CUDNN_STATUS_SUCCESS;                                                                       \
    }                                                                                                      \
    cudnnStatus_t cudnnDestroy##Kind##Descriptor(type desc) {                                              \
        if (!desc) return CUDNN_STATUS_SUCCESS; /* documented: NULL is a no-op */                          \
        if (desc->magic != MAGIC)                                                                          \
            return bad("cudnnDestroy" #Kind "Descriptor", "not a live descriptor"); \
        desc->magic = 0;                                                                                   \
        free(desc);                                                                                        \
        return CUDNN_STATUS_SUCCESS;                                                                       \
    }
CREATE_DESTROY(Tensor, cudnnTensorDescriptor_t, TENSOR_MAGIC)
CREATE_DESTROY(Filter, cudnnFilterDescriptor_t, FILTER_MAGIC)
CREATE_DESTROY(Convolution, cudnnConvolutionDescriptor_t, CONV_MAGIC)

static int live_tensor(cudnnTensorDescriptor_t t) { return t && t->magic == TENSOR_MAGIC && t->dims[0] > 0; }
static int live_filter(cudnnFilterDescriptor_t f) { return f && f->magic == FILTER_MAGIC && f->dims[0] > 0; }
static int live_conv(cudnnConvolutionDescriptor_t c) { return c && c->magic == CONV_MAGIC && c->set; }

/* Strides of a packed 4-d layout, in N, C, H, W order: NCHW is W-fastest, NHWC is C-fastest. */
static void packed_strides(int format, const int d[4], long s[4]) {
    if (format == CUDNN_TENSOR_NHWC) {
        s[1] = 1; s[3] = d[1]; s[2] = (long)d[3] * d[1]; s[0] = (long)d[2] * d[3] * d[1];
    } else {
        s[3] = 1; s[2] = d[3]; s[1] = (long)d[2] * d[3]; s[0] = (long)d[1] * d[2] * d[3];
    }
}

static long elements(const int d[4]) { return (long)d[0] * d[1] * d[2] * d[3]; }

static cudnnStatus_t set_tensor(const char *fn, cudnnTensorDescriptor_t desc, int dtype, const int d[4], const long s[4]) {
    if (!desc || desc->magic != TENSOR_MAGIC) return bad(fn, "descriptor is NULL or not a live tensor descriptor");
    if (!valid_dtype(dtype)) return bad(fn, "invalid data type");
    for (int i = 0; i < 4; i++) {
        if (d[i] <= 0) return bad(fn, "a dimension is <= 0");
        if (s[i] <= 0) return bad(fn, "a stride is <= 0");
    }
    if (elements(d) > INT32_MAX) return fail(CUDNN_STATUS_NOT_SUPPORTED, fn, "more than 2 Giga-elements");
    desc->dtype = dtype;
    memcpy(desc->dims, d, sizeof desc->dims);
    memcpy(desc->strides, s, sizeof desc->strides);
    return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnSetTensor4dDescriptor(cudnnTensorDescriptor_t desc, cudnnTensorFormat_t format,
                                         cudnnDataType_t dataType, int n, int c, int h, int w) {
    const char *fn = "cudnnSetTensor4dDescriptor";
    int d[4] = {n, c, h, w};
    long s[4];
    if (format == CUDNN_TENSOR_NCHW_VECT_C) {
        if (!vectorized_dtype(dataType)) return bad(fn, "NCHW_VECT_C needs a vectorized data type");
        return fail(CUDNN_STATUS_NOT_SUPPORTED, fn, "NCHW_VECT_C is not emulated");
    }
    if (format != CUDNN_TENSOR_NCHW && format != CUDNN_TENSOR_NHWC) return bad(fn, "invalid format");
    for (int i = 0; i < 4; i++) if (d[i] <= 0) return bad(fn, "a dimension is <= 0");
    packed_strides(format, d, s);
    return set_tensor(fn, desc, dataType, d, s);
}

cudnnStatus_t cudnnSetTensor4dDescriptorEx(cudnnTensorDescriptor_t desc, cudnnDataType_t dataType, int n, int c, int h,
                                           int w, int nStride, int cStride, int hStride, int wStride) {
    int d[4] = {n, c, h, w};
    long s[4] = {nStride, cStride, hStride, wStride};
    return set_tensor("cudnnSetTensor4dDescriptorEx", desc, dataType, d, s);
}

cudnnStatus_t cudnnSetFilter4dDescriptor(cudnnFilterDescriptor_t desc, cudnnDataType_t dataType,
                                         cudnnTensorFormat_t format, int k, int c, int h, int w) {
    const char *fn = "cudnnSetFilter4dDescriptor";
    int d[4] = {k, c, h, w};
    if (!desc || desc->magic != FILTER_MAGIC) return bad(fn, "descriptor is NULL or not a live filter descriptor");
    if (!valid_dtype(dataType)) return bad(fn, "invalid data type");
    if (format == CUDNN_TENSOR_NCHW_VECT_C) {
        if (!vectorized_dtype(dataType)) return bad(fn, "NCHW_VECT_C needs a vectorized data type");
        return fail(CUDNN_STATUS_NOT_SUPPORTED, fn, "NCHW_VECT_C is not emulated");
    }
    if (format != CUDNN_TENSOR_NCHW && format != CUDNN_TENSOR_NHWC) return bad(fn, "invalid format");
    for (int i = 0; i < 4; i++) if (d[i] <= 0) return bad(fn, "a dimension is <= 0");
    if (elements(d) > INT32_MAX) return fail(CUDNN_STATUS_NOT_SUPPORTED, fn, "more than 2 Giga-elements");
    desc->dtype = dataType;
    memcpy(desc->dims, d, sizeof d);
    /* For a filter, NCHW means KCRS and NHWC means KRSC: the same strides as a tensor with N = K. */
    packed_strides(format, d, desc->strides);
    return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnSetConvolution2dDescriptor(cudnnConvolutionDescriptor_t desc, int pad_h, int pad_w, int u, int v,
                                              int dilation_h, int dilation_w, cudnnConvolutionMode_t mode,
                                              cudnnDataType_t computeType) {
    const char *fn = "cudnnSetConvolution2dDescriptor";
    if (!desc || desc->magic != CONV_MAGIC) return bad(fn, "descriptor is NULL or not a live convolution descriptor");
    if (pad_h < 0 || pad_w < 0) return bad(fn, "negative padding");
    if (u <= 0 || v <= 0) return bad(fn, "stride <= 0");
    if (dilation_h <= 0 || dilation_w <= 0) return bad(fn, "dilation <= 0");
    if (mode != CUDNN_CONVOLUTION && mode != CUDNN_CROSS_CORRELATION) return bad(fn, "invalid mode");
    if (!valid_dtype(computeType)) return bad(fn, "invalid compute type");
    desc->pad[0] = pad_h; desc->pad[1] = pad_w;
    desc->stride[0] = u; desc->stride[1] = v;
    desc->dilation[0] = dilation_h; desc->dilation[1] = dilation_w;
    desc->mode = mode;
    desc->compute_type = computeType;
    desc->set = 1;
    return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnSetConvolutionMathType(cudnnConvolutionDescriptor_t desc, cudnnMathType_t mathType) {
    const char *fn = "cudnnSetConvolutionMathType";
    if (!desc || desc->magic != CONV_MAGIC) return bad(fn, "descriptor is NULL or not a live convolution descriptor");
    if (mathType < CUDNN_DEFAULT_MATH || mathType > CUDNN_FMA_MATH) return bad(fn, "invalid math type");
    desc->math_type = mathType;
    return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnGetConvolutionMathType(cudnnConvolutionDescriptor_t desc, cudnnMathType_t *mathType) {
    if (!desc || desc->magic != CONV_MAGIC || !mathType) return bad("cudnnGetConvolutionMathType", "NULL argument");
    *mathType = desc->math_type;
    return CUDNN_STATUS_SUCCESS;
}

/* ---- convolution geometry ---- */

typedef struct {
    int n, c, h, w;    /* input */
    int k, r, s;       /* filter: k outputs, r x s window */
    int p, q;          /* output height, width */
    int pad[2], stride[2], dilation[2];
    int flip;          /* CUDNN_CONVOLUTION: the filter is applied rotated by 180 degrees */
    int tf32;          /* the math type allows TF32 tensor-op products for float data */
    long xs[4], fs[4], ys[4];
} geometry;

/* 1 + (in + 2 pad - dilated filter) / stride; 0 when the dilated filter is larger than the padded input. */
static int output_size(int in, int pad, int filter, int dilation, int stride) {
    long span = (long)(filter - 1) * dilation + 1;
    if (in + 2L * pad < span) return 0;
    return (int)(1 + (in + 2L * pad - span) / stride);
}

static cudnnStatus_t output_dims(const char *fn, cudnnConvolutionDescriptor_t conv, cudnnTensorDescriptor_t x,
                                 cudnnFilterDescriptor_t w, int out[4]) {
    if (!live_conv(conv)) return bad(fn, "convolution descriptor is NULL or not set");
    if (!live_tensor(x)) return bad(fn, "input descriptor is NULL or not set");
    if (!live_filter(w)) return bad(fn, "filter descriptor is NULL or not set");
    if (x->dtype != w->dtype) return bad(fn, "input and filter data types differ");
    if (x->dims[1] != w->dims[1]) return bad(fn, "input channels differ from the filter's");
    out[0] = x->dims[0];
    out[1] = w->dims[0];
    out[2] = output_size(x->dims[2], conv->pad[0], w->dims[2], conv->dilation[0], conv->stride[0]);
    out[3] = output_size(x->dims[3], conv->pad[1], w->dims[3], conv->dilation[1], conv->stride[1]);
    if (out[2] <= 0 || out[3] <= 0) return bad(fn, "the dilated filter is larger than the padded input");
    return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnGetConvolution2dForwardOutputDim(cudnnConvolutionDescriptor_t conv, cudnnTensorDescriptor_t x,
                                                    cudnnFilterDescriptor_t w, int *n, int *c, int *h, int *wd) {
    const char *fn = "cudnnGetConvolution2dForwardOutputDim";
    int out[4];
    if (!n || !c || !h || !wd) return bad(fn, "an output pointer is NULL");
    cudnnStatus_t st = output_dims(fn, conv, x, w, out);
    if (st != CUDNN_STATUS_SUCCESS) return st;
    *n = out[0]; *c = out[1]; *h = out[2]; *wd = out[3];
    return CUDNN_STATUS_SUCCESS;
}

/*
 * Checks x, w, conv and y against each other as every convolution entry point does. A y whose height or
 * width is not the forward output size is NOT_SUPPORTED for the forward pass and BAD_PARAM for the
 * backward passes, as the reference lists them.
 */
static cudnnStatus_t make_geometry(const char *fn, cudnnTensorDescriptor_t x, cudnnFilterDescriptor_t w,
                                   cudnnConvolutionDescriptor_t conv, cudnnTensorDescriptor_t y,
                                   cudnnStatus_t spatial_mismatch, geometry *g) {
    int out[4];
    if (!live_tensor(y)) return bad(fn, "output (dy/y) descriptor is NULL or not set");
    cudnnStatus_t st = output_dims(fn, conv, x, w, out);
    if (st != CUDNN_STATUS_SUCCESS) return st;
    if (x->dtype != y->dtype) return bad(fn, "input and output data types differ");
    if (y->dims[0] != out[0]) return bad(fn, "output batch size differs from the input's");
    if (y->dims[1] != out[1]) return bad(fn, "output channels differ from the filter count");
    if (y->dims[2] != out[2] || y->dims[3] != out[3])
        return fail(spatial_mismatch, fn, "output height/width differ from the convolution's output size");
    if (x->dtype != CUDNN_DATA_FLOAT || conv->compute_type != CUDNN_DATA_FLOAT)
        return fail(CUDNN_STATUS_NOT_SUPPORTED, fn, "only float data with float compute type is emulated");
    g->n = x->dims[0]; g->c = x->dims[1]; g->h = x->dims[2]; g->w = x->dims[3];
    g->k = w->dims[0]; g->r = w->dims[2]; g->s = w->dims[3];
    g->p = out[2]; g->q = out[3];
    memcpy(g->pad, conv->pad, sizeof g->pad);
    memcpy(g->stride, conv->stride, sizeof g->stride);
    memcpy(g->dilation, conv->dilation, sizeof g->dilation);
    g->flip = conv->mode == CUDNN_CONVOLUTION;
    g->tf32 = conv->math_type != CUDNN_FMA_MATH;
    memcpy(g->xs, x->strides, sizeof g->xs);
    memcpy(g->fs, w->strides, sizeof g->fs);
    memcpy(g->ys, y->strides, sizeof g->ys);
    return CUDNN_STATUS_SUCCESS;
}

/* Algorithm 1 of each direction needs a workspace of one im2col column (and scribbles on it). */
enum direction { FORWARD, BACKWARD_DATA, BACKWARD_FILTER };

static size_t workspace_size(const geometry *g, enum direction d, int algo) {
    if (algo == 0) return 0;
    long column = d == FORWARD ? (long)g->c * g->r * g->s : d == BACKWARD_DATA ? (long)g->k * g->r * g->s : (long)g->p * g->q;
    return (size_t)column * sizeof(float);
}

static cudnnStatus_t check_algo(const char *fn, int algo, int count) {
    if (algo < 0 || algo >= count) return bad(fn, "invalid algorithm enumerant");
    if (algo > 1) return fail(CUDNN_STATUS_NOT_SUPPORTED, fn, "only algorithms 0 and 1 are emulated");
    return CUDNN_STATUS_SUCCESS;
}

static cudnnStatus_t find(const char *fn, cudnnHandle_t handle, const geometry *g, cudnnMathType_t math, enum direction d,
                          int count, int requested, int *returned, cudnnConvolutionFwdAlgoPerf_t *perf) {
    if (!live_handle(handle)) return bad(fn, "handle is NULL or not a live handle");
    if (requested <= 0) return bad(fn, "requestedAlgoCount < 1");
    if (!returned || !perf) return bad(fn, "returnedAlgoCount or perfResults is NULL");
    int n = requested < count ? requested : count;
    /* Fastest first, as cuDNN sorts them: the workspace algorithm, the plain one, then the failures. */
    for (int i = 0; i < n; i++) {
        cudnnConvolutionFwdAlgoPerf_t *r = &perf[i];
        memset(r, 0, sizeof *r);
        r->algo = i == 0 ? 1 : i == 1 ? 0 : i;
        r->status = i < 2 ? CUDNN_STATUS_SUCCESS : CUDNN_STATUS_NOT_SUPPORTED;
        r->time = i < 2 ? 0.25f * (float)(i + 1) : -1.0f;
        r->memory = i < 2 ? workspace_size(g, d, r->algo) : 0;
        r->determinism = CUDNN_DETERMINISTIC;
        r->mathType = math;
    }
    *returned = n;
    return CUDNN_STATUS_SUCCESS;
}

static cudnnStatus_t check_workspace(const char *fn, const geometry *g, enum direction d, int algo, void *ws, size_t size) {
    size_t need = workspace_size(g, d, algo);
    if (size < need) return bad(fn, "workSpaceSizeInBytes is smaller than the algorithm needs");
    if (need > 0 && !ws) return bad(fn, "workSpace is NULL but the algorithm needs one");
    /* A workspace that aliases live data must show: fill it with NaN, as a real kernel would overwrite it. */
    for (size_t i = 0; i < need / sizeof(float); i++) ((float *)ws)[i] = NAN;
    return CUDNN_STATUS_SUCCESS;
}

static float scale(const void *factor) { return *(const float *)factor; }

/* dst = alpha * value + beta * dst, with beta == 0 never reading dst (it may hold NaN). */
static void blend(float *dst, double value, float alpha, float beta) {
    *dst = (float)(beta == 0.0f ? alpha * value : alpha * value + (double)beta * *dst);
}

/*
 * Visits every (output element, filter tap, input channel) triple whose input position lies inside the
 * unpadded input, with n_, k_, c_, h_, w_, fr_, fs_ (the filter row/column actually applied) and the
 * element offsets xo, fo, yo in scope. One loop serves all three directions, which keeps them exact
 * adjoints of each other.
 */
#define FOR_EACH_TAP(g, BODY)                                                                              \
    for (int n_ = 0; n_ < (g)->n; n_++)                                                                    \
        for (int k_ = 0; k_ < (g)->k; k_++)                                                                \
            for (int p_ = 0; p_ < (g)->p; p_++)                                                            \
                for (int q_ = 0; q_ < (g)->q; q_++) {                                                      \
                    long yo = n_ * (g)->ys[0] + k_ * (g)->ys[1] + p_ * (g)->ys[2] + q_ * (g)->ys[3];       \
                    for (int r_ = 0; r_ < (g)->r; r_++) {                                                  \
                        int h_ = p_ * (g)->stride[0] - (g)->pad[0] + r_ * (g)->dilation[0];                \
                        if (h_ < 0 || h_ >= (g)->h) continue;                                              \
                        int fr_ = (g)->flip ? (g)->r - 1 - r_ : r_;                                        \
                        for (int s_ = 0; s_ < (g)->s; s_++) {                                              \
                            int w_ = q_ * (g)->stride[1] - (g)->pad[1] + s_ * (g)->dilation[1];            \
                            if (w_ < 0 || w_ >= (g)->w) continue;                                          \
                            int fs_ = (g)->flip ? (g)->s - 1 - s_ : s_;                                    \
                            long xo = n_ * (g)->xs[0] + h_ * (g)->xs[2] + w_ * (g)->xs[3];                 \
                            long fo = k_ * (g)->fs[0] + fr_ * (g)->fs[2] + fs_ * (g)->fs[3];               \
                            for (int c_ = 0; c_ < (g)->c; c_++, xo += (g)->xs[1], fo += (g)->fs[1]) {      \
                                (void)yo;                                                                  \
                                BODY                                                                       \
                            }                                                                              \
                        }                                                                                  \
                    }                                                                                      \
                }

/* Blends a packed double image of a tensor into the strided float tensor. */
static void blend_all(const int dims[4], const long strides[4], const double *acc, float *dst, float alpha, float beta) {
    long i = 0;
    for (int a = 0; a < dims[0]; a++)
        for (int b = 0; b < dims[1]; b++)
            for (int c = 0; c < dims[2]; c++)
                for (int d = 0; d < dims[3]; d++)
                    blend(dst + a * strides[0] + b * strides[1] + c * strides[2] + d * strides[3], acc[i++], alpha, beta);
}

static long packed_index(const int dims[4], int a, int b, int c, int d) {
    return ((long)(a * dims[1] + b) * dims[2] + c) * dims[3] + d;
}

static int any_null(const void *a, const void *b, const void *c, const void *d, const void *e) {
    return !a || !b || !c || !d || !e;
}

/* ---- convolution entry points ---- */

cudnnStatus_t cudnnGetConvolutionForwardWorkspaceSize(cudnnHandle_t handle, cudnnTensorDescriptor_t xDesc,
                                                      cudnnFilterDescriptor_t wDesc, cudnnConvolutionDescriptor_t convDesc,
                                                      cudnnTensorDescriptor_t yDesc, cudnnConvolutionFwdAlgo_t algo,
                                                      size_t *sizeInBytes) {
    const char *fn = "cudnnGetConvolutionForwardWorkspaceSize";
    geometry g;
    if (!live_handle(handle) || !sizeInBytes) return bad(fn, "NULL handle or size pointer");
    cudnnStatus_t st = make_geometry(fn, xDesc, wDesc, convDesc, yDesc, CUDNN_STATUS_BAD_PARAM, &g);
    if (st == CUDNN_STATUS_SUCCESS) st = check_algo(fn, algo, FWD_ALGO_COUNT);
    if (st == CUDNN_STATUS_SUCCESS) *sizeInBytes = workspace_size(&g, FORWARD, algo);
    return st;
}

cudnnStatus_t cudnnGetConvolutionBackwardDataWorkspaceSize(cudnnHandle_t handle, cudnnFilterDescriptor_t wDesc,
                                                           cudnnTensorDescriptor_t dyDesc, cudnnConvolutionDescriptor_t convDesc,
                                                           cudnnTensorDescriptor_t dxDesc, cudnnConvolutionBwdDataAlgo_t algo,
                                                           size_t *sizeInBytes) {
    const char *fn = "cudnnGetConvolutionBackwardDataWorkspaceSize";
    geometry g;
    if (!live_handle(handle) || !sizeInBytes) return bad(fn, "NULL handle or size pointer");
    cudnnStatus_t st = make_geometry(fn, dxDesc, wDesc, convDesc, dyDesc, CUDNN_STATUS_BAD_PARAM, &g);
    if (st == CUDNN_STATUS_SUCCESS) st = check_algo(fn, algo, BWD_DATA_ALGO_COUNT);
    if (st == CUDNN_STATUS_SUCCESS) *sizeInBytes = workspace_size(&g, BACKWARD_DATA, algo);
    return st;
}

cudnnStatus_t cudnnGetConvolutionBackwardFilterWorkspaceSize(cudnnHandle_t handle, cudnnTensorDescriptor_t xDesc,
                                                             cudnnTensorDescriptor_t dyDesc, cudnnConvolutionDescriptor_t convDesc,
                                                             cudnnFilterDescriptor_t gradDesc, cudnnConvolutionBwdFilterAlgo_t algo,
                                                             size_t *sizeInBytes) {
    const char *fn = "cudnnGetConvolutionBackwardFilterWorkspaceSize";
    geometry g;
    if (!live_handle(handle) || !sizeInBytes) return bad(fn, "NULL handle or size pointer");
    cudnnStatus_t st = make_geometry(fn, xDesc, gradDesc, convDesc, dyDesc, CUDNN_STATUS_BAD_PARAM, &g);
    if (st == CUDNN_STATUS_SUCCESS) st = check_algo(fn, algo, BWD_FILTER_ALGO_COUNT);
    if (st == CUDNN_STATUS_SUCCESS) *sizeInBytes = workspace_size(&g, BACKWARD_FILTER, algo);
    return st;
}

cudnnStatus_t cudnnFindConvolutionForwardAlgorithm(cudnnHandle_t handle, cudnnTensorDescriptor_t xDesc,
                                                   cudnnFilterDescriptor_t wDesc, cudnnConvolutionDescriptor_t convDesc,
                                                   cudnnTensorDescriptor_t yDesc, int requestedAlgoCount,
                                                   int *returnedAlgoCount, cudnnConvolutionFwdAlgoPerf_t *perfResults) {
    const char *fn = "cudnnFindConvolutionForwardAlgorithm";
    geometry g;
    if (returnedAlgoCount) *returnedAlgoCount = 0; /* JCudnn copies back this many results even on failure */
    cudnnStatus_t st = make_geometry(fn, xDesc, wDesc, convDesc, yDesc, CUDNN_STATUS_BAD_PARAM, &g);
    if (st != CUDNN_STATUS_SUCCESS) return st;
    return find(fn, handle, &g, convDesc->math_type, FORWARD, FWD_ALGO_COUNT, requestedAlgoCount,
                returnedAlgoCount, perfResults);
}

cudnnStatus_t cudnnFindConvolutionBackwardDataAlgorithm(cudnnHandle_t handle, cudnnFilterDescriptor_t wDesc,
                                                        cudnnTensorDescriptor_t dyDesc, cudnnConvolutionDescriptor_t convDesc,
                                                        cudnnTensorDescriptor_t dxDesc, int requestedAlgoCount,
                                                        int *returnedAlgoCount, cudnnConvolutionBwdDataAlgoPerf_t *perfResults) {
    const char *fn = "cudnnFindConvolutionBackwardDataAlgorithm";
    geometry g;
    if (returnedAlgoCount) *returnedAlgoCount = 0; /* JCudnn copies back this many results even on failure */
    cudnnStatus_t st = make_geometry(fn, dxDesc, wDesc, convDesc, dyDesc, CUDNN_STATUS_BAD_PARAM, &g);
    if (st != CUDNN_STATUS_SUCCESS) return st;
    return find(fn, handle, &g, convDesc->math_type, BACKWARD_DATA, BWD_DATA_ALGO_COUNT, requestedAlgoCount,
                returnedAlgoCount, perfResults);
}

cudnnStatus_t cudnnFindConvolutionBackwardFilterAlgorithm(cudnnHandle_t handle, cudnnTensorDescriptor_t xDesc,
                                                          cudnnTensorDescriptor_t dyDesc, cudnnConvolutionDescriptor_t convDesc,
                                                          cudnnFilterDescriptor_t dwDesc, int requestedAlgoCount,
                                                          int *returnedAlgoCount, cudnnConvolutionBwdFilterAlgoPerf_t *perfResults) {
    const char *fn = "cudnnFindConvolutionBackwardFilterAlgorithm";
    geometry g;
    if (returnedAlgoCount) *returnedAlgoCount = 0; /* JCudnn copies back this many results even on failure */
    cudnnStatus_t st = make_geometry(fn, xDesc, dwDesc, convDesc, dyDesc, CUDNN_STATUS_BAD_PARAM, &g);
    if (st != CUDNN_STATUS_SUCCESS) return st;
    return find(fn, handle, &g, convDesc->math_type, BACKWARD_FILTER, BWD_FILTER_ALGO_COUNT, requestedAlgoCount,
                returnedAlgoCount, perfResults);
}

cudnnStatus_t cudnnConvolutionForward(cudnnHandle_t handle, const void *alpha, cudnnTensorDescriptor_t xDesc, const void *x,
                                      cudnnFilterDescriptor_t wDesc, const void *w, cudnnConvolutionDescriptor_t convDesc,
                                      cudnnConvolutionFwdAlgo_t algo, void *workSpace, size_t workSpaceSizeInBytes,
                                      const void *beta, cudnnTensorDescriptor_t yDesc, void *y) {
    const char *fn = "cudnnConvolutionForward";
    geometry g;
    if (!live_handle(handle)) return bad(fn, "handle is NULL or not a live handle");
    if (any_null(alpha, beta, x, w, y)) return bad(fn, "alpha, beta, x, w or y is NULL");
    /* The stream's queued work first: the workspace is filled with NaN below and may be a block that
       work still reads. */
    if (drain_stream(handle->stream) != 0) return fail(CUDNN_STATUS_EXECUTION_FAILED, fn, "earlier work on the stream failed");
    cudnnStatus_t st = make_geometry(fn, xDesc, wDesc, convDesc, yDesc, CUDNN_STATUS_NOT_SUPPORTED, &g);
    if (st == CUDNN_STATUS_SUCCESS) st = check_algo(fn, algo, FWD_ALGO_COUNT);
    if (st == CUDNN_STATUS_SUCCESS) st = check_workspace(fn, &g, FORWARD, algo, workSpace, workSpaceSizeInBytes);
    if (st != CUDNN_STATUS_SUCCESS) return st;
    int ydims[4] = {g.n, g.k, g.p, g.q};
    double *acc = calloc((size_t)elements(ydims), sizeof *acc);
    if (!acc) return CUDNN_STATUS_ALLOC_FAILED;
    const float *xf = x, *wf = w;
    FOR_EACH_TAP(&g, { acc[packed_index(ydims, n_, k_, p_, q_)] += operand(xf[xo], g.tf32) * operand(wf[fo], g.tf32); })
    blend_all(ydims, g.ys, acc, y, scale(alpha), scale(beta));
    free(acc);
    return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnConvolutionBackwardData(cudnnHandle_t handle, const void *alpha, cudnnFilterDescriptor_t wDesc, const void *w,
                                           cudnnTensorDescriptor_t dyDesc, const void *dy, cudnnConvolutionDescriptor_t convDesc,
                                           cudnnConvolutionBwdDataAlgo_t algo, void *workSpace, size_t workSpaceSizeInBytes,
                                           const void *beta, cudnnTensorDescriptor_t dxDesc, void *dx) {
    const char *fn = "cudnnConvolutionBackwardData";
    geometry g;
    if (!live_handle(handle)) return bad(fn, "handle is NULL or not a live handle");
    if (any_null(alpha, beta, w, dy, dx)) return bad(fn, "alpha, beta, w, dy or dx is NULL");
    /* The stream's queued work first: the workspace is filled with NaN below and may be a block that
       work still reads. */
    if (drain_stream(handle->stream) != 0) return fail(CUDNN_STATUS_EXECUTION_FAILED, fn, "earlier work on the stream failed");
    cudnnStatus_t st = make_geometry(fn, dxDesc, wDesc, convDesc, dyDesc, CUDNN_STATUS_BAD_PARAM, &g);
    if (st == CUDNN_STATUS_SUCCESS) st = check_algo(fn, algo, BWD_DATA_ALGO_COUNT);
    if (st == CUDNN_STATUS_SUCCESS) st = check_workspace(fn, &g, BACKWARD_DATA, algo, workSpace, workSpaceSizeInBytes);
    if (st != CUDNN_STATUS_SUCCESS) return st;
    /* Accumulated with channels fastest, the tap loop's innermost index, so the sums stay in cache. */
    int xdims[4] = {g.n, g.h, g.w, g.c};
    long xstrides[4] = {g.xs[0], g.xs[2], g.xs[3], g.xs[1]};
    double *acc = calloc((size_t)elements(xdims), sizeof *acc);
    if (!acc) return CUDNN_STATUS_ALLOC_FAILED;
    const float *dyf = dy, *wf = w;
    FOR_EACH_TAP(&g, { acc[packed_index(xdims, n_, h_, w_, c_)] += operand(dyf[yo], g.tf32) * operand(wf[fo], g.tf32); })
    blend_all(xdims, xstrides, acc, dx, scale(alpha), scale(beta));
    free(acc);
    return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnConvolutionBackwardFilter(cudnnHandle_t handle, const void *alpha, cudnnTensorDescriptor_t xDesc, const void *x,
                                             cudnnTensorDescriptor_t dyDesc, const void *dy, cudnnConvolutionDescriptor_t convDesc,
                                             cudnnConvolutionBwdFilterAlgo_t algo, void *workSpace, size_t workSpaceSizeInBytes,
                                             const void *beta, cudnnFilterDescriptor_t dwDesc, void *dw) {
    const char *fn = "cudnnConvolutionBackwardFilter";
    geometry g;
    if (!live_handle(handle)) return bad(fn, "handle is NULL or not a live handle");
    if (any_null(alpha, beta, x, dy, dw)) return bad(fn, "alpha, beta, x, dy or dw is NULL");
    /* The stream's queued work first: the workspace is filled with NaN below and may be a block that
       work still reads. */
    if (drain_stream(handle->stream) != 0) return fail(CUDNN_STATUS_EXECUTION_FAILED, fn, "earlier work on the stream failed");
    cudnnStatus_t st = make_geometry(fn, xDesc, dwDesc, convDesc, dyDesc, CUDNN_STATUS_BAD_PARAM, &g);
    if (st == CUDNN_STATUS_SUCCESS) st = check_algo(fn, algo, BWD_FILTER_ALGO_COUNT);
    if (st == CUDNN_STATUS_SUCCESS) st = check_workspace(fn, &g, BACKWARD_FILTER, algo, workSpace, workSpaceSizeInBytes);
    if (st != CUDNN_STATUS_SUCCESS) return st;
    /* Channels fastest, as in the backward-data pass. */
    int fdims[4] = {g.k, g.r, g.s, g.c};
    long fstrides[4] = {g.fs[0], g.fs[2], g.fs[3], g.fs[1]};
    double *acc = calloc((size_t)elements(fdims), sizeof *acc);
    if (!acc) return CUDNN_STATUS_ALLOC_FAILED;
    const float *xf = x, *dyf = dy;
    FOR_EACH_TAP(&g, { acc[packed_index(fdims, k_, fr_, fs_, c_)] += operand(xf[xo], g.tf32) * operand(dyf[yo], g.tf32); })
    blend_all(fdims, fstrides, acc, dw, scale(alpha), scale(beta));
    free(acc);
    return CUDNN_STATUS_SUCCESS;
}

/* ---- batch normalization ---- */

cudnnStatus_t cudnnDeriveBNTensorDescriptor(cudnnTensorDescriptor_t derived, cudnnTensorDescriptor_t xDesc, cudnnBatchNormMode_t mode) {
    const char *fn = "cudnnDeriveBNTensorDescriptor";
    if (!live_tensor(xDesc)) return bad(fn, "xDesc is NULL or not set");
    if (mode < CUDNN_BATCHNORM_PER_ACTIVATION || mode > CUDNN_BATCHNORM_SPATIAL_PERSISTENT)
        return bad(fn, "invalid batch normalization mode");
    int per_activation = mode == CUDNN_BATCHNORM_PER_ACTIVATION;
    int d[4] = {1, xDesc->dims[1], per_activation ? xDesc->dims[2] : 1, per_activation ? xDesc->dims[3] : 1};
    long s[4];
    packed_strides(CUDNN_TENSOR_NCHW, d, s);
    /* Half and bfloat16 data keep their statistics in float; double in double. */
    return set_tensor(fn, derived, xDesc->dtype == CUDNN_DATA_DOUBLE ? CUDNN_DATA_DOUBLE : CUDNN_DATA_FLOAT, d, s);
}

typedef struct {
    int dims[4];               /* of x */
    long xs[4], ys[4], zs[4], ps[4];  /* strides of x, y (or dy), dx, and the parameter tensor */
    int per_activation;
    long groups, count;        /* parameter entries, and the values each one normalizes */
} bn_geometry;

static cudnnStatus_t bn_check(const char *fn, cudnnHandle_t handle, cudnnBatchNormMode_t mode, cudnnTensorDescriptor_t x,
                              cudnnTensorDescriptor_t y, cudnnTensorDescriptor_t other, cudnnTensorDescriptor_t param,
                              double epsilon, bn_geometry *g) {
    if (!live_handle(handle)) return bad(fn, "handle is NULL or not a live handle");
    if (mode < CUDNN_BATCHNORM_PER_ACTIVATION || mode > CUDNN_BATCHNORM_SPATIAL_PERSISTENT)
        return bad(fn, "invalid batch normalization mode");
    if (!live_tensor(x) || !live_tensor(y) || (other && !live_tensor(other)) || !live_tensor(param))
        return bad(fn, "a tensor descriptor is NULL or not set");
    if (memcmp(x->dims, y->dims, sizeof x->dims) || (other && memcmp(x->dims, other->dims, sizeof x->dims)))
        return bad(fn, "x, y (dy, dx) dimensions differ");
    if (x->dtype != y->dtype || (other && x->dtype != other->dtype)) return bad(fn, "x, y (dy, dx) data types differ");
    g->per_activation = mode == CUDNN_BATCHNORM_PER_ACTIVATION;
    int want[4] = {1, x->dims[1], g->per_activation ? x->dims[2] : 1, g->per_activation ? x->dims[3] : 1};
    if (memcmp(param->dims, want, sizeof want))
        return bad(fn, g->per_activation ? "scale/bias/mean/var descriptor is not 1xCxHxW"
                                         : "scale/bias/mean/var descriptor is not 1xCx1x1");
    if (!(epsilon >= CUDNN_BN_MIN_EPSILON)) return bad(fn, "epsilon is below CUDNN_BN_MIN_EPSILON");
    if (x->dtype != CUDNN_DATA_FLOAT || param->dtype != CUDNN_DATA_FLOAT)
        return fail(CUDNN_STATUS_NOT_SUPPORTED, fn, "only float data is emulated");
    memcpy(g->dims, x->dims, sizeof g->dims);
    memcpy(g->xs, x->strides, sizeof g->xs);
    memcpy(g->ys, y->strides, sizeof g->ys);
    if (other) memcpy(g->zs, other->strides, sizeof g->zs);
    memcpy(g->ps, param->strides, sizeof g->ps);
    g->groups = g->per_activation ? (long)x->dims[1] * x->dims[2] * x->dims[3] : x->dims[1];
    g->count = elements(x->dims) / g->groups;
    return CUDNN_STATUS_SUCCESS;
}

/* Offset of the parameter entry for group i, and of the j-th value of group i in a tensor with strides s. */
static long bn_param(const bn_geometry *g, long i) {
    if (!g->per_activation) return i * g->ps[1];
    long hw = (long)g->dims[2] * g->dims[3];
    return (i / hw) * g->ps[1] + (i % hw / g->dims[3]) * g->ps[2] + (i % g->dims[3]) * g->ps[3];
}

static long bn_value(const bn_geometry *g, const long s[4], long i, long j) {
    if (g->per_activation) {
        long hw = (long)g->dims[2] * g->dims[3];
        return j * s[0] + (i / hw) * s[1] + (i % hw / g->dims[3]) * s[2] + (i % g->dims[3]) * s[3];
    }
    long hw = (long)g->dims[2] * g->dims[3];
    long n = j / hw, h = j % hw / g->dims[3], w = j % g->dims[3];
    return n * s[0] + i * s[1] + h * s[2] + w * s[3];
}

static void bn_moments(const bn_geometry *g, const float *x, long i, double *mean, double *variance) {
    double sum = 0, squares = 0;
    for (long j = 0; j < g->count; j++) sum += x[bn_value(g, g->xs, i, j)];
    *mean = sum / g->count;
    for (long j = 0; j < g->count; j++) {
        double d = x[bn_value(g, g->xs, i, j)] - *mean;
        squares += d * d;
    }
    *variance = squares / g->count;
}

cudnnStatus_t cudnnBatchNormalizationForwardTraining(cudnnHandle_t handle, cudnnBatchNormMode_t mode, const void *alpha,
                                                     const void *beta, cudnnTensorDescriptor_t xDesc, const void *x,
                                                     cudnnTensorDescriptor_t yDesc, void *y,
                                                     cudnnTensorDescriptor_t bnScaleBiasMeanVarDesc, const void *bnScale,
                                                     const void *bnBias, double exponentialAverageFactor,
                                                     void *resultRunningMean, void *resultRunningVariance, double epsilon,
                                                     void *resultSaveMean, void *resultSaveInvVariance) {
    const char *fn = "cudnnBatchNormalizationForwardTraining";
    bn_geometry g;
    if (any_null(alpha, beta, x, y, bnScale) || !bnBias) return bad(fn, "alpha, beta, x, y, bnScale or bnBias is NULL");
    if (!resultRunningMean != !resultRunningVariance)
        return bad(fn, "exactly one of the running mean/variance pointers is NULL");
    if (!resultSaveMean != !resultSaveInvVariance)
        return bad(fn, "exactly one of the saved mean/inverse variance pointers is NULL");
    cudnnStatus_t st = bn_check(fn, handle, mode, xDesc, yDesc, NULL, bnScaleBiasMeanVarDesc, epsilon, &g);
    if (st != CUDNN_STATUS_SUCCESS) return st;
    if (drain_stream(handle->stream) != 0) return fail(CUDNN_STATUS_EXECUTION_FAILED, fn, "earlier work on the stream failed");
    if (resultRunningMean && g.count < 2)
        return bad(fn, "one value per channel has no unbiased variance for the running average");
    const float *xf = x, *gamma = bnScale, *bias = bnBias;
    float *yf = y, *rmean = resultRunningMean, *rvar = resultRunningVariance, *smean = resultSaveMean, *sinv = resultSaveInvVariance;
    float a = scale(alpha), b = scale(beta);
    for (long i = 0; i < g.groups; i++) {
        double mean, variance;
        bn_moments(&g, xf, i, &mean, &variance);
        double inv_std = 1.0 / sqrt(variance + epsilon);
        long pi = bn_param(&g, i);
        for (long j = 0; j < g.count; j++) {
            double xhat = (xf[bn_value(&g, g.xs, i, j)] - mean) * inv_std;
            blend(yf + bn_value(&g, g.ys, i, j), gamma[pi] * xhat + bias[pi], a, b);
        }
        if (rmean) {
            double f = exponentialAverageFactor, unbiased = variance * g.count / (g.count - 1);
            rmean[pi] = (float)((1 - f) * rmean[pi] + f * mean);
            rvar[pi] = (float)((1 - f) * rvar[pi] + f * unbiased);
        }
        if (smean) {
            smean[pi] = (float)mean;
            sinv[pi] = (float)inv_std;
        }
    }
    return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnBatchNormalizationForwardInference(cudnnHandle_t handle, cudnnBatchNormMode_t mode, const void *alpha,
                                                      const void *beta, cudnnTensorDescriptor_t xDesc, const void *x,
                                                      cudnnTensorDescriptor_t yDesc, void *y,
                                                      cudnnTensorDescriptor_t bnScaleBiasMeanVarDesc, const void *bnScale,
                                                      const void *bnBias, const void *estimatedMean,
                                                      const void *estimatedVariance, double epsilon) {
    const char *fn = "cudnnBatchNormalizationForwardInference";
    bn_geometry g;
    if (any_null(alpha, beta, x, y, bnScale) || !bnBias || !estimatedMean || !estimatedVariance)
        return bad(fn, "alpha, beta, x, y, bnScale, bnBias, estimatedMean or estimatedVariance is NULL");
    cudnnStatus_t st = bn_check(fn, handle, mode, xDesc, yDesc, NULL, bnScaleBiasMeanVarDesc, epsilon, &g);
    if (st != CUDNN_STATUS_SUCCESS) return st;
    if (drain_stream(handle->stream) != 0) return fail(CUDNN_STATUS_EXECUTION_FAILED, fn, "earlier work on the stream failed");
    const float *xf = x, *gamma = bnScale, *bias = bnBias, *mean = estimatedMean, *var = estimatedVariance;
    float a = scale(alpha), b = scale(beta);
    for (long i = 0; i < g.groups; i++) {
        long pi = bn_param(&g, i);
        double inv_std = 1.0 / sqrt((double)var[pi] + epsilon);
        for (long j = 0; j < g.count; j++) {
            double xhat = (xf[bn_value(&g, g.xs, i, j)] - (double)mean[pi]) * inv_std;
            blend((float *)y + bn_value(&g, g.ys, i, j), gamma[pi] * xhat + bias[pi], a, b);
        }
    }
    return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnBatchNormalizationBackward(cudnnHandle_t handle, cudnnBatchNormMode_t mode, const void *alphaDataDiff,
                                              const void *betaDataDiff, const void *alphaParamDiff, const void *betaParamDiff,
                                              cudnnTensorDescriptor_t xDesc, const void *x, cudnnTensorDescriptor_t dyDesc,
                                              const void *dy, cudnnTensorDescriptor_t dxDesc, void *dx,
                                              cudnnTensorDescriptor_t dBnScaleBiasDesc, const void *bnScale,
                                              void *dBnScaleResult, void *dBnBiasResult, double epsilon,
                                              const void *savedMean, const void *savedInvVariance) {
    const char *fn = "cudnnBatchNormalizationBackward";
    bn_geometry g;
    if (any_null(alphaDataDiff, betaDataDiff, alphaParamDiff, betaParamDiff, x) || any_null(dy, dx, bnScale, dBnScaleResult, dBnBiasResult))
        return bad(fn, "a scaling factor, x, dy, dx, bnScale or a result pointer is NULL");
    if (!savedMean != !savedInvVariance) return bad(fn, "exactly one of savedMean, savedInvVariance is NULL");
    cudnnStatus_t st = bn_check(fn, handle, mode, xDesc, dyDesc, dxDesc, dBnScaleBiasDesc, epsilon, &g);
    if (st != CUDNN_STATUS_SUCCESS) return st;
    if (drain_stream(handle->stream) != 0) return fail(CUDNN_STATUS_EXECUTION_FAILED, fn, "earlier work on the stream failed");
    const float *xf = x, *dyf = dy, *gamma = bnScale, *smean = savedMean, *sinv = savedInvVariance;
    float *dxf = dx, *dgamma = dBnScaleResult, *dbeta = dBnBiasResult;
    float ad = scale(alphaDataDiff), bd = scale(betaDataDiff), ap = scale(alphaParamDiff), bp = scale(betaParamDiff);
    for (long i = 0; i < g.groups; i++) {
        long pi = bn_param(&g, i);
        double mean, inv_std;
        if (smean) {
            mean = smean[pi];
            inv_std = sinv[pi];
        } else {
            double variance;
            bn_moments(&g, xf, i, &mean, &variance);
            inv_std = 1.0 / sqrt(variance + epsilon);
        }
        double sum_dy = 0, sum_dy_xhat = 0;
        for (long j = 0; j < g.count; j++) {
            double d = dyf[bn_value(&g, g.ys, i, j)];
            sum_dy += d;
            sum_dy_xhat += d * (xf[bn_value(&g, g.xs, i, j)] - mean) * inv_std;
        }
        for (long j = 0; j < g.count; j++) {
            double xhat = (xf[bn_value(&g, g.xs, i, j)] - mean) * inv_std;
            double d = dyf[bn_value(&g, g.ys, i, j)];
            double grad = gamma[pi] * inv_std * (d - sum_dy / g.count - xhat * sum_dy_xhat / g.count);
            blend(dxf + bn_value(&g, g.zs, i, j), grad, ad, bd);
        }
        blend(dgamma + pi, sum_dy_xhat, ap, bp);
        blend(dbeta + pi, sum_dy, ap, bp);
    }
    return CUDNN_STATUS_SUCCESS;
}
