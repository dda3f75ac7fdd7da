/* llm_cuda_backend.c: the cuda LLM back-end: joulebench's CUDA decode step
 * (llm_cuda.cu), `batch` sequences per step, weights and cache generated on
 * the GPU from the seed with llm_format.h's formula. The oracle reads the
 * GPU's own weights and cache through jb_llm_access (a slice of rows at a
 * time), so every kernel of the step is checked at any model size. Built
 * only with CUDA (platforms/cuda/cuda.cmake). */
#include "base/error.h"
#include "platforms/backend.h"
#include "platforms/cuda/cuda_rt.h"
#include "platforms/cuda/llm_cuda.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct jb_option_def cuda_llm_options[] = {
    {"device", JB_OPT_INT, "0", 0, 63, NULL, "CUDA device ordinal"},
    {"graph", JB_OPT_BOOL, "1", 0, 0, NULL, "0: launch kernel by kernel instead of one graph"},
    {"pdl", JB_OPT_BOOL, "1", 0, 0, NULL, "0: no programmatic dependent launch"},
    {"xperm", JB_OPT_ENUM, NULL, 0, 0, "0|1", "GEMV activations: 0 row order, 1 chunk-transposed "
     "for 16-bit too"},
    {"unroll", JB_OPT_ENUM, NULL, 0, 0, "4|8", "GEMV chunks in flight per lane"},
    {"fuse", JB_OPT_ENUM, NULL, 0, 0, "norm|0", "norm: RMSNorm folded into the GEMVs"},
    {"qmma", JB_OPT_ENUM, NULL, 0, 0, "0|1", "q8_0/q4_0 tensor-core kernel: 0 off, 1 one piece "
     "per lane"},
    {"gemv_max", JB_OPT_INT, NULL, 1, 8, NULL, "GEMV up to this batch, cuBLAS or qmma above"},
    {"attn", JB_OPT_ENUM, NULL, 0, 0, "mma-pf|mma|simt", "attention on the tensor cores (mma-pf: "
     "with prefetch, the default where products round activations) or not (simt)"},
    {NULL, 0, NULL, 0, 0, NULL, NULL},
};

struct cuda_llm {
    struct jb_cuda_guard guard; /* a lost GPU, and the JB_CUDA_FAULT hook (cuda_rt.h) */
    struct jb_cuda_llm *m;
    const struct jb_llm_config *cfg;
    enum jb_llm_dtype dtype;
    int batch, context, device;
    double last_gpu_s;
    struct jb_cuda_llm_view view; /* the oracle's */
    char libraries[192];
};

static int cuda_llm_probe(char *why, size_t whylen)
{
    return jb_cuda_probe(0, NULL, why, whylen);
}

static void cuda_llm_close(void *st)
{
    struct cuda_llm *s = st;
    if (!s)
        return;
    jb_cuda_llm_view_free(&s->view);
    jb_cuda_llm_close(s->m);
    free(s);
}

