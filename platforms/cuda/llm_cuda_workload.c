/* llm_cuda_workload.c: the LLM decode step on the GPU as workloads, one per
 * configuration of llm.h, named `cuda-<model>` (cuda-llama3.1-8b ...).
 *
 * Separate names (rather than a backend switch on the CPU workloads) keep
 * suite lines self-describing, since suite files have no backend key, and
 * let CPU and GPU results of one model sit side by side in a store. One
 * iteration is one decode step of `batch` sequences: units = batch tokens.
 * Compiled to nothing without CUDA. */
#ifdef JB_HAVE_CUDA
#include "base/error.h"
#include "platforms/cuda/cuda_rt.h"
#include "platforms/cuda/llm_cuda.h"
#include "workloads/llm/llm.h"
#include "workloads/workload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Default depth when the runner asks for none, as the CPU workloads do. */
#define CUDA_LLM_DEFAULT_CONTEXT 128

struct cuda_llm_state {
    struct jb_cuda_guard guard; /* a lost GPU, and the JB_CUDA_FAULT hook (cuda_rt.h) */
    struct jb_cuda_llm *m;
    const struct jb_llm_config *cfg;
    enum jb_llm_dtype dtype;
    int batch, context;
    double last_gpu_s;
    double rel_err, tol;
    float *ref_logits; /* the reference's logits, computed at the first check */
};

static int cuda_llm_open(const char *model, const struct jb_workload_params *p, void **st,
                         char *err, size_t errlen)
{
    const struct jb_llm_config *cfg = jb_llm_config_find(model);
    char buf[16];
    if (!cfg)
        return jb_err(err, errlen, JB_ENOENT, "cuda-%s: no such configuration in llm.h", model);
    int dt = jb_llm_dtype_parse(p->dtype && *p->dtype ? p->dtype : "bf16");
    if (dt != JB_LLM_BF16 && dt != JB_LLM_F16 && dt != JB_LLM_Q8_0 && dt != JB_LLM_Q4_0)
        return jb_err(err, errlen, JB_EINVAL,
                      "cuda-%s: dtype '%s' not supported (bf16, fp16, q8_0, q4_0)", model,
                      p->dtype);
    struct jb_cuda_llm_opts o = {
        .cfg = cfg,
        .dtype = (enum jb_llm_dtype)dt,
        .batch = p->batch > 0 ? p->batch : 1,
        .context = p->context > 0 ? p->context : CUDA_LLM_DEFAULT_CONTEXT,
        .seed = p->seed,
        .device = 0,
        .use_graph = 1,
    };
    /* Options: graph=0 times the launches one by one and pdl=0 without
     * programmatic dependent launch (to show what each saves); gemv_max=N
     * uses the GEMV up to batch N (<= 8) instead of cuBLAS or, for q8_0/q4_0,
     * the tensor-core kernel; qmma=1 reads one 16-byte piece per lane
     * and row there (A/B), qmma=0 takes q8_0/q4_0 off the tensor-core
     * kernel (GEMV at batch 1-2, dequantize + cuBLAS above); fuse=norm folds
     * RMSNorm into the GEMVs of the row-order GEMV path; attn=mma (or
     * mma-pf, prefetching) or attn=simt puts the attention on or off the
     * tensor cores (A/B);
     * device=N picks another GPU. */
    if (jb_option_get(p->options, "graph", buf, sizeof(buf)))
        o.use_graph = strcmp(buf, "0") != 0;
    if (jb_option_get(p->options, "pdl", buf, sizeof(buf)))
        o.no_pdl = strcmp(buf, "0") == 0;
    if (jb_option_get(p->options, "xperm", buf, sizeof(buf)))
        o.no_xperm = strcmp(buf, "0") == 0, o.xperm_16bit = strcmp(buf, "1") == 0;
    if (jb_option_get(p->options, "unroll", buf, sizeof(buf)))
        o.gemv_unroll = atoi(buf);
    if (jb_option_get(p->options, "fuse", buf, sizeof(buf)))
        o.fuse_norm = strcmp(buf, "norm") == 0;
    if (jb_option_get(p->options, "qmma", buf, sizeof(buf)))
        o.no_qmma = strcmp(buf, "0") == 0, o.qmma_pieces = atoi(buf) == 1 ? 1 : 0;
    if (jb_option_get(p->options, "gemv_max", buf, sizeof(buf)))
        o.gemv_max_batch = atoi(buf);
    if (jb_option_get(p->options, "attn", buf, sizeof(buf)))
        o.attn_mma = !strcmp(buf, "mma")      ? 1
                     : !strcmp(buf, "mma-pf") ? 2
                     : !strcmp(buf, "simt")   ? -1
                                              : 0;
    if (jb_option_get(p->options, "device", buf, sizeof(buf)))
        o.device = atoi(buf);
    struct cuda_llm_state *s = calloc(1, sizeof(*s));
    if (!s)
        return jb_err(err, errlen, JB_ENOMEM, "cuda-%s: out of memory", model);
    s->cfg = cfg;
    s->dtype = o.dtype;
    s->batch = o.batch;
    s->context = o.context;
    char name[64];
    snprintf(name, sizeof(name), "cuda-%s", model);
    int rc = jb_cuda_guard_open(&s->guard, o.device, name, err, errlen);
    if (!rc) {
        rc = jb_cuda_llm_open(&o, &s->m, err, errlen);
        rc = jb_cuda_guard_end(&s->guard, rc, err, errlen);
    }
    if (rc) {
        free(s);
        return rc;
    }
    *st = s;
    return 0;
}

