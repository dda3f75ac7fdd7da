/* llm_kernels_neon.c: the LLM decode kernels for 64-bit ARM (AArch64 NEON,
 * which every AArch64 core has), compiled only there (CMake marks *_neon.c
 * header-only elsewhere) and chosen at run time as JB_ISA_NEON.
 *
 * Baseline NEON only (no dot-product extension): int8 blocks multiply with
 * vmull_s8 into 16-bit products, pairwise-added into 32-bit lanes, so the
 * results are the same integers as the other paths. Four fp32 accumulators
 * hide the FMA latency. Not yet run on hardware by the test suite of this
 * build machine (x86); the x86 paths are. */
#include "platforms/cpu/llm_kernels.h"

#if defined(__aarch64__)
#include <arm_neon.h>

static inline float32x4_t load_bf16(const uint16_t *p)
{
    return vreinterpretq_f32_u32(vshll_n_u16(vld1_u16(p), 16));
}

static inline float32x4_t load_f16(const uint16_t *p)
{
    return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p)));
}

#define LOAD_F32(p) vld1q_f32(p)

#define DOT_BODY(LOAD, SCALAR)                                                                 \
    float32x4_t a0 = vdupq_n_f32(0.0f), a1 = a0, a2 = a0, a3 = a0;                              \
    int i = 0;                                                                                  \
    for (; i + 16 <= n; i += 16) {                                                              \
        a0 = vfmaq_f32(a0, LOAD(a + i), vld1q_f32(b + i));                                      \
        a1 = vfmaq_f32(a1, LOAD(a + i + 4), vld1q_f32(b + i + 4));                              \
        a2 = vfmaq_f32(a2, LOAD(a + i + 8), vld1q_f32(b + i + 8));                              \
        a3 = vfmaq_f32(a3, LOAD(a + i + 12), vld1q_f32(b + i + 12));                            \
    }                                                                                           \
    for (; i + 4 <= n; i += 4)                                                                  \
        a0 = vfmaq_f32(a0, LOAD(a + i), vld1q_f32(b + i));                                      \
    float s = vaddvq_f32(vaddq_f32(vaddq_f32(a0, a1), vaddq_f32(a2, a3)));                      \
    for (; i < n; i++)                                                                          \
        s += SCALAR(a[i]) * b[i];                                                               \
    return s;

#define SCALAR_F32(v) (v)

static float dot_f32(const float *a, const float *b, int n)
{
    DOT_BODY(LOAD_F32, SCALAR_F32)
}

static float dot_f16(const uint16_t *a, const float *b, int n)
{
    DOT_BODY(load_f16, jb_f32_from_fp16)
}

static float dot_bf16(const uint16_t *a, const float *b, int n)
{
    DOT_BODY(load_bf16, jb_f32_from_bf16)
}

/* Sum over 32 int8 products of one block, as an int32. */
static inline int32_t block_idot(int8x16_t w0, int8x16_t w1, const int8_t *x)
{
    int8x16_t x0 = vld1q_s8(x), x1 = vld1q_s8(x + 16);
    int32x4_t s = vpaddlq_s16(vmull_s8(vget_low_s8(w0), vget_low_s8(x0)));
    s = vpadalq_s16(s, vmull_s8(vget_high_s8(w0), vget_high_s8(x0)));
    s = vpadalq_s16(s, vmull_s8(vget_low_s8(w1), vget_low_s8(x1)));
    s = vpadalq_s16(s, vmull_s8(vget_high_s8(w1), vget_high_s8(x1)));
    return vaddvq_s32(s);
}

static float dot_q8(const struct jb_block_q8_0 *w, const struct jb_block_q8_0 *x, int nb)
{
    float s = 0.0f;
    for (int i = 0; i < nb; i++) {
        int32_t d = block_idot(vld1q_s8(w[i].qs), vld1q_s8(w[i].qs + 16), x[i].qs);
        s += (float)d * (jb_f32_from_fp16(w[i].d) * jb_f32_from_fp16(x[i].d));
    }
    return s;
}

static float dot_q4(const struct jb_block_q4_0 *w, const struct jb_block_q8_0 *x, int nb)
{
    float s = 0.0f;
    const uint8x16_t mask = vdupq_n_u8(0x0f);
    const int8x16_t eight = vdupq_n_s8(8);
    for (int i = 0; i < nb; i++) {
        uint8x16_t b = vld1q_u8(w[i].qs);
        int8x16_t lo = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(b, mask)), eight);
        int8x16_t hi = vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(b, 4)), eight);
        int32_t d = block_idot(lo, hi, x[i].qs);
        s += (float)d * (jb_f32_from_fp16(w[i].d) * jb_f32_from_fp16(x[i].d));
    }
    return s;
}

static void matvec(const struct jb_llm_matrix *m, int r0, int r1, const struct jb_llm_act *a,
                   float *y)
{
    const char *base = m->data;
    const float *x = a->x;
    const struct jb_block_q8_0 *xq = a->q8_0;
    int n = m->cols;
    if (jb_llm_act_dtype(m->dtype) == JB_LLM_Q8_K) {
        /* no NEON k-quant kernels yet: the portable ones */
        jb_llm_kernels_reference.matvec(m, r0, r1, a, y);
        return;
    }
    for (int r = r0; r < r1; r++) {
        const void *row = base + (size_t)r * m->row_bytes;
        switch (m->dtype) {
        case JB_LLM_F32: y[r] = dot_f32(row, x, n); break;
        case JB_LLM_F16: y[r] = dot_f16(row, x, n); break;
        case JB_LLM_BF16: y[r] = dot_bf16(row, x, n); break;
        case JB_LLM_Q8_0: y[r] = dot_q8(row, xq, n / JB_QK); break;
        case JB_LLM_Q4_0: y[r] = dot_q4(row, xq, n / JB_QK); break;
        default: y[r] = 0.0f; break; /* k-quants above; q8_K is never a matrix */
        }
    }
}

static void axpy_f32(float *y, float a, const float *x, int n)
{
    int i = 0;
    for (; i + 4 <= n; i += 4)
        vst1q_f32(y + i, vfmaq_n_f32(vld1q_f32(y + i), vld1q_f32(x + i), a));
    for (; i < n; i++)
        y[i] += a * x[i];
}

static void axpy_f16(float *y, float a, const uint16_t *x, int n)
{
    int i = 0;
    for (; i + 4 <= n; i += 4)
        vst1q_f32(y + i, vfmaq_n_f32(vld1q_f32(y + i), load_f16(x + i), a));
    for (; i < n; i++)
        y[i] += a * jb_f32_from_fp16(x[i]);
}

const struct jb_llm_kernels jb_llm_kernels_neon = {
    .name = "neon",
    .matvec = matvec,
    .attend = jb_llm_attend_ref,
    .dot_f32 = dot_f32,
    .dot_f16 = dot_f16,
    .axpy_f32 = axpy_f32,
    .axpy_f16 = axpy_f16,
};
#endif
