/* llm_weights.c: synthetic weights of a Llama-architecture model as a pure
 * function of a seed, and the bookkeeping of a weight set's buffers.
 *
 * Values come from a counter-based generator (splitmix64 of seed, tensor id
 * and element index) so that any element can be computed on its own: rows
 * are generated in parallel on the pool, and a CUDA back-end can generate
 * the same weights on the device. A 1B model in q8_0 is made in seconds;
 * generation is never inside the timed region. */
#include "platforms/llm/llm_format.h"
#include "base/error.h"
#include "platforms/cpu/threadpool.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static uint64_t splitmix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

uint32_t jb_llm_tensor_id(int layer, enum jb_llm_tensor_kind kind)
{
    switch (kind) {
    case JB_LLM_T_TOKEN_EMBD:
    case JB_LLM_T_OUTPUT_NORM:
    case JB_LLM_T_OUTPUT:
        return (uint32_t)kind;
    default:
        return (uint32_t)(layer + 1) * 16u + (uint32_t)kind;
    }
}

void jb_llm_synth_values(uint64_t seed, uint32_t id, uint64_t first, size_t n, float offset,
                         float scale, float *out)
{
    uint64_t base = seed + ((uint64_t)id << 40) + first;
    for (size_t i = 0; i < n; i++) {
        uint64_t h = splitmix64(base + i);
        /* 24 bits: exact in a float; u in [-1, 1). */
        float u = (float)((int32_t)(h >> 40) - (1 << 23)) * (1.0f / (float)(1 << 23));
        out[i] = offset + scale * u;
    }
}

double jb_llm_param_count(const struct jb_llm_config *c)
{
    double hd = (double)c->dim / c->n_heads, kv = hd * c->n_kv_heads;
    double layer = 2.0 * c->dim                          /* two norms */
                   + (double)c->dim * c->dim * 2.0       /* wq, wo */
                   + 2.0 * kv * c->dim                   /* wk, wv */
                   + 3.0 * (double)c->hidden_dim * c->dim; /* gate, up, down */
    double embd = (double)c->vocab_size * c->dim;
    return embd * (c->tied ? 1.0 : 2.0) + c->n_layers * layer + c->dim;
}

double jb_llm_weight_bytes(const struct jb_llm_config *c, enum jb_llm_dtype dt)
{
    double hd = (double)c->dim / c->n_heads, kv = hd * c->n_kv_heads;
    double rb_dim = (double)jb_llm_row_bytes(jb_llm_dtype_for_cols(dt, c->dim), c->dim);
    double rb_hid =
        (double)jb_llm_row_bytes(jb_llm_dtype_for_cols(dt, c->hidden_dim), c->hidden_dim);
    double layer = 2.0 * c->dim * 4.0 + rb_dim * (2.0 * c->dim + 2.0 * kv) +
                   rb_dim * 2.0 * c->hidden_dim + rb_hid * c->dim;
    return rb_dim * c->vocab_size * (c->tied ? 1.0 : 2.0) + c->n_layers * layer + c->dim * 4.0;
}

void jb_llm_advise_huge(void *p, size_t bytes)
{
#ifdef MADV_HUGEPAGE
    /* A token streams gigabytes: with 4 KiB pages that is a TLB miss every
     * 64 cache lines. Transparent huge pages are often in madvise mode, so
     * ask, before the first touch; failure (no THP) is harmless. */
    const uintptr_t huge = 2u << 20;
    uintptr_t a = ((uintptr_t)p + huge - 1) & ~(huge - 1), e = ((uintptr_t)p + bytes) & ~(huge - 1);
    if (bytes >= 2 * huge && e > a)
        madvise((void *)a, e - a, MADV_HUGEPAGE);
#else
    (void)p;
    (void)bytes;
#endif
}

