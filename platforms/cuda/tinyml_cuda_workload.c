/* tinyml_cuda_workload.c: the four MLPerf Tiny models on the GPU as
 * workloads: cuda-kws-dscnn, cuda-vww-mobilenet, cuda-ic-resnet8,
 * cuda-ad-autoencoder, int8 or fp32.
 *
 * Separate names, as for the LLM (llm_cuda_workload.c): suite lines stay
 * self-describing and CPU and GPU results of one model sit side by side in a
 * store. The model (weights, quantization) is built on the CPU exactly as
 * the CPU workloads build it from the seed, then uploaded; the inputs of the
 * batch are drawn and uploaded at open, so run() is nothing but the GPU
 * pass (one graph replay), synchronized at its end. check() recomputes one
 * item of the last batch (rotating through the batch) with the portable
 * reference kernels on the same model and input: int8 must match bit for
 * bit, fp32 within JB_TM_F32_RTOL. Options: graph=0 (launch layer by
 * layer, to show what the graph saves), device=N. Compiled to nothing
 * without CUDA. */
#ifdef JB_HAVE_CUDA
#include "base/error.h"
#include "platforms/cuda/cuda_rt.h"
#include "platforms/cuda/tinyml_cuda.h"
#include "workloads/tinyml/tinyml_model.h"
#include "workloads/tinyml/tinyml_official.h"
#include "workloads/tinyml/tinyml_workload.h"
#include "workloads/workload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cuda_tm_state {
    struct jb_cuda_guard guard; /* a lost GPU, and the JB_CUDA_FAULT hook (cuda_rt.h) */
    const struct jb_tm_model_def *def;
    struct jb_tm_model *m; /* the CPU model: the GPU's source and the check's oracle */
    struct jb_cuda_tinyml *g;
    enum jb_tm_dtype dtype;
    int batch;
    size_t in_bytes, out_bytes;
    uint8_t *inputs, *got, *ref, *arena;
    uint64_t checks;
    double last_gpu_s;
    struct jb_tm_model_source src; /* official file, user's file or synthetic */
};

static void cuda_tm_close(void *st)
{
    struct cuda_tm_state *s = st;
    if (!s)
        return;
    jb_cuda_tinyml_close(s->g);
    jb_tm_model_close(s->m);
    free(s->inputs);
    free(s->got);
    free(s->ref);
    free(s->arena);
    free(s);
}

static int cuda_tm_open(const struct jb_tm_model_def *def, const struct jb_workload_params *p,
                        void **st, char *err, size_t errlen)
{
    int rc = 0;
    enum jb_tm_dtype dtype;
    char opt[16];
    struct cuda_tm_state *s = NULL;
    struct jb_cuda_tinyml_opts o = {.batch = 1, .device = 0, .use_graph = 1};
    char name[64];
    snprintf(name, sizeof(name), "cuda-%s", def->name);
    if ((rc = jb_tm_workload_params(p, name, "cuda", &dtype, err, errlen)))
        return rc;
    if (jb_option_get(p->options, "graph", opt, sizeof(opt)))
        o.use_graph = strcmp(opt, "0") != 0;
    if (jb_option_get(p->options, "device", opt, sizeof(opt)))
        o.device = atoi(opt);
    o.batch = p->scenario == JB_SCENARIO_OFFLINE && p->batch > 0 ? p->batch : 1;
    s = calloc(1, sizeof(*s));
    if (!s)
        return jb_err(err, errlen, JB_ENOMEM, "cuda-%s: out of memory", def->name);
    /* before building the model: without a GPU, or with one this process
     * has lost, say so at once */
    if ((rc = jb_cuda_guard_open(&s->guard, o.device, name, err, errlen)) ||
        (rc = jb_cuda_probe(o.device, NULL, err, errlen)))
        goto out;
    s->def = def;
    s->dtype = dtype;
    s->batch = o.batch;
    /* reference ISA: the CPU model only serves as the GPU's source and the
     * check's oracle, which runs the reference kernels */
    if ((rc = jb_tm_workload_model_open(def, dtype, p->options, p->seed, JB_ISA_REFERENCE, &s->m,
                                        &s->src, err, errlen)))
        goto out;
    s->in_bytes = jb_tm_model_input_elems(s->m) * jb_tm_model_elem_bytes(s->m);
    s->out_bytes = jb_tm_model_output_elems(s->m) * jb_tm_model_elem_bytes(s->m);
    s->inputs = malloc(s->in_bytes * (size_t)s->batch);
    s->got = malloc(s->out_bytes);
    s->ref = malloc(s->out_bytes);
    s->arena = aligned_alloc(64, jb_tm_model_arena_bytes(s->m));
    if (!s->inputs || !s->got || !s->ref || !s->arena) {
        rc = jb_err(err, errlen, JB_ENOMEM, "cuda-%s: out of memory for batch %d", def->name,
                    s->batch);
        goto out;
    }
    /* the same inputs, item for item, as the CPU workloads draw */
    for (int i = 0; i < s->batch; i++)
        if (jb_tm_model_make_input(s->m, p->seed, (uint64_t)i,
                                   s->inputs + s->in_bytes * (size_t)i)) {
            rc = jb_err(err, errlen, JB_ENOMEM, "cuda-%s: out of memory drawing inputs", def->name);
            goto out;
        }
    rc = jb_cuda_tinyml_open(s->m, &o, s->inputs, &s->g, err, errlen);
    if ((rc = jb_cuda_guard_end(&s->guard, rc, err, errlen)))
        goto out;
    *st = s;
    return 0;
out:
    cuda_tm_close(s);
    return rc;
}

