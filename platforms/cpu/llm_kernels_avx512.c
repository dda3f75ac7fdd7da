/* llm_kernels_avx512.c: the LLM decode kernels for AVX-512 (F, BW, VL,
 * VNNI, F16C), compiled only with those flags and chosen at run time.
 *
 * fp32/bf16/f16 rows: 16-wide FMA with four accumulators, so that the FMA
 * latency (4 cycles) is hidden and a core can issue loads at the rate DRAM
 * delivers them. Quantized rows: one 32-weight block per 256-bit VNNI
 * dpbusd, using the sign trick (|w| unsigned times sign(w)*x signed) since
 * dpbusd multiplies unsigned by signed bytes. */
#include "platforms/cpu/llm_attn_x86.h"
#include "platforms/cpu/llm_kernels_kquant_x86.h"
#include "platforms/cpu/llm_kernels_x86.h"

#include <immintrin.h>

static inline float hsum512(__m512 v)
{
    return _mm512_reduce_add_ps(v);
}

static inline __m512 load_bf16(const uint16_t *p)
{
    __m512i w = _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)p));
    return _mm512_castsi512_ps(_mm512_slli_epi32(w, 16));
}

static inline __m512 load_f16(const uint16_t *p)
{
    return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)p));
}

static inline __m512 load_bf16_mask(const uint16_t *p, __mmask16 k)
{
    __m512i w = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(k, p));
    return _mm512_castsi512_ps(_mm512_slli_epi32(w, 16));
}

static inline __m512 load_f16_mask(const uint16_t *p, __mmask16 k)
{
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(k, p));
}

/* One template for the three float-like row types: LOAD(p) gives 16 fp32. */
#define DOT_BODY(LOAD, LOADM)                                                                  \
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;                                 \
    int i = 0;                                                                                  \
    for (; i + 64 <= n; i += 64) {                                                              \
        a0 = _mm512_fmadd_ps(LOAD(a + i), _mm512_loadu_ps(b + i), a0);                          \
        a1 = _mm512_fmadd_ps(LOAD(a + i + 16), _mm512_loadu_ps(b + i + 16), a1);                \
        a2 = _mm512_fmadd_ps(LOAD(a + i + 32), _mm512_loadu_ps(b + i + 32), a2);                \
        a3 = _mm512_fmadd_ps(LOAD(a + i + 48), _mm512_loadu_ps(b + i + 48), a3);                \
    }                                                                                           \
    for (; i + 16 <= n; i += 16)                                                                \
        a0 = _mm512_fmadd_ps(LOAD(a + i), _mm512_loadu_ps(b + i), a0);                          \
    if (i < n) {                                                                                \
        __mmask16 k = (__mmask16)((1u << (n - i)) - 1u);                                        \
        a1 = _mm512_fmadd_ps(LOADM(a + i, k), _mm512_maskz_loadu_ps(k, b + i), a1);             \
    }                                                                                           \
    return hsum512(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));

#define LOAD_F32(p) _mm512_loadu_ps(p)
#define LOADM_F32(p, k) _mm512_maskz_loadu_ps(k, p)

static float dot_f32(const float *a, const float *b, int n)
{
    DOT_BODY(LOAD_F32, LOADM_F32)
}

static float dot_f16(const uint16_t *a, const float *b, int n)
{
    DOT_BODY(load_f16, load_f16_mask)
}

static float dot_bf16(const uint16_t *a, const float *b, int n)
{
    DOT_BODY(load_bf16, load_bf16_mask)
}

static void matvec(const struct jb_llm_matrix *m, int r0, int r1, const struct jb_llm_act *a,
                   float *y)
{
    const char *base = m->data;
    const float *x = a->x;
    int n = m->cols;
    switch (m->dtype) {
    case JB_LLM_F32:
        for (int r = r0; r < r1; r++)
            y[r] = dot_f32((const float *)(base + (size_t)r * m->row_bytes), x, n);
        break;
    case JB_LLM_F16:
        for (int r = r0; r < r1; r++)
            y[r] = dot_f16((const uint16_t *)(base + (size_t)r * m->row_bytes), x, n);
        break;
    case JB_LLM_BF16:
        for (int r = r0; r < r1; r++)
            y[r] = dot_bf16((const uint16_t *)(base + (size_t)r * m->row_bytes), x, n);
        break;
    case JB_LLM_Q8_0:
    case JB_LLM_Q4_0:
        matvec_quant(m, r0, r1, a, y);
        break;
    case JB_LLM_Q4_K:
    case JB_LLM_Q5_K:
    case JB_LLM_Q6_K:
        kq_matvec(m, r0, r1, a->q8_K, y);
        break;
    case JB_LLM_Q8_K:
        break; /* an activation type, never a matrix */
    }
}

static void axpy_f32(float *y, float a, const float *x, int n)
{
    __m512 va = _mm512_set1_ps(a);
    int i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(y + i, _mm512_fmadd_ps(va, _mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i)));
    if (i < n) {
        __mmask16 k = (__mmask16)((1u << (n - i)) - 1u);
        _mm512_mask_storeu_ps(y + i, k,
                              _mm512_fmadd_ps(va, _mm512_maskz_loadu_ps(k, x + i),
                                              _mm512_maskz_loadu_ps(k, y + i)));
    }
}

static void axpy_f16(float *y, float a, const uint16_t *x, int n)
{
    __m512 va = _mm512_set1_ps(a);
    int i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(y + i, _mm512_fmadd_ps(va, load_f16(x + i), _mm512_loadu_ps(y + i)));
    if (i < n) {
        __mmask16 k = (__mmask16)((1u << (n - i)) - 1u);
        _mm512_mask_storeu_ps(
            y + i, k, _mm512_fmadd_ps(va, load_f16_mask(x + i, k), _mm512_maskz_loadu_ps(k, y + i)));
    }
}

const struct jb_llm_kernels jb_llm_kernels_avx512 = {
    .name = "avx512",
    .matvec = matvec,
    .attend = attend_x86,
    .dot_f32 = dot_f32,
    .dot_f16 = dot_f16,
    .axpy_f32 = axpy_f32,
    .axpy_f16 = axpy_f16,
};