/* Registers a buffer with the weight set so that free releases it. */
void *jb_llm_weights_alloc(struct jb_llm_weights *w, size_t bytes)
{
    if (w->nallocs == w->allocs_cap) {
        int cap = w->allocs_cap ? w->allocs_cap * 2 : 64;
        void **a = realloc(w->allocs, sizeof(void *) * (size_t)cap);
        if (!a)
            return NULL;
        w->allocs = a;
        size_t *b = realloc(w->alloc_bytes, sizeof(size_t) * (size_t)cap);
        if (!b)
            return NULL;
        w->alloc_bytes = b;
        w->allocs_cap = cap;
    }
    void *p = jb_pool_alloc(w->pool, bytes);
    if (!p)
        return NULL;
    jb_llm_advise_huge(p, bytes);
    w->allocs[w->nallocs] = p;
    w->alloc_bytes[w->nallocs++] = bytes;
    return p;
}

void jb_llm_weights_free(struct jb_llm_weights *w)
{
    if (!w)
        return;
    for (int i = 0; i < w->nallocs; i++)
        jb_pool_free(w->pool, w->allocs[i], w->alloc_bytes[i]);
    free(w->allocs);
    free(w->alloc_bytes);
    free(w->layers);
    free(w);
}

/* One tensor to generate: rows [0, rows) of `cols` values each. */
struct synth_job {
    uint64_t seed;
    uint32_t id;
    enum jb_llm_dtype dtype;
    int rows, cols;
    size_t row_bytes;
    void *dst;
    float offset, scale;
    int failed;
};

static void synth_rows(void *arg, int tid, int nt)
{
    struct synth_job *j = arg;
    size_t r0, r1;
    jb_pool_range((size_t)j->rows, 1, tid, nt, &r0, &r1);
    if (r0 >= r1)
        return;
    float *row = malloc(sizeof(float) * (size_t)j->cols);
    if (!row) {
        j->failed = 1;
        return;
    }
    for (size_t r = r0; r < r1; r++) {
        jb_llm_synth_values(j->seed, j->id, (uint64_t)r * (uint64_t)j->cols, (size_t)j->cols,
                            j->offset, j->scale, row);
        jb_llm_quantize_row(j->dtype, row, (char *)j->dst + r * j->row_bytes, j->cols);
    }
    free(row);
}

static int synth_matrix(struct jb_llm_weights *w, struct jb_pool *run, struct jb_llm_matrix *m,
                        uint64_t seed, int layer, enum jb_llm_tensor_kind kind, int rows, int cols)
{
    m->dtype = jb_llm_dtype_for_cols(w->dtype, cols);
    m->rows = rows;
    m->cols = cols;
    m->row_bytes = jb_llm_row_bytes(m->dtype, cols);
    m->data = jb_llm_weights_alloc(w, m->row_bytes * (size_t)rows);
    if (!m->data)
        return JB_ENOMEM;
    struct synth_job j = {seed, jb_llm_tensor_id(layer, kind), m->dtype, rows, cols,
                          m->row_bytes, m->data, 0.0f, sqrtf(3.0f / (float)cols), 0};
    jb_pool_run(run, synth_rows, &j);
    w->param_bytes += (double)m->row_bytes * rows;
    return j.failed ? JB_ENOMEM : JB_OK;
}

static float *synth_norm(struct jb_llm_weights *w, uint64_t seed, int layer,
                         enum jb_llm_tensor_kind kind)
{
    int n = w->cfg.dim;
    float *v = jb_llm_weights_alloc(w, sizeof(float) * (size_t)n);
    if (v)
        jb_llm_synth_values(seed, jb_llm_tensor_id(layer, kind), 0, (size_t)n, 1.0f, 0.1f, v);
    w->param_bytes += 4.0 * n;
    return v;
}

