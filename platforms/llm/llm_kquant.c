/* llm_kquant.c: quantizing fp32 rows to ggml's k-quant superblocks (q4_K,
 * q5_K, q6_K, and the q8_K activation) and back.
 *
 * The layouts are fixed by llm.h (ggml's, byte for byte); how the scales are
 * chosen is ours. ggml's reference quantizer searches for the scale and min
 * that minimise the squared error (make_qkx2_quants); this one takes each
 * sub-block's range and rounds the six-bit scales and mins *up*, so that the
 * rounded range still covers every weight and each weight's error is at most
 * half a step (plus the rounding of the fp16 superblock scales). It is only
 * used for synthetic weights and test files; weights read from a llama.cpp
 * file keep llama.cpp's choices. */
#include "platforms/llm/llm_kquant.h"

#include <math.h>
#include <string.h>

static int clampi(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* Nearest integer, halves away from zero (as roundf). Saturating, and 0
 * for NaN: weights or activations of a hostile file may be NaN or infinite
 * (the fuzz pass found a NaN reaching this conversion, which C leaves
 * undefined); callers clamp to their code range anyway. */
static int nearest(float v)
{
    if (!(v == v))
        return 0;
    if (v > 4194304.0f)
        return 4194304;
    if (v < -4194304.0f)
        return -4194304;
    return (int)(v >= 0.0f ? v + 0.5f : v - 0.5f);
}

/* ceil(v) for 0 <= v < 2^22 without libm; v slightly above an integer
 * through float noise (1e-6 relative) still rounds down to it. */
static int ceil_pos(float v)
{
    if (!(v >= 0.0f))
        return 0; /* NaN or negative: see nearest() */
    if (v > 4194304.0f)
        return 4194304;
    int i = (int)v;
    return (float)i < v * (1.0f - 1e-6f) ? i + 1 : i;
}

/* Packs 8 six-bit scales and mins as get_scale_min_k4 (llm.h) unpacks them. */
static void pack_scale_min(const uint8_t sc[8], const uint8_t m[8], uint8_t out[12])
{
    for (int j = 0; j < 4; j++) {
        out[j] = (uint8_t)((sc[j] & 63) | (sc[j + 4] >> 4) << 6);
        out[j + 4] = (uint8_t)((m[j] & 63) | (m[j + 4] >> 4) << 6);
        out[j + 8] = (uint8_t)((sc[j + 4] & 15) | (m[j + 4] & 15) << 4);
    }
}

/* Type-1 superblock (value = d * sc[j] * q - dmin * m[j], q in 0..qmax, 8
 * sub-blocks of 32): chooses d, dmin, sc, m and the codes q[256]. */
static void quantize_type1(const float *x, int qmax, uint16_t *d_out, uint16_t *dmin_out,
                           uint8_t sc[8], uint8_t m[8], uint8_t q[JB_QK_K])
{
    float lo[8], hi[8], maxmin = 0.0f;
    for (int j = 0; j < 8; j++) {
        float a = 0.0f, b = 0.0f; /* the range always includes 0: mins are >= 0 */
        for (int l = 0; l < 32; l++) {
            float v = x[32 * j + l];
            a = v < a ? v : a;
            b = v > b ? v : b;
        }
        lo[j] = -a;
        hi[j] = b;
        maxmin = lo[j] > maxmin ? lo[j] : maxmin;
    }
    /* mins first, rounded up, so that -dmin*m[j] <= the smallest weight */
    uint16_t dminh = jb_fp16_from_f32(maxmin / 63.0f);
    float dmin = jb_f32_from_fp16(dminh), need[8], maxneed = 0.0f;
    for (int j = 0; j < 8; j++) {
        m[j] = (uint8_t)(dmin > 0.0f ? clampi(ceil_pos(lo[j] / dmin), 0, 63) : 0);
        need[j] = (hi[j] + dmin * m[j]) / (float)qmax; /* step covering the rest */
        maxneed = need[j] > maxneed ? need[j] : maxneed;
    }
    uint16_t dh = jb_fp16_from_f32(maxneed / 63.0f);
    float d = jb_f32_from_fp16(dh);
    for (int j = 0; j < 8; j++) {
        sc[j] = (uint8_t)(d > 0.0f ? clampi(ceil_pos(need[j] / d), 0, 63) : 0);
        float step = d * sc[j], off = dmin * m[j], inv = step > 0.0f ? 1.0f / step : 0.0f;
        for (int l = 0; l < 32; l++)
            q[32 * j + l] = (uint8_t)clampi(nearest((x[32 * j + l] + off) * inv), 0, qmax);
    }
    *d_out = dh;
    *dmin_out = dminh;
}

static void quantize_q4_K(const float *x, struct jb_block_q4_K *b)
{
    uint8_t sc[8], m[8], q[JB_QK_K];
    quantize_type1(x, 15, &b->d, &b->dmin, sc, m, q);
    pack_scale_min(sc, m, b->scales);
    for (int c = 0; c < 4; c++)
        for (int l = 0; l < 32; l++)
            b->qs[32 * c + l] = (uint8_t)(q[64 * c + l] | q[64 * c + 32 + l] << 4);
}

static void quantize_q5_K(const float *x, struct jb_block_q5_K *b)
{
    uint8_t sc[8], m[8], q[JB_QK_K];
    quantize_type1(x, 31, &b->d, &b->dmin, sc, m, q);
    pack_scale_min(sc, m, b->scales);
    memset(b->qh, 0, sizeof(b->qh));
    for (int c = 0; c < 4; c++)
        for (int l = 0; l < 32; l++) {
            int a = q[64 * c + l], h = q[64 * c + 32 + l];
            b->qs[32 * c + l] = (uint8_t)((a & 15) | (h & 15) << 4);
            b->qh[l] |= (uint8_t)((a >> 4) << (2 * c) | (h >> 4) << (2 * c + 1));
        }
}

/* Type-0 with signed int8 sub-block scales: in each group of 16 the value
 * of largest magnitude maps to code -32 (as q4_0 maps it to -8), so all 64
 * levels are used; a weight of the opposite sign may need +32, clamped to
 * 31: at most one step of error there, half a step elsewhere. */
static void quantize_q6_K(const float *x, struct jb_block_q6_K *b)
{
    float gs[16], amax = 0.0f;
    for (int g = 0; g < 16; g++) {
        float a = 0.0f, mx = 0.0f;
        for (int l = 0; l < 16; l++) {
            float v = x[16 * g + l];
            if (fabsf(v) > a) {
                a = fabsf(v);
                mx = v;
            }
        }
        gs[g] = mx / -32.0f;
        amax = fabsf(gs[g]) > amax ? fabsf(gs[g]) : amax;
    }
    b->d = jb_fp16_from_f32(amax / 127.0f);
    float d = jb_f32_from_fp16(b->d);
    uint8_t q[JB_QK_K];
    for (int g = 0; g < 16; g++) {
        /* rounded away from zero, so that -32 steps still reach the extreme */
        int s = d > 0.0f ? ceil_pos(fabsf(gs[g]) / d) : 0;
        s = clampi(gs[g] < 0.0f ? -s : s, -127, 127);
        b->scales[g] = (int8_t)s;
        float step = d * (float)s, inv = step != 0.0f ? 1.0f / step : 0.0f;
        for (int l = 0; l < 16; l++)
            q[16 * g + l] = (uint8_t)(clampi(nearest(x[16 * g + l] * inv), -32, 31) + 32);
    }
    memset(b->qh, 0, sizeof(b->qh));
    for (int h = 0; h < 2; h++) {
        const uint8_t *qq = q + 128 * h;
        uint8_t *ql = b->ql + 64 * h, *qh = b->qh + 32 * h;
        for (int l = 0; l < 32; l++) {
            ql[l] = (uint8_t)((qq[l] & 15) | (qq[l + 64] & 15) << 4);
            ql[l + 32] = (uint8_t)((qq[l + 32] & 15) | (qq[l + 96] & 15) << 4);
            qh[l] = (uint8_t)(qq[l] >> 4 | (qq[l + 32] >> 4) << 2 | (qq[l + 64] >> 4) << 4 |
                              (qq[l + 96] >> 4) << 6);
        }
    }
}

static void quantize_q8_K(const float *x, struct jb_block_q8_K *b)
{
    float amax = 0.0f;
    for (int j = 0; j < JB_QK_K; j++)
        amax = fabsf(x[j]) > amax ? fabsf(x[j]) : amax;
    float d = amax / 127.0f, id = d > 0.0f ? 1.0f / d : 0.0f;
    b->d = d;
    for (int j = 0; j < JB_QK_K; j++)
        b->qs[j] = (int8_t)clampi(nearest(x[j] * id), -127, 127);
    for (int g = 0; g < JB_QK_K / 16; g++) {
        int s = 0;
        for (int l = 0; l < 16; l++)
            s += b->qs[16 * g + l];
        b->bsums[g] = (int16_t)s;
    }
}

void jb_llm_kquant_quantize(enum jb_llm_dtype dtype, const float *src, void *dst, int n)
{
    for (int i = 0; i < n / JB_QK_K; i++) {
        const float *x = src + (size_t)i * JB_QK_K;
        switch (dtype) {
        case JB_LLM_Q4_K: quantize_q4_K(x, (struct jb_block_q4_K *)dst + i); break;
        case JB_LLM_Q5_K: quantize_q5_K(x, (struct jb_block_q5_K *)dst + i); break;
        case JB_LLM_Q6_K: quantize_q6_K(x, (struct jb_block_q6_K *)dst + i); break;
        case JB_LLM_Q8_K: quantize_q8_K(x, (struct jb_block_q8_K *)dst + i); break;
        default: return;
        }
    }
}

static void dequantize_type1(uint16_t dh, uint16_t dminh, const uint8_t *scales,
                             const uint8_t *qs, const uint8_t *qh, float *y)
{
    float d = jb_f32_from_fp16(dh), dmin = jb_f32_from_fp16(dminh);
    for (int c = 0; c < 4; c++) {
        uint8_t sc0, m0, sc1, m1;
        jb_kquant_scale_min(2 * c, scales, &sc0, &m0);
        jb_kquant_scale_min(2 * c + 1, scales, &sc1, &m1);
        float d0 = d * sc0, o0 = dmin * m0, d1 = d * sc1, o1 = dmin * m1;
        for (int l = 0; l < 32; l++) {
            int a = qs[32 * c + l] & 15, h = qs[32 * c + l] >> 4;
            if (qh) {
                a |= (qh[l] >> (2 * c) & 1) << 4;
                h |= (qh[l] >> (2 * c + 1) & 1) << 4;
            }
            y[64 * c + l] = d0 * (float)a - o0;
            y[64 * c + 32 + l] = d1 * (float)h - o1;
        }
    }
}

static void dequantize_q6_K(const struct jb_block_q6_K *b, float *y)
{
    float d = jb_f32_from_fp16(b->d);
    for (int h = 0; h < 2; h++) {
        const uint8_t *ql = b->ql + 64 * h, *qh = b->qh + 32 * h;
        const int8_t *sc = b->scales + 8 * h;
        float *o = y + 128 * h;
        for (int l = 0; l < 32; l++) {
            int g = l / 16;
            int q1 = ((ql[l] & 15) | (qh[l] & 3) << 4) - 32;
            int q2 = ((ql[l + 32] & 15) | (qh[l] >> 2 & 3) << 4) - 32;
            int q3 = ((ql[l] >> 4) | (qh[l] >> 4 & 3) << 4) - 32;
            int q4 = ((ql[l + 32] >> 4) | (qh[l] >> 6) << 4) - 32;
            o[l] = d * (float)sc[g] * (float)q1;
            o[l + 32] = d * (float)sc[g + 2] * (float)q2;
            o[l + 64] = d * (float)sc[g + 4] * (float)q3;
            o[l + 96] = d * (float)sc[g + 6] * (float)q4;
        }
    }
}

void jb_llm_kquant_dequantize(enum jb_llm_dtype dtype, const void *src, float *dst, int n)
{
    for (int i = 0; i < n / JB_QK_K; i++) {
        float *y = dst + (size_t)i * JB_QK_K;
        switch (dtype) {
        case JB_LLM_Q4_K: {
            const struct jb_block_q4_K *b = (const struct jb_block_q4_K *)src + i;
            dequantize_type1(b->d, b->dmin, b->scales, b->qs, NULL, y);
            break;
        }
        case JB_LLM_Q5_K: {
            const struct jb_block_q5_K *b = (const struct jb_block_q5_K *)src + i;
            dequantize_type1(b->d, b->dmin, b->scales, b->qs, b->qh, y);
            break;
        }
        case JB_LLM_Q6_K: dequantize_q6_K((const struct jb_block_q6_K *)src + i, y); break;
        case JB_LLM_Q8_K: {
            const struct jb_block_q8_K *b = (const struct jb_block_q8_K *)src + i;
            for (int j = 0; j < JB_QK_K; j++)
                y[j] = b->d * (float)b->qs[j];
            break;
        }
        default: return;
        }
    }
}
