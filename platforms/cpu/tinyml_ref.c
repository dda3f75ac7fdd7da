/* tinyml_ref.c: the portable reference kernels of the TinyML workloads, the
 * oracle of every check (see tinyml_kernels.h).
 *
 * The loops are written the plain way on purpose: one output element at a
 * time, the arithmetic in the order TFLite's reference kernels use, so that
 * the code can be read against them. int8 follows TFLite's integer scheme:
 * (input - zero point) * weight summed in int32, plus an int32 bias, then
 * MultiplyByQuantizedMultiplier, plus the output zero point, clamped. */
#include "platforms/cpu/tinyml_kernels.h"
#include "platforms/cpu/tinyml_simd.h"

#include "base/error.h"

#include <math.h>
#include <stdio.h>

int32_t jb_tm_mbqm(int32_t x, int32_t mult, int32_t shift)
{
    return jb_tm_mbqm_inline(x, mult, shift);
}

void jb_tm_quantize_multiplier(double real, int32_t *mult, int32_t *shift)
{
    if (real <= 0.0) {
        *mult = 0;
        *shift = 0;
        return;
    }
    int e;
    double q = frexp(real, &e);
    long long qf = llround(q * (double)(1ll << 31));
    if (qf == (1ll << 31)) {
        qf /= 2;
        e++;
    }
    /* below 2^-31 the product rounds to zero anyway (TFLite does the same) */
    if (e < -31) {
        qf = 0;
        e = 0;
    }
    /* above 2^30 TFLite saturates the multiplier (a left shift past 30
     * would overflow any int32 input) */
    if (e > 30) {
        qf = (1ll << 31) - 1;
        e = 30;
    }
    *mult = (int32_t)qf;
    *shift = e;
}

