/* llm_cpu.c: the cpu LLM back-end: joulebench's own decode step
 * (llm_model.c) on the thread pool, with the kernels of this CPU's
 * instruction set (chosen at run time; JB_CPU_FORCE caps them), over
 * synthetic weights or a GGUF file. One sequence per step. */
#include "base/error.h"
#include "platforms/backend.h"
#include "platforms/cpu/cpu_features.h"
#include "platforms/cpu/llm_model.h"
#include "platforms/cpu/threadpool.h"
#include "platforms/llm/gguf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct llm_cpu {
    struct jb_pool *pool;
    struct jb_llm_weights *w;
    struct jb_llm_model *model;
    const struct jb_llm_kernels *k;
    struct jb_llm_host_access host;
    enum jb_llm_dtype kv_dtype;
    int context, threads, token, from_gguf, any_quant;
};

static double mem_available_bytes(void)
{
    FILE *f = fopen("/proc/meminfo", "r");
    char line[256];
    double kb = 0.0;
    if (!f)
        return 0.0;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "MemAvailable: %lf kB", &kb) == 1)
            break;
    fclose(f);
    return kb * 1024.0;
}

static int is_q(const struct jb_llm_matrix *m)
{
    return jb_llm_dtype_is_quant(m->dtype);
}

static int any_quantized(const struct jb_llm_weights *w)
{
    int q = is_q(&w->output);
    for (int l = 0; l < w->cfg.n_layers; l++) {
        const struct jb_llm_layer *L = &w->layers[l];
        q |= is_q(&L->wq) | is_q(&L->wk) | is_q(&L->wv) | is_q(&L->wo) | is_q(&L->w_gate) |
             is_q(&L->w_up) | is_q(&L->w_down);
    }
    return q;
}

static void cpu_close(void *st)
{
    struct llm_cpu *s = st;
    if (!s)
        return;
    jb_llm_model_close(s->model);
    jb_llm_weights_free(s->w);
    jb_pool_destroy(s->pool);
    free(s);
}

static int cpu_open(const struct jb_llm_problem *p, void **st, char *err, size_t errlen)
{
    int rc;
    const struct jb_llm_config *cfg = p->cfg;
    const char *name = cfg->name;
    if (p->dtype == JB_LLM_F16)
        return jb_err(err, errlen, JB_EINVAL, "%s on cpu: precision fp16 comes only from GGUF "
                      "files (fp32, bf16, q8_0, q4_0, q4_K, q5_K, q6_K)", name);
    enum jb_llm_dtype kv = (int)p->kv_dtype < 0 ? JB_LLM_F32 : p->kv_dtype;
    if (kv != JB_LLM_F32 && kv != JB_LLM_F16)
        return jb_err(err, errlen, JB_EINVAL, "%s on cpu: kv=%s not supported (fp32, fp16)", name,
                      jb_llm_dtype_name(kv));
    if (p->batch > 1)
        return jb_err(err, errlen, JB_EINVAL, "%s on cpu: one sequence per step (batch %d asked)",
                      name, p->batch);
    /* Refuse before allocating anything: weights + KV + scratch + the
     * reference check's logits against what the kernel says is available. */
    double need = (p->gguf ? 0.0 : jb_llm_weight_bytes(cfg, p->dtype)) +
                  jb_llm_kv_bytes(cfg, kv, p->context + 1) + 8.0 * cfg->vocab_size + 64e6,
           avail = mem_available_bytes();
    if (avail > 0.0 && need > 0.9 * avail)
        return jb_err(err, errlen, JB_ENOMEM, "%s %s at context %d does not fit: needs %.1f GB "
                      "(weights %.1f GB + KV %.2f GB), %.1f GB available", name,
                      jb_llm_dtype_name(p->dtype), p->context, need / 1e9,
                      jb_llm_weight_bytes(cfg, p->dtype) / 1e9,
                      jb_llm_kv_bytes(cfg, kv, p->context + 1) / 1e9, avail / 1e9);
    struct llm_cpu *s = calloc(1, sizeof(*s));
    if (!s)
        return jb_err(err, errlen, JB_ENOMEM, "%s: out of memory", name);
    s->kv_dtype = kv;
    s->threads = p->threads > 0 ? p->threads : 1;
    s->token = p->token;
    s->context = p->context;
    if ((rc = jb_pool_create(s->threads, p->cpus, p->bind_memory, &s->pool, err, errlen)))
        goto fail;
    if (p->gguf) {
        size_t max = avail > 0.0 ? (size_t)(0.9 * avail) : 0;
        if ((rc = jb_gguf_load(p->gguf, max, s->pool, &s->w, err, errlen)))
            goto fail;
        s->from_gguf = 1;
        if (s->context >= s->w->cfg.max_context) {
            rc = jb_err(err, errlen, JB_ERANGE, "%s: context %d is beyond the file's limit (%d)",
                        p->gguf, s->context, s->w->cfg.max_context);
            goto fail;
        }
        if (s->token >= s->w->cfg.vocab_size) {
            rc = jb_err(err, errlen, JB_EINVAL, "%s: token %d is not below its vocabulary size %d",
                        p->gguf, s->token, s->w->cfg.vocab_size);
            goto fail;
        }
    } else if ((rc = jb_llm_weights_synth(cfg, p->dtype, p->seed, s->pool, &s->w, err, errlen))) {
        goto fail;
    }
    s->k = jb_llm_kernels_for(jb_cpu_isa());
    s->any_quant = any_quantized(s->w);
    if ((rc = jb_llm_model_open(s->w, s->pool, s->k, s->kv_dtype, s->context + 1, &s->model, err,
                                errlen)))
        goto fail;
    jb_llm_model_fill_kv(s->model, p->seed ^ 0x6b76u, s->context);
    s->host.w = s->w;
    s->host.kv = jb_llm_model_kv(s->model);
    s->host.token = s->token;
    *st = s;
    return JB_OK;
fail:
    cpu_close(s);
    return rc;
}

