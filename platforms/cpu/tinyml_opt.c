/* tinyml_opt.c: the optimized path of the TinyML kernels (see
 * tinyml_kernels.h): repacks each layer's weights once for the chosen
 * instruction set and runs convolutions as a GEMM over im2col rows built a
 * pixel block at a time (no full im2col buffer: a block of rows stays in
 * L1). Pooling and add are portable C written channel-innermost so that the
 * compiler vectorizes them; int8 add looks its per-input rescaling up in two
 * 256-entry tables built at create time. Softmax is shared with the
 * reference (a dozen classes: nothing to gain). */
#include "base/error.h"
#include "platforms/cpu/tinyml_simd.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct jb_tm_kernel {
    struct jb_tm_layer l; /* copy; its arrays are borrowed */
    enum jb_isa isa;
    int k, kp, np;                /* GEMM: reduction length, padded, output channels padded */
    int lanes;                    /* output channels per vector: 16 (AVX-512) or 8 (AVX2) */
    void *wpack;                  /* packed weights (int8, int16 or float) */
    int32_t *bias_q;              /* int8: bias minus the zero-point correction */
    float *bias_f;                /* fp32: bias padded to np */
    int32_t *w32;                 /* int8 depthwise: weights widened to int32 */
    int32_t lut1[256], lut2[256]; /* int8 add: rescaled inputs by value */
    size_t scratch_bytes;
};

static size_t round_up(size_t v, size_t to)
{
    return (v + to - 1) / to * to;
}

/* Treats FC as a 1x1 convolution over a 1x1 image: same packing, same GEMM. */
static void gemm_geometry(const struct jb_tm_layer *l, int *k)
{
    *k = l->op == JB_TM_FC ? l->in_c : l->k_h * l->k_w * l->in_c;
}

static int pack_gemm(struct jb_tm_kernel *kn, char *err, size_t errlen)
{
    const struct jb_tm_layer *l = &kn->l;
    int k, n = l->out_c;
    gemm_geometry(l, &k);
    kn->k = k;
    kn->lanes = kn->isa == JB_ISA_AVX512 ? 16 : 8;
    kn->np = (int)round_up((size_t)n, (size_t)kn->lanes);
    int lanes = kn->lanes, np = kn->np;
    if (l->dtype == JB_TM_INT8) {
        /* AVX-512: groups of 4 k (vpdpbusd); AVX2: pairs (vpmaddwd) */
        int group = kn->isa == JB_ISA_AVX512 ? 4 : 2;
        kn->kp = (int)round_up((size_t)k, (size_t)group);
        size_t elems = (size_t)kn->kp * np;
        size_t esz = kn->isa == JB_ISA_AVX512 ? 1 : 2;
        kn->wpack = aligned_alloc(64, round_up(elems * esz, 64));
        kn->bias_q = calloc((size_t)np, sizeof(int32_t));
        if (!kn->wpack || !kn->bias_q)
            return jb_err(err, errlen, JB_ENOMEM, "tinyml: out of memory packing weights");
        memset(kn->wpack, 0, elems * esz);
        const int8_t *w = l->weights;
        const int32_t *bias = l->bias;
        for (int o = 0; o < n; o++) {
            int64_t wsum = 0;
            for (int i = 0; i < k; i++) {
                int8_t v = w[(size_t)o * k + i];
                wsum += v;
                /* [np/lanes][kp/group][lanes][group] */
                size_t idx =
                    (((size_t)(o / lanes) * (kn->kp / group) + i / group) * lanes + o % lanes) *
                        group +
                    i % group;
                if (esz == 1)
                    ((int8_t *)kn->wpack)[idx] = v;
                else
                    ((int16_t *)kn->wpack)[idx] = v;
            }
            /* AVX-512 sums (x + 128) * w over all k, padding at zp + 128:
             * subtract what the offset added */
            int64_t corr = kn->isa == JB_ISA_AVX512 ? (int64_t)(l->in_zp + 128) * wsum : 0;
            kn->bias_q[o] = (int32_t)(bias[o] - corr);
        }
        size_t row_bytes = round_up((size_t)kn->kp * esz, 64);
        kn->scratch_bytes = JB_TM_PIX_BLOCK * row_bytes + JB_TM_PIX_BLOCK * (size_t)np * 4;
    } else {
        kn->kp = k;
        kn->wpack = aligned_alloc(64, round_up((size_t)k * np * sizeof(float), 64));
        kn->bias_f = calloc((size_t)np, sizeof(float));
        if (!kn->wpack || !kn->bias_f)
            return jb_err(err, errlen, JB_ENOMEM, "tinyml: out of memory packing weights");
        memset(kn->wpack, 0, (size_t)k * np * sizeof(float));
        const float *w = l->weights;
        for (int o = 0; o < n; o++) {
            for (int i = 0; i < k; i++)
                ((float *)kn->wpack)[((size_t)(o / lanes) * k + i) * lanes + o % lanes] =
                    w[(size_t)o * k + i];
            kn->bias_f[o] = ((const float *)l->bias)[o];
        }
        kn->scratch_bytes = JB_TM_PIX_BLOCK * round_up((size_t)k * sizeof(float), 64);
    }
    return JB_OK;
}

