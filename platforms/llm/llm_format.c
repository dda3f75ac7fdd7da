/* llm_format.c: the scalar number formats (fp16, bf16, q8_0, q4_0; the
 * k-quants in llm_kquant.c) and row layouts shared by every LLM back-end and
 * the model layer's oracle, and the RoPE frequencies (Llama 3.x scaling). */
#include "platforms/llm/llm_format.h"
#include "platforms/llm/llm_kquant.h"

#include <math.h>
#include <string.h>

size_t jb_llm_row_bytes(enum jb_llm_dtype dtype, int cols)
{
    size_t n = (size_t)cols;
    switch (dtype) {
    case JB_LLM_F32: return n * 4;
    case JB_LLM_F16:
    case JB_LLM_BF16: return n * 2;
    case JB_LLM_Q8_0: return n / JB_QK * sizeof(struct jb_block_q8_0);
    case JB_LLM_Q4_0: return n / JB_QK * sizeof(struct jb_block_q4_0);
    case JB_LLM_Q4_K: return n / JB_QK_K * sizeof(struct jb_block_q4_K);
    case JB_LLM_Q5_K: return n / JB_QK_K * sizeof(struct jb_block_q5_K);
    case JB_LLM_Q6_K: return n / JB_QK_K * sizeof(struct jb_block_q6_K);
    case JB_LLM_Q8_K: return n / JB_QK_K * sizeof(struct jb_block_q8_K);
    }
    return 0;
}

int jb_llm_block_elems(enum jb_llm_dtype dtype)
{
    switch (dtype) {
    case JB_LLM_Q8_0:
    case JB_LLM_Q4_0: return JB_QK;
    case JB_LLM_Q4_K:
    case JB_LLM_Q5_K:
    case JB_LLM_Q6_K:
    case JB_LLM_Q8_K: return JB_QK_K;
    default: return 1;
    }
}

int jb_llm_dtype_is_quant(enum jb_llm_dtype dtype)
{
    return jb_llm_block_elems(dtype) > 1;
}

enum jb_llm_dtype jb_llm_act_dtype(enum jb_llm_dtype dtype)
{
    switch (dtype) {
    case JB_LLM_Q8_0:
    case JB_LLM_Q4_0: return JB_LLM_Q8_0;
    case JB_LLM_Q4_K:
    case JB_LLM_Q5_K:
    case JB_LLM_Q6_K: return JB_LLM_Q8_K;
    default: return JB_LLM_F32;
    }
}

enum jb_llm_dtype jb_llm_dtype_for_cols(enum jb_llm_dtype dtype, int cols)
{
    if (jb_llm_block_elems(dtype) == JB_QK_K && cols % JB_QK_K)
        return JB_LLM_Q8_0;
    return dtype;
}

void jb_llm_rope_factors(const struct jb_llm_config *c, int head_dim, float *out)
{
    const struct jb_llm_rope_scaling *s = &c->rope_scaling;
    const double pi = 3.14159265358979323846;
    for (int i = 0; i < head_dim / 2; i++) {
        out[i] = 1.0f;
        if (!(s->factor > 0.0f) || s->orig_context <= 0 || !(s->high_freq_factor > s->low_freq_factor))
            continue;
        double freq = pow(c->rope_theta, -2.0 * i / head_dim), wavelen = 2.0 * pi / freq;
        double low_wavelen = s->orig_context / s->low_freq_factor;
        double high_wavelen = s->orig_context / s->high_freq_factor;
        if (wavelen > low_wavelen) {
            out[i] = s->factor;
        } else if (wavelen >= high_wavelen) {
            /* between the two: interpolate the frequency, not its divisor */
            double smooth = (s->orig_context / wavelen - s->low_freq_factor) /
                            (s->high_freq_factor - s->low_freq_factor);
            out[i] = (float)(1.0 / ((1.0 - smooth) / s->factor + smooth));
        }
    }
}

double jb_llm_rope_freq(const struct jb_llm_config *c, const float *factors, int head_dim, int i)
{
    double f = pow(c->rope_theta, -2.0 * i / head_dim);
    return factors ? f / factors[i] : f;
}

