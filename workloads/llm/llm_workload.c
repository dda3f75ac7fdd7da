/* llm_workload.c: the LLM decode step as a joulebench workload, one per
 * configuration of llm.h (stories15m ... llama2-7b).
 *
 * One run() decodes one token at position L over a KV cache already filled
 * to L, and decodes position L again at every run, so that a run measures
 * the steady state at depth L rather than a growing cache. The cache is
 * filled at open time with synthetic K/V of unit scale (not by running the
 * model over a prompt: that would take minutes for a 2048-token state of a
 * 1B model, and the step's cost does not depend on the values). check()
 * compares the logits of the last run with the plain-C fp32 reference step
 * on the same weights and cache. */
#include "base/error.h"
#include "platforms/cpu/threadpool.h"
#include "workloads/llm/gguf.h"
#include "workloads/llm/llm_model.h"
#include "workloads/workload.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LLM_DEFAULT_CONTEXT 128
#define LLM_DEFAULT_TOKEN 1 /* BOS in the Llama 2 vocabulary; any id works */

struct llm_wl {
    struct jb_llm_config cfg;
    struct jb_pool *pool;
    struct jb_llm_weights *w;
    struct jb_llm_model *model;
    const struct jb_llm_kernels *k;
    enum jb_llm_dtype kv_dtype;
    int context, threads, token, ran;
    int from_gguf;
    int any_quant; /* some matrix is block-quantized: its activations are quantized */
    float *ref_logits;
};

/* Relative L2 error of the logits allowed per weight precision, against the
 * fp32 reference on the same weights. fp32/bf16/f16 differ only by
 * summation order (fp32 vs double); q8_0/q4_0 rows are multiplied with the
 * activation quantized to q8_0 (as llama.cpp does), about 0.5% per element.
 * An fp16 KV cache adds the rounding of K and V at the current position.
 * Measured (synthetic weights, fp32 KV): fp32 and bf16 1e-6..3e-6; q8_0
 * 0.025 on stories15m, 0.050 on llama3.2-1b; q4_0 0.032 and 0.054. The error
 * grows with depth (quantization noise of each layer adds up), hence 0.1. */
static double tolerance(int any_quant, enum jb_llm_dtype kv)
{
    double t = any_quant ? 1e-1 : 1e-4;
    return kv == JB_LLM_F16 ? t + 5e-3 : t;
}

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

static void llm_close(void *st)
{
    struct llm_wl *s = st;
    if (!s)
        return;
    jb_llm_model_close(s->model);
    jb_llm_weights_free(s->w);
    jb_pool_destroy(s->pool);
    free(s->ref_logits);
    free(s);
}

