/* llm_kquant_ref.c: the portable k-quant dot products (see
 * llm_kquant_kernels.h). Each superblock's sums are integers: for q4_K/q5_K
 * sum_j sc[j] * (codes . x of sub-block j) and sum_j m[j] * (sum of x over
 * sub-block j, from the q8_K bsums); for q6_K sum_g scale[g] * ((codes - 32)
 * . x). Only the last step, times the fp16 and fp32 scales, is float, so
 * the vector paths, which reorder the integer sums freely, agree with this
 * one to the rounding of a few float operations per superblock. */
#include "platforms/cpu/llm_kquant_kernels.h"

/* Sub-block j's (of 8) codes times x, for the type-1 formats. */
static float type1_block(float dw, float dmin, const uint8_t *scales, const uint8_t *qs,
                         const uint8_t *qh, const struct jb_block_q8_K *x)
{
    int32_t sumi = 0, summ = 0;
    for (int c = 0; c < 4; c++) {
        uint8_t sc0, m0, sc1, m1;
        jb_kquant_scale_min(2 * c, scales, &sc0, &m0);
        jb_kquant_scale_min(2 * c + 1, scales, &sc1, &m1);
        int32_t s0 = 0, s1 = 0;
        for (int l = 0; l < 32; l++) {
            int a = qs[32 * c + l] & 15, h = qs[32 * c + l] >> 4;
            if (qh) {
                a |= (qh[l] >> (2 * c) & 1) << 4;
                h |= (qh[l] >> (2 * c + 1) & 1) << 4;
            }
            s0 += a * x->qs[64 * c + l];
            s1 += h * x->qs[64 * c + 32 + l];
        }
        sumi += sc0 * s0 + sc1 * s1;
        summ += m0 * (x->bsums[4 * c] + x->bsums[4 * c + 1]) +
                m1 * (x->bsums[4 * c + 2] + x->bsums[4 * c + 3]);
    }
    return dw * x->d * (float)sumi - dmin * x->d * (float)summ;
}

float jb_llm_dot_q4_K_ref(const struct jb_block_q4_K *w, const struct jb_block_q8_K *x, int nb)
{
    float s = 0.0f;
    for (int i = 0; i < nb; i++)
        s += type1_block(jb_f32_from_fp16(w[i].d), jb_f32_from_fp16(w[i].dmin), w[i].scales,
                         w[i].qs, NULL, &x[i]);
    return s;
}

float jb_llm_dot_q5_K_ref(const struct jb_block_q5_K *w, const struct jb_block_q8_K *x, int nb)
{
    float s = 0.0f;
    for (int i = 0; i < nb; i++)
        s += type1_block(jb_f32_from_fp16(w[i].d), jb_f32_from_fp16(w[i].dmin), w[i].scales,
                         w[i].qs, w[i].qh, &x[i]);
    return s;
}

float jb_llm_dot_q6_K_ref(const struct jb_block_q6_K *w, const struct jb_block_q8_K *x, int nb)
{
    float s = 0.0f;
    for (int i = 0; i < nb; i++) {
        int32_t sumi = 0;
        for (int h = 0; h < 2; h++) {
            const uint8_t *ql = w[i].ql + 64 * h, *qh = w[i].qh + 32 * h;
            const int8_t *sc = w[i].scales + 8 * h, *xq = x[i].qs + 128 * h;
            int32_t g[8] = {0};
            for (int l = 0; l < 32; l++) {
                int t = l / 16;
                g[t] += (((ql[l] & 15) | (qh[l] & 3) << 4) - 32) * xq[l];
                g[t + 2] += (((ql[l + 32] & 15) | (qh[l] >> 2 & 3) << 4) - 32) * xq[l + 32];
                g[t + 4] += (((ql[l] >> 4) | (qh[l] >> 4 & 3) << 4) - 32) * xq[l + 64];
                g[t + 6] += (((ql[l + 32] >> 4) | (qh[l] >> 6) << 4) - 32) * xq[l + 96];
            }
            for (int k = 0; k < 8; k++)
                sumi += sc[k] * g[k];
        }
        s += jb_f32_from_fp16(w[i].d) * x[i].d * (float)sumi;
    }
    return s;
}
