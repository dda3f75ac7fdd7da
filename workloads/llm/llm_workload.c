/* llm_workload.c: the LLM decode step as joulebench workloads, one per row
 * of llm_configs.h, on any LLM back-end (platforms/backend.h).
 *
 * One run() decodes one token per sequence at position L over a KV cache
 * already filled to L, and decodes position L again at every run, so that a
 * run measures the steady state at depth L rather than a growing cache. The
 * cache is filled at open time with synthetic K/V of unit scale (not by
 * running the model over a prompt: that would take minutes for a 2048-token
 * state of a 1B model, and the step's cost does not depend on the values).
 * check() compares the logits of the last run with the one fp32 oracle
 * (llm_reference.c) on the back-end's own weights and cache, within the
 * tolerance the back-end's arithmetic states. The operation counts are the
 * model's, the same whichever back-end runs it. */
#include "base/error.h"
#include "workloads/llm/llm.h"
#include "workloads/workload.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LLM_DEFAULT_CONTEXT 128
#define LLM_DEFAULT_TOKEN 1 /* BOS in the Llama 2 vocabulary; any id works */

static const struct jb_option_def llm_options[] = {
    {"token", JB_OPT_INT, "1", 0, 1e9, NULL, "token id every sequence decodes (< vocab size)"},
    {"kv", JB_OPT_ENUM, NULL, 0, 0, "fp32|fp16",
     "KV-cache storage (default: the back-end's; cpu fp32, cuda fp16)"},
    {"gguf", JB_OPT_STR, NULL, 0, 0, NULL, "weights from a GGUF file instead of synthetic ones"},
    {NULL, 0, NULL, 0, 0, NULL, NULL},
};

struct llm_wl {
    const struct jb_llm_backend_ops *be;
    void *bs; /* the back-end's state */
    struct jb_llm_access acc;
    struct jb_llm_backend_info li;
    struct jb_workload_info wi; /* the back-end's fields */
    int context, batch, ran;
    float *ref, *got; /* the oracle's logits (computed once: weights and cache do not change) */
    int have_ref;
};

static void llm_close(void *st)
{
    struct llm_wl *s = st;
    if (!s)
        return;
    if (s->bs)
        s->be->close(s->bs);
    free(s->ref);
    free(s->got);
    free(s);
}

