/* tinyml_avx512.c: the TinyML inner loops on AVX-512 (with VNNI for int8).
 *
 * int8 GEMM uses vpdpbusd (unsigned x signed bytes, four products summed
 * into each int32 lane, no saturation): the input is offset by +128 to make
 * it unsigned, and the caller subtracts (zp + 128) * sum(w) once per output
 * channel, so the int32 sums equal the reference's exactly. Each weight
 * vector (16 output channels x 4 k) is reused for a block of pixels. */
#include "platforms/cpu/tinyml_simd.h"

#include <immintrin.h>
#include <string.h>

void jb_tm_gemm_u8s8_avx512(const uint8_t *rows, int npix, int kp, const int8_t *w, int np,
                            int32_t *acc)
{
    /* rows beyond npix alias row 0: computed, never stored */
    const uint8_t *r[JB_TM_PIX_BLOCK];
    for (int p = 0; p < JB_TM_PIX_BLOCK; p++)
        r[p] = rows + (size_t)(p < npix ? p : 0) * kp;
    int k4n = kp / 4, nbn = np / 16, nb = 0;
    if (npix == 1) {
        /* one row (fully connected): four output blocks at once instead */
        for (; nb + 4 <= nbn; nb += 4) {
            const int8_t *wb = w + (size_t)nb * k4n * 64;
            size_t bs = (size_t)k4n * 64;
            __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
            for (int k4 = 0; k4 < k4n; k4++) {
                int32_t x0;
                memcpy(&x0, rows + 4 * k4, 4);
                __m512i xv = _mm512_set1_epi32(x0);
                const int8_t *wk = wb + (size_t)k4 * 64;
                a0 = _mm512_dpbusd_epi32(a0, xv, _mm512_loadu_si512((const void *)wk));
                a1 = _mm512_dpbusd_epi32(a1, xv, _mm512_loadu_si512((const void *)(wk + bs)));
                a2 = _mm512_dpbusd_epi32(a2, xv, _mm512_loadu_si512((const void *)(wk + 2 * bs)));
                a3 = _mm512_dpbusd_epi32(a3, xv, _mm512_loadu_si512((const void *)(wk + 3 * bs)));
            }
            _mm512_storeu_si512((void *)(acc + nb * 16), a0);
            _mm512_storeu_si512((void *)(acc + nb * 16 + 16), a1);
            _mm512_storeu_si512((void *)(acc + nb * 16 + 32), a2);
            _mm512_storeu_si512((void *)(acc + nb * 16 + 48), a3);
        }
    }
    for (; nb < nbn; nb++) {
        const int8_t *wb = w + (size_t)nb * k4n * 64;
        __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
        for (int k4 = 0; k4 < k4n; k4++) {
            __m512i wv = _mm512_loadu_si512((const void *)(wb + (size_t)k4 * 64));
            int32_t x0, x1, x2, x3;
            memcpy(&x0, r[0] + 4 * k4, 4);
            memcpy(&x1, r[1] + 4 * k4, 4);
            memcpy(&x2, r[2] + 4 * k4, 4);
            memcpy(&x3, r[3] + 4 * k4, 4);
            a0 = _mm512_dpbusd_epi32(a0, _mm512_set1_epi32(x0), wv);
            a1 = _mm512_dpbusd_epi32(a1, _mm512_set1_epi32(x1), wv);
            a2 = _mm512_dpbusd_epi32(a2, _mm512_set1_epi32(x2), wv);
            a3 = _mm512_dpbusd_epi32(a3, _mm512_set1_epi32(x3), wv);
        }
        __m512i a[JB_TM_PIX_BLOCK] = {a0, a1, a2, a3};
        for (int p = 0; p < npix; p++)
            _mm512_storeu_si512((void *)(acc + (size_t)p * np + nb * 16), a[p]);
    }
}