const char *jb_llm_dtype_name(enum jb_llm_dtype dtype)
{
    switch (dtype) {
    case JB_LLM_F32: return "fp32";
    case JB_LLM_F16: return "f16";
    case JB_LLM_BF16: return "bf16";
    case JB_LLM_Q8_0: return "q8_0";
    case JB_LLM_Q4_0: return "q4_0";
    case JB_LLM_Q4_K: return "q4_K";
    case JB_LLM_Q5_K: return "q5_K";
    case JB_LLM_Q6_K: return "q6_K";
    case JB_LLM_Q8_K: return "q8_K";
    }
    return "?";
}

int jb_llm_dtype_parse(const char *name)
{
    if (!name)
        return -1;
    if (!strcmp(name, "fp32") || !strcmp(name, "f32"))
        return JB_LLM_F32;
    if (!strcmp(name, "f16") || !strcmp(name, "fp16"))
        return JB_LLM_F16;
    if (!strcmp(name, "bf16"))
        return JB_LLM_BF16;
    if (!strcmp(name, "q8_0"))
        return JB_LLM_Q8_0;
    if (!strcmp(name, "q4_0"))
        return JB_LLM_Q4_0;
    if (!strcmp(name, "q4_K") || !strcmp(name, "q4_k"))
        return JB_LLM_Q4_K;
    if (!strcmp(name, "q5_K") || !strcmp(name, "q5_k"))
        return JB_LLM_Q5_K;
    if (!strcmp(name, "q6_K") || !strcmp(name, "q6_k"))
        return JB_LLM_Q6_K;
    return -1;
}

uint16_t jb_fp16_from_f32(float f)
{
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000u;
    uint32_t absx = x & 0x7fffffffu;
    if (absx >= 0x7f800000u) /* inf or nan: keep nan quiet */
        return (uint16_t)(sign | 0x7c00u | (absx > 0x7f800000u ? 0x200u : 0u));
    if (absx >= 0x477ff000u) /* rounds to >= 65520: overflow to inf */
        return (uint16_t)(sign | 0x7c00u);
    if (absx < 0x38800000u) { /* below the smallest normal half: subnormal or 0 */
        if (absx < 0x33000000u) /* < 2^-25: rounds to zero */
            return (uint16_t)sign;
        uint32_t mant = (absx & 0x7fffffu) | 0x800000u;
        int shift = 113 - (int)(absx >> 23) + 13; /* to the 2^-24 unit */
        uint32_t q = mant >> shift, rem = mant & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (q & 1u)))
            q++;
        return (uint16_t)(sign | q);
    }
    uint32_t r = absx - 0x38000000u; /* rebias 127 -> 15 */
    uint32_t q = r >> 13, rem = r & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (q & 1u)))
        q++; /* a carry into the exponent is the right result */
    return (uint16_t)(sign | q);
}

float jb_f32_from_fp16(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t e = (h >> 10) & 0x1fu, m = h & 0x3ffu, x;
    if (e == 0x1f) {
        x = sign | 0x7f800000u | (m << 13);
    } else if (e == 0) {
        float v = ldexpf((float)m, -24); /* exact: m < 2^10 */
        return sign ? -v : v;
    } else {
        x = sign | ((e + 112u) << 23) | (m << 13);
    }
    float f;
    memcpy(&f, &x, 4);
    return f;
}

uint16_t jb_bf16_from_f32(float f)
{
    uint32_t x;
    memcpy(&x, &f, 4);
    if ((x & 0x7fffffffu) > 0x7f800000u)
        return (uint16_t)((x >> 16) | 0x40u);
    x += 0x7fffu + ((x >> 16) & 1u); /* round to nearest even */
    return (uint16_t)(x >> 16);
}

float jb_f32_from_bf16(uint16_t h)
{
    uint32_t x = (uint32_t)h << 16;
    float f;
    memcpy(&f, &x, 4);
    return f;
}

/* roundf (halves away from zero) without the libm call that baseline x86-64
 * makes of it: exact for |v| < 2^23, which q8_0 codes (|v| <= 127.5) are. */
static inline int round_half_away(float v)
{
    /* a hostile file's NaN or infinite values: C leaves their conversion
     * undefined (the fuzz pass reached it); saturate instead */
    if (!(v == v))
        return 0;
    if (v > 8388608.0f || v < -8388608.0f)
        return v > 0 ? 8388608 : -8388608;
    int i = (int)v;
    float frac = v - (float)i;
    return i + (frac >= 0.5f) - (frac <= -0.5f);
}

/* (int8_t)v as ggml writes it for in-range v, saturated (and 0 for NaN)
 * where the conversion would be undefined. */
