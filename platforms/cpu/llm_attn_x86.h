/* llm_attn_x86.h: the fused grouped-query attention of the decode step for
 * the AVX2 and AVX-512 kernel files (included by both, as llm_kernels_x86.h
 * is, each compiling it with its own flags; the code is 256-bit).
 *
 * At a deep context the attention, not the weights, is most of a step's
 * bytes (llama3.2-1b at L = 2048: 134 MB of fp32 K/V against 1.3 GB of q8_0
 * weights) and, done one head at a time, most of its instructions: one
 * function call, one horizontal sum and one libm expf per position and head.
 * Here the heads of one KV group (4 in the Llama 3 models) are taken
 * together, up to four at a time: each K row is loaded and converted once
 * and dotted with every head's query, the four sums reduced together; the
 * softmax's exp is an 8-wide polynomial; each V row is loaded once per
 * 16-element slice and accumulated into the heads' outputs held in
 * registers. */
#ifndef JB_LLM_ATTN_X86_H
#define JB_LLM_ATTN_X86_H

#if !defined(__AVX2__) || !defined(__FMA__) || !defined(__F16C__)
#error "llm_attn_x86.h is for the *_avx2.c / *_avx512.c kernel files only"
#endif

#include "platforms/cpu/llm_kernels.h"

#include <immintrin.h>
#include <math.h>

/* exp(x) for x <= 0 (the softmax's scores minus their maximum), 8 lanes:
 * x = n ln2 + r with |r| <= ln2/2 (ln2 split in two for exactness), e^r by
 * its degree-6 Taylor polynomial (relative error below 2e-7, as expf's
 * few ulp), 2^n put into the exponent bits. Below -87.3 the result is 0
 * (e^-87.3 is below the smallest normal float). */
static inline __m256 exp_neg256(__m256 x)
{
    const __m256 lo = _mm256_set1_ps(-87.3f);
    __m256 under = _mm256_cmp_ps(x, lo, _CMP_LT_OQ);
    x = _mm256_max_ps(x, lo);
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.0f / 720.0f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_andnot_ps(under, _mm256_mul_ps(p, _mm256_castsi256_ps(e)));
}

/* 8 elements of a K or V row as fp32. */
static inline __m256 attn_load(const char *row, int i, int f16)
{
    if (f16)
        return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)((const uint16_t *)row + i)));
    return _mm256_loadu_ps((const float *)row + i);
}

/* Scores of nh <= 4 heads (queries q[0..nh), hd apart) for every position:
 * att[h * npos + t] = scale * q_h . k_t. */
static inline __attribute__((always_inline)) void attn_scores(const float *q, int nh, int hd, const char *k, size_t stride,
                               int f16, int npos, float scale, float *att)
{
    for (int t = 0; t < npos; t++) {
        const char *kt = k + (size_t)t * stride;
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        for (int i = 0; i < hd; i += 8) {
            __m256 kv = attn_load(kt, i, f16);
            a0 = _mm256_fmadd_ps(kv, _mm256_loadu_ps(q + i), a0);
            if (nh > 1)
                a1 = _mm256_fmadd_ps(kv, _mm256_loadu_ps(q + hd + i), a1);
            if (nh > 2)
                a2 = _mm256_fmadd_ps(kv, _mm256_loadu_ps(q + 2 * hd + i), a2);
            if (nh > 3)
                a3 = _mm256_fmadd_ps(kv, _mm256_loadu_ps(q + 3 * hd + i), a3);
        }
        /* the four horizontal sums at once: lanes 0..3 = heads 0..3 */
        __m256 h01 = _mm256_hadd_ps(a0, a1), h23 = _mm256_hadd_ps(a2, a3);
        __m256 h = _mm256_hadd_ps(h01, h23);
        __m128 s = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
        float sv[4];
        _mm_storeu_ps(sv, _mm_mul_ps(s, _mm_set1_ps(scale)));
        for (int j = 0; j < nh; j++)
            att[(size_t)j * npos + t] = sv[j];
    }
}

