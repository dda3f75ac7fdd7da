/* llm_reference.c: the plain-C fp32 reference of one decode step, the one
 * oracle that every LLM back-end is checked against.
 *
 * Deliberately simple and independent of any back-end's structure: one
 * thread, no vector code, no activation quantization, every weight row
 * dequantized to fp32 (so it computes on exactly the values the back-end
 * holds) and dotted with double accumulation, RoPE angles in double. It
 * reads the back-end's weights and cache through jb_llm_access, a slice of
 * rows at a time, so it checks a GPU's step at any model size without
 * holding the model in host memory. Differences from a back-end's step are
 * then that back-end's own rounding (q8_0 activations, fp16 K/V, bf16
 * activations of a GEMM, summation order), which its tolerance states. */
#include "workloads/llm/llm.h"
#include "base/error.h"
#include "platforms/cpu/llm_model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Rows per read: a few MB at the widest matrices. */
#define REF_ROWS 256

struct ref {
    const struct jb_llm_access *a;
    int nseq;
    size_t raw_bytes;
    void *raw;  /* REF_ROWS rows as stored */
    float *row; /* one row dequantized */
    char *err;
    size_t errlen;
};

/* Four independent double partial sums: vectorizable without reassociation. */
static double dot(const float *w, const float *x, int n)
{
    double s[4] = {0, 0, 0, 0};
    int i = 0;
    for (; i + 4 <= n; i += 4)
        for (int j = 0; j < 4; j++)
            s[j] += (double)w[i + j] * x[i + j];
    for (; i < n; i++)
        s[0] += (double)w[i] * x[i];
    return (s[0] + s[1]) + (s[2] + s[3]);
}

/* y[s][0..rows) (+)= W x[s] for every sequence s; W: rows x cols of kind. */
static int matvec(struct ref *r, enum jb_llm_tensor_kind kind, int layer, int rows, int cols,
                  const float *x, float *y, int accumulate)
{
    for (int r0 = 0; r0 < rows; r0 += REF_ROWS) {
        int n = rows - r0 < REF_ROWS ? rows - r0 : REF_ROWS;
        enum jb_llm_dtype dt;
        int rc = r->a->rows(r->a->ctx, kind, layer, r0, n, r->raw, &dt, r->err, r->errlen);
        if (rc)
            return rc;
        size_t rb = jb_llm_row_bytes(dt, cols);
        if (rb * (size_t)n > r->raw_bytes)
            return jb_err(r->err, r->errlen, JB_EIO, "llm reference: rows of %s wider than "
                          "expected", jb_llm_dtype_name(dt));
        for (int i = 0; i < n; i++) {
            jb_llm_dequantize_row(dt, (const char *)r->raw + (size_t)i * rb, r->row, cols);
            for (int s = 0; s < r->nseq; s++) {
                float v = (float)dot(r->row, x + (size_t)s * cols, cols);
                float *o = y + (size_t)s * rows + r0 + i;
                *o = accumulate ? *o + v : v;
            }
        }
    }
    return JB_OK;
}

static void rmsnorm(float *out, const float *x, const float *g, int n, float eps)
{
    double ss = 0.0;
    for (int i = 0; i < n; i++)
        ss += (double)x[i] * x[i];
    double s = 1.0 / sqrt(ss / n + eps);
    for (int i = 0; i < n; i++)
        out[i] = (float)(x[i] * s * g[i]);
}

/* llama2.c's RoPE: adjacent pairs (2i, 2i+1) of each head rotated by
 * pos * theta^(-2i/hd), divided by the back-end's frequency factors (Llama
 * 3.x scaling) when it has them. */
static void rope(float *v, int hd, int pos, const struct jb_llm_access *a)
{
    for (int i = 0; i < hd; i += 2) {
        double ang = pos * jb_llm_rope_freq(a->cfg, a->rope_factors, hd, i / 2);
        double c = cos(ang), s = sin(ang), a = v[i], b = v[i + 1];
        v[i] = (float)(a * c - b * s);
        v[i + 1] = (float)(a * s + b * c);
    }
}

