/* llm_model.c: the decode step of a Llama-architecture model on the CPU, as
 * Llama computes it (RMSNorm, Q/K/V with grouped-query attention, RoPE on
 * adjacent pairs as in GGUF files, attention over the KV cache, output
 * projection, residual, RMSNorm, SwiGLU, final norm, classifier).
 *
 * Work is split so that each worker of the persistent pool streams its own
 * rows of every weight matrix: five parallel sections per layer and one for
 * the classifier. The small shared steps (RMSNorm, quantizing the activation
 * to q8_0) are computed by every worker into its own scratch rather than by
 * one worker behind an extra barrier: they cost O(dim) against the O(dim^2)
 * rows each worker streams (q8_0 for q8_0/q4_0 rows, q8_K for k-quant rows,
 * whichever the section's matrices read). Every output element is computed by one worker
 * with the same code whatever the thread count, so results are bit-identical
 * across thread counts (the greedy-decoding test relies on it). */
#include "platforms/cpu/llm_model.h"
#include "base/error.h"
#include "platforms/cpu/threadpool.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum phase { PH_QKV, PH_ATTN, PH_WO, PH_FFN_UP, PH_FFN_DOWN, PH_CLASSIFY };

struct worker_scratch {
    float *xb;                /* normalized activation [max(dim, hidden)] */
    struct jb_block_q8_0 *xq; /* it, quantized for q8_0/q4_0 rows [max(dim, hidden) / 32] */
    struct jb_block_q8_K *xk; /* it, quantized for k-quant rows [max(dim, hidden) / 256] */
    float *att;               /* attention scores [heads per KV head][capacity] */
};

struct jb_llm_model {
    const struct jb_llm_weights *w;
    struct jb_pool *pool;
    const struct jb_llm_kernels *k;
    enum jb_llm_dtype kv_dtype;
    int capacity, nthreads;
    int head_dim, kv_dim;
    size_t kv_elt, kv_layer_bytes;
    void *kcache, *vcache;
    float *x, *q, *kcur, *vcur, *att_out, *tmp, *hb, *hb_up, *logits;
    float *rope_cos, *rope_sin;
    double *rope_freq; /* per pair of a head: theta^(-2i/hd) / the file's or config's factor */
    struct worker_scratch *ws;
    size_t ws_elems;
    /* the section being run */
    enum phase phase;
    int layer, pos;
};

double jb_llm_kv_bytes(const struct jb_llm_config *c, enum jb_llm_dtype kv, int positions)
{
    double kvd = (double)c->dim / c->n_heads * c->n_kv_heads;
    return 2.0 * c->n_layers * (double)positions * kvd * (kv == JB_LLM_F16 ? 2.0 : 4.0);
}

int jb_llm_argmax(const float *v, int n)
{
    int best = 0;
    for (int i = 1; i < n; i++)
        if (v[i] > v[best])
            best = i;
    return best;
}

static void rmsnorm(float *out, const float *x, const float *g, int n, float eps)
{
    float ss = 0.0f;
    for (int i = 0; i < n; i++)
        ss += x[i] * x[i];
    float s = 1.0f / sqrtf(ss / (float)n + eps);
    for (int i = 0; i < n; i++)
        out[i] = x[i] * s * g[i];
}

/* Which quantized forms of the activation the matrices m[0..n) read. */
enum { NEED_Q8_0 = 1, NEED_Q8_K = 2 };
static int act_needs(const struct jb_llm_matrix *const *m, int n)
{
    int need = 0;
    for (int i = 0; i < n; i++) {
        enum jb_llm_dtype a = jb_llm_act_dtype(m[i]->dtype);
        need |= a == JB_LLM_Q8_0 ? NEED_Q8_0 : a == JB_LLM_Q8_K ? NEED_Q8_K : 0;
    }
    return need;
}

/* Rotates each adjacent pair (2i, 2i+1) of every head of v by pos * freq_i. */
static void rope(float *v, int nheads, int hd, const float *c, const float *s)
{
    for (int h = 0; h < nheads; h++) {
        float *p = v + h * hd;
        for (int i = 0; i < hd / 2; i++) {
            float a = p[2 * i], b = p[2 * i + 1];
            p[2 * i] = a * c[i] - b * s[i];
            p[2 * i + 1] = a * s[i] + b * c[i];
        }
    }
}

