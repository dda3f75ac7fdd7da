/* llm_kernels_kquant_x86.h: the 256-bit k-quant row dot products (q4_K,
 * q5_K, q6_K rows against a q8_K activation), shared by the AVX2 and
 * AVX-512 kernel files as llm_kernels_x86.h is: each compiles it with its own
 * flags, and the one difference (a fused multiply-add of 16-bit pairs,
 * vpdpwssd, under AVX-512 VNNI) is picked from the compiler's macros.
 *
 * Per 32 weights: the codes are unpacked to bytes (0..15, 0..31 or 0..63,
 * unsigned), multiplied with x's bytes by maddubs (pairs summed to 16 bits:
 * at most 2 * 63 * 127 = 16002, no saturation), and the 16-bit pair sums
 * multiplied by the sub-block's scale into 32-bit lanes. The mins (q4_K,
 * q5_K) and q6_K's offset of 32 come from the activation's sums of 16
 * (bsums) in one multiply per superblock. Only the superblock's total is
 * converted to float, as in the portable llm_kquant_ref.c, so both compute
 * the same integers. */
#ifndef JB_LLM_KERNELS_KQUANT_X86_H
#define JB_LLM_KERNELS_KQUANT_X86_H

#if !defined(__AVX2__) || !defined(__FMA__) || !defined(__F16C__)
#error "llm_kernels_kquant_x86.h is for the *_avx2.c / *_avx512.c kernel files only"
#endif

#include "platforms/llm/llm_format.h"

#include <immintrin.h>
#include <string.h>

/* acc + the pair sums of p16 * s16 (16-bit lanes into 32-bit ones). */
static inline __m256i kq_madd_acc(__m256i acc, __m256i p16, __m256i s16)
{
#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
    return _mm256_dpwssd_epi32(acc, p16, s16);
#else
    return _mm256_add_epi32(acc, _mm256_madd_epi16(p16, s16));
#endif
}