static inline int trunc_i8(float v)
{
    if (!(v == v))
        return 0;
    return v >= 127.0f ? 127 : v <= -128.0f ? -128 : (int)v;
}

void jb_llm_quantize_row(enum jb_llm_dtype dtype, const float *src, void *dst, int n)
{
    switch (dtype) {
    case JB_LLM_F32:
        memcpy(dst, src, (size_t)n * 4);
        return;
    case JB_LLM_F16:
        for (int i = 0; i < n; i++)
            ((uint16_t *)dst)[i] = jb_fp16_from_f32(src[i]);
        return;
    case JB_LLM_BF16:
        for (int i = 0; i < n; i++)
            ((uint16_t *)dst)[i] = jb_bf16_from_f32(src[i]);
        return;
    case JB_LLM_Q8_0: {
        struct jb_block_q8_0 *b = dst;
        for (int i = 0; i < n / JB_QK; i++) {
            const float *x = src + (size_t)i * JB_QK;
            float amax = 0.0f;
            for (int j = 0; j < JB_QK; j++) {
                float a = fabsf(x[j]);
                amax = a > amax ? a : amax;
            }
            float d = amax / 127.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
            b[i].d = jb_fp16_from_f32(d);
            for (int j = 0; j < JB_QK; j++)
                b[i].qs[j] = (int8_t)round_half_away(x[j] * id);
        }
        return;
    }
    case JB_LLM_Q4_0: {
        struct jb_block_q4_0 *b = dst;
        for (int i = 0; i < n / JB_QK; i++) {
            const float *x = src + (size_t)i * JB_QK;
            float amax = 0.0f, max = 0.0f;
            for (int j = 0; j < JB_QK; j++)
                if (amax < fabsf(x[j])) {
                    amax = fabsf(x[j]);
                    max = x[j];
                }
            /* The signed extreme maps to -8, the one code without a positive
             * twin, so the full 16 levels are used (ggml's choice). */
            float d = max / -8.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
            b[i].d = jb_fp16_from_f32(d);
            for (int j = 0; j < JB_QK / 2; j++) {
                int lo = trunc_i8(x[j] * id + 8.5f), hi = trunc_i8(x[j + 16] * id + 8.5f);
                lo = lo > 15 ? 15 : lo;
                hi = hi > 15 ? 15 : hi;
                b[i].qs[j] = (uint8_t)(lo | (hi << 4));
            }
        }
        return;
    }
    case JB_LLM_Q4_K:
    case JB_LLM_Q5_K:
    case JB_LLM_Q6_K:
    case JB_LLM_Q8_K:
        jb_llm_kquant_quantize(dtype, src, dst, n);
        return;
    }
}

void jb_llm_dequantize_row(enum jb_llm_dtype dtype, const void *src, float *dst, int n)
{
    switch (dtype) {
    case JB_LLM_F32:
        memcpy(dst, src, (size_t)n * 4);
        return;
    case JB_LLM_F16:
        for (int i = 0; i < n; i++)
            dst[i] = jb_f32_from_fp16(((const uint16_t *)src)[i]);
        return;
    case JB_LLM_BF16:
        for (int i = 0; i < n; i++)
            dst[i] = jb_f32_from_bf16(((const uint16_t *)src)[i]);
        return;
    case JB_LLM_Q8_0: {
        const struct jb_block_q8_0 *b = src;
        for (int i = 0; i < n / JB_QK; i++) {
            float d = jb_f32_from_fp16(b[i].d);
            for (int j = 0; j < JB_QK; j++)
                dst[i * JB_QK + j] = (float)b[i].qs[j] * d;
        }
        return;
    }
    case JB_LLM_Q4_0: {
        const struct jb_block_q4_0 *b = src;
        for (int i = 0; i < n / JB_QK; i++) {
            float d = jb_f32_from_fp16(b[i].d);
            for (int j = 0; j < JB_QK / 2; j++) {
                dst[i * JB_QK + j] = (float)((b[i].qs[j] & 0xf) - 8) * d;
                dst[i * JB_QK + j + 16] = (float)((b[i].qs[j] >> 4) - 8) * d;
            }
        }
        return;
    }
    case JB_LLM_Q4_K:
    case JB_LLM_Q5_K:
    case JB_LLM_Q6_K:
    case JB_LLM_Q8_K:
        jb_llm_kquant_dequantize(dtype, src, dst, n);
        return;
    }
}