/* att[0..n) = exp(att - max) / sum, in place. */
static inline void attn_softmax(float *a, int n)
{
    __m256 mv = _mm256_set1_ps(-INFINITY);
    int t = 0;
    for (; t + 8 <= n; t += 8)
        mv = _mm256_max_ps(mv, _mm256_loadu_ps(a + t));
    __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(mv), _mm256_extractf128_ps(mv, 1));
    m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
    m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
    float mx = _mm_cvtss_f32(m4);
    for (; t < n; t++)
        mx = a[t] > mx ? a[t] : mx;
    __m256 vmx = _mm256_set1_ps(mx), sum = _mm256_setzero_ps();
    for (t = 0; t + 8 <= n; t += 8) {
        __m256 e = exp_neg256(_mm256_sub_ps(_mm256_loadu_ps(a + t), vmx));
        _mm256_storeu_ps(a + t, e);
        sum = _mm256_add_ps(sum, e);
    }
    if (t < n) {
        /* the tail through the same polynomial, padded with -inf (exp 0) */
        float buf[8];
        for (int j = 0; j < 8; j++)
            buf[j] = t + j < n ? a[t + j] - mx : -INFINITY;
        __m256 e = exp_neg256(_mm256_loadu_ps(buf));
        _mm256_storeu_ps(buf, e);
        sum = _mm256_add_ps(sum, e);
        for (int j = 0; t + j < n; j++)
            a[t + j] = buf[j];
    }
    __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(sum), _mm256_extractf128_ps(sum, 1));
    s4 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
    s4 = _mm_add_ss(s4, _mm_movehdup_ps(s4));
    __m256 inv = _mm256_set1_ps(1.0f / _mm_cvtss_f32(s4));
    for (t = 0; t + 8 <= n; t += 8)
        _mm256_storeu_ps(a + t, _mm256_mul_ps(_mm256_loadu_ps(a + t), inv));
    for (; t < n; t++)
        a[t] *= _mm_cvtss_f32(_mm256_castps256_ps128(inv));
}

/* out[h] = sum_t att[h][t] v_t for nh <= 4 heads, 16 elements at a time so
 * that the 4 x 2 accumulators stay in registers. */
static inline __attribute__((always_inline)) void attn_values(const float *att, int nh, int hd, const char *v, size_t stride,
                               int f16, int npos, float *out)
{
    for (int i = 0; i < hd; i += 16) {
        __m256 o[4][2];
        for (int h = 0; h < 4; h++)
            o[h][0] = o[h][1] = _mm256_setzero_ps();
        for (int t = 0; t < npos; t++) {
            const char *vt = v + (size_t)t * stride;
            __m256 v0 = attn_load(vt, i, f16), v1 = attn_load(vt, i + 8, f16);
            for (int h = 0; h < 4; h++) {
                if (h < nh) {
                    __m256 p = _mm256_broadcast_ss(att + (size_t)h * npos + t);
                    o[h][0] = _mm256_fmadd_ps(p, v0, o[h][0]);
                    o[h][1] = _mm256_fmadd_ps(p, v1, o[h][1]);
                }
            }
        }
        for (int h = 0; h < nh; h++) {
            _mm256_storeu_ps(out + (size_t)h * hd + i, o[h][0]);
            _mm256_storeu_ps(out + (size_t)h * hd + i + 8, o[h][1]);
        }
    }
}

static void attend_x86(const float *q, int group, int hd, const void *k, const void *v,
                       size_t stride, enum jb_llm_dtype kv_dtype, int npos, float scale,
                       float *att, float *out)
{
    if (hd % 16) {
        jb_llm_attend_ref(q, group, hd, k, v, stride, kv_dtype, npos, scale, att, out);
        return;
    }
    int f16 = kv_dtype == JB_LLM_F16;
    for (int h0 = 0; h0 < group; h0 += 4) {
        int nh = group - h0 < 4 ? group - h0 : 4;
        float *a = att + (size_t)h0 * npos;
        /* a literal 4 for full sets, so that the inlined loops over heads
         * unroll without their per-head tests */
        if (nh == 4)
            attn_scores(q + (size_t)h0 * hd, 4, hd, k, stride, f16, npos, scale, a);
        else
            attn_scores(q + (size_t)h0 * hd, nh, hd, k, stride, f16, npos, scale, a);
        for (int h = 0; h < nh; h++)
            attn_softmax(a + (size_t)h * npos, npos);
        if (nh == 4)
            attn_values(a, 4, hd, v, stride, f16, npos, out + (size_t)h0 * hd);
        else
            attn_values(a, nh, hd, v, stride, f16, npos, out + (size_t)h0 * hd);
    }
}

#endif /* JB_LLM_ATTN_X86_H */
