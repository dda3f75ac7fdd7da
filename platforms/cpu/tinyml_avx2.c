/* tinyml_avx2.c: the TinyML inner loops on AVX2 + FMA.
 *
 * AVX2 has no VNNI, and vpmaddubsw saturates its 16-bit pair sums (255*127*2
 * does not fit), which would break bit-exactness; so the int8 GEMM widens
 * the input to int16 (input - zero point, padding 0) and uses vpmaddwd,
 * whose pair sums land in int32 exactly. 8 output channels per vector, each
 * weight vector reused for a block of pixels. */
#include "platforms/cpu/tinyml_simd.h"

#include <immintrin.h>
#include <string.h>

void jb_tm_gemm_s16_avx2(const int16_t *rows, int npix, int kp, const int16_t *w, int np,
                         int32_t *acc)
{
    const int16_t *r[JB_TM_PIX_BLOCK];
    for (int p = 0; p < JB_TM_PIX_BLOCK; p++)
        r[p] = rows + (size_t)(p < npix ? p : 0) * kp;
    int k2n = kp / 2, nbn = np / 8, nb = 0;
    if (npix == 1) {
        /* one row (fully connected): four output blocks at once instead */
        for (; nb + 4 <= nbn; nb += 4) {
            const int16_t *wb = w + (size_t)nb * k2n * 16;
            size_t bs = (size_t)k2n * 16;
            __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
            for (int k2 = 0; k2 < k2n; k2++) {
                int32_t x0;
                memcpy(&x0, rows + 2 * k2, 4);
                __m256i xv = _mm256_set1_epi32(x0);
                const int16_t *wk = wb + (size_t)k2 * 16;
                a0 = _mm256_add_epi32(
                    a0, _mm256_madd_epi16(xv, _mm256_loadu_si256((const __m256i *)wk)));
                a1 = _mm256_add_epi32(
                    a1, _mm256_madd_epi16(xv, _mm256_loadu_si256((const __m256i *)(wk + bs))));
                a2 = _mm256_add_epi32(
                    a2, _mm256_madd_epi16(xv, _mm256_loadu_si256((const __m256i *)(wk + 2 * bs))));
                a3 = _mm256_add_epi32(
                    a3, _mm256_madd_epi16(xv, _mm256_loadu_si256((const __m256i *)(wk + 3 * bs))));
            }
            _mm256_storeu_si256((__m256i *)(acc + nb * 8), a0);
            _mm256_storeu_si256((__m256i *)(acc + nb * 8 + 8), a1);
            _mm256_storeu_si256((__m256i *)(acc + nb * 8 + 16), a2);
            _mm256_storeu_si256((__m256i *)(acc + nb * 8 + 24), a3);
        }
    }
    for (; nb < nbn; nb++) {
        const int16_t *wb = w + (size_t)nb * k2n * 16;
        __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
        for (int k2 = 0; k2 < k2n; k2++) {
            __m256i wv = _mm256_loadu_si256((const __m256i *)(wb + (size_t)k2 * 16));
            int32_t x0, x1, x2, x3;
            memcpy(&x0, r[0] + 2 * k2, 4);
            memcpy(&x1, r[1] + 2 * k2, 4);
            memcpy(&x2, r[2] + 2 * k2, 4);
            memcpy(&x3, r[3] + 2 * k2, 4);
            a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(_mm256_set1_epi32(x0), wv));
            a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(_mm256_set1_epi32(x1), wv));
            a2 = _mm256_add_epi32(a2, _mm256_madd_epi16(_mm256_set1_epi32(x2), wv));
            a3 = _mm256_add_epi32(a3, _mm256_madd_epi16(_mm256_set1_epi32(x3), wv));
        }
        __m256i a[JB_TM_PIX_BLOCK] = {a0, a1, a2, a3};
        for (int p = 0; p < npix; p++)
            _mm256_storeu_si256((__m256i *)(acc + (size_t)p * np + nb * 8), a[p]);
    }
}