int jb_tm_kernel_create(const struct jb_tm_layer *l, enum jb_isa isa, struct jb_tm_kernel **out,
                        char *err, size_t errlen)
{
    int rc = jb_tm_layer_validate(l, err, errlen);
    if (rc)
        return rc;
    struct jb_tm_kernel *kn = calloc(1, sizeof(*kn));
    if (!kn)
        return jb_err(err, errlen, JB_ENOMEM, "tinyml: out of memory");
    kn->l = *l;
#if defined(JB_X86)
    kn->isa = isa == JB_ISA_AVX512 || isa == JB_ISA_AVX2 ? isa : JB_ISA_REFERENCE;
#else
    (void)isa;
    kn->isa = JB_ISA_REFERENCE;
#endif
    kn->scratch_bytes = 64;
    if (kn->isa != JB_ISA_REFERENCE) {
        switch (l->op) {
        case JB_TM_CONV:
        case JB_TM_FC:
            rc = pack_gemm(kn, err, errlen);
            break;
        case JB_TM_DWCONV:
            if (l->dtype == JB_TM_INT8) {
                size_t n = (size_t)l->k_h * l->k_w * l->in_c;
                kn->w32 = malloc(n * sizeof(int32_t));
                if (!kn->w32) {
                    rc = jb_err(err, errlen, JB_ENOMEM, "tinyml: out of memory");
                    break;
                }
                for (size_t i = 0; i < n; i++)
                    kn->w32[i] = ((const int8_t *)l->weights)[i];
            }
            kn->scratch_bytes = round_up((size_t)l->in_c * 4, 64);
            break;
        default:
            break;
        }
    }
    /* pooling and add take the portable optimized loops whatever the ISA,
     * unless the reference itself was asked for */
    if (l->op == JB_TM_AVGPOOL || l->op == JB_TM_MAXPOOL)
        kn->scratch_bytes = round_up((size_t)l->in_c * 4, 64);
    if (l->op == JB_TM_ADD && l->dtype == JB_TM_INT8)
        for (int v = -128; v < 128; v++) {
            kn->lut1[v + 128] = jb_tm_mbqm_inline((v - l->in_zp) * (1 << l->add_left_shift),
                                                  l->in1_mult, l->in1_shift);
            kn->lut2[v + 128] = jb_tm_mbqm_inline((v - l->in2_zp) * (1 << l->add_left_shift),
                                                  l->in2_mult, l->in2_shift);
        }
    if (rc) {
        jb_tm_kernel_destroy(kn);
        return rc;
    }
    *out = kn;
    return JB_OK;
}

void jb_tm_kernel_destroy(struct jb_tm_kernel *k)
{
    if (!k)
        return;
    free(k->wpack);
    free(k->bias_q);
    free(k->bias_f);
    free(k->w32);
    free(k);
}

size_t jb_tm_kernel_scratch_bytes(const struct jb_tm_kernel *k)
{
    return k->scratch_bytes;
}