static float round_to(enum jb_llm_dtype dt, float v)
{
    if (dt == JB_LLM_F16)
        return jb_f32_from_fp16(jb_fp16_from_f32(v));
    if (dt == JB_LLM_BF16)
        return jb_f32_from_bf16(jb_bf16_from_f32(v));
    return v;
}

int jb_llm_reference(const struct jb_llm_access *a, int pos, int nseq, const int *seqs,
                     float *logits, char *err, size_t errlen)
{
    const struct jb_llm_config *c = a->cfg;
    int dim = c->dim, hd = dim / c->n_heads, kvd = hd * c->n_kv_heads, hid = c->hidden_dim;
    int group = c->n_heads / c->n_kv_heads, rc = JB_OK;
    if (pos < 0 || nseq < 1)
        return jb_err(err, errlen, JB_EINVAL, "%s reference: position %d, %d sequences", c->name,
                      pos, nseq);
    int wide = hid > dim ? hid : dim;
    size_t S = (size_t)nseq, P = (size_t)pos;
    struct ref r = {a, nseq, 0, NULL, NULL, err, errlen};
    /* the widest row of any stored precision: fp32 */
    r.raw_bytes = sizeof(float) * (size_t)wide * REF_ROWS;
    r.raw = malloc(r.raw_bytes);
    r.row = malloc(sizeof(float) * (size_t)wide);
    float *x = calloc(S * dim, 4), *xb = calloc(S * dim, 4), *q = calloc(S * dim, 4);
    float *k = calloc(S * kvd, 4), *v = calloc(S * kvd, 4), *att = calloc(S * dim, 4);
    float *h1 = calloc(S * hid, 4), *h3 = calloc(S * hid, 4), *nw = calloc((size_t)dim, 4);
    float *sc = calloc(P + 1, 4), *kc = calloc(P * kvd + 1, 4), *vc = calloc(P * kvd + 1, 4);
    if (!r.raw || !r.row || !x || !xb || !q || !k || !v || !att || !h1 || !h3 || !nw || !sc ||
        !kc || !vc) {
        rc = jb_err(err, errlen, JB_ENOMEM, "%s reference: out of memory", c->name);
        goto out;
    }
    for (int s = 0; s < nseq; s++) {
        int tok = a->token(a->ctx, seqs[s]);
        enum jb_llm_dtype dt;
        if (tok < 0 || tok >= c->vocab_size) {
            rc = jb_err(err, errlen, JB_EINVAL, "%s reference: token %d out of range", c->name,
                        tok);
            goto out;
        }
        if ((rc = a->rows(a->ctx, JB_LLM_T_TOKEN_EMBD, 0, tok, 1, r.raw, &dt, err, errlen)))
            goto out;
        jb_llm_dequantize_row(dt, r.raw, x + (size_t)s * dim, dim);
    }
    for (int l = 0; l < c->n_layers; l++) {
        if ((rc = a->norm(a->ctx, JB_LLM_T_ATTN_NORM, l, nw, err, errlen)))
            goto out;
        for (int s = 0; s < nseq; s++)
            rmsnorm(xb + (size_t)s * dim, x + (size_t)s * dim, nw, dim, c->norm_eps);
        if ((rc = matvec(&r, JB_LLM_T_WQ, l, dim, dim, xb, q, 0)) ||
            (rc = matvec(&r, JB_LLM_T_WK, l, kvd, dim, xb, k, 0)) ||
            (rc = matvec(&r, JB_LLM_T_WV, l, kvd, dim, xb, v, 0)))
            goto out;
        for (int s = 0; s < nseq; s++) {
            float *qs = q + (size_t)s * dim, *ks = k + (size_t)s * kvd, *vs = v + (size_t)s * kvd;
            for (int h = 0; h < c->n_heads; h++)
                rope(qs + (size_t)h * hd, hd, pos, a);
            for (int g = 0; g < c->n_kv_heads; g++)
                rope(ks + (size_t)g * hd, hd, pos, a);
            if (a->rounds_new_kv)
                for (int i = 0; i < kvd; i++) {
                    ks[i] = round_to(a->kv_dtype, ks[i]);
                    vs[i] = round_to(a->kv_dtype, vs[i]);
                }
            if (pos > 0 && (rc = a->kv(a->ctx, l, seqs[s], pos, kc, vc, err, errlen)))
                goto out;
            for (int h = 0; h < c->n_heads; h++) {
                int g = h / group;
                const float *qh = qs + (size_t)h * hd;
                double mx = -INFINITY, sum = 0.0;
                for (int p = 0; p <= pos; p++) {
                    const float *kp = p < pos ? kc + (size_t)p * kvd + (size_t)g * hd
                                              : ks + (size_t)g * hd;
                    double d = 0.0;
                    for (int i = 0; i < hd; i++)
                        d += (double)qh[i] * kp[i];
                    sc[p] = (float)(d / sqrt((double)hd));
                    mx = sc[p] > mx ? sc[p] : mx;
                }
                for (int p = 0; p <= pos; p++)
                    sum += exp(sc[p] - mx);
                for (int p = 0; p <= pos; p++)
                    sc[p] = (float)(exp(sc[p] - mx) / sum);
                float *o = att + (size_t)s * dim + (size_t)h * hd;
                for (int i = 0; i < hd; i++) {
                    double acc = 0.0;
                    for (int p = 0; p <= pos; p++)
                        acc += (double)sc[p] * (p < pos ? vc[(size_t)p * kvd + (size_t)g * hd + i]
                                                        : vs[(size_t)g * hd + i]);
                    o[i] = (float)acc;
                }
            }
        }
        if ((rc = matvec(&r, JB_LLM_T_WO, l, dim, dim, att, x, 1)))
            goto out;
        if ((rc = a->norm(a->ctx, JB_LLM_T_FFN_NORM, l, nw, err, errlen)))
            goto out;
        for (int s = 0; s < nseq; s++)
            rmsnorm(xb + (size_t)s * dim, x + (size_t)s * dim, nw, dim, c->norm_eps);
        if ((rc = matvec(&r, JB_LLM_T_W_GATE, l, hid, dim, xb, h1, 0)) ||
            (rc = matvec(&r, JB_LLM_T_W_UP, l, hid, dim, xb, h3, 0)))
            goto out;
        for (size_t i = 0; i < S * hid; i++)
            h1[i] = (float)(h1[i] / (1.0 + exp(-(double)h1[i])) * h3[i]);
        if ((rc = matvec(&r, JB_LLM_T_W_DOWN, l, dim, hid, h1, x, 1)))
            goto out;
    }
    if ((rc = a->norm(a->ctx, JB_LLM_T_OUTPUT_NORM, 0, nw, err, errlen)))
        goto out;
    for (int s = 0; s < nseq; s++)
        rmsnorm(xb + (size_t)s * dim, x + (size_t)s * dim, nw, dim, c->norm_eps);
    rc = matvec(&r, JB_LLM_T_OUTPUT, 0, c->vocab_size, dim, xb, logits, 0);
out:
    free(r.raw);
    free(r.row);
    free(x);
    free(xb);
    free(q);
    free(k);
    free(v);
    free(att);
    free(h1);
    free(h3);
    free(nw);
    free(sc);
    free(kc);
    free(vc);
    return rc;
}

double jb_llm_rel_l2(const float *got, const float *ref, size_t n)
{
    double num = 0.0, den = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)got[i] - ref[i];
        num += d * d;
        den += (double)ref[i] * ref[i];
    }
    double e = den > 0.0 ? sqrt(num / den) : sqrt(num);
    return isnan(e) ? INFINITY : e;
}

int jb_llm_reference_step(const struct jb_llm_weights *w, const struct jb_llm_kv_view *kv,
                          int token, int pos, float *logits, char *err, size_t errlen)
{
    struct jb_llm_host_access h = {w, *kv, token};
    struct jb_llm_access a;
    int seq = 0;
    if (pos >= kv->capacity)
        return jb_err(err, errlen, JB_EINVAL, "%s reference: position %d beyond the cache (%d)",
                      w->cfg.name, pos, kv->capacity);
    jb_llm_host_access(&h, &a);
    return jb_llm_reference(&a, pos, 1, &seq, logits, err, errlen);
}