static int cuda_tm_run(void *st, char *err, size_t errlen)
{
    struct cuda_tm_state *s = st;
    jb_cuda_guard_begin_run(&s->guard);
    int rc = jb_cuda_tinyml_run(s->g, &s->last_gpu_s, err, errlen);
    return jb_cuda_guard_end(&s->guard, rc, err, errlen);
}

static int cuda_tm_check(void *st, char *err, size_t errlen)
{
    struct cuda_tm_state *s = st;
    /* a different item each check, so that a long run covers the batch */
    int item = (int)((s->checks++ * 7919u) % (uint64_t)s->batch);
    int rc = jb_cuda_tinyml_output(s->g, item, s->got, err, errlen);
    if (rc)
        return jb_cuda_guard_end_check(&s->guard, rc, err, errlen);
    jb_tm_model_run(s->m, 1, s->inputs + s->in_bytes * (size_t)item, s->ref, s->arena);
    char name[64];
    snprintf(name, sizeof(name), "cuda-%s", s->def->name);
    rc = jb_tm_workload_compare(name, s->dtype, (size_t)item, s->got, s->ref,
                                jb_tm_model_output_elems(s->m), err, errlen);
    return jb_cuda_guard_end_check(&s->guard, rc, err, errlen);
}

static void cuda_tm_info(const void *st, struct jb_workload_info *o)
{
    const struct cuda_tm_state *s = st;
    const struct jb_tm_counts *c = jb_tm_model_counts(s->m);
    const struct jb_tm_model_def *d = jb_tm_model_get_def(s->m);
    snprintf(o->dtype, sizeof(o->dtype), "%s", s->dtype == JB_TM_INT8 ? "int8" : "fp32");
    snprintf(o->backend, sizeof(o->backend), "cuda");
    snprintf(o->model_weights, sizeof(o->model_weights), "%s", s->src.weights);
    snprintf(o->model_file, sizeof(o->model_file), "%s", s->src.file);
    snprintf(o->model_sha256, sizeof(o->model_sha256), "%s", s->src.sha256);
    snprintf(o->kernel, sizeof(o->kernel), "%s", jb_cuda_tinyml_kernel(s->g));
    o->units_per_iteration = s->batch;
    o->threads = 1;
    o->context = 0;
    o->per_unit.macs = c->macs;
    o->per_unit.flops = c->flops;
    o->per_unit.param_bytes = c->param_bytes;
    o->per_unit.activation_bytes = c->activation_bytes;
    o->per_unit.bytes_moved = c->param_bytes + c->activation_bytes;
    snprintf(o->input_shape, sizeof(o->input_shape), "%dx%dx%dx%d", s->batch, d->in_h, d->in_w,
             d->in_c);
    if (s->dtype == JB_TM_INT8)
        snprintf(o->check, sizeof(o->check),
                 "one item per check vs the CPU reference kernels on the same model: int8 "
                 "bit-exact");
    else
        snprintf(o->check, sizeof(o->check),
                 "one item per check vs the CPU reference kernels on the same model: "
                 "|out-ref| <= %.0e * max(1, max|ref|)",
                 (double)JB_TM_F32_RTOL);
    snprintf(o->timing, sizeof(o->timing), "cuda-events");
    o->parameters = c->params;
}

#define CUDA_TM_WORKLOAD(ident, defv, nm, desc)                                                    \
    static int cuda_tm_open_##ident(const struct jb_workload_params *p, void **st, char *err,      \
                                    size_t errlen)                                                 \
    {                                                                                              \
        return cuda_tm_open(&defv, p, st, err, errlen);                                            \
    }                                                                                              \
    static int cuda_tm_validate_##ident(const char *dtype, const char *options, char *err,         \
                                        size_t errlen)                                             \
    {                                                                                              \
        return jb_tm_workload_validate(&defv, dtype, options, err, errlen);                        \
    }                                                                                              \
    const struct jb_workload_ops jb_workload_cuda_##ident = {                                      \
        .name = nm,                                                                                \
        .version = "2",                                                                            \
        .family = "tinyml",                                                                        \
        .unit = "inference",                                                                       \
        .dtypes = "int8,fp32",                                                                     \
        .backends = "cuda",                                                                        \
        .description = desc,                                                                       \
        .open = cuda_tm_open_##ident,                                                              \
        .validate = cuda_tm_validate_##ident,                                                      \
        .run = cuda_tm_run,                                                                        \
        .check = cuda_tm_check,                                                                    \
        .info = cuda_tm_info,                                                                      \
        .close = cuda_tm_close,                                                                    \
    };

CUDA_TM_WORKLOAD(kws_dscnn, jb_tm_kws_dscnn, "cuda-kws-dscnn",
                 "MLPerf Tiny keyword spotting (DS-CNN) on the GPU, batch = items")
CUDA_TM_WORKLOAD(vww_mobilenet, jb_tm_vww_mobilenet, "cuda-vww-mobilenet",
                 "MLPerf Tiny visual wake words (MobileNetV1 0.25) on the GPU, batch = items")
CUDA_TM_WORKLOAD(ic_resnet8, jb_tm_ic_resnet8, "cuda-ic-resnet8",
                 "MLPerf Tiny image classification (ResNet-8) on the GPU, batch = items")
CUDA_TM_WORKLOAD(ad_autoencoder, jb_tm_ad_autoencoder, "cuda-ad-autoencoder",
                 "MLPerf Tiny anomaly detection (FC autoencoder) on the GPU, batch = items")
#else
/* ISO C forbids an empty translation unit. */
typedef int jb_tinyml_cuda_workload_unused;
#endif