static inline float kq_hsum(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* The 8 six-bit scales and 8 mins of a q4_K/q5_K block as bytes (the
 * unpacking of jb_kquant_scale_min, four bytes at a time). */
static inline void kq_scales_mins(const uint8_t *s, __m128i *sc, __m128i *mn)
{
    uint32_t a, b, c;
    memcpy(&a, s, 4);
    memcpy(&b, s + 4, 4);
    memcpy(&c, s + 8, 4);
    uint32_t sc0 = a & 0x3f3f3f3fu, sc1 = (c & 0x0f0f0f0fu) | ((a >> 2) & 0x30303030u);
    uint32_t m0 = b & 0x3f3f3f3fu, m1 = ((c >> 4) & 0x0f0f0f0fu) | ((b >> 2) & 0x30303030u);
    *sc = _mm_set_epi32(0, 0, (int)sc1, (int)sc0);
    *mn = _mm_set_epi32(0, 0, (int)m1, (int)m0);
}

/* Broadcast of 16-bit lane j of a 128-bit vector (repeated in both halves). */
#define KQ_LANE16(v, j) _mm256_shuffle_epi8((v), _mm256_set1_epi16((short)((2 * (j) + 1) << 8 | 2 * (j))))

/* One q4_K or q5_K superblock (qh NULL for q4_K): accumulates d*dx*sumi into
 * *acc and dmin*dx*summ into *accm. */
static inline void kq_type1_block(uint16_t d, uint16_t dmin, const uint8_t *scales, const uint8_t *qs,
                                  const uint8_t *qh, const struct jb_block_q8_K *x, __m256 *acc,
                                  __m256 *accm)
{
    const __m256i m4 = _mm256_set1_epi8(0x0f), b4 = _mm256_set1_epi8(0x10);
    __m128i scb, mnb;
    kq_scales_mins(scales, &scb, &mnb);
    __m256i sc = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(scb));
    /* mins paired with the bsums of their two groups of 16 */
    __m256i mins = _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(mnb, mnb));
    __m256i bs = _mm256_loadu_si256((const __m256i *)x->bsums);
    __m256i summ = _mm256_madd_epi16(mins, bs);
    __m256i sumi = _mm256_setzero_si256();
    __m256i hb = qh ? _mm256_loadu_si256((const __m256i *)qh) : _mm256_setzero_si256();
    for (int c = 0; c < 4; c++) {
        __m256i q = _mm256_loadu_si256((const __m256i *)(qs + 32 * c));
        __m256i lo = _mm256_and_si256(q, m4), hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
        if (qh) {
            lo = _mm256_or_si256(lo, _mm256_and_si256(_mm256_slli_epi16(hb, 4), b4));
            hi = _mm256_or_si256(hi, _mm256_and_si256(_mm256_slli_epi16(hb, 3), b4));
            hb = _mm256_srli_epi16(hb, 2);
        }
        __m256i x0 = _mm256_loadu_si256((const __m256i *)(x->qs + 64 * c));
        __m256i x1 = _mm256_loadu_si256((const __m256i *)(x->qs + 64 * c + 32));
        __m256i s0, s1;
        switch (c) { /* the lane index of a shuffle must be a constant */
        case 0: s0 = KQ_LANE16(sc, 0); s1 = KQ_LANE16(sc, 1); break;
        case 1: s0 = KQ_LANE16(sc, 2); s1 = KQ_LANE16(sc, 3); break;
        case 2: s0 = KQ_LANE16(sc, 4); s1 = KQ_LANE16(sc, 5); break;
        default: s0 = KQ_LANE16(sc, 6); s1 = KQ_LANE16(sc, 7); break;
        }
        sumi = kq_madd_acc(sumi, _mm256_maddubs_epi16(lo, x0), s0);
        sumi = kq_madd_acc(sumi, _mm256_maddubs_epi16(hi, x1), s1);
    }
    float dx = x->d;
    *acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sumi), _mm256_set1_ps(_cvtsh_ss(d) * dx), *acc);
    *accm = _mm256_fmadd_ps(_mm256_cvtepi32_ps(summ), _mm256_set1_ps(_cvtsh_ss(dmin) * dx), *accm);
}

static inline float kq_dot_q4_K(const struct jb_block_q4_K *w, const struct jb_block_q8_K *x,
                                int nb)
{
    __m256 acc = _mm256_setzero_ps(), accm = acc;
    for (int i = 0; i < nb; i++) {
        if (i + 2 < nb)
            _mm_prefetch((const char *)(w + i + 2), _MM_HINT_T0);
        kq_type1_block(w[i].d, w[i].dmin, w[i].scales, w[i].qs, NULL, &x[i], &acc, &accm);
    }
    return kq_hsum(_mm256_sub_ps(acc, accm));
}

static inline float kq_dot_q5_K(const struct jb_block_q5_K *w, const struct jb_block_q8_K *x,
                                int nb)
{
    __m256 acc = _mm256_setzero_ps(), accm = acc;
    for (int i = 0; i < nb; i++) {
        if (i + 2 < nb)
            _mm_prefetch((const char *)(w + i + 2), _MM_HINT_T0);
        kq_type1_block(w[i].d, w[i].dmin, w[i].scales, w[i].qs, w[i].qh, &x[i], &acc, &accm);
    }
    return kq_hsum(_mm256_sub_ps(acc, accm));
}

/* Both 128-bit halves' scale: group 2k in the low half (weights 0..15 of the
 * 32), group 2k + 1 in the high half. */
#define KQ_PAIR16(v, k)                                                                            \
    _mm256_shuffle_epi8((v), _mm256_set_m128i(_mm_set1_epi16((short)((4 * (k) + 3) << 8 | (4 * (k) + 2))), \
                                              _mm_set1_epi16((short)((4 * (k) + 1) << 8 | 4 * (k)))))