enum jb_isa jb_tm_kernel_isa(const struct jb_tm_kernel *k)
{
    return k->isa;
}

#if defined(JB_X86)
/* One output pixel's out_c channels: int32 sums to int8. */
static void requant_row(const struct jb_tm_kernel *kn, const int32_t *acc, const int32_t *bias,
                        int8_t *out)
{
    const struct jb_tm_layer *l = &kn->l;
    if (kn->isa == JB_ISA_AVX512)
        jb_tm_requant_avx512(acc, bias, l->mult, l->shift, l->out_c, l->out_zp, l->act_min,
                             l->act_max, out);
    else
        jb_tm_requant_avx2(acc, bias, l->mult, l->shift, l->out_c, l->out_zp, l->act_min,
                           l->act_max, out);
}

/* Builds the im2col row of output pixel (oy, ox): k_h*k_w*in_c values, in
 * the weights' [ky][kx][ic] order; cells outside the input take `pad`. */
static void im2col_u8(const struct jb_tm_layer *l, const int8_t *in, int oy, int ox, uint8_t *row,
                      int kp)
{
    uint8_t pad = (uint8_t)(l->in_zp + 128);
    int c_n = l->in_c, i = 0;
    for (int ky = 0; ky < l->k_h; ky++) {
        int iy = oy * l->stride_h - l->pad_top + ky;
        for (int kx = 0; kx < l->k_w; kx++, i += c_n) {
            int ix = ox * l->stride_w - l->pad_left + kx;
            if (iy < 0 || iy >= l->in_h || ix < 0 || ix >= l->in_w) {
                memset(row + i, pad, (size_t)c_n);
                continue;
            }
            const int8_t *p = in + ((size_t)iy * l->in_w + ix) * c_n;
            for (int c = 0; c < c_n; c++)
                row[i + c] = (uint8_t)(p[c] ^ 0x80);
        }
    }
    memset(row + i, 0, (size_t)(kp - i));
}

static void im2col_s16(const struct jb_tm_layer *l, const int8_t *in, int oy, int ox, int16_t *row,
                       int kp)
{
    int c_n = l->in_c, i = 0;
    for (int ky = 0; ky < l->k_h; ky++) {
        int iy = oy * l->stride_h - l->pad_top + ky;
        for (int kx = 0; kx < l->k_w; kx++, i += c_n) {
            int ix = ox * l->stride_w - l->pad_left + kx;
            if (iy < 0 || iy >= l->in_h || ix < 0 || ix >= l->in_w) {
                memset(row + i, 0, sizeof(int16_t) * (size_t)c_n);
                continue;
            }
            const int8_t *p = in + ((size_t)iy * l->in_w + ix) * c_n;
            for (int c = 0; c < c_n; c++)
                row[i + c] = (int16_t)(p[c] - l->in_zp);
        }
    }
    memset(row + i, 0, sizeof(int16_t) * (size_t)(kp - i));
}

static void im2col_f32(const struct jb_tm_layer *l, const float *in, int oy, int ox, float *row)
{
    int c_n = l->in_c, i = 0;
    for (int ky = 0; ky < l->k_h; ky++) {
        int iy = oy * l->stride_h - l->pad_top + ky;
        for (int kx = 0; kx < l->k_w; kx++, i += c_n) {
            int ix = ox * l->stride_w - l->pad_left + kx;
            if (iy < 0 || iy >= l->in_h || ix < 0 || ix >= l->in_w) {
                memset(row + i, 0, sizeof(float) * (size_t)c_n);
                continue;
            }
            memcpy(row + i, in + ((size_t)iy * l->in_w + ix) * c_n, sizeof(float) * (size_t)c_n);
        }
    }
}