int jb_llm_weights_synth(const struct jb_llm_config *cfg, enum jb_llm_dtype dtype, uint64_t seed,
                         struct jb_pool *pool, struct jb_llm_weights **out, char *err,
                         size_t errlen)
{
    int rc = JB_OK;
    struct jb_pool *tmp = NULL, *run = pool;
    if (dtype != JB_LLM_F32 && dtype != JB_LLM_BF16 && dtype != JB_LLM_Q8_0 &&
        dtype != JB_LLM_Q4_0 && dtype != JB_LLM_Q4_K && dtype != JB_LLM_Q5_K &&
        dtype != JB_LLM_Q6_K)
        return jb_err(err, errlen, JB_EINVAL, "%s: synthetic weights in %s not supported",
                      cfg->name, jb_llm_dtype_name(dtype));
    if (cfg->dim % JB_QK || cfg->hidden_dim % JB_QK || cfg->dim % cfg->n_heads ||
        cfg->n_heads % cfg->n_kv_heads)
        return jb_err(err, errlen, JB_EINVAL, "%s: shape not divisible into heads/blocks",
                      cfg->name);
    struct jb_llm_weights *w = calloc(1, sizeof(*w));
    if (!w)
        return jb_err(err, errlen, JB_ENOMEM, "%s: out of memory", cfg->name);
    w->cfg = *cfg;
    w->dtype = dtype;
    w->pool = pool;
    if (!run) {
        rc = jb_pool_create(1, NULL, 0, &tmp, err, errlen);
        if (rc)
            goto fail;
        run = tmp;
    }
    w->layers = calloc((size_t)cfg->n_layers, sizeof(*w->layers));
    if (!w->layers) {
        rc = JB_ENOMEM;
        goto nomem;
    }
    int dim = cfg->dim, hd = cfg->dim / cfg->n_heads, kvd = hd * cfg->n_kv_heads;
    int hid = cfg->hidden_dim;
    if ((rc = synth_matrix(w, run, &w->token_embd, seed, 0, JB_LLM_T_TOKEN_EMBD, cfg->vocab_size,
                           dim)))
        goto nomem;
    for (int l = 0; l < cfg->n_layers; l++) {
        struct jb_llm_layer *L = &w->layers[l];
        if (!(L->attn_norm = synth_norm(w, seed, l, JB_LLM_T_ATTN_NORM)) ||
            !(L->ffn_norm = synth_norm(w, seed, l, JB_LLM_T_FFN_NORM)) ||
            (rc = synth_matrix(w, run, &L->wq, seed, l, JB_LLM_T_WQ, dim, dim)) ||
            (rc = synth_matrix(w, run, &L->wk, seed, l, JB_LLM_T_WK, kvd, dim)) ||
            (rc = synth_matrix(w, run, &L->wv, seed, l, JB_LLM_T_WV, kvd, dim)) ||
            (rc = synth_matrix(w, run, &L->wo, seed, l, JB_LLM_T_WO, dim, dim)) ||
            (rc = synth_matrix(w, run, &L->w_gate, seed, l, JB_LLM_T_W_GATE, hid, dim)) ||
            (rc = synth_matrix(w, run, &L->w_up, seed, l, JB_LLM_T_W_UP, hid, dim)) ||
            (rc = synth_matrix(w, run, &L->w_down, seed, l, JB_LLM_T_W_DOWN, dim, hid))) {
            rc = JB_ENOMEM;
            goto nomem;
        }
    }
    if (!(w->output_norm = synth_norm(w, seed, 0, JB_LLM_T_OUTPUT_NORM))) {
        rc = JB_ENOMEM;
        goto nomem;
    }
    if (cfg->tied)
        w->output = w->token_embd;
    else if ((rc = synth_matrix(w, run, &w->output, seed, 0, JB_LLM_T_OUTPUT, cfg->vocab_size,
                                dim)))
        goto nomem;
    if (cfg->rope_scaling.factor > 0.0f) {
        if (!(w->rope_factors = jb_llm_weights_alloc(w, sizeof(float) * (size_t)(hd / 2)))) {
            rc = JB_ENOMEM;
            goto nomem;
        }
        jb_llm_rope_factors(cfg, hd, w->rope_factors);
    }
    w->param_count = jb_llm_param_count(cfg);
    jb_pool_destroy(tmp);
    *out = w;
    return JB_OK;
nomem:
    rc = jb_err(err, errlen, JB_ENOMEM, "%s: cannot allocate %s weights (%.0f MB)", cfg->name,
                jb_llm_dtype_name(dtype), jb_llm_weight_bytes(cfg, dtype) / 1e6);
fail:
    jb_pool_destroy(tmp);
    jb_llm_weights_free(w);
    return rc;
}
