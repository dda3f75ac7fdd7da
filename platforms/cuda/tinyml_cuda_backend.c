/* tinyml_cuda_backend.c: the cuda TinyML back-end: the four MLPerf Tiny
 * models on the GPU, int8 or fp32. The model layer's model (weights,
 * quantization, built on the CPU from the seed) is uploaded; the inputs of
 * the batch are uploaded at open, so run() is nothing but the GPU pass (one
 * graph replay), synchronized at its end. Options: graph=0 (launch layer by
 * layer, to show what the graph saves), kernels=tiled|plain (shared-memory
 * tiles for conv, depthwise and FC, the default since its H200 run; or one
 * thread per output), device=N. Built only with CUDA
 * (platforms/cuda/cuda.cmake). */
#include "base/error.h"
#include "platforms/backend.h"
#include "platforms/cuda/cuda_rt.h"
#include "platforms/cuda/tinyml_cuda.h"
#include "platforms/tinyml/tinyml_model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct jb_option_def tm_cuda_options[] = {
    {"device", JB_OPT_INT, "0", 0, 63, NULL, "CUDA device ordinal"},
    {"graph", JB_OPT_BOOL, "1", 0, 0, NULL, "0: launch layer by layer instead of one graph"},
    {"kernels", JB_OPT_ENUM, "tiled", 0, 0, "plain|tiled", "conv/depthwise/FC kernels: tiled "
     "(shared-memory tiles, the default) or plain (one thread per output)"},
    {NULL, 0, NULL, 0, 0, NULL, NULL},
};

struct cuda_tm {
    struct jb_cuda_guard guard; /* a lost GPU, and the JB_CUDA_FAULT hook (cuda_rt.h) */
    struct jb_cuda_tinyml *g;
    int batch;
    double last_gpu_s;
    char libraries[160];
};

static int cuda_tm_probe(char *why, size_t whylen)
{
    return jb_cuda_probe(0, NULL, why, whylen);
}

static void cuda_tm_close(void *st)
{
    struct cuda_tm *s = st;
    if (!s)
        return;
    jb_cuda_tinyml_close(s->g);
    free(s);
}

static int cuda_tm_open(const struct jb_tinyml_problem *p, void **st, char *err, size_t errlen)
{
    int rc;
    long v;
    char buf[16];
    struct jb_cuda_tinyml_opts o = {
        .batch = p->batch, .device = 0, .use_graph = 1, .kernels = JB_CUDA_TM_PLAIN};
    if (jb_opt_int(p->options, tm_cuda_options, "graph", &v))
        o.use_graph = v != 0;
    if (jb_opt_int(p->options, tm_cuda_options, "device", &v))
        o.device = (int)v;
    if (jb_opt_str(p->options, tm_cuda_options, "kernels", buf, sizeof(buf)) &&
        !strcmp(buf, "tiled"))
        o.kernels = JB_CUDA_TM_TILED;
    struct cuda_tm *s = calloc(1, sizeof(*s));
    if (!s)
        return jb_err(err, errlen, JB_ENOMEM, "%s on cuda: out of memory", p->def->name);
    char name[64];
    snprintf(name, sizeof(name), "%s on cuda", p->def->name);
    s->batch = p->batch;
    struct jb_cuda_device_info di;
    /* without a GPU, or with one this process has lost, say so at once */
    if ((rc = jb_cuda_guard_open(&s->guard, o.device, name, err, errlen)) ||
        (rc = jb_cuda_probe(o.device, &di, err, errlen)))
        goto out;
    rc = jb_cuda_tinyml_open(p->model, &o, p->inputs, &s->g, err, errlen);
    if ((rc = jb_cuda_guard_end(&s->guard, rc, err, errlen)))
        goto out;
    snprintf(s->libraries, sizeof(s->libraries), "CUDA runtime %d.%d, driver API %d.%d, %s",
             di.runtime_version / 1000, di.runtime_version % 1000 / 10,
             di.driver_version / 1000, di.driver_version % 1000 / 10, di.name);
    *st = s;
    return JB_OK;
out:
    cuda_tm_close(s);
    return rc;
}

static int cuda_tm_run(void *st, char *err, size_t errlen)
{
    struct cuda_tm *s = st;
    jb_cuda_guard_begin_run(&s->guard);
    int rc = jb_cuda_tinyml_run(s->g, &s->last_gpu_s, err, errlen);
    return jb_cuda_guard_end(&s->guard, rc, err, errlen);
}

static int cuda_tm_output(void *st, int item, void *dst, char *err, size_t errlen)
{
    struct cuda_tm *s = st;
    return jb_cuda_tinyml_output(s->g, item, dst, err, errlen);
}

static int cuda_tm_check_end(void *st, int rc, char *err, size_t errlen)
{
    struct cuda_tm *s = st;
    return jb_cuda_guard_end_check(&s->guard, rc, err, errlen);
}

static void cuda_tm_info(const void *st, struct jb_workload_info *o)
{
    const struct cuda_tm *s = st;
    snprintf(o->backend, sizeof(o->backend), "cuda");
    snprintf(o->backend_version, sizeof(o->backend_version), "1");
    snprintf(o->libraries, sizeof(o->libraries), "%s", s->libraries);
    snprintf(o->kernel, sizeof(o->kernel), "%s", jb_cuda_tinyml_kernel(s->g));
    snprintf(o->timing, sizeof(o->timing), "cuda-events");
    o->threads = 1;
}

const struct jb_tinyml_backend_ops jb_tinyml_backend_cuda = {
    .b =
        {
            .name = "cuda",
            .family = "tinyml",
            .version = "1",
            .dtypes = "int8,fp32",
            .description = "joulebench's CUDA kernels, the whole batch in one CUDA graph",
            .options = tm_cuda_options,
            .probe = cuda_tm_probe,
        },
    .open = cuda_tm_open,
    .run = cuda_tm_run,
    .output = cuda_tm_output,
    .info = cuda_tm_info,
    .check_end = cuda_tm_check_end,
    .close = cuda_tm_close,
};