/* Runs rows [lo, hi) of the concatenation of matrices m[0..n) into y[0..n). */
static void matvec_span(const struct jb_llm_model *M, const struct jb_llm_matrix *const *m,
                        float *const *y, int n, size_t lo, size_t hi,
                        const struct jb_llm_act *act)
{
    size_t base = 0;
    for (int i = 0; i < n; i++) {
        size_t a = lo > base ? lo - base : 0, b = hi - base;
        if (b > (size_t)m[i]->rows)
            b = (size_t)m[i]->rows;
        if (hi > base && a < b)
            M->k->matvec(m[i], (int)a, (int)b, act, y[i]);
        base += (size_t)m[i]->rows;
    }
}

/* The input of the matrices m[0..n): src, normalized by norm when given,
 * and quantized into the forms those matrices read. */
static struct jb_llm_act prepare_input(struct jb_llm_model *M, struct worker_scratch *ws,
                                       const float *src, const float *norm, int n,
                                       const struct jb_llm_matrix *const *m, int nm)
{
    struct jb_llm_act a = {src, NULL, NULL};
    if (norm) {
        rmsnorm(ws->xb, src, norm, n, M->w->cfg.norm_eps);
        a.x = ws->xb;
    }
    int need = act_needs(m, nm);
    if (need & NEED_Q8_0) {
        jb_llm_quantize_row(JB_LLM_Q8_0, a.x, ws->xq, n);
        a.q8_0 = ws->xq;
    }
    if (need & NEED_Q8_K) {
        jb_llm_quantize_row(JB_LLM_Q8_K, a.x, ws->xk, n);
        a.q8_K = ws->xk;
    }
    return a;
}

static void attention(struct jb_llm_model *M, struct worker_scratch *ws, int g0, int g1)
{
    const struct jb_llm_config *c = &M->w->cfg;
    int hd = M->head_dim, group = c->n_heads / c->n_kv_heads, pos = M->pos;
    char *kl = (char *)M->kcache + (size_t)M->layer * M->kv_layer_bytes;
    char *vl = (char *)M->vcache + (size_t)M->layer * M->kv_layer_bytes;
    size_t row = (size_t)M->kv_dim * M->kv_elt;
    float scale = 1.0f / sqrtf((float)hd);
    rope(M->kcur + g0 * hd, g1 - g0, hd, M->rope_cos, M->rope_sin);
    for (int g = g0; g < g1; g++) {
        /* K and V of this kv head at pos go into the cache first, so that the
         * step attends over positions 0..pos as stored. */
        char *kd = kl + (size_t)pos * row + (size_t)g * hd * M->kv_elt;
        char *vd = vl + (size_t)pos * row + (size_t)g * hd * M->kv_elt;
        jb_llm_quantize_row(M->kv_dtype, M->kcur + g * hd, kd, hd);
        jb_llm_quantize_row(M->kv_dtype, M->vcur + g * hd, vd, hd);
        for (int h = g * group; h < (g + 1) * group; h++)
            rope(M->q + h * hd, 1, hd, M->rope_cos, M->rope_sin);
        M->k->attend(M->q + (size_t)g * group * hd, group, hd,
                     kl + (size_t)g * hd * M->kv_elt, vl + (size_t)g * hd * M->kv_elt, row,
                     M->kv_dtype, pos + 1, scale, ws->att, M->att_out + (size_t)g * group * hd);
    }
}

