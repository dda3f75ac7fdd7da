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
#include <stdlib.h>
#include <string.h>

#define Q4_MAX_BLOCKS 2048 /* rows of up to 65536 weights */

/* How far ahead of the block being multiplied the q8_0/q4_0 loops ask for
 * the weights (bytes). The hardware prefetchers follow one row's stream but
 * restart at each page; a software hint this far ahead keeps a few lines in
 * flight across the boundary. Past the row's end it touches the next row,
 * which the caller reads next; a prefetch never faults. Override with
 * -DJB_LLM_PREFETCH_BYTES=N (0 turns it off) to measure. */
#ifndef JB_LLM_PREFETCH_BYTES
#define JB_LLM_PREFETCH_BYTES 512
#endif
#define JB_LLM_PREFETCH(p)                                                                    \
    do {                                                                                       \
        if (JB_LLM_PREFETCH_BYTES > 0)                                                         \
            _mm_prefetch((const char *)(p) + JB_LLM_PREFETCH_BYTES, _MM_HINT_T0);              \
    } while (0)

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

/* The integer dot of one q8_0 block with x's (8 lanes of partial sums),
 * by the sign trick: |w| unsigned times sign(w)*x signed, since the byte
 * products take one unsigned operand. */
static inline __m256i q8_isum(const struct jb_block_q8_0 *w, const struct jb_block_q8_0 *x)
{
    __m256i wv = _mm256_loadu_si256((const __m256i *)w->qs);
    __m256i xv = _mm256_loadu_si256((const __m256i *)x->qs);
    return dot_u8s8(_mm256_sign_epi8(wv, wv), _mm256_sign_epi8(xv, wv));
}

/* Two blocks: their partial sums folded into one register by one hadd
 * (block 0 in lanes 0, 1, 4, 5, block 1 in 2, 3, 6, 7), both fp16 scales
 * converted together and spread to their lanes, one conversion and one FMA
 * for the pair. xd: the activation's block scales as fp32, converted once
 * per call. */
static inline __m256 q8_pair(const struct jb_block_q8_0 *w, const struct jb_block_q8_0 *x,
                             const float *xd, __m256 acc)
{
    __m256i s = _mm256_hadd_epi32(q8_isum(&w[0], &x[0]), q8_isum(&w[1], &x[1]));
    __m128i dh = _mm_insert_epi16(_mm_cvtsi32_si128(w[0].d), w[1].d, 1);
    __m128 d2 = _mm_mul_ps(_mm_cvtph_ps(dh), _mm_castsi128_ps(_mm_loadl_epi64((const __m128i *)xd)));
    __m256 d8 = _mm256_permutevar8x32_ps(_mm256_castps128_ps256(d2),
                                         _mm256_set_epi32(1, 1, 0, 0, 1, 1, 0, 0));
    return _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), d8, acc);
}

static inline float dot_q8(const struct jb_block_q8_0 *w, const struct jb_block_q8_0 *x,
                           const float *xd, int nb)
{
    __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0;
    int i = 0;
    for (; i + 4 <= nb; i += 4) {
        /* four blocks are 136 bytes: two or three lines, two hints */
        JB_LLM_PREFETCH(&w[i]);
        JB_LLM_PREFETCH((const char *)&w[i] + 64);
        acc0 = q8_pair(&w[i], &x[i], &xd[i], acc0);
        acc1 = q8_pair(&w[i + 2], &x[i + 2], &xd[i + 2], acc1);
    }
    for (; i + 2 <= nb; i += 2)
        acc0 = q8_pair(&w[i], &x[i], &xd[i], acc0);
    for (; i < nb; i++)
        acc1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(q8_isum(&w[i], &x[i])),
                               _mm256_set1_ps(_cvtsh_ss(w[i].d) * xd[i]), acc1);
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

/* The activation of a q4_0 product, rearranged once per call so that two
 * weight blocks share one 256-bit register: for the pair (2p, 2p+1), lo[p]
 * holds x codes 0..15 of block 2p then of block 2p+1 (the low nibbles of the
 * two blocks' qs, loaded side by side), hi[p] codes 16..31 of each (their
 * high nibbles), and corr[p] 8 * (sum of the codes) of each block in the
 * first 32-bit lane of its half: the -8 offset, taken off as an integer. */
struct q4_pairs {
    __m256i lo[Q4_MAX_BLOCKS / 2], hi[Q4_MAX_BLOCKS / 2], corr[Q4_MAX_BLOCKS / 2];
    float dx[Q4_MAX_BLOCKS];
};

