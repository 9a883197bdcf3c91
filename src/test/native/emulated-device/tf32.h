/* Shared by the cuDNN and cuBLAS stand-ins: what a tensor-core GPU may do to a float operand. */
#pragma once
#include <math.h>
#include <stdint.h>
#include <string.h>

/* With tf32 set, v rounded to TF32's 10 mantissa bits (nearest even); else v unchanged. */
static inline double operand(float v, int tf32) {
    if (!tf32 || !isfinite(v)) return v;
    uint32_t bits;
    memcpy(&bits, &v, sizeof bits);
    bits += 0xfffu + ((bits >> 13) & 1u);
    bits &= ~0x1fffu;
    memcpy(&v, &bits, sizeof v);
    return v;
}