static int cpu_run(void *st, char *err, size_t errlen)
{
    struct llm_cpu *s = st;
    return jb_llm_model_step(s->model, s->token, s->context, err, errlen);
}

static int cpu_logits(void *st, int seq, float *out, char *err, size_t errlen)
{
    struct llm_cpu *s = st;
    if (seq != 0)
        return jb_err(err, errlen, JB_EINVAL, "cpu: no sequence %d (one per step)", seq);
    memcpy(out, jb_llm_model_logits(s->model), sizeof(float) * (size_t)s->w->cfg.vocab_size);
    return JB_OK;
}

static void cpu_access(void *st, struct jb_llm_access *a)
{
    struct llm_cpu *s = st;
    jb_llm_host_access(&s->host, a);
}

/* Weight bytes one token streams: every layer matrix and norm, the final
 * norm, the classifier, and one embedding row (the lookup, not the table). */
static double streamed_weight_bytes(const struct jb_llm_weights *w)
{
    const struct jb_llm_config *c = &w->cfg;
    double b = (double)w->token_embd.row_bytes + 4.0 * c->dim;
    for (int l = 0; l < c->n_layers; l++) {
        const struct jb_llm_layer *L = &w->layers[l];
        const struct jb_llm_matrix *m[7] = {&L->wq, &L->wk, &L->wv, &L->wo,
                                            &L->w_gate, &L->w_up, &L->w_down};
        for (int i = 0; i < 7; i++)
            b += (double)m[i]->row_bytes * m[i]->rows;
        b += 8.0 * c->dim;
    }
    return b + (double)w->output.row_bytes * w->output.rows;
}

/* Relative L2 error of the logits allowed, against the fp32 reference on
 * the same weights. fp32/bf16/f16 differ only by summation order (fp32 vs
 * double); q8_0/q4_0 rows are multiplied with the activation quantized to
 * q8_0 (as llama.cpp does), about 0.5% per element. An fp16 KV cache adds
 * the rounding of K and V at the current position. Measured (synthetic
 * weights, fp32 KV): fp32 and bf16 1e-6..3e-6; q8_0 0.025 on stories15m,
 * 0.050 on llama3.2-1b; q4_0 0.032 and 0.054. k-quant rows multiply a q8_K
 * activation (one scale per 256): stories110m q4_K/q5_K/q6_K 0.065-0.070
 * against q8_0's 0.047, llama3.2-1b q4_K 0.071. The error grows with depth
 * (quantization noise of each layer adds up), hence 0.1. */
static void cpu_info(const void *st, struct jb_workload_info *o, struct jb_llm_backend_info *li)
{
    const struct llm_cpu *s = st;
    memset(o, 0, sizeof(*o));
    memset(li, 0, sizeof(*li));
    snprintf(o->backend, sizeof(o->backend), "cpu");
    snprintf(o->backend_version, sizeof(o->backend_version), "1");
    snprintf(o->kernel, sizeof(o->kernel), "%s kv=%s%s", s->k->name,
             s->kv_dtype == JB_LLM_F16 ? "fp16" : "fp32", s->from_gguf ? " gguf" : "");
    snprintf(o->timing, sizeof(o->timing), "host-clock");
    o->threads = s->threads;
    li->dtype = s->w->dtype;
    li->weight_bytes = s->w->param_bytes;
    li->streamed_bytes = streamed_weight_bytes(s->w);
    li->param_count = s->w->param_count;
    li->kv_elt_bytes = s->kv_dtype == JB_LLM_F16 ? 2 : 4;
    li->any_quant = s->any_quant;
    double t = s->any_quant ? 1e-1 : 1e-4;
    li->tolerance = s->kv_dtype == JB_LLM_F16 ? t + 5e-3 : t;
    snprintf(li->tolerance_why, sizeof(li->tolerance_why), "%s%s",
             s->any_quant ? "q8_0/q8_K activations of block-quantized rows"
                          : "fp32 activations, summation order",
             s->kv_dtype == JB_LLM_F16 ? ", fp16 KV" : "");
    li->check_seqs = 1;
}

static const struct jb_option_def cpu_options[] = {
    {NULL, 0, NULL, 0, 0, NULL, NULL},
};

