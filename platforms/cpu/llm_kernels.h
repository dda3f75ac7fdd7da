/* llm_kernels.h: the vector kernels of the LLM decode step on the CPU, one
 * table per instruction set, chosen at run time.
 *
 * A decode step is a chain of matrix-vector products that stream every
 * weight once, so the kernels are dot products of one weight row against an
 * activation vector that sits in cache. Quantized rows (q8_0, q4_0) are
 * multiplied with the activation quantized to q8_0, as llama.cpp does, so
 * that the inner loop is integer (VNNI or maddubs) and results compare. */
#ifndef JB_LLM_KERNELS_H
#define JB_LLM_KERNELS_H

#include "platforms/cpu/cpu_features.h"
#include "platforms/llm/llm_format.h"

#include <stdint.h>

struct jb_llm_kernels {
    const char *name; /* "avx512", "avx2", "neon", "reference" */
    /* y[r] = row r of m . x for r in [r0, r1). F32/F16/BF16 rows read x;
     * Q8_0/Q4_0 rows read xq (x quantized with jb_llm_quantize_row). */
    void (*matvec)(const struct jb_llm_matrix *m, int r0, int r1, const float *x,
                   const struct jb_block_q8_0 *xq, float *y);
    float (*dot_f32)(const float *a, const float *b, int n);
    float (*dot_f16)(const uint16_t *a, const float *b, int n);
    void (*axpy_f32)(float *y, float a, const float *x, int n);   /* y += a x */
    void (*axpy_f16)(float *y, float a, const uint16_t *x, int n);
};

extern const struct jb_llm_kernels jb_llm_kernels_reference;
#if defined(JB_X86)
extern const struct jb_llm_kernels jb_llm_kernels_avx2;
extern const struct jb_llm_kernels jb_llm_kernels_avx512;
#endif
#if defined(__aarch64__)
extern const struct jb_llm_kernels jb_llm_kernels_neon;
#endif

/* The table for isa (the best this build has at or below it). */
const struct jb_llm_kernels *jb_llm_kernels_for(enum jb_isa isa);

#endif
