/* llm_kernels.h: the vector kernels of the LLM decode step on the CPU, one
 * table per instruction set, chosen at run time.
 *
 * A decode step is a chain of matrix-vector products that stream every
 * weight once, so the kernels are dot products of one weight row against an
 * activation vector that sits in cache. Quantized rows are multiplied with
 * the activation quantized too, as llama.cpp does, so that the inner loop is
 * integer (VNNI or maddubs) and results compare: q8_0 and q4_0 rows with
 * q8_0 blocks of x, k-quant rows (q4_K, q5_K, q6_K) with q8_K superblocks,
 * whose one scale per 256 and precomputed sums of 16 leave a single float
 * multiply per superblock. */
#ifndef JB_LLM_KERNELS_H
#define JB_LLM_KERNELS_H

#include "platforms/cpu/cpu_features.h"
#include "platforms/llm/llm_format.h"

#include <stddef.h>
#include <stdint.h>

/* One activation vector in the forms the rows of a matrix may need: x
 * itself, and x quantized with jb_llm_quantize_row to the type
 * jb_llm_act_dtype(m->dtype) names (only those forms a caller's matrices
 * need must be set; the others may be NULL). Borrowed by the kernels. */
struct jb_llm_act {
    const float *x;                   /* [cols] */
    const struct jb_block_q8_0 *q8_0; /* [cols / 32] */
    const struct jb_block_q8_K *q8_K; /* [cols / 256] */
};

struct jb_llm_kernels {
    const char *name; /* "avx512", "avx2", "neon", "reference" */
    /* y[r] = row r of m . x for r in [r0, r1). F32/F16/BF16 rows read a->x,
     * quantized rows the form of a that jb_llm_act_dtype(m->dtype) names. */
    void (*matvec)(const struct jb_llm_matrix *m, int r0, int r1, const struct jb_llm_act *a,
                   float *y);
    /* Attention of `group` query heads that share one KV head, over cache
     * positions 0..npos-1: out[h] = sum_t softmax_t(scale * q[h] . k_t) v_t.
     * q and out are [group][hd]; k and v point at position 0 of this KV
     * head's rows, consecutive positions `stride` bytes apart, in kv_dtype
     * (F32 or F16); att is scratch of group * npos floats. The heads share
     * each K and V load (the fused GQA attention of a deep context). */
    void (*attend)(const float *q, int group, int hd, const void *k, const void *v,
                   size_t stride, enum jb_llm_dtype kv_dtype, int npos, float scale, float *att,
                   float *out);
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

/* The portable attend (one head at a time, libm's expf), for the tables
 * and shapes without a vector one. */
void jb_llm_attend_ref(const float *q, int group, int hd, const void *k, const void *v,
                       size_t stride, enum jb_llm_dtype kv_dtype, int npos, float scale,
                       float *att, float *out);

/* The table for isa (the best this build has at or below it). */
const struct jb_llm_kernels *jb_llm_kernels_for(enum jb_isa isa);

#endif