static int llm_open(const char *name, const struct jb_workload_params *p, void **st, char *err,
                    size_t errlen)
{
    int rc;
    const struct jb_llm_config *cfg = jb_llm_config_find(name);
    if (!cfg)
        return jb_err(err, errlen, JB_ENOENT, "llm: unknown configuration '%s'", name);
    /* p->backend is resolved by jb_workload_open (the one rule for the
     * default back-end); open() is not called around it */
    const struct jb_backend *b =
        jb_backend_find("llm", p->backend); /* resolved by jb_workload_open */
    if (!b)
        return jb_err(err, errlen, JB_EINVAL, "%s: no LLM back-end '%s'", name,
                      p->backend ? p->backend : "(none)");
    const char *dname = p->dtype && *p->dtype ? p->dtype : NULL;
    char dflt[16];
    if (!dname) {
        snprintf(dflt, sizeof(dflt), "%.*s", (int)strcspn(b->dtypes, ","), b->dtypes);
        dname = dflt;
    }
    if (!jb_list_has(b->dtypes, dname))
        return jb_err(err, errlen, JB_EINVAL, "%s: back-end %s does not compute precision '%s' "
                      "(it has %s)", name, b->name, dname, b->dtypes);
    int dt = jb_llm_dtype_parse(dname);
    char kvbuf[16] = "", gguf[1024] = "";
    int kv = -1;
    if (jb_option_get(p->options, "kv", kvbuf, sizeof(kvbuf)))
        kv = jb_llm_dtype_parse(kvbuf);
    long token = LLM_DEFAULT_TOKEN;
    jb_opt_int(p->options, llm_options, "token", &token);
    if (token >= cfg->vocab_size)
        return jb_err(err, errlen, JB_EINVAL, "%s: token=%ld is not below the vocabulary size %d",
                      name, token, cfg->vocab_size);
    int has_gguf = jb_option_get(p->options, "gguf", gguf, sizeof(gguf));
    int context = p->context > 0 ? p->context : LLM_DEFAULT_CONTEXT;
    if (p->context < 0 || context >= cfg->max_context)
        return jb_err(err, errlen, JB_ERANGE, "%s: context %d is beyond the model's limit (state "
                      "L decodes position L: L <= %d for its %d-token window)", name, p->context,
                      cfg->max_context - 1, cfg->max_context);
    if (p->scenario == JB_SCENARIO_SINGLE_STREAM && p->batch > 1)
        return jb_err(err, errlen, JB_EINVAL, "%s: single-stream decodes one sequence per step; "
                      "batch=%d needs scenario=offline", name, p->batch);
    int batch = p->scenario == JB_SCENARIO_OFFLINE && p->batch > 0 ? p->batch : 1;

    struct llm_wl *s = calloc(1, sizeof(*s));
    if (!s)
        return jb_err(err, errlen, JB_ENOMEM, "%s: out of memory", name);
    s->be = jb_llm_backend(b);
    s->context = context;
    s->batch = batch;
    struct jb_llm_problem prob = {
        .cfg = cfg,
        .dtype = (enum jb_llm_dtype)dt,
        .kv_dtype = kv < 0 ? (enum jb_llm_dtype)-1 : (enum jb_llm_dtype)kv,
        .batch = batch,
        .context = context,
        .token = (int)token,
        .seed = p->seed,
        .gguf = has_gguf ? gguf : NULL,
        .threads = p->threads > 0 ? p->threads : 1,
        .cpus = p->cpus,
        .bind_memory = p->bind_memory,
        .options = p->options,
    };
    if ((rc = s->be->open(&prob, &s->bs, err, errlen))) {
        s->bs = NULL;
        goto fail;
    }
    s->be->access(s->bs, &s->acc);
    s->be->info(s->bs, &s->wi, &s->li);
    size_t V = (size_t)s->acc.cfg->vocab_size;
    int nseq = s->li.check_seqs > 1 && batch > 1 ? 2 : 1;
    s->ref = malloc(sizeof(float) * V * (size_t)nseq);
    s->got = malloc(sizeof(float) * V);
    if (!s->ref || !s->got) {
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
    return s->be->run(s->bs, err, errlen);
}

static int llm_check(void *st, char *err, size_t errlen)
{
    struct llm_wl *s = st;
    const struct jb_llm_config *c = s->acc.cfg;
    int seqs[2] = {0, s->batch - 1}, nseq = s->li.check_seqs > 1 && s->batch > 1 ? 2 : 1, rc = 0;
    size_t V = (size_t)c->vocab_size;
    if (!s->ran)
        return jb_err(err, errlen, JB_ECHECK, "%s: check before any run", c->name);
    /* The reference depends only on the weights, the cache below L and the
     * tokens, which no step changes (each rewrites position L): once is enough. */
    if (!s->have_ref) {
        if ((rc = jb_llm_reference(&s->acc, s->context, nseq, seqs, s->ref, err, errlen)))
            goto out;
        s->have_ref = 1;
    }
    for (int i = 0; i < nseq; i++) {
        if ((rc = s->be->logits(s->bs, seqs[i], s->got, err, errlen)))
            goto out;
        double rel = jb_llm_rel_l2(s->got, s->ref + (size_t)i * V, V);
        if (!(rel <= s->li.tolerance)) {
            rc = jb_err(err, errlen, JB_ECHECK, "%s %s on %s: logits of sequence %d differ from "
                        "the fp32 reference by %.3g (relative L2), tolerance %.3g (%s)", c->name,
                        jb_llm_dtype_name(s->li.dtype), s->be->b.name, seqs[i], rel,
                        s->li.tolerance, s->li.tolerance_why);
            goto out;
        }
    }
out:
    return s->be->check_end ? s->be->check_end(s->bs, rc, err, errlen) : rc;
}

static void llm_info(const void *st, struct jb_workload_info *o)
{
    const struct llm_wl *s = st;
    const struct jb_llm_config *c = s->acc.cfg;
    *o = s->wi;
    double B = s->batch, L1 = s->context + 1.0, hd = (double)c->dim / c->n_heads;
    double kvd = hd * c->n_kv_heads, kv_elt = s->li.kv_elt_bytes;
    double mv = (double)c->n_layers * ((double)c->dim * (2.0 * c->dim + 2.0 * kvd) +
                                       3.0 * (double)c->dim * c->hidden_dim) +
                (double)c->dim * c->vocab_size;
    double attn = (double)c->n_layers * 2.0 * c->n_heads * hd * L1; /* q.k and p*v */
    /* element-wise work: norms (4/elem), RoPE (6 per pair), softmax (~5 per
     * score), SwiGLU (~6 per element), residuals */
    double elem = (double)c->n_layers * (8.0 * c->dim + 3.0 * (c->dim + kvd) +
                                         5.0 * c->n_heads * L1 + 6.0 * c->hidden_dim + 2.0 * c->dim) +
                  4.0 * c->dim;
    /* per token: L positions read and one written, per sequence; the weights
     * once per step, shared by the batch */
    double kv_rw = (double)c->n_layers * 2.0 * kvd * kv_elt * L1;
    snprintf(o->dtype, sizeof(o->dtype), "%s", jb_llm_dtype_name(s->li.dtype));
    o->units_per_iteration = s->batch;
    o->context = s->context;
    o->per_unit.macs = mv + attn;
    o->per_unit.flops = 2.0 * (mv + attn) + elem;
    o->per_unit.param_bytes = s->li.streamed_bytes / B;
    o->per_unit.activation_bytes = kv_rw;
    o->per_unit.bytes_moved = o->per_unit.param_bytes + kv_rw;
    o->parameters = s->li.param_count;
    if (s->batch > 1)
        snprintf(o->input_shape, sizeof(o->input_shape), "%dx1 tokens at position %d", s->batch,
                 s->context);
    else
        snprintf(o->input_shape, sizeof(o->input_shape), "1 token at L=%d", s->context);
    snprintf(o->check, sizeof(o->check), "logits%s vs the fp32 reference step on the back-end's "
             "weights and KV cache, relative L2 <= %.0e (%.40s)",
             s->batch > 1 && s->li.check_seqs > 1 ? " of seqs 0, batch-1" : "",
             s->li.tolerance, s->li.tolerance_why);
}

/* One workload per configuration row, and its alias cuda-<name>. */
#define JB_LLM_CONFIG(id, cname, dim, nl, nh, nkv, hid, voc, tied, ctx, theta, eps, rope, desc)   \
    static int open_##id(const struct jb_workload_params *p, void **st, char *err, size_t errlen) \
    {                                                                                             \
        return llm_open(cname, p, st, err, errlen);                                               \
    }                                                                                             \
    const struct jb_workload_ops jb_workload_llm_##id = {                                         \
        .name = cname,                                                                            \
        .version = "1",                                                                           \
        .family = "llm",                                                                          \
        .unit = "token",                                                                          \
        .dtypes = "fp32,bf16,fp16,q8_0,q4_0,q4_K,q5_K,q6_K",                                      \
        .description = desc,                                                                      \
        .options = llm_options,                                                                   \
        .open = open_##id,                                                                        \
        .run = llm_run,                                                                           \
        .check = llm_check,                                                                       \
        .info = llm_info,                                                                         \
        .close = llm_close,                                                                       \
    };                                                                                            \
    const struct jb_workload_ops jb_workload_llm_cuda_##id = {                                    \
        .name = "cuda-" cname,                                                                    \
        .version = "1",                                                                           \
        .family = "llm",                                                                          \
        .unit = "token",                                                                          \
        .dtypes = "fp32,bf16,fp16,q8_0,q4_0",                                                     \
        .description = "alias of " cname " --backend cuda",                                      \
        .options = llm_options,                                                                   \
        .alias_of = cname,                                                                        \
        .alias_backend = "cuda",                                                                  \
        .open = open_##id,                                                                        \
        .run = llm_run,                                                                           \
        .check = llm_check,                                                                       \
        .info = llm_info,                                                                         \
        .close = llm_close,                                                                       \
    };
#include "workloads/llm/llm_configs.h"
#undef JB_LLM_CONFIG