static void run_gemm(const struct jb_tm_kernel *kn, const void *in, void *out, void *scratch)
{
    const struct jb_tm_layer *l = &kn->l;
    struct jb_tm_layer fc;
    if (l->op == JB_TM_FC) {
        /* FC as a 1x1 convolution: one pixel, k = in_c */
        fc = *l;
        fc.k_h = fc.k_w = fc.stride_h = fc.stride_w = 1;
        fc.pad_top = fc.pad_left = 0;
        l = &fc;
    }
    int npix_total = l->out_h * l->out_w, n = l->out_c, np = kn->np, kp = kn->kp;
    for (int p0 = 0; p0 < npix_total; p0 += JB_TM_PIX_BLOCK) {
        int npix = npix_total - p0 < JB_TM_PIX_BLOCK ? npix_total - p0 : JB_TM_PIX_BLOCK;
        if (l->dtype == JB_TM_FP32) {
            float *rows = scratch;
            for (int p = 0; p < npix; p++)
                im2col_f32(l, in, (p0 + p) / l->out_w, (p0 + p) % l->out_w, rows + (size_t)p * kp);
            float *o = (float *)out + (size_t)p0 * n;
            if (kn->isa == JB_ISA_AVX512)
                jb_tm_gemm_f32_avx512(rows, npix, kp, kn->wpack, n, np, kn->bias_f, l->act_min_f,
                                      l->act_max_f, o, n);
            else
                jb_tm_gemm_f32_avx2(rows, npix, kp, kn->wpack, n, np, kn->bias_f, l->act_min_f,
                                    l->act_max_f, o, n);
            continue;
        }
        int32_t *acc;
        if (kn->isa == JB_ISA_AVX512) {
            uint8_t *rows = scratch;
            for (int p = 0; p < npix; p++)
                im2col_u8(l, in, (p0 + p) / l->out_w, (p0 + p) % l->out_w, rows + (size_t)p * kp,
                          kp);
            acc = (int32_t *)(rows + JB_TM_PIX_BLOCK * round_up((size_t)kp, 64));
            jb_tm_gemm_u8s8_avx512(rows, npix, kp, kn->wpack, np, acc);
        } else {
            int16_t *rows = scratch;
            for (int p = 0; p < npix; p++)
                im2col_s16(l, in, (p0 + p) / l->out_w, (p0 + p) % l->out_w, rows + (size_t)p * kp,
                           kp);
            acc = (int32_t *)((uint8_t *)scratch + JB_TM_PIX_BLOCK * round_up((size_t)kp * 2, 64));
            jb_tm_gemm_s16_avx2(rows, npix, kp, kn->wpack, np, acc);
        }
        int8_t *o = (int8_t *)out + (size_t)p0 * n;
        for (int p = 0; p < npix; p++)
            requant_row(kn, acc + (size_t)p * np, kn->bias_q, o + (size_t)p * n);
    }
}

static void run_dw(const struct jb_tm_kernel *kn, const void *in, void *out, void *scratch)
{
    const struct jb_tm_layer *l = &kn->l;
    int c_n = l->in_c;
    const int32_t *bias = l->bias;
    for (int oy = 0; oy < l->out_h; oy++)
        for (int ox = 0; ox < l->out_w; ox++) {
            if (l->dtype == JB_TM_FP32) {
                if (kn->isa == JB_ISA_AVX512)
                    jb_tm_dw_f32_pixel_avx512(l, in, oy, ox, out);
                else
                    jb_tm_dw_f32_pixel_avx2(l, in, oy, ox, out);
                continue;
            }
            int32_t *acc = scratch;
            if (kn->isa == JB_ISA_AVX512)
                jb_tm_dw_s8_pixel_avx512(l, in, kn->w32, oy, ox, acc);
            else
                jb_tm_dw_s8_pixel_avx2(l, in, kn->w32, oy, ox, acc);
            requant_row(kn, acc, bias, (int8_t *)out + ((size_t)oy * l->out_w + ox) * c_n);
        }
}
#endif

/* Channel-innermost pooling: one pass over each window row, all channels at
 * once (vectorized by the compiler). */
