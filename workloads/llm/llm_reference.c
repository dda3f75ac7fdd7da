/* llm_reference.c: the plain-C fp32 reference of one decode step, which the
 * optimized step is checked against.
 *
 * Deliberately simple and independent of the optimized path's structure: one
 * thread, no vector code, no activation quantization, every weight row
 * dequantized to fp32 (so it computes on exactly the values the model holds)
 * and dotted with double accumulation, RoPE angles in double (with the
 * weights' frequency factors, Llama 3.x scaling, when they have them). Differences
 * from the optimized step are then the optimized step's own rounding (q8_0
 * activations, fp16 K/V at the current position, summation order). */
#include "workloads/llm/llm_model.h"
#include "base/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct ref {
    const struct jb_llm_weights *w;
    float *row; /* one dequantized weight row */
};

/* y = W x for every row of W. */
static void ref_matvec(struct ref *R, const struct jb_llm_matrix *m, const float *x, float *y)
{
    for (int r = 0; r < m->rows; r++) {
        jb_llm_dequantize_row(m->dtype, (const char *)m->data + (size_t)r * m->row_bytes, R->row,
                              m->cols);
        double s = 0.0;
        for (int i = 0; i < m->cols; i++)
            s += (double)R->row[i] * x[i];
        y[r] = (float)s;
    }
}

static void ref_rmsnorm(float *out, const float *x, const float *g, int n, float eps)
{
    double ss = 0.0;
    for (int i = 0; i < n; i++)
        ss += (double)x[i] * x[i];
    double s = 1.0 / sqrt(ss / n + eps);
    for (int i = 0; i < n; i++)
        out[i] = (float)(x[i] * s * g[i]);
}

static void ref_rope(float *v, int hd, int pos, const struct jb_llm_weights *w)
{
    for (int i = 0; i < hd; i += 2) {
        double ang = pos * jb_llm_rope_freq(&w->cfg, w->rope_factors, hd, i / 2);
        double c = cos(ang), s = sin(ang), a = v[i], b = v[i + 1];
        v[i] = (float)(a * c - b * s);
        v[i + 1] = (float)(a * s + b * c);
    }
}

/* Element i of a cached K or V row, whatever its storage type. */
static float kv_at(const struct jb_llm_kv_view *kv, const void *base, size_t idx)
{
    if (kv->dtype == JB_LLM_F16)
        return jb_f32_from_fp16(((const uint16_t *)base)[idx]);
    return ((const float *)base)[idx];
}

int jb_llm_reference_step(const struct jb_llm_weights *w, const struct jb_llm_kv_view *kv,
                          int token, int pos, float *logits, char *err, size_t errlen)
{
    const struct jb_llm_config *c = &w->cfg;
    int dim = c->dim, hd = dim / c->n_heads, kvd = hd * c->n_kv_heads, hid = c->hidden_dim;
    int group = c->n_heads / c->n_kv_heads, rc = JB_OK;
    if (token < 0 || token >= c->vocab_size || pos < 0 || pos >= kv->capacity)
        return jb_err(err, errlen, JB_EINVAL, "%s reference: token %d / position %d out of range",
                      c->name, token, pos);
    int wide = hid > dim ? hid : dim;
    struct ref R = {w, malloc(sizeof(float) * (size_t)wide)};
    float *x = calloc((size_t)dim, 4), *xb = calloc((size_t)wide, 4), *q = calloc((size_t)dim, 4);
    float *k = calloc((size_t)kvd, 4), *v = calloc((size_t)kvd, 4);
    float *att = calloc((size_t)pos + 1, 4), *out = calloc((size_t)dim, 4);
    float *h1 = calloc((size_t)hid, 4), *h3 = calloc((size_t)hid, 4), *t = calloc((size_t)dim, 4);
    if (!R.row || !x || !xb || !q || !k || !v || !att || !out || !h1 || !h3 || !t) {
        rc = jb_err(err, errlen, JB_ENOMEM, "%s reference: out of memory", c->name);
        goto out;
    }
    jb_llm_dequantize_row(w->token_embd.dtype,
                          (const char *)w->token_embd.data + (size_t)token * w->token_embd.row_bytes,
                          x, dim);
    size_t layer_elems = (size_t)kv->capacity * (size_t)kvd;
    for (int l = 0; l < c->n_layers; l++) {
        const struct jb_llm_layer *L = &w->layers[l];
        ref_rmsnorm(xb, x, L->attn_norm, dim, c->norm_eps);
        ref_matvec(&R, &L->wq, xb, q);
        ref_matvec(&R, &L->wk, xb, k);
        ref_matvec(&R, &L->wv, xb, v);
        for (int h = 0; h < c->n_heads; h++)
            ref_rope(q + h * hd, hd, pos, w);
        for (int g = 0; g < c->n_kv_heads; g++)
            ref_rope(k + g * hd, hd, pos, w);
        for (int h = 0; h < c->n_heads; h++) {
            int g = h / group;
            double mx = -INFINITY, sum = 0.0;
            for (int p = 0; p <= pos; p++) {
                double s = 0.0;
                for (int i = 0; i < hd; i++) {
                    float kv_i = p == pos ? k[g * hd + i]
                                          : kv_at(kv, kv->k, (size_t)l * layer_elems +
                                                                  (size_t)p * kvd + (size_t)g * hd + i);
                    s += (double)q[h * hd + i] * kv_i;
                }
                att[p] = (float)(s / sqrt((double)hd));
                mx = att[p] > mx ? att[p] : mx;
            }
            for (int p = 0; p <= pos; p++)
                sum += exp(att[p] - mx);
            for (int p = 0; p <= pos; p++)
                att[p] = (float)(exp(att[p] - mx) / sum);
            for (int i = 0; i < hd; i++) {
                double acc = 0.0;
                for (int p = 0; p <= pos; p++) {
                    float v_i = p == pos ? v[g * hd + i]
                                         : kv_at(kv, kv->v, (size_t)l * layer_elems +
                                                                (size_t)p * kvd + (size_t)g * hd + i);
                    acc += (double)att[p] * v_i;
                }
                out[h * hd + i] = (float)acc;
            }
        }
        ref_matvec(&R, &L->wo, out, t);
        for (int i = 0; i < dim; i++)
            x[i] += t[i];
        ref_rmsnorm(xb, x, L->ffn_norm, dim, c->norm_eps);
        ref_matvec(&R, &L->w_gate, xb, h1);
        ref_matvec(&R, &L->w_up, xb, h3);
        for (int i = 0; i < hid; i++)
            h1[i] = (float)(h1[i] / (1.0 + exp(-(double)h1[i])) * h3[i]);
        ref_matvec(&R, &L->w_down, h1, t);
        for (int i = 0; i < dim; i++)
            x[i] += t[i];
    }
    ref_rmsnorm(xb, x, w->output_norm, dim, c->norm_eps);
    ref_matvec(&R, &w->output, xb, logits);
out:
    free(R.row);
    free(x);
    free(xb);
    free(q);
    free(k);
    free(v);
    free(att);
    free(out);
    free(h1);
    free(h3);
    free(t);
    return rc;
}