static void section(void *arg, int tid, int nt)
{
    struct jb_llm_model *M = arg;
    const struct jb_llm_weights *w = M->w;
    const struct jb_llm_config *c = &w->cfg;
    const struct jb_llm_layer *L = M->phase == PH_CLASSIFY ? NULL : &w->layers[M->layer];
    struct worker_scratch *ws = &M->ws[tid];
    size_t lo, hi;
    switch (M->phase) {
    case PH_QKV: {
        const struct jb_llm_matrix *m[3] = {&L->wq, &L->wk, &L->wv};
        float *y[3] = {M->q, M->kcur, M->vcur};
        struct jb_llm_act a = prepare_input(M, ws, M->x, L->attn_norm, c->dim, m, 3);
        jb_pool_range((size_t)(c->dim + 2 * M->kv_dim), 1, tid, nt, &lo, &hi);
        matvec_span(M, m, y, 3, lo, hi, &a);
        break;
    }
    case PH_ATTN:
        jb_pool_range((size_t)c->n_kv_heads, 1, tid, nt, &lo, &hi);
        if (lo < hi)
            attention(M, ws, (int)lo, (int)hi);
        break;
    case PH_WO: {
        const struct jb_llm_matrix *m[1] = {&L->wo};
        struct jb_llm_act a = prepare_input(M, ws, M->att_out, NULL, c->dim, m, 1);
        jb_pool_range((size_t)c->dim, 1, tid, nt, &lo, &hi);
        M->k->matvec(&L->wo, (int)lo, (int)hi, &a, M->tmp);
        for (size_t i = lo; i < hi; i++)
            M->x[i] += M->tmp[i];
        break;
    }
    case PH_FFN_UP: {
        const struct jb_llm_matrix *m[2] = {&L->w_gate, &L->w_up};
        struct jb_llm_act a = prepare_input(M, ws, M->x, L->ffn_norm, c->dim, m, 2);
        jb_pool_range((size_t)c->hidden_dim, 1, tid, nt, &lo, &hi);
        M->k->matvec(&L->w_gate, (int)lo, (int)hi, &a, M->hb);
        M->k->matvec(&L->w_up, (int)lo, (int)hi, &a, M->hb_up);
        for (size_t i = lo; i < hi; i++) {
            float g = M->hb[i];
            M->hb[i] = g / (1.0f + expf(-g)) * M->hb_up[i]; /* SwiGLU: silu(gate) * up */
        }
        break;
    }
    case PH_FFN_DOWN: {
        const struct jb_llm_matrix *m[1] = {&L->w_down};
        struct jb_llm_act a = prepare_input(M, ws, M->hb, NULL, c->hidden_dim, m, 1);
        jb_pool_range((size_t)c->dim, 1, tid, nt, &lo, &hi);
        M->k->matvec(&L->w_down, (int)lo, (int)hi, &a, M->tmp);
        for (size_t i = lo; i < hi; i++)
            M->x[i] += M->tmp[i];
        break;
    }
    case PH_CLASSIFY: {
        const struct jb_llm_matrix *m[1] = {&w->output};
        struct jb_llm_act a = prepare_input(M, ws, M->x, w->output_norm, c->dim, m, 1);
        jb_pool_range((size_t)c->vocab_size, 1, tid, nt, &lo, &hi);
        M->k->matvec(&w->output, (int)lo, (int)hi, &a, M->logits);
        break;
    }
    }
}

int jb_llm_model_step(struct jb_llm_model *M, int token, int pos, char *err, size_t errlen)
{
    const struct jb_llm_config *c = &M->w->cfg;
    if (token < 0 || token >= c->vocab_size)
        return jb_err(err, errlen, JB_EINVAL, "%s: token %d outside the vocabulary (%d)", c->name,
                      token, c->vocab_size);
    if (pos < 0 || pos >= M->capacity)
        return jb_err(err, errlen, JB_ERANGE, "%s: position %d outside the KV cache (%d)",
                      c->name, pos, M->capacity);
    const struct jb_llm_matrix *e = &M->w->token_embd;
    jb_llm_dequantize_row(e->dtype, (const char *)e->data + (size_t)token * e->row_bytes, M->x,
                          c->dim);
    for (int i = 0; i < M->head_dim / 2; i++) {
        double ang = (double)pos * M->rope_freq[i];
        M->rope_cos[i] = (float)cos(ang);
        M->rope_sin[i] = (float)sin(ang);
    }
    M->pos = pos;
    for (int l = 0; l < c->n_layers; l++) {
        M->layer = l;
        for (int ph = PH_QKV; ph <= PH_FFN_DOWN; ph++) {
            M->phase = (enum phase)ph;
            jb_pool_run(M->pool, section, M);
        }
    }
    M->phase = PH_CLASSIFY;
    jb_pool_run(M->pool, section, M);
    return JB_OK;
}

