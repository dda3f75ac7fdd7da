/* llm_kernels_avx512.c: the LLM decode kernels for AVX-512 (F, BW, VL,
 * VNNI, F16C), compiled only with those flags and chosen at run time.
 *
 * fp32/bf16/f16 rows: 16-wide FMA with four accumulators, so that the FMA
 * latency (4 cycles) is hidden and a core can issue loads at the rate DRAM
 * delivers them. Quantized rows: one 32-weight block per 256-bit VNNI
 * dpbusd, using the sign trick (|w| unsigned times sign(w)*x signed) since
 * dpbusd multiplies unsigned by signed bytes. */
#include "platforms/cpu/llm_kernels.h"

#include <immintrin.h>

#define Q4_MAX_BLOCKS 2048 /* rows of up to 65536 weights */

static inline float hsum512(__m512 v)
{
    return _mm512_reduce_add_ps(v);
}

static inline float hsum256(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
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

static inline __m256 block_dot(__m256i w, __m256i x, float d, __m256 acc)
{
    __m256i aw = _mm256_sign_epi8(w, w);
    __m256i sx = _mm256_sign_epi8(x, w);
    __m256i s = _mm256_dpbusd_epi32(_mm256_setzero_si256(), aw, sx);
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
    __m256i s = _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, x);
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
    .dot_f32 = dot_f32,
    .dot_f16 = dot_f16,
    .axpy_f32 = axpy_f32,
    .axpy_f16 = axpy_f16,
};