void jb_tm_gemm_f32_avx2(const float *rows, int npix, int k, const float *w, int n, int np,
                         const float *bias, float lo, float hi, float *out, int out_stride)
{
    const float *r[JB_TM_PIX_BLOCK];
    for (int p = 0; p < JB_TM_PIX_BLOCK; p++)
        r[p] = rows + (size_t)(p < npix ? p : 0) * k;
    __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
    int nbn = np / 8, nb = 0;
    if (npix == 1) {
        /* one row (fully connected): four output blocks at once instead */
        for (; nb + 4 <= nbn; nb += 4) {
            const float *wb = w + (size_t)nb * k * 8;
            size_t bs = (size_t)k * 8;
            __m256 a[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
                           _mm256_setzero_ps()};
            for (int i = 0; i < k; i++) {
                __m256 xv = _mm256_set1_ps(rows[i]);
                const float *wk = wb + (size_t)i * 8;
                a[0] = _mm256_fmadd_ps(xv, _mm256_loadu_ps(wk), a[0]);
                a[1] = _mm256_fmadd_ps(xv, _mm256_loadu_ps(wk + bs), a[1]);
                a[2] = _mm256_fmadd_ps(xv, _mm256_loadu_ps(wk + 2 * bs), a[2]);
                a[3] = _mm256_fmadd_ps(xv, _mm256_loadu_ps(wk + 3 * bs), a[3]);
            }
            for (int j = 0; j < 4; j++) {
                int cnt = n - (nb + j) * 8 < 8 ? n - (nb + j) * 8 : 8;
                __m256 v = _mm256_add_ps(a[j], _mm256_loadu_ps(bias + (nb + j) * 8));
                v = _mm256_min_ps(_mm256_max_ps(v, vlo), vhi);
                float tmp[8];
                _mm256_storeu_ps(tmp, v);
                memcpy(out + (nb + j) * 8, tmp, sizeof(float) * (size_t)(cnt > 0 ? cnt : 0));
            }
        }
    }
    for (; nb < nbn; nb++) {
        const float *wb = w + (size_t)nb * k * 8;
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        for (int i = 0; i < k; i++) {
            __m256 wv = _mm256_loadu_ps(wb + (size_t)i * 8);
            a0 = _mm256_fmadd_ps(_mm256_set1_ps(r[0][i]), wv, a0);
            a1 = _mm256_fmadd_ps(_mm256_set1_ps(r[1][i]), wv, a1);
            a2 = _mm256_fmadd_ps(_mm256_set1_ps(r[2][i]), wv, a2);
            a3 = _mm256_fmadd_ps(_mm256_set1_ps(r[3][i]), wv, a3);
        }
        /* bias is padded to np by the caller */
        __m256 b = _mm256_loadu_ps(bias + nb * 8);
        __m256 a[JB_TM_PIX_BLOCK] = {a0, a1, a2, a3};
        int cnt = n - nb * 8 < 8 ? n - nb * 8 : 8;
        for (int p = 0; p < npix; p++) {
            __m256 v = _mm256_min_ps(_mm256_max_ps(_mm256_add_ps(a[p], b), vlo), vhi);
            float *o = out + (size_t)p * out_stride + nb * 8;
            if (cnt == 8) {
                _mm256_storeu_ps(o, v);
            } else {
                float tmp[8];
                _mm256_storeu_ps(tmp, v);
                memcpy(o, tmp, sizeof(float) * (size_t)cnt);
            }
        }
    }
}

void jb_tm_dw_s8_pixel_avx2(const struct jb_tm_layer *l, const int8_t *in, const int32_t *w32,
                            int oy, int ox, int32_t *acc)
{
    int c_n = l->in_c, c_vec = c_n & ~7;
    const int8_t *w8 = l->weights;
    __m256i zp = _mm256_set1_epi32(l->in_zp);
    for (int c = 0; c < c_n; c++)
        acc[c] = 0;
    struct jb_tm_window win = jb_tm_window_at(l, oy, ox);
    for (int ky = win.ky0; ky < win.ky1; ky++) {
        int iy = win.iy0 + ky;
        for (int kx = win.kx0; kx < win.kx1; kx++) {
            int ix = win.ix0 + kx;
            const int8_t *p = in + ((size_t)iy * l->in_w + ix) * c_n;
            const int32_t *wt = w32 + (size_t)(ky * l->k_w + kx) * c_n;
            for (int c = 0; c < c_vec; c += 8) {
                int64_t x8;
                memcpy(&x8, p + c, 8);
                __m256i x = _mm256_cvtepi8_epi32(_mm_cvtsi64_si128(x8));
                __m256i wv = _mm256_loadu_si256((const __m256i *)(wt + c));
                __m256i a = _mm256_loadu_si256((const __m256i *)(acc + c));
                a = _mm256_add_epi32(a, _mm256_mullo_epi32(_mm256_sub_epi32(x, zp), wv));
                _mm256_storeu_si256((__m256i *)(acc + c), a);
            }
            for (int c = c_vec; c < c_n; c++)
                acc[c] += (p[c] - l->in_zp) * w8[(size_t)(ky * l->k_w + kx) * c_n + c];
        }
    }
}

void jb_tm_dw_f32_pixel_avx2(const struct jb_tm_layer *l, const float *in, int oy, int ox,
                             float *out)
{
    int c_n = l->in_c, c_vec = c_n & ~7;
    const float *w = l->weights, *bias = l->bias;
    float *o = out + ((size_t)oy * l->out_w + ox) * c_n;
    __m256 vlo = _mm256_set1_ps(l->act_min_f), vhi = _mm256_set1_ps(l->act_max_f);
    for (int c = 0; c < c_n; c += 8) {
        int vec = c < c_vec;
        __m256 a = _mm256_setzero_ps();
        float s[8] = {0};
        struct jb_tm_window win = jb_tm_window_at(l, oy, ox);
        for (int ky = win.ky0; ky < win.ky1; ky++) {
            int iy = win.iy0 + ky;
            for (int kx = win.kx0; kx < win.kx1; kx++) {
                int ix = win.ix0 + kx;
                const float *x = in + ((size_t)iy * l->in_w + ix) * c_n + c;
                const float *wt = w + (size_t)(ky * l->k_w + kx) * c_n + c;
                if (vec)
                    a = _mm256_fmadd_ps(_mm256_loadu_ps(x), _mm256_loadu_ps(wt), a);
                else
                    for (int j = 0; j < c_n - c; j++)
                        s[j] += x[j] * wt[j];
            }
        }
        if (vec) {
            a = _mm256_add_ps(a, _mm256_loadu_ps(bias + c));
            _mm256_storeu_ps(o + c, _mm256_min_ps(_mm256_max_ps(a, vlo), vhi));
        } else {
            for (int j = 0; j < c_n - c; j++) {
                float v = s[j] + bias[c + j];
                o[c + j] = v < l->act_min_f ? l->act_min_f : v > l->act_max_f ? l->act_max_f : v;
            }
        }
    }
}

