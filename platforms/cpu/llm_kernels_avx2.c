/* llm_kernels_avx2.c: the LLM decode kernels for AVX2 + FMA + F16C (x86
 * cores without AVX-512), compiled only with those flags and chosen at run
 * time. Same structure as the AVX-512 file at 8 lanes; quantized blocks use
 * maddubs + madd (unsigned |w| times signed sign(w)*x, pairs summed to
 * 16 bits: at most 2*128*127 = 32512, so no saturation). */
#include "platforms/cpu/llm_kernels.h"

#include <immintrin.h>

#define Q4_MAX_BLOCKS 2048 /* rows of up to 65536 weights */

static inline float hsum256(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

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

static inline __m256 block_dot(__m256i w, __m256i x, float d, __m256 acc)
{
    __m256i aw = _mm256_sign_epi8(w, w);
    __m256i sx = _mm256_sign_epi8(x, w);
    __m256i p16 = _mm256_maddubs_epi16(aw, sx);
    __m256i s = _mm256_madd_epi16(p16, _mm256_set1_epi16(1));
    return _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_set1_ps(d), acc);
}

/* xd: the activation's block scales as fp32, converted once per call. */
static float dot_q8(const struct jb_block_q8_0 *w, const struct jb_block_q8_0 *x, const float *xd,
                    int nb)
{
    __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0;
    int i = 0;
    for (; i + 2 <= nb; i += 2) {
        acc0 = block_dot(_mm256_loadu_si256((const __m256i *)w[i].qs),
                         _mm256_loadu_si256((const __m256i *)x[i].qs), _cvtsh_ss(w[i].d) * xd[i],
                         acc0);
        acc1 = block_dot(_mm256_loadu_si256((const __m256i *)w[i + 1].qs),
                         _mm256_loadu_si256((const __m256i *)x[i + 1].qs),
                         _cvtsh_ss(w[i + 1].d) * xd[i + 1], acc1);
    }
    for (; i < nb; i++)
        acc0 = block_dot(_mm256_loadu_si256((const __m256i *)w[i].qs),
                         _mm256_loadu_si256((const __m256i *)x[i].qs), _cvtsh_ss(w[i].d) * xd[i],
                         acc0);
    return hsum256(_mm256_add_ps(acc0, acc1));
}

/* 16 bytes of nibbles -> 32 unsigned codes 0..15 in element order (low
 * nibbles are elements 0..15, high nibbles 16..31). */
static inline __m256i unpack_q4(const uint8_t *qs)
{
    __m128i b = _mm_loadu_si128((const __m128i *)qs);
    __m128i lo = _mm_and_si128(b, _mm_set1_epi8(0x0f));
    __m128i hi = _mm_and_si128(_mm_srli_epi16(b, 4), _mm_set1_epi8(0x0f));
    return _mm256_set_m128i(hi, lo);
}

/* The codes are unsigned, so they multiply x directly (no sign trick); the
 * -8 offset is applied once per block as d_w * d_x * xs8[b], with xs8[b] =
 * 8 * (sum of the block's x codes) and d_x = xd[b] precomputed per call: q4_0 is the one format where the inner
 * loop, not DRAM, can be the limit on one core. */
static inline __m256 q4_block(const struct jb_block_q4_0 *w, const struct jb_block_q8_0 *xb,
                              float dx, float xs8, float *corr, __m256 acc)
{
    __m256i u = unpack_q4(w->qs), x = _mm256_loadu_si256((const __m256i *)xb->qs);
    __m256i s = _mm256_madd_epi16(_mm256_maddubs_epi16(u, x), _mm256_set1_epi16(1));
    float d = _cvtsh_ss(w->d);
    *corr += d * dx * xs8;
    return _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_set1_ps(d * dx), acc);
}

static float dot_q4(const struct jb_block_q4_0 *w, const struct jb_block_q8_0 *x, const float *xd,
                    const float *xs8, int nb)
{
    __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0;
    float corr0 = 0.0f, corr1 = 0.0f;
    int i = 0;
    for (; i + 2 <= nb; i += 2) {
        acc0 = q4_block(&w[i], &x[i], xd[i], xs8[i], &corr0, acc0);
        acc1 = q4_block(&w[i + 1], &x[i + 1], xd[i + 1], xs8[i + 1], &corr1, acc1);
    }
    for (; i < nb; i++)
        acc0 = q4_block(&w[i], &x[i], xd[i], xs8[i], &corr0, acc0);
    return hsum256(_mm256_add_ps(acc0, acc1)) - (corr0 + corr1);
}

static void matvec(const struct jb_llm_matrix *m, int r0, int r1, const float *x,
                   const struct jb_block_q8_0 *xq, float *y)
{
    const char *base = m->data;
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
    case JB_LLM_Q4_0: {
        /* x's block scales (and 8 * sum of codes, for q4_0); rows longer than the
         * stack buffers (never in the configurations) take the portable path */
        float xd[Q4_MAX_BLOCKS], xs8[Q4_MAX_BLOCKS];
        int nb = n / JB_QK;
        if (nb > Q4_MAX_BLOCKS) {
            jb_llm_kernels_reference.matvec(m, r0, r1, x, xq, y);
            break;
        }
        for (int b = 0; b < nb; b++) {
            int sum = 0;
            for (int j = 0; j < JB_QK; j++)
                sum += xq[b].qs[j];
            xd[b] = _cvtsh_ss(xq[b].d);
            xs8[b] = 8.0f * (float)sum;
        }
        if (m->dtype == JB_LLM_Q8_0)
            for (int r = r0; r < r1; r++)
                y[r] = dot_q8((const void *)(base + (size_t)r * m->row_bytes), xq, xd, nb);
        else
            for (int r = r0; r < r1; r++)
                y[r] = dot_q4((const void *)(base + (size_t)r * m->row_bytes), xq, xd, xs8, nb);
        break;
    }
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
    .dot_f32 = dot_f32,
    .dot_f16 = dot_f16,
    .axpy_f32 = axpy_f32,
    .axpy_f16 = axpy_f16,
};