static void run_pool(const struct jb_tm_kernel *kn, const void *in, void *out, void *scratch)
{
    const struct jb_tm_layer *l = &kn->l;
    int c_n = l->in_c, is_avg = l->op == JB_TM_AVGPOOL;
    for (int oy = 0; oy < l->out_h; oy++)
        for (int ox = 0; ox < l->out_w; ox++) {
            int32_t *s = scratch;
            float *f = scratch;
            for (int c = 0; c < c_n; c++) {
                if (l->dtype == JB_TM_INT8)
                    s[c] = is_avg ? 0 : INT32_MIN;
                else
                    f[c] = is_avg ? 0.0f : -INFINITY;
            }
            int count = 0;
            struct jb_tm_window win = jb_tm_window_at(l, oy, ox);
            for (int ky = win.ky0; ky < win.ky1; ky++) {
                int iy = win.iy0 + ky;
                for (int kx = win.kx0; kx < win.kx1; kx++) {
                    int ix = win.ix0 + kx;
                    size_t base = ((size_t)iy * l->in_w + ix) * c_n;
                    count++;
                    if (l->dtype == JB_TM_INT8) {
                        const int8_t *p = (const int8_t *)in + base;
                        if (is_avg)
                            for (int c = 0; c < c_n; c++)
                                s[c] += p[c];
                        else
                            for (int c = 0; c < c_n; c++)
                                s[c] = p[c] > s[c] ? p[c] : s[c];
                    } else {
                        const float *p = (const float *)in + base;
                        if (is_avg)
                            for (int c = 0; c < c_n; c++)
                                f[c] += p[c];
                        else
                            for (int c = 0; c < c_n; c++)
                                f[c] = p[c] > f[c] ? p[c] : f[c];
                    }
                }
            }
            size_t ob = ((size_t)oy * l->out_w + ox) * c_n;
            for (int c = 0; c < c_n; c++) {
                if (l->dtype == JB_TM_INT8) {
                    int32_t v = s[c];
                    if (is_avg)
                        v = v > 0 ? (v + count / 2) / count : (v - count / 2) / count;
                    v = v < l->act_min ? l->act_min : v > l->act_max ? l->act_max : v;
                    ((int8_t *)out)[ob + c] = (int8_t)v;
                } else {
                    float v = is_avg ? f[c] / (float)count : f[c];
                    v = v < l->act_min_f ? l->act_min_f : v > l->act_max_f ? l->act_max_f : v;
                    ((float *)out)[ob + c] = v;
                }
            }
        }
}

static void run_add(const struct jb_tm_kernel *kn, const void *a, const void *b, void *out)
{
    const struct jb_tm_layer *l = &kn->l;
    size_t n = (size_t)l->out_h * l->out_w * l->out_c;
    if (l->dtype == JB_TM_FP32) {
        const float *x = a, *y = b;
        float *o = out;
        for (size_t i = 0; i < n; i++) {
            float v = x[i] + y[i];
            o[i] = v < l->act_min_f ? l->act_min_f : v > l->act_max_f ? l->act_max_f : v;
        }
        return;
    }
    const int8_t *x = a, *y = b;
    int8_t *o = out;
    for (size_t i = 0; i < n; i++) {
        int32_t v = jb_tm_mbqm_inline(kn->lut1[x[i] + 128] + kn->lut2[y[i] + 128], l->out_mult,
                                      l->out_shift) +
                    l->out_zp;
        o[i] = (int8_t)(v < l->act_min ? l->act_min : v > l->act_max ? l->act_max : v);
    }
}

void jb_tm_kernel_run(const struct jb_tm_kernel *k, const void *in, const void *in2, void *out,
                      void *scratch)
{
    const struct jb_tm_layer *l = &k->l;
    if (k->isa == JB_ISA_REFERENCE) {
        jb_tm_layer_run_ref(l, in, in2, out);
        return;
    }
    switch (l->op) {
#if defined(JB_X86)
    case JB_TM_CONV:
    case JB_TM_FC:
        run_gemm(k, in, out, scratch);
        break;
    case JB_TM_DWCONV:
        run_dw(k, in, out, scratch);
        break;
#endif
    case JB_TM_AVGPOOL:
    case JB_TM_MAXPOOL:
        run_pool(k, in, out, scratch);
        break;
    case JB_TM_ADD:
        run_add(k, in, in2, out);
        break;
    case JB_TM_SOFTMAX:
        jb_tm_softmax(l, in, out);
        break;
    default:
        jb_tm_layer_run_ref(l, in, in2, out);
        break;
    }
}