void jb_tm_gemm_f32_avx512(const float *rows, int npix, int k, const float *w, int n, int np,
                           const float *bias, float lo, float hi, float *out, int out_stride)
{
    const float *r[JB_TM_PIX_BLOCK];
    for (int p = 0; p < JB_TM_PIX_BLOCK; p++)
        r[p] = rows + (size_t)(p < npix ? p : 0) * k;
    __m512 vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi);
    int nbn = np / 16, nb = 0;
    if (npix == 1) {
        /* one row (fully connected): four output blocks at once instead */
        for (; nb + 4 <= nbn; nb += 4) {
            const float *wb = w + (size_t)nb * k * 16;
            size_t bs = (size_t)k * 16;
            __m512 a[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(),
                           _mm512_setzero_ps()};
            for (int i = 0; i < k; i++) {
                __m512 xv = _mm512_set1_ps(rows[i]);
                const float *wk = wb + (size_t)i * 16;
                a[0] = _mm512_fmadd_ps(xv, _mm512_loadu_ps(wk), a[0]);
                a[1] = _mm512_fmadd_ps(xv, _mm512_loadu_ps(wk + bs), a[1]);
                a[2] = _mm512_fmadd_ps(xv, _mm512_loadu_ps(wk + 2 * bs), a[2]);
                a[3] = _mm512_fmadd_ps(xv, _mm512_loadu_ps(wk + 3 * bs), a[3]);
            }
            for (int j = 0; j < 4; j++) {
                int left = n - (nb + j) * 16;
                __mmask16 m = left >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << left) - 1);
                __m512 v = _mm512_add_ps(a[j], _mm512_maskz_loadu_ps(m, bias + (nb + j) * 16));
                v = _mm512_min_ps(_mm512_max_ps(v, vlo), vhi);
                _mm512_mask_storeu_ps(out + (nb + j) * 16, m, v);
            }
        }
    }
    for (; nb < nbn; nb++) {
        const float *wb = w + (size_t)nb * k * 16;
        __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        for (int i = 0; i < k; i++) {
            __m512 wv = _mm512_loadu_ps(wb + (size_t)i * 16);
            a0 = _mm512_fmadd_ps(_mm512_set1_ps(r[0][i]), wv, a0);
            a1 = _mm512_fmadd_ps(_mm512_set1_ps(r[1][i]), wv, a1);
            a2 = _mm512_fmadd_ps(_mm512_set1_ps(r[2][i]), wv, a2);
            a3 = _mm512_fmadd_ps(_mm512_set1_ps(r[3][i]), wv, a3);
        }
        int left = n - nb * 16;
        __mmask16 m = left >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << left) - 1);
        __m512 b = _mm512_maskz_loadu_ps(m, bias + nb * 16);
        __m512 a[JB_TM_PIX_BLOCK] = {a0, a1, a2, a3};
        for (int p = 0; p < npix; p++) {
            __m512 v = _mm512_min_ps(_mm512_max_ps(_mm512_add_ps(a[p], b), vlo), vhi);
            _mm512_mask_storeu_ps(out + (size_t)p * out_stride + nb * 16, m, v);
        }
    }
}

void jb_tm_dw_s8_pixel_avx512(const struct jb_tm_layer *l, const int8_t *in, const int32_t *w32,
                              int oy, int ox, int32_t *acc)
{
    int c_n = l->in_c;
    __m512i zp = _mm512_set1_epi32(l->in_zp);
    for (int c = 0; c < c_n; c += 16) {
        int left = c_n - c;
        __mmask16 m = left >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << left) - 1);
        __m512i a = _mm512_setzero_si512();
        struct jb_tm_window win = jb_tm_window_at(l, oy, ox);
        for (int ky = win.ky0; ky < win.ky1; ky++) {
            int iy = win.iy0 + ky;
            for (int kx = win.kx0; kx < win.kx1; kx++) {
                int ix = win.ix0 + kx;
                const int8_t *p = in + ((size_t)iy * l->in_w + ix) * c_n + c;
                __m512i x = _mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(m, p));
                __m512i wv =
                    _mm512_maskz_loadu_epi32(m, w32 + (size_t)(ky * l->k_w + kx) * c_n + c);
                a = _mm512_add_epi32(a, _mm512_mullo_epi32(_mm512_sub_epi32(x, zp), wv));
            }
        }
        _mm512_mask_storeu_epi32(acc + c, m, a);
    }
}

void jb_tm_dw_f32_pixel_avx512(const struct jb_tm_layer *l, const float *in, int oy, int ox,
                               float *out)
{
    int c_n = l->in_c;
    const float *w = l->weights, *bias = l->bias;
    __m512 vlo = _mm512_set1_ps(l->act_min_f), vhi = _mm512_set1_ps(l->act_max_f);
    for (int c = 0; c < c_n; c += 16) {
        int left = c_n - c;
        __mmask16 m = left >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << left) - 1);
        __m512 a = _mm512_setzero_ps();
        struct jb_tm_window win = jb_tm_window_at(l, oy, ox);
        for (int ky = win.ky0; ky < win.ky1; ky++) {
            int iy = win.iy0 + ky;
            for (int kx = win.kx0; kx < win.kx1; kx++) {
                int ix = win.ix0 + kx;
                __m512 x = _mm512_maskz_loadu_ps(m, in + ((size_t)iy * l->in_w + ix) * c_n + c);
                __m512 wv = _mm512_maskz_loadu_ps(m, w + (size_t)(ky * l->k_w + kx) * c_n + c);
                a = _mm512_fmadd_ps(x, wv, a);
            }
        }
        a = _mm512_add_ps(a, _mm512_maskz_loadu_ps(m, bias + c));
        a = _mm512_min_ps(_mm512_max_ps(a, vlo), vhi);
        _mm512_mask_storeu_ps(out + ((size_t)oy * l->out_w + ox) * c_n + c, m, a);
    }
}

