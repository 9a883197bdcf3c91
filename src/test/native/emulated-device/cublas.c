/*
 * TEST STAND-IN, NOT A PRODUCT: a CPU implementation of the part of the cuBLAS 12 API that jresnet's CUDA
 * backend uses, built as libcublas.so.12 for the "emulated device" (device pointers are host pointers;
 * a call first runs the work the emulated libcuda has queued on its stream, then computes at once).
 * It follows the cuBLAS reference, not jresnet's expectations: an argument
 * real cuBLAS rejects is rejected here with the status the reference documents.
 *
 * Built by native-build/emulated-device.sh, with the version node libcublas.so.12 that JCublas2's
 * native imports every symbol with.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emulator_drain.h"
#include "tf32.h"

typedef enum {
    CUBLAS_STATUS_SUCCESS = 0, CUBLAS_STATUS_NOT_INITIALIZED = 1, CUBLAS_STATUS_ALLOC_FAILED = 3,
    CUBLAS_STATUS_INVALID_VALUE = 7, CUBLAS_STATUS_ARCH_MISMATCH = 8, CUBLAS_STATUS_MAPPING_ERROR = 11,
    CUBLAS_STATUS_EXECUTION_FAILED = 13, CUBLAS_STATUS_INTERNAL_ERROR = 14, CUBLAS_STATUS_NOT_SUPPORTED = 15,
    CUBLAS_STATUS_LICENSE_ERROR = 16
} cublasStatus_t;
typedef enum { CUBLAS_OP_N = 0, CUBLAS_OP_T = 1, CUBLAS_OP_C = 2, CUBLAS_OP_CONJG = 3 } cublasOperation_t;
typedef enum {
    CUBLAS_DEFAULT_MATH = 0, CUBLAS_TENSOR_OP_MATH = 1, CUBLAS_PEDANTIC_MATH = 2, CUBLAS_TF32_TENSOR_OP_MATH = 3,
    CUBLAS_MATH_DISALLOW_REDUCED_PRECISION_REDUCTION = 16
} cublasMath_t;
typedef enum { CUBLAS_POINTER_MODE_HOST = 0, CUBLAS_POINTER_MODE_DEVICE = 1 } cublasPointerMode_t;
typedef void *cudaStream_t;

#define EMULATED_VERSION 120604 /* cuBLAS 12.6.4: major * 10000 + minor * 100 + patch */
enum { HANDLE_MAGIC = 0x53414c42 };

typedef struct cublasContext {
    unsigned magic;
    cudaStream_t stream;
    cublasMath_t math_mode;
    cublasPointerMode_t pointer_mode;
} *cublasHandle_t;

static cublasStatus_t fail(cublasStatus_t status, const char *function, const char *reason) {
    fprintf(stderr, "emulated cuBLAS: %s: %s\n", function, reason);
    return status;
}

static int live(cublasHandle_t h) { return h && h->magic == HANDLE_MAGIC; }

#define REQUIRE_HANDLE(fn, h) \
    if (!live(h)) return fail(CUBLAS_STATUS_NOT_INITIALIZED, fn, "handle is NULL or not a live handle")