static int cuda_llm_open(const struct jb_llm_problem *p, void **st, char *err, size_t errlen)
{
    const struct jb_llm_config *cfg = p->cfg;
    const char *spec = p->options;
    long v;
    char buf[16];
    if (p->gguf)
        return jb_err(err, errlen, JB_ENOTSUP, "%s on cuda: gguf= weights are not loaded by the "
                      "cuda back-end (synthetic weights only)", cfg->name);
    if ((int)p->kv_dtype >= 0 && p->kv_dtype != JB_LLM_F16)
        return jb_err(err, errlen, JB_EINVAL, "%s on cuda: the cache is fp16 (kv=fp16)",
                      cfg->name);
    if (p->token != 1)
        return jb_err(err, errlen, JB_EINVAL, "%s on cuda: each sequence draws its token from "
                      "the seed (token= is for the cpu back-end)", cfg->name);
    struct jb_cuda_llm_opts o = {
        .cfg = cfg,
        .dtype = p->dtype,
        .batch = p->batch > 0 ? p->batch : 1,
        .context = p->context,
        .seed = p->seed,
        .device = 0,
        .use_graph = 1,
    };
    /* graph=0 times the launches one by one and pdl=0 without programmatic
     * dependent launch (to show what each saves); gemv_max=N uses the GEMV up
     * to batch N (<= 8) instead of cuBLAS or, for q8_0/q4_0, the tensor-core
     * kernel; qmma=1 reads one 16-byte piece per lane and row there (A/B),
     * qmma=0 takes q8_0/q4_0 off the tensor-core kernel; fuse=norm folds
     * RMSNorm into the GEMVs of the row-order GEMV path; attn=mma, mma-pf
     * or simt puts the attention on or off the tensor cores (A/B). */
    if (jb_opt_int(spec, cuda_llm_options, "device", &v))
        o.device = (int)v;
    if (jb_opt_int(spec, cuda_llm_options, "graph", &v))
        o.use_graph = v != 0;
    if (jb_opt_int(spec, cuda_llm_options, "pdl", &v))
        o.no_pdl = v == 0;
    if (jb_option_get(spec, "xperm", buf, sizeof(buf)))
        o.no_xperm = !strcmp(buf, "0"), o.xperm_16bit = !strcmp(buf, "1");
    if (jb_opt_int(spec, cuda_llm_options, "unroll", &v))
        o.gemv_unroll = (int)v;
    if (jb_option_get(spec, "fuse", buf, sizeof(buf)))
        o.fuse_norm = !strcmp(buf, "norm");
    if (jb_option_get(spec, "qmma", buf, sizeof(buf)))
        o.no_qmma = !strcmp(buf, "0"), o.qmma_pieces = !strcmp(buf, "1");
    if (jb_opt_int(spec, cuda_llm_options, "gemv_max", &v))
        o.gemv_max_batch = (int)v;
    if (jb_option_get(spec, "attn", buf, sizeof(buf)))
        o.attn_mma = !strcmp(buf, "mma") ? 1 : !strcmp(buf, "mma-pf") ? 2 : -1;
    struct cuda_llm *s = calloc(1, sizeof(*s));
    if (!s)
        return jb_err(err, errlen, JB_ENOMEM, "%s on cuda: out of memory", cfg->name);
    s->cfg = cfg;
    s->dtype = o.dtype;
    s->batch = o.batch;
    s->context = o.context;
    s->device = o.device;
    char name[64];
    snprintf(name, sizeof(name), "%s on cuda", cfg->name);
    struct jb_cuda_device_info di;
    int rc = jb_cuda_guard_open(&s->guard, o.device, name, err, errlen);
    if (!rc)
        rc = jb_cuda_probe(o.device, &di, err, errlen);
    if (!rc) {
        rc = jb_cuda_llm_open(&o, &s->m, err, errlen);
        rc = jb_cuda_guard_end(&s->guard, rc, err, errlen);
    }
    if (rc) {
        free(s);
        return rc;
    }
    int cb = jb_cuda_cublas_version();
    snprintf(s->libraries, sizeof(s->libraries),
             "cuBLAS %d.%d.%d, CUDA runtime %d.%d, driver API %d.%d, %s", cb / 10000,
             cb / 100 % 100, cb % 100, di.runtime_version / 1000, di.runtime_version % 1000 / 10,
             di.driver_version / 1000, di.driver_version % 1000 / 10, di.name);
    *st = s;
    return JB_OK;
}

static int cuda_llm_run(void *st, char *err, size_t errlen)
{
    struct cuda_llm *s = st;
    jb_cuda_guard_begin_run(&s->guard);
    int rc = jb_cuda_llm_step(s->m, &s->last_gpu_s, err, errlen);
    return jb_cuda_guard_end(&s->guard, rc, err, errlen);
}

static int cuda_llm_logits(void *st, int seq, float *out, char *err, size_t errlen)
{
    struct cuda_llm *s = st;
    return jb_cuda_llm_logits(s->m, seq, out, err, errlen);
}

static int cuda_llm_check_end(void *st, int rc, char *err, size_t errlen)
{
    struct cuda_llm *s = st;
    return jb_cuda_guard_end_check(&s->guard, rc, err, errlen);
}

static int acc_rows(void *ctx, enum jb_llm_tensor_kind kind, int layer, int r0, int n, void *dst,
                    enum jb_llm_dtype *dtype, char *err, size_t errlen)
{
    struct jb_cuda_llm_view *v = ctx;
    if (kind == JB_LLM_T_OUTPUT && jb_cuda_llm_config(v->m)->tied)
        kind = JB_LLM_T_TOKEN_EMBD;
    *dtype = jb_cuda_llm_dtype(v->m);
    return jb_cuda_llm_get_rows(v->m, kind, layer, r0, n, dst, err, errlen);
}

/* The GPU's norm vectors are the synthetic ones of llm_format.h (offset 1,
 * scale 0.1); a separate test (test_cuda_llm.c) compares the GPU's weights
 * with jb_llm_weights_synth's. */
static int acc_norm(void *ctx, enum jb_llm_tensor_kind kind, int layer, float *dst, char *err,
                    size_t errlen)
{
    (void)err;
    (void)errlen;
    struct jb_cuda_llm_view *v = ctx;
    jb_llm_synth_values(jb_cuda_llm_seed(v->m),
                        jb_llm_tensor_id(kind == JB_LLM_T_OUTPUT_NORM ? 0 : layer, kind), 0,
                        (size_t)jb_cuda_llm_config(v->m)->dim, 1.0f, 0.1f, dst);
    return JB_OK;
}

