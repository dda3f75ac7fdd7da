/* llm_kernels_ref.c: the portable kernels of the LLM decode step, plain C
 * with one accumulator per row, used where no vector path exists (and as
 * the reference the vector paths are tested against), and the run-time
 * choice of a kernel table. */
#include "platforms/cpu/llm_kernels.h"
#include "platforms/cpu/llm_kquant_kernels.h"

#include <math.h>

static float ref_dot_f32(const float *a, const float *b, int n)
{
    float s = 0.0f;
    for (int i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

static float ref_dot_f16(const uint16_t *a, const float *b, int n)
{
    float s = 0.0f;
    for (int i = 0; i < n; i++)
        s += jb_f32_from_fp16(a[i]) * b[i];
    return s;
}

static float ref_dot_bf16(const uint16_t *a, const float *b, int n)
{
    float s = 0.0f;
    for (int i = 0; i < n; i++)
        s += jb_f32_from_bf16(a[i]) * b[i];
    return s;
}

static float ref_dot_q8(const struct jb_block_q8_0 *w, const struct jb_block_q8_0 *x, int nb)
{
    float s = 0.0f;
    for (int i = 0; i < nb; i++) {
        int32_t acc = 0;
        for (int j = 0; j < JB_QK; j++)
            acc += (int32_t)w[i].qs[j] * x[i].qs[j];
        s += (float)acc * (jb_f32_from_fp16(w[i].d) * jb_f32_from_fp16(x[i].d));
    }
    return s;
}

static float ref_dot_q4(const struct jb_block_q4_0 *w, const struct jb_block_q8_0 *x, int nb)
{
    float s = 0.0f;
    for (int i = 0; i < nb; i++) {
        int32_t acc = 0;
        for (int j = 0; j < JB_QK / 2; j++) {
            acc += ((w[i].qs[j] & 0xf) - 8) * x[i].qs[j];
            acc += ((w[i].qs[j] >> 4) - 8) * x[i].qs[j + 16];
        }
        s += (float)acc * (jb_f32_from_fp16(w[i].d) * jb_f32_from_fp16(x[i].d));
    }
    return s;
}

static void ref_matvec(const struct jb_llm_matrix *m, int r0, int r1, const struct jb_llm_act *a,
                       float *y)
{
    const float *x = a->x;
    const struct jb_block_q8_0 *xq = a->q8_0;
    const struct jb_block_q8_K *xk = a->q8_K;
    int nb = m->cols / JB_QK, nbk = m->cols / JB_QK_K;
    for (int r = r0; r < r1; r++) {
        const void *row = (const char *)m->data + (size_t)r * m->row_bytes;
        switch (m->dtype) {
        case JB_LLM_F32: y[r] = ref_dot_f32(row, x, m->cols); break;
        case JB_LLM_F16: y[r] = ref_dot_f16(row, x, m->cols); break;
        case JB_LLM_BF16: y[r] = ref_dot_bf16(row, x, m->cols); break;
        case JB_LLM_Q8_0: y[r] = ref_dot_q8(row, xq, nb); break;
        case JB_LLM_Q4_0: y[r] = ref_dot_q4(row, xq, nb); break;
        case JB_LLM_Q4_K: y[r] = jb_llm_dot_q4_K_ref(row, xk, nbk); break;
        case JB_LLM_Q5_K: y[r] = jb_llm_dot_q5_K_ref(row, xk, nbk); break;
        case JB_LLM_Q6_K: y[r] = jb_llm_dot_q6_K_ref(row, xk, nbk); break;
        case JB_LLM_Q8_K: y[r] = 0.0f; break; /* an activation type, never a matrix */
        }
    }
}

static void ref_axpy_f32(float *y, float a, const float *x, int n)
{
    for (int i = 0; i < n; i++)
        y[i] += a * x[i];
}

static void ref_axpy_f16(float *y, float a, const uint16_t *x, int n)
{
    for (int i = 0; i < n; i++)
        y[i] += a * jb_f32_from_fp16(x[i]);
}

/* One head at a time: scores, softmax with libm's expf, weighted sum of V. */
void jb_llm_attend_ref(const float *q, int group, int hd, const void *k, const void *v,
                       size_t stride, enum jb_llm_dtype kv_dtype, int npos, float scale,
                       float *att, float *out)
{
    const char *kb = k, *vb = v;
    int f16 = kv_dtype == JB_LLM_F16;
    for (int h = 0; h < group; h++) {
        const float *qh = q + (size_t)h * hd;
        float *a = att + (size_t)h * npos, *o = out + (size_t)h * hd, mx = -INFINITY, sum = 0.0f;
        for (int t = 0; t < npos; t++) {
            const void *kt = kb + (size_t)t * stride;
            a[t] = scale * (f16 ? ref_dot_f16(kt, qh, hd) : ref_dot_f32(kt, qh, hd));
            mx = a[t] > mx ? a[t] : mx;
        }
        for (int t = 0; t < npos; t++) {
            a[t] = expf(a[t] - mx);
            sum += a[t];
        }
        float inv = 1.0f / sum;
        for (int i = 0; i < hd; i++)
            o[i] = 0.0f;
        for (int t = 0; t < npos; t++) {
            const void *vt = vb + (size_t)t * stride;
            if (f16)
                ref_axpy_f16(o, a[t] * inv, vt, hd);
            else
                ref_axpy_f32(o, a[t] * inv, vt, hd);
        }
    }
}

const struct jb_llm_kernels jb_llm_kernels_reference = {
    .name = "reference",
    .matvec = ref_matvec,
    .attend = jb_llm_attend_ref,
    .dot_f32 = ref_dot_f32,
    .dot_f16 = ref_dot_f16,
    .axpy_f32 = ref_axpy_f32,
    .axpy_f16 = ref_axpy_f16,
};

const struct jb_llm_kernels *jb_llm_kernels_for(enum jb_isa isa)
{
#if defined(JB_X86)
    if (isa == JB_ISA_AVX512)
        return &jb_llm_kernels_avx512;
    if (isa == JB_ISA_AVX2)
        return &jb_llm_kernels_avx2;
#elif defined(__aarch64__)
    if (isa == JB_ISA_NEON)
        return &jb_llm_kernels_neon;
#else
    (void)isa;
#endif
    return &jb_llm_kernels_reference;
}
