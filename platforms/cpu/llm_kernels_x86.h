/* llm_kernels_x86.h: the 256-bit quantized block dot products shared by the
 * AVX2 and AVX-512 LLM kernels. Only llm_kernels_avx2.c and
 * llm_kernels_avx512.c include it; each compiles it once with its own ISA
 * flags, so the functions are static inline and the one ISA difference (how
 * unsigned-by-signed bytes are summed into 32-bit lanes) is picked from the
 * compiler's target macros. */
#ifndef JB_LLM_KERNELS_X86_H
#define JB_LLM_KERNELS_X86_H

#if !defined(__AVX2__) || !defined(__FMA__) || !defined(__F16C__)
#error "llm_kernels_x86.h is for the *_avx2.c / *_avx512.c kernel files only"
#endif

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

/* Sum of u[j] * s[j] (u unsigned, s signed bytes) over each group of four
 * bytes, as 32-bit lanes. AVX-512 VNNI does it in one dpbusd; AVX2 uses
 * maddubs + madd, whose 16-bit pair sums stay below 2*128*127 = 32512 for
 * the operands used here (|w| and codes 0..15), so no saturation: both give
 * the same integers. */
static inline __m256i dot_u8s8(__m256i u, __m256i s)
{
#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
    return _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, s);
#else
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
#endif
}

/* Sign trick: |w| unsigned times sign(w)*x signed, since the byte products
 * take one unsigned operand. */
static inline __m256 block_dot(__m256i w, __m256i x, float d, __m256 acc)
{
    __m256i aw = _mm256_sign_epi8(w, w);
    __m256i sx = _mm256_sign_epi8(x, w);
    __m256i s = dot_u8s8(aw, sx);
    return _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_set1_ps(d), acc);
}

/* xd: the activation's block scales as fp32, converted once per call. */
static inline float dot_q8(const struct jb_block_q8_0 *w, const struct jb_block_q8_0 *x,
                           const float *xd, int nb)
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
    __m256i s = dot_u8s8(u, x);
    float d = _cvtsh_ss(w->d);
    *corr += d * dx * xs8;
    return _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_set1_ps(d * dx), acc);
}

static inline float dot_q4(const struct jb_block_q4_0 *w, const struct jb_block_q8_0 *x,
                           const float *xd, const float *xs8, int nb)
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

/* Rows r0..r1-1 of a q8_0 or q4_0 matrix times the quantized activation xq
 * (its other forms only for the portable fallback). x's block scales (and 8 * sum
 * of codes, for q4_0) are computed once here; rows longer than the stack
 * buffers (never in the configurations) take the portable path. */
static inline void matvec_quant(const struct jb_llm_matrix *m, int r0, int r1,
                                const struct jb_llm_act *a, float *y)
{
    const struct jb_block_q8_0 *xq = a->q8_0;
    const char *base = m->data;
    float xd[Q4_MAX_BLOCKS], xs8[Q4_MAX_BLOCKS];
    int nb = m->cols / JB_QK;
    if (nb > Q4_MAX_BLOCKS) {
        jb_llm_kernels_reference.matvec(m, r0, r1, a, y);
        return;
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
}

#endif /* JB_LLM_KERNELS_X86_H */
