/* llm_kernels_avx2.c: the LLM decode kernels for AVX2 + FMA + F16C (x86
 * cores without AVX-512), compiled only with those flags and chosen at run
 * time. Same structure as the AVX-512 file at 8 lanes; quantized blocks use
 * maddubs + madd (unsigned |w| times signed sign(w)*x, pairs summed to
 * 16 bits: at most 2*128*127 = 32512, so no saturation). */
#include "platforms/cpu/llm_attn_x86.h"
#include "platforms/cpu/llm_kernels_kquant_x86.h"
#include "platforms/cpu/llm_kernels_x86.h"

#include <immintrin.h>

static inline __m256 load_bf16(const uint16_t *p)
{
    __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p));
    return _mm256_castsi256_ps(_mm256_slli_epi32(w, 16));
}

static inline __m256 load_f16(const uint16_t *p)
{
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
}

#define LOAD_F32(p) _mm256_loadu_ps(p)

/* Scalar tail with the same per-element conversions as the vector body. */
#define DOT_BODY(LOAD, SCALAR)                                                                 \
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;                                 \
    int i = 0;                                                                                  \
    for (; i + 32 <= n; i += 32) {                                                              \
        a0 = _mm256_fmadd_ps(LOAD(a + i), _mm256_loadu_ps(b + i), a0);                          \
        a1 = _mm256_fmadd_ps(LOAD(a + i + 8), _mm256_loadu_ps(b + i + 8), a1);                  \
        a2 = _mm256_fmadd_ps(LOAD(a + i + 16), _mm256_loadu_ps(b + i + 16), a2);                \
        a3 = _mm256_fmadd_ps(LOAD(a + i + 24), _mm256_loadu_ps(b + i + 24), a3);                \
    }                                                                                           \
    for (; i + 8 <= n; i += 8)                                                                  \
        a0 = _mm256_fmadd_ps(LOAD(a + i), _mm256_loadu_ps(b + i), a0);                          \
    float s = hsum256(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));            \
    for (; i < n; i++)                                                                          \
        s += SCALAR(a[i]) * b[i];                                                               \
    return s;

#define SCALAR_F32(v) (v)

static float dot_f32(const float *a, const float *b, int n)
{
    DOT_BODY(LOAD_F32, SCALAR_F32)
}

static float dot_f16(const uint16_t *a, const float *b, int n)
{
    DOT_BODY(load_f16, jb_f32_from_fp16)
}

static float dot_bf16(const uint16_t *a, const float *b, int n)
{
    DOT_BODY(load_bf16, jb_f32_from_bf16)
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
    __m256 va = _mm256_set1_ps(a);
    int i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
    for (; i < n; i++)
        y[i] += a * x[i];
}

static void axpy_f16(float *y, float a, const uint16_t *x, int n)
{
    __m256 va = _mm256_set1_ps(a);
    int i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, load_f16(x + i), _mm256_loadu_ps(y + i)));
    for (; i < n; i++)
        y[i] += a * jb_f32_from_fp16(x[i]);
}

const struct jb_llm_kernels jb_llm_kernels_avx2 = {
    .name = "avx2",
    .matvec = matvec,
    .attend = attend_x86,
    .dot_f32 = dot_f32,
    .dot_f16 = dot_f16,
    .axpy_f32 = axpy_f32,
    .axpy_f16 = axpy_f16,
};