/* SaturatingRoundingDoublingHighMul + RoundingDivideByPOT on 8 lanes; see
 * mbqm16 in tinyml_avx512.c. AVX2 lacks 64-bit compares-to-mask and
 * arithmetic shifts, so signs come from vpcmpgtq and the quotient's low
 * 32 bits from a logical shift (the same bits as the arithmetic one). */
static __m256i mbqm8(__m256i x, __m256i mult, __m256i shift)
{
    __m256i zero = _mm256_setzero_si256();
    __m256i left = _mm256_max_epi32(shift, zero);
    __m256i right = _mm256_max_epi32(_mm256_sub_epi32(zero, shift), zero);
    __m256i a = _mm256_sllv_epi32(x, left);
    __m256i imin = _mm256_set1_epi32(INT32_MIN);
    __m256i sat = _mm256_and_si256(_mm256_cmpeq_epi32(a, imin), _mm256_cmpeq_epi32(mult, imin));
    __m256i pos_nudge = _mm256_set1_epi64x(1ll << 30),
            neg_nudge = _mm256_set1_epi64x(1 - (1ll << 30));
    __m256i trunc_adj = _mm256_set1_epi64x((1ll << 31) - 1);
    __m256i q[2];
    for (int half = 0; half < 2; half++) {
        __m256i aa = half ? _mm256_srli_epi64(a, 32) : a;
        __m256i mm = half ? _mm256_srli_epi64(mult, 32) : mult;
        __m256i ab = _mm256_mul_epi32(aa, mm);
        __m256i neg = _mm256_cmpgt_epi64(zero, ab);
        __m256i v = _mm256_add_epi64(ab, _mm256_blendv_epi8(pos_nudge, neg_nudge, neg));
        __m256i vneg = _mm256_cmpgt_epi64(zero, v);
        v = _mm256_add_epi64(v, _mm256_and_si256(vneg, trunc_adj));
        q[half] = _mm256_srli_epi64(v, 31);
    }
    __m256i hi = _mm256_blend_epi32(q[0], _mm256_slli_epi64(q[1], 32), 0xAA);
    hi = _mm256_blendv_epi8(hi, _mm256_set1_epi32(INT32_MAX), sat);
    __m256i one = _mm256_set1_epi32(1);
    __m256i mask = _mm256_sub_epi32(_mm256_sllv_epi32(one, right), one);
    __m256i rem = _mm256_and_si256(hi, mask);
    __m256i thr = _mm256_add_epi32(_mm256_srai_epi32(mask, 1),
                                   _mm256_and_si256(_mm256_cmpgt_epi32(zero, hi), one));
    __m256i res = _mm256_srav_epi32(hi, right);
    return _mm256_add_epi32(res, _mm256_and_si256(_mm256_cmpgt_epi32(rem, thr), one));
}

void jb_tm_requant_avx2(const int32_t *acc, const int32_t *bias, const int32_t *mult,
                        const int32_t *shift, int n, int32_t zp, int32_t lo, int32_t hi,
                        int8_t *out)
{
    __m256i vzp = _mm256_set1_epi32(zp), vlo = _mm256_set1_epi32(lo), vhi = _mm256_set1_epi32(hi);
    int c = 0;
    for (; c + 8 <= n; c += 8) {
        __m256i x = _mm256_add_epi32(_mm256_loadu_si256((const __m256i *)(acc + c)),
                                     _mm256_loadu_si256((const __m256i *)(bias + c)));
        __m256i v = mbqm8(x, _mm256_loadu_si256((const __m256i *)(mult + c)),
                          _mm256_loadu_si256((const __m256i *)(shift + c)));
        v = _mm256_min_epi32(_mm256_max_epi32(_mm256_add_epi32(v, vzp), vlo), vhi);
        int32_t tmp[8];
        _mm256_storeu_si256((__m256i *)tmp, v);
        for (int j = 0; j < 8; j++)
            out[c + j] = (int8_t)tmp[j];
    }
    for (; c < n; c++) {
        int32_t v = jb_tm_mbqm_inline(acc[c] + bias[c], mult[c], shift[c]) + zp;
        out[c] = (int8_t)(v < lo ? lo : v > hi ? hi : v);
    }
}