static inline float kq_dot_q6_K(const struct jb_block_q6_K *w, const struct jb_block_q8_K *x,
                                int nb)
{
    const __m256i m4 = _mm256_set1_epi8(0x0f), m30 = _mm256_set1_epi8(0x30);
    __m256 acc = _mm256_setzero_ps();
    for (int i = 0; i < nb; i++) {
        if (i + 2 < nb) { /* two superblocks ahead, both its cache lines and more */
            _mm_prefetch((const char *)(w + i + 2), _MM_HINT_T0);
            _mm_prefetch((const char *)(w + i + 2) + 128, _MM_HINT_T0);
        }
        /* the codes are q + 32 (unsigned): take 32 * scale * (sum of x) off */
        __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)w[i].scales));
        __m256i off = _mm256_madd_epi16(sc16, _mm256_loadu_si256((const __m256i *)x[i].bsums));
        __m256i sumi = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(off, 5));
        for (int h = 0; h < 2; h++) {
            const uint8_t *ql = w[i].ql + 64 * h;
            const int8_t *xq = x[i].qs + 128 * h;
            __m256i l0 = _mm256_loadu_si256((const __m256i *)ql);
            __m256i l1 = _mm256_loadu_si256((const __m256i *)(ql + 32));
            __m256i hv = _mm256_loadu_si256((const __m256i *)(w[i].qh + 32 * h));
            __m256i s8 = _mm256_broadcastsi128_si256(
                _mm_cvtepi8_epi16(_mm_loadl_epi64((const __m128i *)(w[i].scales + 8 * h))));
            __m256i q1 = _mm256_or_si256(_mm256_and_si256(l0, m4),
                                         _mm256_and_si256(_mm256_slli_epi16(hv, 4), m30));
            __m256i q2 = _mm256_or_si256(_mm256_and_si256(l1, m4),
                                         _mm256_and_si256(_mm256_slli_epi16(hv, 2), m30));
            __m256i q3 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4),
                                         _mm256_and_si256(hv, m30));
            __m256i q4 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                                         _mm256_and_si256(_mm256_srli_epi16(hv, 2), m30));
            sumi = kq_madd_acc(sumi,
                               _mm256_maddubs_epi16(q1, _mm256_loadu_si256((const __m256i *)xq)),
                               KQ_PAIR16(s8, 0));
            sumi = kq_madd_acc(
                sumi, _mm256_maddubs_epi16(q2, _mm256_loadu_si256((const __m256i *)(xq + 32))),
                KQ_PAIR16(s8, 1));
            sumi = kq_madd_acc(
                sumi, _mm256_maddubs_epi16(q3, _mm256_loadu_si256((const __m256i *)(xq + 64))),
                KQ_PAIR16(s8, 2));
            sumi = kq_madd_acc(
                sumi, _mm256_maddubs_epi16(q4, _mm256_loadu_si256((const __m256i *)(xq + 96))),
                KQ_PAIR16(s8, 3));
        }
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sumi), _mm256_set1_ps(_cvtsh_ss(w[i].d) * x[i].d),
                              acc);
    }
    return kq_hsum(acc);
}

/* Rows r0..r1-1 of a k-quant matrix times x's q8_K superblocks. */
static inline void kq_matvec(const struct jb_llm_matrix *m, int r0, int r1,
                             const struct jb_block_q8_K *xk, float *y)
{
    const char *base = m->data;
    int nb = m->cols / JB_QK_K;
    for (int r = r0; r < r1; r++) {
        const void *row = base + (size_t)r * m->row_bytes;
        switch (m->dtype) {
        case JB_LLM_Q4_K: y[r] = kq_dot_q4_K(row, xk, nb); break;
        case JB_LLM_Q5_K: y[r] = kq_dot_q5_K(row, xk, nb); break;
        case JB_LLM_Q6_K: y[r] = kq_dot_q6_K(row, xk, nb); break;
        default: y[r] = 0.0f; break;
        }
    }
}

#endif /* JB_LLM_KERNELS_KQUANT_X86_H */
