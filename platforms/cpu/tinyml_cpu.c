/* tinyml_cpu.c: the cpu TinyML back-end: joulebench's CPU kernels for this
 * CPU's instruction set (or the portable reference kernels, kernel=reference,
 * for comparisons).
 *
 * single-stream: one inference per run(), on the calling thread (one item
 * gains nothing from splitting across cores at these sizes: a layer is
 * tens of microseconds). offline: `batch` inferences per run(), the batch
 * split into contiguous ranges over the thread pool, each worker with its
 * own arena. */
#include "base/error.h"
#include "platforms/backend.h"
#include "platforms/cpu/cpu_features.h"
#include "platforms/cpu/threadpool.h"
#include "platforms/tinyml/tinyml_model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct jb_option_def tm_cpu_options[] = {
    {"kernel", JB_OPT_ENUM, "optimized", 0, 0, "optimized|reference",
     "reference: time the portable reference kernels instead"},
    {NULL, 0, NULL, 0, 0, NULL, NULL},
};

struct tm_cpu {
    struct jb_tm_model *m;
    struct jb_pool *pool;
    int threads, batch, reference;
    size_t in_bytes, out_bytes, arena_bytes;
    const uint8_t *inputs; /* the model layer's, borrowed */
    uint8_t *outputs, *arenas;
};

static void tm_cpu_close(void *st)
{
    struct tm_cpu *w = st;
    if (!w)
        return;
    jb_pool_destroy(w->pool);
    jb_tm_model_close(w->m);
    free(w->outputs);
    free(w->arenas);
    free(w);
}

static int tm_cpu_open(const struct jb_tinyml_problem *p, void **st, char *err, size_t errlen)
{
    char opt[32] = "optimized";
    jb_opt_str(p->options, tm_cpu_options, "kernel", opt, sizeof(opt));
    struct tm_cpu *w = calloc(1, sizeof(*w));
    int rc;
    if (!w)
        return jb_err(err, errlen, JB_ENOMEM, "%s: out of memory", p->def->name);
    w->reference = !strcmp(opt, "reference");
    w->batch = p->batch;
    w->threads = p->threads > w->batch ? w->batch : p->threads;
    /* the model layer's model (synthetic, official or a user's file), with
     * kernels for this CPU */
    rc = jb_tm_model_reopen(p->model, w->reference ? JB_ISA_REFERENCE : jb_cpu_isa(), &w->m, err,
                            errlen);
    if (rc)
        goto fail;
    w->in_bytes = p->in_bytes;
    w->out_bytes = p->out_bytes;
    w->arena_bytes = jb_tm_model_arena_bytes(w->m);
    w->inputs = p->inputs;
    w->outputs = calloc((size_t)w->batch, w->out_bytes);
    w->arenas = aligned_alloc(64, w->arena_bytes * (size_t)w->threads);
    if (!w->outputs || !w->arenas) {
        rc = jb_err(err, errlen, JB_ENOMEM, "%s: out of memory for batch %d", p->def->name,
                    w->batch);
        goto fail;
    }
    rc = jb_pool_create(w->threads, p->cpus, p->bind_memory, &w->pool, err, errlen);
    if (rc)
        goto fail;
    *st = w;
    return JB_OK;
fail:
    tm_cpu_close(w);
    return rc;
}

static void tm_cpu_worker(void *arg, int tid, int nt)
{
    struct tm_cpu *w = arg;
    size_t b, e;
    jb_pool_range((size_t)w->batch, 1, tid, nt, &b, &e);
    void *arena = w->arenas + w->arena_bytes * (size_t)tid;
    for (size_t i = b; i < e; i++)
        jb_tm_model_run(w->m, w->reference, w->inputs + w->in_bytes * i,
                        w->outputs + w->out_bytes * i, arena);
}

static int tm_cpu_run(void *st, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    struct tm_cpu *w = st;
    if (w->threads == 1)
        tm_cpu_worker(w, 0, 1);
    else
        jb_pool_run(w->pool, tm_cpu_worker, w);
    return JB_OK;
}

static int tm_cpu_output(void *st, int item, void *dst, char *err, size_t errlen)
{
    struct tm_cpu *w = st;
    if (item < 0 || item >= w->batch)
        return jb_err(err, errlen, JB_EINVAL, "cpu: no batch item %d", item);
    memcpy(dst, w->outputs + w->out_bytes * (size_t)item, w->out_bytes);
    return JB_OK;
}

static void tm_cpu_info(const void *st, struct jb_workload_info *o)
{
    const struct tm_cpu *w = st;
    snprintf(o->backend, sizeof(o->backend), "cpu");
    snprintf(o->backend_version, sizeof(o->backend_version), "1");
    snprintf(o->kernel, sizeof(o->kernel), "%s%s",
             w->reference ? "reference" : jb_isa_name(jb_tm_model_isa(w->m)),
             w->threads == 1 ? ", 1 thread" : ", batch split over threads");
    snprintf(o->timing, sizeof(o->timing), "host-clock");
    o->threads = w->threads;
}

const struct jb_tinyml_backend_ops jb_tinyml_backend_cpu = {
    .b =
        {
            .name = "cpu",
            .family = "tinyml",
            .version = "1",
            .dtypes = "int8,fp32",
            .description = "joulebench's CPU kernels (AVX-512, AVX2 or portable C, chosen at run "
                           "time; kernel=reference for the portable ones)",
            .options = tm_cpu_options,
            .probe = NULL,
        },
    .open = tm_cpu_open,
    .run = tm_cpu_run,
    .output = tm_cpu_output,
    .info = tm_cpu_info,
    .check_end = NULL,
    .close = tm_cpu_close,
};