const float *jb_llm_model_logits(const struct jb_llm_model *M)
{
    return M->logits;
}

struct jb_llm_kv_view jb_llm_model_kv(const struct jb_llm_model *M)
{
    struct jb_llm_kv_view v = {M->kcache, M->vcache, M->kv_dtype, M->capacity};
    return v;
}

struct fill_job {
    struct jb_llm_model *M;
    uint64_t seed;
    int npos;
};

static void fill_rows(void *arg, int tid, int nt)
{
    struct fill_job *j = arg;
    struct jb_llm_model *M = j->M;
    int layers = M->w->cfg.n_layers, kvd = M->kv_dim;
    float *buf = M->ws[tid].xb; /* at least dim >= kv_dim floats */
    size_t lo, hi;
    jb_pool_range((size_t)layers * (size_t)j->npos, 1, tid, nt, &lo, &hi);
    for (size_t i = lo; i < hi; i++) {
        size_t l = i / (size_t)j->npos, t = i % (size_t)j->npos;
        size_t off = l * M->kv_layer_bytes + t * (size_t)kvd * M->kv_elt;
        for (int kv = 0; kv < 2; kv++) {
            /* ids above any tensor id; sqrt(3) gives standard deviation 1 */
            jb_llm_synth_values(j->seed, 0xffff00u + (uint32_t)(2 * l + (size_t)kv),
                                (uint64_t)t * (uint64_t)kvd, (size_t)kvd, 0.0f, 1.7320508f, buf);
            jb_llm_quantize_row(M->kv_dtype, buf, (char *)(kv ? M->vcache : M->kcache) + off,
                                kvd);
        }
    }
}

void jb_llm_model_fill_kv(struct jb_llm_model *M, uint64_t seed, int npos)
{
    struct fill_job j = {M, seed, npos < M->capacity ? npos : M->capacity};
    if (j.npos > 0)
        jb_pool_run(M->pool, fill_rows, &j);
}

int jb_llm_model_greedy(struct jb_llm_model *M, const int *prompt, int nprompt, int ngen, int *out,
                        char *err, size_t errlen)
{
    if (nprompt < 1 || ngen < 0)
        return jb_err(err, errlen, JB_EINVAL, "%s: greedy decoding needs a prompt (%d tokens)",
                      M->w->cfg.name, nprompt);
    int tok = prompt[0], rc;
    for (int pos = 0; pos < nprompt + ngen - 1; pos++) {
        if ((rc = jb_llm_model_step(M, tok, pos, err, errlen)))
            return rc;
        int next = jb_llm_argmax(M->logits, M->w->cfg.vocab_size);
        if (pos + 1 < nprompt) {
            tok = prompt[pos + 1];
        } else {
            out[pos + 1 - nprompt] = next;
            tok = next;
        }
    }
    return JB_OK;
}

void jb_llm_model_close(struct jb_llm_model *M)
{
    if (!M)
        return;
    size_t kvb = M->kv_layer_bytes * (size_t)M->w->cfg.n_layers;
    jb_pool_free(M->pool, M->kcache, kvb);
    jb_pool_free(M->pool, M->vcache, kvb);
    for (int t = 0; M->ws && t < M->nthreads; t++) {
        free(M->ws[t].xb);
        free(M->ws[t].xq);
        free(M->ws[t].xk);
        free(M->ws[t].att);
    }
    free(M->ws);
    free(M->x);
    free(M->q);
    free(M->kcur);
    free(M->vcur);
    free(M->att_out);
    free(M->tmp);
    free(M->hb);
    free(M->hb_up);
    free(M->logits);
    free(M->rope_cos);
    free(M->rope_sin);
    free(M->rope_freq);
    free(M);
}

static float *fvec(size_t n)
{
    return calloc(n, sizeof(float));
}