static int acc_kv(void *ctx, int layer, int seq, int npos, float *k, float *v, char *err,
                  size_t errlen)
{
    struct jb_cuda_llm_view *w = ctx;
    const struct jb_llm_config *c = jb_cuda_llm_config(w->m);
    int L = jb_cuda_llm_context(w->m);
    size_t kvd = (size_t)(c->dim / c->n_heads) * (size_t)c->n_kv_heads;
    size_t n = (size_t)L * kvd;
    if (npos != L)
        return jb_err(err, errlen, JB_EINVAL, "cuda cache: %d positions held, %d asked", L, npos);
    if (!w->kbuf) {
        w->kbuf = malloc(2 * n + 2);
        w->vbuf = malloc(2 * n + 2);
    }
    if (!w->kbuf || !w->vbuf)
        return jb_err(err, errlen, JB_ENOMEM, "cuda cache: out of host memory");
    int rc = jb_cuda_llm_get_kv(w->m, layer, seq, w->kbuf, w->vbuf, err, errlen);
    if (rc)
        return rc;
    for (size_t i = 0; i < n; i++) {
        k[i] = jb_f32_from_fp16(w->kbuf[i]);
        v[i] = jb_f32_from_fp16(w->vbuf[i]);
    }
    return JB_OK;
}

static int acc_token(void *ctx, int seq)
{
    return jb_cuda_llm_token(((struct jb_cuda_llm_view *)ctx)->m, seq);
}

void jb_cuda_llm_access(struct jb_cuda_llm_view *v, struct jb_llm_access *a)
{
    memset(a, 0, sizeof(*a));
    a->ctx = v;
    a->cfg = jb_cuda_llm_config(v->m);
    a->kv_dtype = JB_LLM_F16;
    a->rounds_new_kv = 1; /* the step stores K/V at L in fp16 and attends over them so */
    a->rows = acc_rows;
    a->norm = acc_norm;
    a->kv = acc_kv;
    a->token = acc_token;
}

void jb_cuda_llm_view_free(struct jb_cuda_llm_view *v)
{
    free(v->kbuf);
    free(v->vbuf);
    v->kbuf = v->vbuf = NULL;
}

/* fp32 activations (GEMV): only summation order and transcendental
 * rounding differ, far under 1e-3. cuBLAS rounds every activation to fp16
 * (11 bits) or bf16 (8 bits) before each product: about 2^-11 and 2^-8 per
 * product, growing through the layers. */
double jb_cuda_llm_tolerance(const struct jb_cuda_llm *m, const char **why)
{
    int fp32 = jb_cuda_llm_fp32_activations(m);
    int bf16 = jb_cuda_llm_dtype(m) == JB_LLM_BF16;
    if (why)
        *why = fp32 ? "fp32 activations, fp16 KV" : bf16 ? "bf16 GEMM activations"
                                                         : "fp16 GEMM activations";
    return fp32 ? 1e-3 : bf16 ? 5e-2 : 1e-2;
}

static void cuda_llm_access(void *st, struct jb_llm_access *a)
{
    struct cuda_llm *s = st;
    s->view.m = s->m;
    jb_cuda_llm_access(&s->view, a);
}

static void cuda_llm_info(const void *st, struct jb_workload_info *o,
                          struct jb_llm_backend_info *li)
{
    const struct cuda_llm *s = st;
    const struct jb_llm_config *c = s->cfg;
    memset(o, 0, sizeof(*o));
    memset(li, 0, sizeof(*li));
    snprintf(o->backend, sizeof(o->backend), "cuda");
    snprintf(o->backend_version, sizeof(o->backend_version), "1");
    snprintf(o->libraries, sizeof(o->libraries), "%s", s->libraries);
    snprintf(o->kernel, sizeof(o->kernel), "%s", jb_cuda_llm_kernel(s->m));
    snprintf(o->timing, sizeof(o->timing), "cuda-events+sync");
    o->threads = 1;
    li->dtype = s->dtype;
    li->weight_bytes = jb_cuda_llm_weight_bytes(s->m);
    /* the whole table is resident but one step reads one embedding row */
    li->streamed_bytes = li->weight_bytes -
                         (c->tied ? 0.0 : (double)jb_llm_row_bytes(s->dtype, c->dim) *
                                              (c->vocab_size - 1.0));
    li->param_count = jb_llm_param_count(c);
    li->kv_elt_bytes = 2;
    li->any_quant = s->dtype == JB_LLM_Q8_0 || s->dtype == JB_LLM_Q4_0;
    const char *why;
    li->tolerance = jb_cuda_llm_tolerance(s->m, &why);
    snprintf(li->tolerance_why, sizeof(li->tolerance_why), "%s", why);
    li->check_seqs = 2;
}

const struct jb_llm_backend_ops jb_llm_backend_cuda = {
    .b =
        {
            .name = "cuda",
            .family = "llm",
            .version = "1",
            .dtypes = "bf16,fp16,q8_0,q4_0",
            .description = "joulebench's CUDA kernels (GEMV, tensor-core q8_0/q4_0, cuBLAS at "
                           "larger batch), one CUDA graph per step",
            .options = cuda_llm_options,
            .probe = cuda_llm_probe,
        },
    .open = cuda_llm_open,
    .run = cuda_llm_run,
    .logits = cuda_llm_logits,
    .access = cuda_llm_access,
    .info = cuda_llm_info,
    .check_end = cuda_llm_check_end,
    .close = cuda_llm_close,
};