static int parse_int_option(const char *options, const char *key, int lo, int hi, int *out,
                            const char *who, char *err, size_t errlen)
{
    char buf[64], *end;
    if (!jb_option_get(options, key, buf, sizeof(buf)))
        return 0;
    long v = strtol(buf, &end, 10);
    if (!*buf || *end || v < lo || v > hi)
        return jb_err(err, errlen, JB_EINVAL, "%s: %s=%s is not an integer in %d..%d", who, key,
                      buf, lo, hi);
    *out = (int)v;
    return 0;
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

static int llm_open(const char *name, const struct jb_workload_params *p, void **st, char *err,
                    size_t errlen)
{
    int rc = JB_OK;
    const struct jb_llm_config *cfg = jb_llm_config_find(name);
    if (!cfg)
        return jb_err(err, errlen, JB_ENOENT, "llm: unknown configuration '%s'", name);
    if (p->backend && *p->backend && strcmp(p->backend, "cpu"))
        return jb_err(err, errlen, JB_ENOTSUP, "%s: back-end '%s' not built here (cpu)", name,
                      p->backend);
    const char *dname = p->dtype && *p->dtype ? p->dtype : "fp32";
    int dt = jb_llm_dtype_parse(dname);
    if (dt < 0 || dt == JB_LLM_F16)
        return jb_err(err, errlen, JB_EINVAL, "%s: precision '%s' not supported (fp32, bf16, "
                      "q8_0, q4_0, q4_K, q5_K, q6_K)", name, dname);
    char kvbuf[16] = "fp32", gguf[1024] = "";
    jb_option_get(p->options, "kv", kvbuf, sizeof(kvbuf));
    int kv = jb_llm_dtype_parse(kvbuf);
    if (kv != JB_LLM_F32 && kv != JB_LLM_F16)
        return jb_err(err, errlen, JB_EINVAL, "%s: kv=%s not supported (fp32, fp16)", name, kvbuf);
    int has_gguf = jb_option_get(p->options, "gguf", gguf, sizeof(gguf));

    struct llm_wl *s = calloc(1, sizeof(*s));
    if (!s)
        return jb_err(err, errlen, JB_ENOMEM, "%s: out of memory", name);
    s->cfg = *cfg;
    s->kv_dtype = (enum jb_llm_dtype)kv;
    s->threads = p->threads > 0 ? p->threads : 1;
    s->token = LLM_DEFAULT_TOKEN;
    if ((rc = parse_int_option(p->options, "token", 0, cfg->vocab_size - 1, &s->token, name, err,
                               errlen)))
        goto fail;
    s->context = p->context > 0 ? p->context : LLM_DEFAULT_CONTEXT;
    if (p->context < 0 || s->context >= cfg->max_context) {
        rc = jb_err(err, errlen, JB_ERANGE, "%s: context %d is beyond the model's limit (state "
                    "L decodes position L: L <= %d for its %d-token window)", name, p->context,
                    cfg->max_context - 1, cfg->max_context);
        goto fail;
    }
    /* Refuse before allocating anything: weights + KV + scratch + the
     * reference check's logits against what the kernel says is available. */
    double need = (has_gguf ? 0.0 : jb_llm_weight_bytes(cfg, (enum jb_llm_dtype)dt)) +
                  jb_llm_kv_bytes(cfg, s->kv_dtype, s->context + 1) +
                  8.0 * cfg->vocab_size + 64e6, avail = mem_available_bytes();
    if (avail > 0.0 && need > 0.9 * avail) {
        rc = jb_err(err, errlen, JB_ENOMEM, "%s %s at context %d does not fit: needs %.1f GB "
                    "(weights %.1f GB + KV %.2f GB), %.1f GB available", name, dname, s->context,
                    need / 1e9, jb_llm_weight_bytes(cfg, (enum jb_llm_dtype)dt) / 1e9,
                    jb_llm_kv_bytes(cfg, s->kv_dtype, s->context + 1) / 1e9, avail / 1e9);
        goto fail;
    }
    if ((rc = jb_pool_create(s->threads, p->cpus, p->bind_memory, &s->pool, err, errlen)))
        goto fail;
    if (has_gguf) {
        size_t max = avail > 0.0 ? (size_t)(0.9 * avail) : 0;
        if ((rc = jb_gguf_load(gguf, max, s->pool, &s->w, err, errlen)))
            goto fail;
        s->from_gguf = 1;
        s->cfg = s->w->cfg;
        if (s->context >= s->cfg.max_context) {
            rc = jb_err(err, errlen, JB_ERANGE, "%s: context %d is beyond the file's limit (%d)",
                        gguf, s->context, s->cfg.max_context);
            goto fail;
        }
    } else if ((rc = jb_llm_weights_synth(cfg, (enum jb_llm_dtype)dt, p->seed, s->pool, &s->w,
                                          err, errlen))) {
        goto fail;
    }
    s->k = jb_llm_kernels_for(jb_cpu_isa());
    s->any_quant = any_quantized(s->w);
    if ((rc = jb_llm_model_open(s->w, s->pool, s->k, s->kv_dtype, s->context + 1, &s->model, err,
                                errlen)))
        goto fail;
    jb_llm_model_fill_kv(s->model, p->seed ^ 0x6b76u, s->context);
    s->ref_logits = malloc(sizeof(float) * (size_t)s->cfg.vocab_size);
    if (!s->ref_logits) {
        rc = jb_err(err, errlen, JB_ENOMEM, "%s: out of memory", name);
        goto fail;
    }
    *st = s;
    return JB_OK;
fail:
    llm_close(s);
    return rc;
}

static int llm_run(void *st, char *err, size_t errlen)
{
    struct llm_wl *s = st;
    s->ran = 1;
    return jb_llm_model_step(s->model, s->token, s->context, err, errlen);
}

static int llm_check(void *st, char *err, size_t errlen)
{
    struct llm_wl *s = st;
    if (!s->ran)
        return jb_err(err, errlen, JB_ECHECK, "%s: check before any run", s->cfg.name);
    struct jb_llm_kv_view kv = jb_llm_model_kv(s->model);
    int rc = jb_llm_reference_step(s->w, &kv, s->token, s->context, s->ref_logits, err, errlen);
    if (rc)
        return rc;
    const float *got = jb_llm_model_logits(s->model);
    double num = 0.0, den = 0.0;
    for (int i = 0; i < s->cfg.vocab_size; i++) {
        double d = (double)got[i] - s->ref_logits[i];
        num += d * d;
        den += (double)s->ref_logits[i] * s->ref_logits[i];
    }
    double rel = den > 0.0 ? sqrt(num / den) : sqrt(num);
    double tol = tolerance(s->any_quant, s->kv_dtype);
    if (!(rel <= tol)) /* also catches NaN */
        return jb_err(err, errlen, JB_ECHECK, "%s %s: logits differ from the fp32 reference by "
                      "%.3g (relative L2), tolerance %.3g", s->cfg.name,
                      jb_llm_dtype_name(s->w->dtype), rel, tol);
    return JB_OK;
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

static void llm_info(const void *st, struct jb_workload_info *o)
{
    const struct llm_wl *s = st;
    const struct jb_llm_config *c = &s->cfg;
    double L1 = s->context + 1.0, hd = (double)c->dim / c->n_heads, kvd = hd * c->n_kv_heads;
    double kv_elt = s->kv_dtype == JB_LLM_F16 ? 2.0 : 4.0;
    double mv = (double)c->n_layers * ((double)c->dim * (2.0 * c->dim + 2.0 * kvd) +
                                       3.0 * (double)c->dim * c->hidden_dim) +
                (double)c->dim * c->vocab_size;
    double attn = (double)c->n_layers * 2.0 * c->n_heads * hd * L1; /* q.k and p*v */
    /* element-wise work: norms (4/elem), RoPE (6 per pair), softmax (~5 per
     * score), SwiGLU (~6 per element), residuals */
    double elem = (double)c->n_layers * (8.0 * c->dim + 3.0 * (c->dim + kvd) +
                                         5.0 * c->n_heads * L1 + 6.0 * c->hidden_dim + 2.0 * c->dim) +
                  4.0 * c->dim;
    double kv_rw = (double)c->n_layers * 2.0 * kvd * kv_elt * L1; /* L read + 1 written */
    snprintf(o->dtype, sizeof(o->dtype), "%s", jb_llm_dtype_name(s->w->dtype));
    snprintf(o->backend, sizeof(o->backend), "cpu");
    snprintf(o->kernel, sizeof(o->kernel), "%s kv=%s%s", s->k->name,
             s->kv_dtype == JB_LLM_F16 ? "fp16" : "fp32", s->from_gguf ? " gguf" : "");
    o->units_per_iteration = 1;
    o->threads = s->threads;
    o->context = s->context;
    o->per_unit.macs = mv + attn;
    o->per_unit.flops = 2.0 * (mv + attn) + elem;
    o->per_unit.param_bytes = streamed_weight_bytes(s->w);
    o->per_unit.activation_bytes = kv_rw;
    o->per_unit.bytes_moved = o->per_unit.param_bytes + kv_rw;
    o->parameters = s->w->param_count;
    snprintf(o->input_shape, sizeof(o->input_shape), "1 token at L=%d", s->context);
    snprintf(o->check, sizeof(o->check), "logits vs plain-C fp32 reference step on the same "
             "weights and KV cache (synthetic K/V), relative L2 <= %.0e",
             tolerance(s->any_quant, s->kv_dtype));
    snprintf(o->timing, sizeof(o->timing), "host-clock");
}

#define LLM_WORKLOAD(sym, cname, desc)                                                          \
    static int open_##sym(const struct jb_workload_params *p, void **st, char *err,             \
                          size_t errlen)                                                        \
    {                                                                                           \
        return llm_open(cname, p, st, err, errlen);                                             \
    }                                                                                           \
    const struct jb_workload_ops jb_workload_##sym = {                                          \
        .name = cname,                                                                          \
        .version = "1",                                                                         \
        .family = "llm",                                                                        \
        .unit = "token",                                                                        \
        .dtypes = "fp32,bf16,q8_0,q4_0,q4_K,q5_K,q6_K",                                          \
        .backends = "cpu",                                                                      \
        .description = desc,                                                                    \
        .open = open_##sym,                                                                     \
        .run = llm_run,                                                                         \
        .check = llm_check,                                                                     \
        .info = llm_info,                                                                       \
        .close = llm_close,                                                                     \
    };

LLM_WORKLOAD(llm_stories15m, "stories15m",
             "LLM decode step, llama2.c stories15M shape (15M params), synthetic weights")
LLM_WORKLOAD(llm_stories110m, "stories110m",
             "LLM decode step, llama2.c stories110M shape (110M params), synthetic weights")
LLM_WORKLOAD(llm_tinyllama, "tinyllama-1.1b",
             "LLM decode step, TinyLlama 1.1B shape (GQA 32/4), synthetic weights or gguf=PATH")
LLM_WORKLOAD(llm_llama32_1b, "llama3.2-1b",
             "LLM decode step, Llama 3.2 1B shape (GQA, tied, 128k vocab), synthetic or gguf=PATH")
LLM_WORKLOAD(llm_llama31_8b, "llama3.1-8b",
             "LLM decode step, Llama 3.1 8B shape (GQA 32/8), synthetic weights or gguf=PATH")
LLM_WORKLOAD(llm_llama2_7b, "llama2-7b",
             "LLM decode step, Llama 2 7B shape (MHA), synthetic weights or gguf=PATH")