cublasStatus_t cublasCreate_v2(cublasHandle_t *handle) {
    if (!handle) return fail(CUBLAS_STATUS_INVALID_VALUE, "cublasCreate_v2", "handle pointer is NULL");
    cublasHandle_t h = calloc(1, sizeof *h);
    if (!h) return CUBLAS_STATUS_ALLOC_FAILED;
    h->magic = HANDLE_MAGIC;
    h->math_mode = CUBLAS_DEFAULT_MATH;
    h->pointer_mode = CUBLAS_POINTER_MODE_HOST;
    *handle = h;
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasDestroy_v2(cublasHandle_t handle) {
    REQUIRE_HANDLE("cublasDestroy_v2", handle);
    handle->magic = 0;
    free(handle);
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasGetVersion_v2(cublasHandle_t handle, int *version) {
    (void)handle; /* cuBLAS answers without consulting the handle */
    if (!version) return fail(CUBLAS_STATUS_INVALID_VALUE, "cublasGetVersion_v2", "version pointer is NULL");
    *version = EMULATED_VERSION;
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetStream_v2(cublasHandle_t handle, cudaStream_t stream) {
    REQUIRE_HANDLE("cublasSetStream_v2", handle);
    handle->stream = stream;
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasGetStream_v2(cublasHandle_t handle, cudaStream_t *stream) {
    REQUIRE_HANDLE("cublasGetStream_v2", handle);
    if (!stream) return fail(CUBLAS_STATUS_INVALID_VALUE, "cublasGetStream_v2", "stream pointer is NULL");
    *stream = handle->stream;
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetMathMode(cublasHandle_t handle, cublasMath_t mode) {
    REQUIRE_HANDLE("cublasSetMathMode", handle);
    int base = mode & ~CUBLAS_MATH_DISALLOW_REDUCED_PRECISION_REDUCTION;
    if (base < CUBLAS_DEFAULT_MATH || base > CUBLAS_TF32_TENSOR_OP_MATH)
        return fail(CUBLAS_STATUS_INVALID_VALUE, "cublasSetMathMode", "invalid math mode");
    handle->math_mode = mode;
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasGetMathMode(cublasHandle_t handle, cublasMath_t *mode) {
    REQUIRE_HANDLE("cublasGetMathMode", handle);
    if (!mode) return fail(CUBLAS_STATUS_INVALID_VALUE, "cublasGetMathMode", "mode pointer is NULL");
    *mode = handle->math_mode;
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetPointerMode_v2(cublasHandle_t handle, cublasPointerMode_t mode) {
    REQUIRE_HANDLE("cublasSetPointerMode_v2", handle);
    if (mode != CUBLAS_POINTER_MODE_HOST && mode != CUBLAS_POINTER_MODE_DEVICE)
        return fail(CUBLAS_STATUS_INVALID_VALUE, "cublasSetPointerMode_v2", "invalid pointer mode");
    handle->pointer_mode = mode;
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasGetPointerMode_v2(cublasHandle_t handle, cublasPointerMode_t *mode) {
    REQUIRE_HANDLE("cublasGetPointerMode_v2", handle);
    if (!mode) return fail(CUBLAS_STATUS_INVALID_VALUE, "cublasGetPointerMode_v2", "mode pointer is NULL");
    *mode = handle->pointer_mode;
    return CUBLAS_STATUS_SUCCESS;
}

static const char *status_text(cublasStatus_t status, int name) {
    switch (status) {
    case CUBLAS_STATUS_SUCCESS: return name ? "CUBLAS_STATUS_SUCCESS" : "success";
    case CUBLAS_STATUS_NOT_INITIALIZED: return name ? "CUBLAS_STATUS_NOT_INITIALIZED" : "the library was not initialized";
    case CUBLAS_STATUS_ALLOC_FAILED: return name ? "CUBLAS_STATUS_ALLOC_FAILED" : "the resource allocation failed";
    case CUBLAS_STATUS_INVALID_VALUE: return name ? "CUBLAS_STATUS_INVALID_VALUE" : "an invalid numeric value was used as an argument";
    case CUBLAS_STATUS_ARCH_MISMATCH: return name ? "CUBLAS_STATUS_ARCH_MISMATCH" : "an absent device architectural feature is required";
    case CUBLAS_STATUS_MAPPING_ERROR: return name ? "CUBLAS_STATUS_MAPPING_ERROR" : "an access to GPU memory space failed";
    case CUBLAS_STATUS_EXECUTION_FAILED: return name ? "CUBLAS_STATUS_EXECUTION_FAILED" : "the GPU program failed to execute";
    case CUBLAS_STATUS_INTERNAL_ERROR: return name ? "CUBLAS_STATUS_INTERNAL_ERROR" : "an internal operation failed";
    case CUBLAS_STATUS_NOT_SUPPORTED: return name ? "CUBLAS_STATUS_NOT_SUPPORTED" : "the functionality requested is not supported";
    case CUBLAS_STATUS_LICENSE_ERROR: return name ? "CUBLAS_STATUS_LICENSE_ERROR" : "error detected trying to check the license";
    }
    return name ? "CUBLAS_STATUS_UNKNOWN" : "unknown error";
}

const char *cublasGetStatusName(cublasStatus_t status) { return status_text(status, 1); }
const char *cublasGetStatusString(cublasStatus_t status) { return status_text(status, 0); }

static int valid_op(cublasOperation_t op) { return op == CUBLAS_OP_N || op == CUBLAS_OP_T || op == CUBLAS_OP_C; }
static int max1(int v) { return v > 1 ? v : 1; }

/*
 * C = alpha op(A) op(B) + beta C, column-major; op(A) is m x k, op(B) is k x n, C is m x n. For real data
 * CUBLAS_OP_C is the transpose. beta == 0 never reads C (it may hold NaN).
 */
cublasStatus_t cublasSgemm_v2(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb, int m, int n,
                              int k, const float *alpha, const float *A, int lda, const float *B, int ldb,
                              const float *beta, float *C, int ldc) {
    const char *fn = "cublasSgemm_v2";
    REQUIRE_HANDLE(fn, handle);
    if (!valid_op(transa) || !valid_op(transb))
        return fail(CUBLAS_STATUS_INVALID_VALUE, fn, "transa or transb is not N, T or C");
    if (m < 0 || n < 0 || k < 0) return fail(CUBLAS_STATUS_INVALID_VALUE, fn, "m, n or k is negative");
    int ta = transa != CUBLAS_OP_N, tb = transb != CUBLAS_OP_N;
    if (lda < max1(ta ? k : m)) return fail(CUBLAS_STATUS_INVALID_VALUE, fn, "lda < max(1, rows of A)");
    if (ldb < max1(tb ? n : k)) return fail(CUBLAS_STATUS_INVALID_VALUE, fn, "ldb < max(1, rows of B)");
    if (ldc < max1(m)) return fail(CUBLAS_STATUS_INVALID_VALUE, fn, "ldc < max(1, m)");
    if (!alpha || !beta) return fail(CUBLAS_STATUS_INVALID_VALUE, fn, "alpha or beta is NULL");
    if (m == 0 || n == 0) return CUBLAS_STATUS_SUCCESS;
    /* Host and device pointer modes read alike (device memory is host memory here), after the queued
       work, which in device pointer mode may be what writes alpha and beta. */
    if (drain_stream(handle->stream) != 0) return fail(CUBLAS_STATUS_EXECUTION_FAILED, fn, "earlier work on the stream failed");
    float a = *alpha, b = *beta;
    int use_products = a != 0.0f && k > 0;
    /* A NULL device pointer would make the kernel fault on a real device. */
    if (!C || (use_products && (!A || !B))) return fail(CUBLAS_STATUS_EXECUTION_FAILED, fn, "A, B or C is NULL");
    int base = handle->math_mode & ~CUBLAS_MATH_DISALLOW_REDUCED_PRECISION_REDUCTION;
    int reduced = base == CUBLAS_TF32_TENSOR_OP_MATH || base == CUBLAS_TENSOR_OP_MATH;
    for (int j = 0; j < n; j++) {
        for (int i = 0; i < m; i++) {
            double sum = 0;
            if (use_products) {
                for (int l = 0; l < k; l++) {
                    float av = ta ? A[l + (long)i * lda] : A[i + (long)l * lda];
                    float bv = tb ? B[j + (long)l * ldb] : B[l + (long)j * ldb];
                    sum += operand(av, reduced) * operand(bv, reduced);
                }
            }
            float *c = &C[i + (long)j * ldc];
            *c = (float)(b == 0.0f ? a * sum : a * sum + (double)b * *c);
        }
    }
    return CUBLAS_STATUS_SUCCESS;
}