int jb_llm_model_open(const struct jb_llm_weights *w, struct jb_pool *pool,
                      const struct jb_llm_kernels *k, enum jb_llm_dtype kv_dtype, int capacity,
                      struct jb_llm_model **out, char *err, size_t errlen)
{
    const struct jb_llm_config *c = &w->cfg;
    if (kv_dtype != JB_LLM_F32 && kv_dtype != JB_LLM_F16)
        return jb_err(err, errlen, JB_EINVAL, "%s: KV cache in %s not supported (fp32, f16)",
                      c->name, jb_llm_dtype_name(kv_dtype));
    if (capacity < 1)
        return jb_err(err, errlen, JB_EINVAL, "%s: KV cache of %d positions", c->name, capacity);
    struct jb_llm_model *M = calloc(1, sizeof(*M));
    if (!M)
        return jb_err(err, errlen, JB_ENOMEM, "%s: out of memory", c->name);
    M->w = w;
    M->pool = pool;
    M->k = k;
    M->kv_dtype = kv_dtype;
    M->capacity = capacity;
    M->nthreads = jb_pool_size(pool);
    M->head_dim = c->dim / c->n_heads;
    M->kv_dim = M->head_dim * c->n_kv_heads;
    M->kv_elt = kv_dtype == JB_LLM_F16 ? 2 : 4;
    M->kv_layer_bytes = (size_t)capacity * (size_t)M->kv_dim * M->kv_elt;
    size_t kvb = M->kv_layer_bytes * (size_t)c->n_layers;
    size_t wide = (size_t)(c->hidden_dim > c->dim ? c->hidden_dim : c->dim);
    M->kcache = jb_pool_alloc(pool, kvb);
    M->vcache = jb_pool_alloc(pool, kvb);
    if (M->kcache && M->vcache) {
        jb_llm_advise_huge(M->kcache, kvb);
        jb_llm_advise_huge(M->vcache, kvb);
    }
    M->ws = calloc((size_t)M->nthreads, sizeof(*M->ws));
    M->x = fvec((size_t)c->dim);
    M->q = fvec((size_t)c->dim);
    M->kcur = fvec((size_t)M->kv_dim);
    M->vcur = fvec((size_t)M->kv_dim);
    M->att_out = fvec((size_t)c->dim);
    M->tmp = fvec((size_t)c->dim);
    M->hb = fvec((size_t)c->hidden_dim);
    M->hb_up = fvec((size_t)c->hidden_dim);
    M->logits = fvec((size_t)c->vocab_size);
    M->rope_cos = fvec((size_t)M->head_dim / 2 + 1);
    M->rope_sin = fvec((size_t)M->head_dim / 2 + 1);
    M->rope_freq = calloc((size_t)M->head_dim / 2 + 1, sizeof(double));
    int ok = M->kcache && M->vcache && M->ws && M->x && M->q && M->kcur && M->vcur &&
             M->att_out && M->tmp && M->hb && M->hb_up && M->logits && M->rope_cos &&
             M->rope_sin && M->rope_freq;
    for (int i = 0; ok && i < M->head_dim / 2; i++)
        M->rope_freq[i] = jb_llm_rope_freq(c, w->rope_factors, M->head_dim, i);
    for (int t = 0; ok && t < M->nthreads; t++) {
        M->ws[t].xb = fvec(wide);
        M->ws[t].xq = calloc(wide / JB_QK + 1, sizeof(struct jb_block_q8_0));
        M->ws[t].xk = calloc(wide / JB_QK_K + 1, sizeof(struct jb_block_q8_K));
        M->ws[t].att = fvec((size_t)capacity * (size_t)(c->n_heads / c->n_kv_heads));
        ok = M->ws[t].xb && M->ws[t].xq && M->ws[t].xk && M->ws[t].att;
    }
    if (!ok) {
        jb_llm_model_close(M);
        return jb_err(err, errlen, JB_ENOMEM, "%s: cannot allocate a %.0f MB KV cache and scratch",
                      c->name, 2.0 * (double)kvb / 1e6);
    }
    *out = M;
    return JB_OK;
}