static int cuda_llm_run(void *st, char *err, size_t errlen)
{
    struct cuda_llm_state *s = st;
    jb_cuda_guard_begin_run(&s->guard);
    int rc = jb_cuda_llm_step(s->m, &s->last_gpu_s, err, errlen);
    return jb_cuda_guard_end(&s->guard, rc, err, errlen);
}

static int cuda_llm_check(void *st, char *err, size_t errlen)
{
    struct cuda_llm_state *s = st;
    int rc = jb_cuda_llm_check(s->m, &s->ref_logits, &s->rel_err, &s->tol, err, errlen);
    return jb_cuda_guard_end_check(&s->guard, rc, err, errlen);
}

static void cuda_llm_info(const void *st, struct jb_workload_info *o)
{
    const struct cuda_llm_state *s = st;
    const struct jb_llm_config *c = s->cfg;
    double B = s->batch, hs = (double)c->dim / c->n_heads, kvd = hs * c->n_kv_heads;
    double w = jb_cuda_llm_weight_bytes(s->m);
    /* Per token: the weights once per step shared by the batch; the cache
     * read (positions 0..L) and the new position written, per sequence. */
    double kv_read = (double)c->n_layers * 2.0 * (s->context + 1) * kvd * 2.0;
    double kv_write = (double)c->n_layers * 2.0 * kvd * 2.0;
    double matmul_macs = jb_llm_param_count(c) - (c->tied ? 0.0 : (double)c->vocab_size * c->dim);
    double attn_macs = (double)c->n_layers * c->n_heads * 2.0 * (s->context + 1) * hs;
    snprintf(o->dtype, sizeof(o->dtype), "%s", jb_llm_dtype_name(s->dtype));
    snprintf(o->backend, sizeof(o->backend), "cuda");
    snprintf(o->kernel, sizeof(o->kernel), "%s", jb_cuda_llm_kernel(s->m));
    o->units_per_iteration = s->batch;
    o->threads = 1;
    o->context = s->context;
    o->per_unit.macs = matmul_macs + attn_macs;
    o->per_unit.flops = 2.0 * o->per_unit.macs;
    o->per_unit.param_bytes = w / B;
    o->per_unit.activation_bytes = kv_read + kv_write;
    o->per_unit.bytes_moved = w / B + kv_read + kv_write;
    snprintf(o->input_shape, sizeof(o->input_shape), "%dx1 tokens at position %d", s->batch,
             s->context);
    snprintf(o->check, sizeof(o->check),
             "logits of sequences 0 and batch-1 vs fp32 CPU reference on the GPU's weights: rel L2 "
             "<= %g",
             jb_cuda_llm_fp32_activations(s->m) ? 1e-3
             : s->dtype == JB_LLM_BF16          ? 5e-2
                                                : 1e-2);
    snprintf(o->timing, sizeof(o->timing), "cuda-events+sync");
    o->parameters = jb_llm_param_count(c);
}

static void cuda_llm_close(void *st)
{
    struct cuda_llm_state *s = st;
    if (!s)
        return;
    jb_cuda_llm_close(s->m);
    free(s->ref_logits);
    free(s);
}

#define CUDA_LLM_WORKLOAD(ident, model)                                                            \
    static int cuda_llm_open_##ident(const struct jb_workload_params *p, void **st, char *err,     \
                                     size_t errlen)                                                \
    {                                                                                              \
        return cuda_llm_open(model, p, st, err, errlen);                                           \
    }                                                                                              \
    const struct jb_workload_ops jb_workload_cuda_##ident = {                                      \
        .name = "cuda-" model,                                                                     \
        .version = "1",                                                                            \
        .family = "llm",                                                                           \
        .unit = "token",                                                                           \
        .dtypes = "bf16,fp16,q8_0,q4_0",                                                           \
        .backends = "cuda",                                                                        \
        .description = "LLM decode step of " model " on the GPU (batch = sequences)",              \
        .open = cuda_llm_open_##ident,                                                             \
        .run = cuda_llm_run,                                                                       \
        .check = cuda_llm_check,                                                                   \
        .info = cuda_llm_info,                                                                     \
        .close = cuda_llm_close,                                                                   \
    };

CUDA_LLM_WORKLOAD(stories15m, "stories15m")
CUDA_LLM_WORKLOAD(stories110m, "stories110m")
CUDA_LLM_WORKLOAD(tinyllama_1_1b, "tinyllama-1.1b")
CUDA_LLM_WORKLOAD(llama3_2_1b, "llama3.2-1b")
CUDA_LLM_WORKLOAD(llama3_1_8b, "llama3.1-8b")
CUDA_LLM_WORKLOAD(llama2_7b, "llama2-7b")
#else
/* ISO C forbids an empty translation unit. */
typedef int jb_llm_cuda_workload_unused;
#endif