static int32_t clamp_i32(int32_t v, int32_t lo, int32_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static float clamp_f32(float v, float lo, float hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

int jb_tm_layer_validate(const struct jb_tm_layer *l, char *err, size_t errlen)
{
    if (l->in_h < 1 || l->in_w < 1 || l->in_c < 1 || l->out_h < 1 || l->out_w < 1 || l->out_c < 1)
        return jb_err(err, errlen, JB_EINVAL, "tinyml layer: non-positive tensor size");
    if (l->dtype != JB_TM_INT8 && l->dtype != JB_TM_FP32)
        return jb_err(err, errlen, JB_EINVAL, "tinyml layer: unknown dtype %d", (int)l->dtype);
    switch (l->op) {
    case JB_TM_CONV:
    case JB_TM_DWCONV:
    case JB_TM_AVGPOOL:
    case JB_TM_MAXPOOL:
        if (l->k_h < 1 || l->k_w < 1 || l->stride_h < 1 || l->stride_w < 1 || l->pad_top < 0 ||
            l->pad_left < 0 || l->pad_top >= l->k_h || l->pad_left >= l->k_w)
            return jb_err(err, errlen, JB_EINVAL, "tinyml layer: bad kernel, stride or padding");
        /* the last window must start inside the padded input */
        if ((l->out_h - 1) * l->stride_h - l->pad_top >= l->in_h ||
            (l->out_w - 1) * l->stride_w - l->pad_left >= l->in_w)
            return jb_err(err, errlen, JB_EINVAL, "tinyml layer: output larger than input allows");
        if (l->op != JB_TM_CONV && l->in_c != l->out_c)
            return jb_err(err, errlen, JB_EINVAL, "tinyml layer: channel count must be kept");
        break;
    case JB_TM_FC:
        if (l->in_h != 1 || l->in_w != 1 || l->out_h != 1 || l->out_w != 1)
            return jb_err(err, errlen, JB_EINVAL, "tinyml layer: fc takes a 1x1xC tensor");
        break;
    case JB_TM_ADD:
    case JB_TM_SOFTMAX:
        if (l->in_h != l->out_h || l->in_w != l->out_w || l->in_c != l->out_c)
            return jb_err(err, errlen, JB_EINVAL,
                          "tinyml layer: shapes of input and output differ");
        break;
    default:
        return jb_err(err, errlen, JB_EINVAL, "tinyml layer: unknown op %d", (int)l->op);
    }
    if ((l->op == JB_TM_CONV || l->op == JB_TM_DWCONV || l->op == JB_TM_FC) &&
        (!l->weights || !l->bias || (l->dtype == JB_TM_INT8 && (!l->mult || !l->shift))))
        return jb_err(err, errlen, JB_EINVAL, "tinyml layer: weights or quantization missing");
    return JB_OK;
}

static void conv_s8(const struct jb_tm_layer *l, const int8_t *in, int8_t *out)
{
    const int8_t *w = l->weights;
    const int32_t *bias = l->bias;
    for (int oy = 0; oy < l->out_h; oy++)
        for (int ox = 0; ox < l->out_w; ox++)
            for (int oc = 0; oc < l->out_c; oc++) {
                int32_t acc = 0;
                struct jb_tm_window win = jb_tm_window_at(l, oy, ox);
                for (int ky = win.ky0; ky < win.ky1; ky++) {
                    int iy = win.iy0 + ky;
                    for (int kx = win.kx0; kx < win.kx1; kx++) {
                        int ix = win.ix0 + kx;
                        for (int ic = 0; ic < l->in_c; ic++) {
                            int32_t x = in[((size_t)iy * l->in_w + ix) * l->in_c + ic];
                            int32_t wv =
                                w[(((size_t)oc * l->k_h + ky) * l->k_w + kx) * l->in_c + ic];
                            acc += (x - l->in_zp) * wv;
                        }
                    }
                }
                acc += bias[oc];
                acc = jb_tm_mbqm_inline(acc, l->mult[oc], l->shift[oc]) + l->out_zp;
                out[((size_t)oy * l->out_w + ox) * l->out_c + oc] =
                    (int8_t)clamp_i32(acc, l->act_min, l->act_max);
            }
}

static void dwconv_s8(const struct jb_tm_layer *l, const int8_t *in, int8_t *out)
{
    const int8_t *w = l->weights;
    const int32_t *bias = l->bias;
    int c_n = l->in_c;
    for (int oy = 0; oy < l->out_h; oy++)
        for (int ox = 0; ox < l->out_w; ox++)
            for (int c = 0; c < c_n; c++) {
                int32_t acc = 0;
                struct jb_tm_window win = jb_tm_window_at(l, oy, ox);
                for (int ky = win.ky0; ky < win.ky1; ky++) {
                    int iy = win.iy0 + ky;
                    for (int kx = win.kx0; kx < win.kx1; kx++) {
                        int ix = win.ix0 + kx;
                        int32_t x = in[((size_t)iy * l->in_w + ix) * c_n + c];
                        acc += (x - l->in_zp) * w[((size_t)ky * l->k_w + kx) * c_n + c];
                    }
                }
                acc += bias[c];
                acc = jb_tm_mbqm_inline(acc, l->mult[c], l->shift[c]) + l->out_zp;
                out[((size_t)oy * l->out_w + ox) * c_n + c] =
                    (int8_t)clamp_i32(acc, l->act_min, l->act_max);
            }
}

static void fc_s8(const struct jb_tm_layer *l, const int8_t *in, int8_t *out)
{
    const int8_t *w = l->weights;
    const int32_t *bias = l->bias;
    for (int o = 0; o < l->out_c; o++) {
        int32_t acc = 0;
        for (int i = 0; i < l->in_c; i++)
            acc += (in[i] - l->in_zp) * w[(size_t)o * l->in_c + i];
        acc += bias[o];
        acc = jb_tm_mbqm_inline(acc, l->mult[o], l->shift[o]) + l->out_zp;
        out[o] = (int8_t)clamp_i32(acc, l->act_min, l->act_max);
    }
}

static void conv_f32(const struct jb_tm_layer *l, const float *in, float *out)
{
    const float *w = l->weights;
    const float *bias = l->bias;
    for (int oy = 0; oy < l->out_h; oy++)
        for (int ox = 0; ox < l->out_w; ox++)
            for (int oc = 0; oc < l->out_c; oc++) {
                float acc = 0.0f;
                struct jb_tm_window win = jb_tm_window_at(l, oy, ox);
                for (int ky = win.ky0; ky < win.ky1; ky++) {
                    int iy = win.iy0 + ky;
                    for (int kx = win.kx0; kx < win.kx1; kx++) {
                        int ix = win.ix0 + kx;
                        for (int ic = 0; ic < l->in_c; ic++)
                            acc += in[((size_t)iy * l->in_w + ix) * l->in_c + ic] *
                                   w[(((size_t)oc * l->k_h + ky) * l->k_w + kx) * l->in_c + ic];
                    }
                }
                out[((size_t)oy * l->out_w + ox) * l->out_c + oc] =
                    clamp_f32(acc + bias[oc], l->act_min_f, l->act_max_f);
            }
}

static void dwconv_f32(const struct jb_tm_layer *l, const float *in, float *out)
{
    const float *w = l->weights;
    const float *bias = l->bias;
    int c_n = l->in_c;
    for (int oy = 0; oy < l->out_h; oy++)
        for (int ox = 0; ox < l->out_w; ox++)
            for (int c = 0; c < c_n; c++) {
                float acc = 0.0f;
                struct jb_tm_window win = jb_tm_window_at(l, oy, ox);
                for (int ky = win.ky0; ky < win.ky1; ky++) {
                    int iy = win.iy0 + ky;
                    for (int kx = win.kx0; kx < win.kx1; kx++) {
                        int ix = win.ix0 + kx;
                        acc += in[((size_t)iy * l->in_w + ix) * c_n + c] *
                               w[((size_t)ky * l->k_w + kx) * c_n + c];
                    }
                }
                out[((size_t)oy * l->out_w + ox) * c_n + c] =
                    clamp_f32(acc + bias[c], l->act_min_f, l->act_max_f);
            }
}

static void fc_f32(const struct jb_tm_layer *l, const float *in, float *out)
{
    const float *w = l->weights;
    const float *bias = l->bias;
    for (int o = 0; o < l->out_c; o++) {
        float acc = 0.0f;
        for (int i = 0; i < l->in_c; i++)
            acc += in[i] * w[(size_t)o * l->in_c + i];
        out[o] = clamp_f32(acc + bias[o], l->act_min_f, l->act_max_f);
    }
}

/* Pooling: TFLite counts only the window cells inside the input. */
static void pool(const struct jb_tm_layer *l, const void *in, void *out)
{
    int c_n = l->in_c;
    for (int oy = 0; oy < l->out_h; oy++)
        for (int ox = 0; ox < l->out_w; ox++)
            for (int c = 0; c < c_n; c++) {
                int32_t sum = 0, mx = INT32_MIN, count = 0;
                float fsum = 0.0f, fmx = -INFINITY;
                struct jb_tm_window win = jb_tm_window_at(l, oy, ox);
                for (int ky = win.ky0; ky < win.ky1; ky++) {
                    int iy = win.iy0 + ky;
                    for (int kx = win.kx0; kx < win.kx1; kx++) {
                        int ix = win.ix0 + kx;
                        size_t i = ((size_t)iy * l->in_w + ix) * c_n + c;
                        count++;
                        if (l->dtype == JB_TM_INT8) {
                            int32_t v = ((const int8_t *)in)[i];
                            sum += v;
                            mx = v > mx ? v : mx;
                        } else {
                            float v = ((const float *)in)[i];
                            fsum += v;
                            fmx = v > fmx ? v : fmx;
                        }
                    }
                }
                size_t o = ((size_t)oy * l->out_w + ox) * c_n + c;
                if (l->dtype == JB_TM_INT8) {
                    int32_t v = mx;
                    if (l->op == JB_TM_AVGPOOL)
                        /* TFLite: round half away from zero */
                        v = sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
                    ((int8_t *)out)[o] = (int8_t)clamp_i32(v, l->act_min, l->act_max);
                } else {
                    float v = l->op == JB_TM_AVGPOOL ? fsum / (float)count : fmx;
                    ((float *)out)[o] = clamp_f32(v, l->act_min_f, l->act_max_f);
                }
            }
}

static void add(const struct jb_tm_layer *l, const void *a, const void *b, void *out)
{
    size_t n = (size_t)l->out_h * l->out_w * l->out_c;
    for (size_t i = 0; i < n; i++) {
        if (l->dtype == JB_TM_INT8) {
            int32_t x1 = ((const int8_t *)a)[i] - l->in_zp;
            int32_t x2 = ((const int8_t *)b)[i] - l->in2_zp;
            int32_t s1 =
                jb_tm_mbqm_inline(x1 * (1 << l->add_left_shift), l->in1_mult, l->in1_shift);
            int32_t s2 =
                jb_tm_mbqm_inline(x2 * (1 << l->add_left_shift), l->in2_mult, l->in2_shift);
            int32_t v = jb_tm_mbqm_inline(s1 + s2, l->out_mult, l->out_shift) + l->out_zp;
            ((int8_t *)out)[i] = (int8_t)clamp_i32(v, l->act_min, l->act_max);
        } else {
            float v = ((const float *)a)[i] + ((const float *)b)[i];
            ((float *)out)[i] = clamp_f32(v, l->act_min_f, l->act_max_f);
        }
    }
}

/* Softmax over at most a few dozen classes: computed in double from the
 * dequantized input (int8) so that both paths share this one function; its
 * cost is negligible next to the layers before it. int8 output: scale 1/256,
 * zero point -128 (TFLite's fixed output quantization for softmax). */
static void softmax(const struct jb_tm_layer *l, const void *in, void *out)
{
    int n = l->in_c;
    double mx = -INFINITY, sum = 0.0;
    for (int i = 0; i < n; i++) {
        double v = l->dtype == JB_TM_INT8
                       ? (double)l->in_scale * (((const int8_t *)in)[i] - l->in_zp)
                       : (double)((const float *)in)[i];
        mx = v > mx ? v : mx;
    }
    for (int i = 0; i < n; i++) {
        double v = l->dtype == JB_TM_INT8
                       ? (double)l->in_scale * (((const int8_t *)in)[i] - l->in_zp)
                       : (double)((const float *)in)[i];
        sum += exp(v - mx);
    }
    for (int i = 0; i < n; i++) {
        double v = l->dtype == JB_TM_INT8
                       ? (double)l->in_scale * (((const int8_t *)in)[i] - l->in_zp)
                       : (double)((const float *)in)[i];
        double p = exp(v - mx) / sum;
        if (l->dtype == JB_TM_INT8)
            ((int8_t *)out)[i] = (int8_t)clamp_i32((int32_t)lround(p * 256.0) - 128, -128, 127);
        else
            ((float *)out)[i] = (float)p;
    }
}

void jb_tm_softmax(const struct jb_tm_layer *l, const void *in, void *out)
{
    softmax(l, in, out);
}

void jb_tm_layer_run_ref(const struct jb_tm_layer *l, const void *in, const void *in2, void *out)
{
    int q = l->dtype == JB_TM_INT8;
    switch (l->op) {
    case JB_TM_CONV:
        if (q)
            conv_s8(l, in, out);
        else
            conv_f32(l, in, out);
        break;
    case JB_TM_DWCONV:
        if (q)
            dwconv_s8(l, in, out);
        else
            dwconv_f32(l, in, out);
        break;
    case JB_TM_FC:
        if (q)
            fc_s8(l, in, out);
        else
            fc_f32(l, in, out);
        break;
    case JB_TM_AVGPOOL:
    case JB_TM_MAXPOOL:
        pool(l, in, out);
        break;
    case JB_TM_ADD:
        add(l, in, in2, out);
        break;
    case JB_TM_SOFTMAX:
        softmax(l, in, out);
        break;
    }
}