static inline void q4_pairs_fill(struct q4_pairs *p, const struct jb_block_q8_0 *x, const float *xd,
                                 int nb)
{
    for (int q = 0; q + 1 < nb; q += 2) {
        const __m128i *a = (const __m128i *)x[q].qs, *b = (const __m128i *)x[q + 1].qs;
        p->lo[q / 2] = _mm256_set_m128i(_mm_loadu_si128(b), _mm_loadu_si128(a));
        p->hi[q / 2] = _mm256_set_m128i(_mm_loadu_si128(b + 1), _mm_loadu_si128(a + 1));
        int sa = 0, sb = 0;
        for (int j = 0; j < JB_QK; j++) {
            sa += x[q].qs[j];
            sb += x[q + 1].qs[j];
        }
        p->corr[q / 2] = _mm256_set_epi32(0, 0, 0, 8 * sb, 0, 0, 0, 8 * sa);
    }
    memcpy(p->dx, xd, sizeof(float) * (size_t)nb);
}

/* Two q4_0 blocks against their rearranged activation: one load of both
 * blocks' nibbles, one mask and one shift to unpack them, integer -8
 * correction, and both scales converted together (the fp16 pair to fp32,
 * times x's pair, spread over each block's four lanes). */
static inline __m256 q4_pair(const struct jb_block_q4_0 *w, const struct q4_pairs *p, int q,
                             __m256 acc)
{
    const __m256i m4 = _mm256_set1_epi8(0x0f);
    __m256i b = _mm256_loadu2_m128i((const __m128i *)w[1].qs, (const __m128i *)w[0].qs);
    __m256i lo = _mm256_and_si256(b, m4), hi = _mm256_and_si256(_mm256_srli_epi16(b, 4), m4);
#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
    __m256i s = _mm256_dpbusd_epi32(_mm256_dpbusd_epi32(_mm256_setzero_si256(), lo, p->lo[q / 2]),
                                    hi, p->hi[q / 2]);
#else
    /* two maddubs pair sums stay below 2 * 2 * 15 * 127 = 7620: added as int16 */
    __m256i s16 = _mm256_add_epi16(_mm256_maddubs_epi16(lo, p->lo[q / 2]),
                                   _mm256_maddubs_epi16(hi, p->hi[q / 2]));
    __m256i s = _mm256_madd_epi16(s16, _mm256_set1_epi16(1));
#endif
    s = _mm256_sub_epi32(s, p->corr[q / 2]);
    __m128i dh = _mm_insert_epi16(_mm_cvtsi32_si128(w[0].d), w[1].d, 1);
    __m128 d2 = _mm_mul_ps(_mm_cvtph_ps(dh), _mm_castsi128_ps(_mm_loadl_epi64((const __m128i *)&p->dx[q])));
    __m256 d8 = _mm256_permutevar8x32_ps(_mm256_castps128_ps256(d2),
                                         _mm256_set_epi32(1, 1, 1, 1, 0, 0, 0, 0));
    return _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), d8, acc);
}

static inline float dot_q4(const struct jb_block_q4_0 *w, const struct jb_block_q8_0 *x,
                           const float *xd, const float *xs8, const struct q4_pairs *p, int nb)
{
    __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0;
    float corr0 = 0.0f;
    int i = 0;
    for (; i + 4 <= nb; i += 4) {
        JB_LLM_PREFETCH(&w[i]); /* four blocks are 72 bytes: about one line */
        acc0 = q4_pair(&w[i], p, i, acc0);
        acc1 = q4_pair(&w[i + 2], p, i + 2, acc1);
    }
    for (; i + 2 <= nb; i += 2)
        acc0 = q4_pair(&w[i], p, i, acc0);
    for (; i < nb; i++)
        acc1 = q4_block(&w[i], &x[i], xd[i], xs8[i], &corr0, acc1);
    return hsum256(_mm256_add_ps(acc0, acc1)) - corr0;
}

/* Rows r0..r1-1 of a q8_0 or q4_0 matrix times the quantized activation xq
 * (its other forms only for the portable fallback). x's block scales (and,
 * for q4_0, its rearrangement into pairs) are computed once here; rows
 * longer than the buffers (never in the configurations) take the portable
 * path. */
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
    if (m->dtype == JB_LLM_Q8_0) {
        for (int r = r0; r < r1; r++)
            y[r] = dot_q8((const void *)(base + (size_t)r * m->row_bytes), xq, xd, nb);
        return;
    }
    /* 100 kB for the longest rows: the heap, once per call, rather than a
     * worker's stack */
    struct q4_pairs *p = aligned_alloc(32, sizeof(*p));
    if (!p) {
        jb_llm_kernels_reference.matvec(m, r0, r1, a, y);
        return;
    }
    q4_pairs_fill(p, xq, xd, nb);
    for (int r = r0; r < r1; r++)
        y[r] = dot_q4((const void *)(base + (size_t)r * m->row_bytes), xq, xd, xs8, p, nb);
    free(p);
}

#endif /* JB_LLM_KERNELS_X86_H */
