/* tinyml_simd.h: private to the TinyML kernels. The inner loops of the
 * optimized path, one set per instruction set (tinyml_avx2.c,
 * tinyml_avx512.c), and the fixed-point requantization and window clipping
 * every path shares, inline so that the per-output epilogue costs no call. */
#ifndef JB_TINYML_SIMD_H
#define JB_TINYML_SIMD_H

#include "platforms/cpu/tinyml_kernels.h"

#include <stdint.h>

/* Rows of a pixel block handled together: each weight vector loaded is used
 * for this many output pixels. */
#define JB_TM_PIX_BLOCK 4

/* gemmlowp SaturatingRoundingDoublingHighMul + RoundingDivideByPOT, exactly
 * as TFLite's reference MultiplyByQuantizedMultiplier. */
static inline int32_t jb_tm_mbqm_inline(int32_t x, int32_t mult, int32_t shift)
{
    int left = shift > 0 ? shift : 0;
    int right = shift > 0 ? 0 : -shift;
    int32_t a = (int32_t)((uint32_t)x << left);
    int32_t hi;
    if (a == mult && a == INT32_MIN) {
        hi = INT32_MAX;
    } else {
        int64_t ab = (int64_t)a * (int64_t)mult;
        int64_t nudge = ab >= 0 ? (1ll << 30) : (1 - (1ll << 30));
        hi = (int32_t)((ab + nudge) / (1ll << 31));
    }
    int32_t mask = (int32_t)((1ll << right) - 1);
    int32_t rem = hi & mask;
    int32_t threshold = (mask >> 1) + (hi < 0 ? 1 : 0);
    return (hi >> right) + (rem > threshold ? 1 : 0);
}

/* The part of the k_h x k_w window of output pixel (oy, ox) that lies
 * inside the input: taps ky in [ky0, ky1) and kx in [kx0, kx1) read input
 * row iy0 + ky and column ix0 + kx. Taps in the padding read nothing, so
 * the convolution and pooling loops skip them (TFLite's filter_x_start /
 * filter_x_end); the taps left are visited in the same order. */
struct jb_tm_window {
    int iy0, ix0;
    int ky0, ky1, kx0, kx1;
};

static inline struct jb_tm_window jb_tm_window_at(const struct jb_tm_layer *l, int oy, int ox)
{
    struct jb_tm_window w;
    w.iy0 = oy * l->stride_h - l->pad_top;
    w.ix0 = ox * l->stride_w - l->pad_left;
    w.ky0 = w.iy0 < 0 ? -w.iy0 : 0;
    w.kx0 = w.ix0 < 0 ? -w.ix0 : 0;
    w.ky1 = l->in_h - w.iy0 < l->k_h ? l->in_h - w.iy0 : l->k_h;
    w.kx1 = l->in_w - w.ix0 < l->k_w ? l->in_w - w.ix0 : l->k_w;
    return w;
}

/* The shared softmax (tinyml_ref.c): both paths call this one function. */
void jb_tm_softmax(const struct jb_tm_layer *l, const void *in, void *out);

#if defined(JB_X86)
/* int8 GEMM, AVX-512 VNNI: rows are npix (<= JB_TM_PIX_BLOCK) im2col rows of
 * kp unsigned bytes (input + 128); w is packed [np/16][kp/4][16][4]; acc gets
 * npix x np int32 sums of u*w. */
void jb_tm_gemm_u8s8_avx512(const uint8_t *rows, int npix, int kp, const int8_t *w, int np,
                            int32_t *acc);
/* int8 GEMM, AVX2: rows of kp int16 (input - zero point); w packed
 * [np/8][kp/2][8][2] int16. */
void jb_tm_gemm_s16_avx2(const int16_t *rows, int npix, int kp, const int16_t *w, int np,
                         int32_t *acc);
/* fp32 GEMM with bias and clamp: rows of k floats, w packed [np/L][k][L]
 * (L = 16 or 8); writes n outputs per row to out + p * out_stride. */
void jb_tm_gemm_f32_avx512(const float *rows, int npix, int k, const float *w, int n, int np,
                           const float *bias, float lo, float hi, float *out, int out_stride);
void jb_tm_gemm_f32_avx2(const float *rows, int npix, int k, const float *w, int n, int np,
                         const float *bias, float lo, float hi, float *out, int out_stride);
/* Depthwise accumulation for one output pixel: acc[c] = sum over the valid
 * taps of (x - zp) * w (int8; w32 is [k_h*k_w][c] int32), or the fp32
 * output with bias and clamp. */
void jb_tm_dw_s8_pixel_avx512(const struct jb_tm_layer *l, const int8_t *in, const int32_t *w32,
                              int oy, int ox, int32_t *acc);
void jb_tm_dw_s8_pixel_avx2(const struct jb_tm_layer *l, const int8_t *in, const int32_t *w32,
                            int oy, int ox, int32_t *acc);
void jb_tm_dw_f32_pixel_avx512(const struct jb_tm_layer *l, const float *in, int oy, int ox,
                               float *out);
/* Requantizes n int32 sums: out[c] = clamp(MultiplyByQuantizedMultiplier(
 * acc[c] + bias[c], mult[c], shift[c]) + zp, lo, hi), bit-exact with
 * jb_tm_mbqm_inline, 16 (8) lanes at a time. */
void jb_tm_requant_avx512(const int32_t *acc, const int32_t *bias, const int32_t *mult,
                          const int32_t *shift, int n, int32_t zp, int32_t lo, int32_t hi,
                          int8_t *out);
void jb_tm_requant_avx2(const int32_t *acc, const int32_t *bias, const int32_t *mult,
                        const int32_t *shift, int n, int32_t zp, int32_t lo, int32_t hi,
                        int8_t *out);
void jb_tm_dw_f32_pixel_avx2(const struct jb_tm_layer *l, const float *in, int oy, int ox,
                             float *out);
#endif

#endif