/* SaturatingRoundingDoublingHighMul + RoundingDivideByPOT on 16 lanes.
 * The 64-bit products are formed on even and odd lanes separately
 * (vpmuldq), nudged, divided by 2^31 toward zero like C's division, and
 * the low 32 bits of each quotient kept (they hold the whole result). */
static __m512i mbqm16(__m512i x, __m512i mult, __m512i shift)
{
    __m512i zero = _mm512_setzero_si512();
    __m512i left = _mm512_max_epi32(shift, zero);
    __m512i right = _mm512_max_epi32(_mm512_sub_epi32(zero, shift), zero);
    __m512i a = _mm512_sllv_epi32(x, left);
    __mmask16 sat = _mm512_cmpeq_epi32_mask(a, _mm512_set1_epi32(INT32_MIN)) &
                    _mm512_cmpeq_epi32_mask(mult, _mm512_set1_epi32(INT32_MIN));
    __m512i pos_nudge = _mm512_set1_epi64(1ll << 30),
            neg_nudge = _mm512_set1_epi64(1 - (1ll << 30));
    __m512i trunc_adj = _mm512_set1_epi64((1ll << 31) - 1);
    __m512i q[2];
    for (int half = 0; half < 2; half++) {
        __m512i aa = half ? _mm512_srli_epi64(a, 32) : a;
        __m512i mm = half ? _mm512_srli_epi64(mult, 32) : mult;
        __m512i ab = _mm512_mul_epi32(aa, mm);
        __mmask8 neg = _mm512_cmplt_epi64_mask(ab, zero);
        __m512i v = _mm512_add_epi64(ab, _mm512_mask_blend_epi64(neg, pos_nudge, neg_nudge));
        __mmask8 vneg = _mm512_cmplt_epi64_mask(v, zero);
        v = _mm512_mask_add_epi64(v, vneg, v, trunc_adj);
        q[half] = _mm512_srli_epi64(v, 31);
    }
    __m512i hi = _mm512_mask_blend_epi32((__mmask16)0xAAAA, q[0], _mm512_slli_epi64(q[1], 32));
    hi = _mm512_mask_blend_epi32(sat, hi, _mm512_set1_epi32(INT32_MAX));
    __m512i one = _mm512_set1_epi32(1);
    __m512i mask = _mm512_sub_epi32(_mm512_sllv_epi32(one, right), one);
    __m512i rem = _mm512_and_si512(hi, mask);
    __m512i thr = _mm512_add_epi32(_mm512_srai_epi32(mask, 1),
                                   _mm512_maskz_mov_epi32(_mm512_cmplt_epi32_mask(hi, zero), one));
    __m512i res = _mm512_srav_epi32(hi, right);
    return _mm512_mask_add_epi32(res, _mm512_cmpgt_epi32_mask(rem, thr), res, one);
}

void jb_tm_requant_avx512(const int32_t *acc, const int32_t *bias, const int32_t *mult,
                          const int32_t *shift, int n, int32_t zp, int32_t lo, int32_t hi,
                          int8_t *out)
{
    __m512i vzp = _mm512_set1_epi32(zp), vlo = _mm512_set1_epi32(lo), vhi = _mm512_set1_epi32(hi);
    for (int c = 0; c < n; c += 16) {
        int left = n - c;
        __mmask16 m = left >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << left) - 1);
        __m512i x = _mm512_add_epi32(_mm512_maskz_loadu_epi32(m, acc + c),
                                     _mm512_maskz_loadu_epi32(m, bias + c));
        __m512i v = mbqm16(x, _mm512_maskz_loadu_epi32(m, mult + c),
                           _mm512_maskz_loadu_epi32(m, shift + c));
        v = _mm512_min_epi32(_mm512_max_epi32(_mm512_add_epi32(v, vzp), vlo), vhi);
        _mm_mask_storeu_epi8(out + c, m, _mm512_cvtepi32_epi8(v));
    }
}