const struct jb_llm_backend_ops jb_llm_backend_cpu = {
    .b =
        {
            .name = "cpu",
            .family = "llm",
            .version = "1",
            .dtypes = "fp32,bf16,q8_0,q4_0,q4_K,q5_K,q6_K",
            .description = "joulebench's CPU kernels (AVX-512, AVX2, NEON or portable C, chosen "
                           "at run time)",
            .options = cpu_options,
            .probe = NULL,
        },
    .open = cpu_open,
    .run = cpu_run,
    .logits = cpu_logits,
    .access = cpu_access,
    .info = cpu_info,
    .check_end = NULL,
    .close = cpu_close,
};

/* ---- the oracle's view of host weights ---------------------------------- */

static const struct jb_llm_matrix *host_matrix(const struct jb_llm_weights *w,
                                               enum jb_llm_tensor_kind kind, int layer)
{
    if (kind == JB_LLM_T_TOKEN_EMBD)
        return &w->token_embd;
    if (kind == JB_LLM_T_OUTPUT)
        return &w->output;
    if (layer < 0 || layer >= w->cfg.n_layers)
        return NULL;
    const struct jb_llm_layer *L = &w->layers[layer];
    switch (kind) {
    case JB_LLM_T_WQ: return &L->wq;
    case JB_LLM_T_WK: return &L->wk;
    case JB_LLM_T_WV: return &L->wv;
    case JB_LLM_T_WO: return &L->wo;
    case JB_LLM_T_W_GATE: return &L->w_gate;
    case JB_LLM_T_W_UP: return &L->w_up;
    case JB_LLM_T_W_DOWN: return &L->w_down;
    default: return NULL;
    }
}

static int host_rows(void *ctx, enum jb_llm_tensor_kind kind, int layer, int r0, int n, void *dst,
                     enum jb_llm_dtype *dtype, char *err, size_t errlen)
{
    const struct jb_llm_host_access *h = ctx;
    const struct jb_llm_matrix *m = host_matrix(h->w, kind, layer);
    if (!m || r0 < 0 || n < 0 || r0 + n > m->rows)
        return jb_err(err, errlen, JB_EINVAL, "host weights: no rows %d..%d of tensor %d layer %d",
                      r0, r0 + n, (int)kind, layer);
    memcpy(dst, (const char *)m->data + (size_t)r0 * m->row_bytes, (size_t)n * m->row_bytes);
    *dtype = m->dtype;
    return JB_OK;
}

static int host_norm(void *ctx, enum jb_llm_tensor_kind kind, int layer, float *dst, char *err,
                     size_t errlen)
{
    const struct jb_llm_host_access *h = ctx;
    const float *src = NULL;
    if (kind == JB_LLM_T_OUTPUT_NORM)
        src = h->w->output_norm;
    else if (layer >= 0 && layer < h->w->cfg.n_layers)
        src = kind == JB_LLM_T_ATTN_NORM ? h->w->layers[layer].attn_norm
              : kind == JB_LLM_T_FFN_NORM ? h->w->layers[layer].ffn_norm
                                          : NULL;
    if (!src)
        return jb_err(err, errlen, JB_EINVAL, "host weights: no norm %d of layer %d", (int)kind,
                      layer);
    memcpy(dst, src, sizeof(float) * (size_t)h->w->cfg.dim);
    return JB_OK;
}

static int host_kv(void *ctx, int layer, int seq, int npos, float *k, float *v, char *err,
                   size_t errlen)
{
    const struct jb_llm_host_access *h = ctx;
    const struct jb_llm_config *c = &h->w->cfg;
    size_t kvd = (size_t)(c->dim / c->n_heads) * (size_t)c->n_kv_heads;
    if (seq != 0 || npos > h->kv.capacity || layer < 0 || layer >= c->n_layers)
        return jb_err(err, errlen, JB_EINVAL, "host cache: no layer %d sequence %d positions %d",
                      layer, seq, npos);
    size_t base = (size_t)layer * (size_t)h->kv.capacity * kvd, n = (size_t)npos * kvd;
    for (size_t i = 0; i < n; i++) {
        if (h->kv.dtype == JB_LLM_F16) {
            k[i] = jb_f32_from_fp16(((const uint16_t *)h->kv.k)[base + i]);
            v[i] = jb_f32_from_fp16(((const uint16_t *)h->kv.v)[base + i]);
        } else {
            k[i] = ((const float *)h->kv.k)[base + i];
            v[i] = ((const float *)h->kv.v)[base + i];
        }
    }
    return JB_OK;
}

static int host_token(void *ctx, int seq)
{
    (void)seq;
    return ((const struct jb_llm_host_access *)ctx)->token;
}

void jb_llm_host_access(struct jb_llm_host_access *ctx, struct jb_llm_access *a)
{
    memset(a, 0, sizeof(*a));
    a->ctx = ctx;
    a->cfg = &ctx->w->cfg;
    a->kv_dtype = ctx->kv.dtype;
    a->rounds_new_kv = 0;
    a->rope_factors = ctx->w->rope_factors;
    a->rows = host_rows;
    a->norm = host_norm;
    a->kv = host_kv;
    a->token = host_token;
}
