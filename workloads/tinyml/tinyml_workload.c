/* tinyml_workload.c: the four MLPerf Tiny models as joulebench workloads
 * (kws-dscnn, vww-mobilenet, ic-resnet8, ad-autoencoder), int8 or fp32:
 * the trained reference models by default, synthetic weights or a user's
 * TFLite file by option (tinyml_official.h).
 *
 * single-stream: one inference per run(), on the calling thread (one item
 * gains nothing from splitting across cores at these sizes: a layer is
 * tens of microseconds). offline: `batch` inferences per run(), the batch
 * split into contiguous ranges over the thread pool, each worker with its
 * own arena. Inputs are drawn at open, one per batch item, so run() does
 * nothing but inference. check() recomputes one item of the last batch
 * (rotating through the batch) with the portable reference kernels:
 * int8 must match bit for bit, fp32 within JB_TM_F32_RTOL.
 * Options: weights=official|synthetic, model=FILE.tflite (tinyml_official.h);
 * dataset=DIR (score the model on a data set in MLPerf Tiny's EnergyRunner
 * layout at open, tinyml_dataset.h); kernel=reference|optimized (time the
 * reference kernels instead, for comparisons); corrupt=1 (test hook: spoils each output after run,
 * so that a check failure can be provoked end to end). */
#include "base/error.h"
#include "platforms/cpu/threadpool.h"
#include "workloads/tinyml/tinyml_dataset.h"
#include "workloads/tinyml/tinyml_model.h"
#include "workloads/tinyml/tinyml_official.h"
#include "workloads/tinyml/tinyml_workload.h"
#include "workloads/workload.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tm_wl {
    const struct jb_tm_model_def *def;
    struct jb_tm_model *m;
    struct jb_pool *pool;
    enum jb_tm_dtype dtype;
    int threads, batch, reference;
    int corrupt; /* test hook (option corrupt=1): spoil every output after run() */
    size_t in_bytes, out_bytes, arena_bytes;
    uint8_t *inputs, *outputs, *arenas, *ref_out;
    uint64_t checks;
    struct jb_tm_model_source src;
    struct jb_tm_quality quality; /* metric "" unless dataset= was given */
};

int jb_tm_workload_params(const struct jb_workload_params *p, const char *name,
                          const char *backend, enum jb_tm_dtype *dtype, char *err, size_t errlen)
{
    if (!p->dtype || !*p->dtype || !strcmp(p->dtype, "int8"))
        *dtype = JB_TM_INT8;
    else if (!strcmp(p->dtype, "fp32"))
        *dtype = JB_TM_FP32;
    else
        return jb_err(err, errlen, JB_EINVAL, "%s: dtype '%s' not supported (int8, fp32)", name,
                      p->dtype);
    if (p->backend && *p->backend && strcmp(p->backend, backend))
        return jb_err(err, errlen, JB_ENOTSUP, "%s: backend '%s' not supported (%s)", name,
                      p->backend, backend);
    if (p->scenario == JB_SCENARIO_SINGLE_STREAM && p->batch > 1)
        return jb_err(err, errlen, JB_EINVAL,
                      "%s: single-stream runs one inference per iteration; batch=%d needs "
                      "scenario=offline",
                      name, p->batch);
    if (p->batch < 0 || p->batch > 1 << 16)
        return jb_err(err, errlen, JB_ERANGE, "%s: batch %d out of range (1..65536)", name,
                      p->batch);
    return JB_OK;
}

int jb_tm_workload_compare(const char *name, enum jb_tm_dtype dtype, size_t item, const void *got,
                           const void *ref, size_t n, char *err, size_t errlen)
{
    if (dtype == JB_TM_INT8) {
        const uint8_t *g = got, *r = ref;
        for (size_t i = 0; i < n; i++)
            if (g[i] != r[i])
                return jb_err(err, errlen, JB_ECHECK,
                              "%s int8: item %zu output %zu = %d, reference %d", name, item, i,
                              (int8_t)g[i], (int8_t)r[i]);
        return JB_OK;
    }
    const float *g = got, *r = ref;
    float mx = 1.0f;
    for (size_t i = 0; i < n; i++)
        mx = fabsf(r[i]) > mx ? fabsf(r[i]) : mx;
    for (size_t i = 0; i < n; i++)
        if (!(fabsf(g[i] - r[i]) <= JB_TM_F32_RTOL * mx))
            return jb_err(err, errlen, JB_ECHECK,
                          "%s fp32: item %zu output %zu = %.9g, reference %.9g (tolerance %.3g)",
                          name, item, i, (double)g[i], (double)r[i],
                          (double)(JB_TM_F32_RTOL * mx));
    return JB_OK;
}

static void tm_close(void *st)
{
    struct tm_wl *w = st;
    if (!w)
        return;
    jb_pool_destroy(w->pool);
    jb_tm_model_close(w->m);
    free(w->inputs);
    free(w->outputs);
    free(w->arenas);
    free(w->ref_out);
    free(w);
}

static int tm_open(const struct jb_tm_model_def *def, const struct jb_workload_params *p, void **st,
                   char *err, size_t errlen)
{
    int rc;
    enum jb_tm_dtype dtype;
    if ((rc = jb_tm_workload_params(p, def->name, "cpu", &dtype, err, errlen)))
        return rc;
    char opt[32];
    int reference = 0;
    if (jb_option_get(p->options, "kernel", opt, sizeof(opt))) {
        if (!strcmp(opt, "reference"))
            reference = 1;
        else if (strcmp(opt, "optimized"))
            return jb_err(err, errlen, JB_EINVAL,
                          "%s: option kernel=%s unknown (reference, optimized)", def->name, opt);
    }
    int corrupt = jb_option_get(p->options, "corrupt", opt, sizeof(opt)) && !strcmp(opt, "1");
    struct tm_wl *w = calloc(1, sizeof(*w));
    if (!w)
        return jb_err(err, errlen, JB_ENOMEM, "%s: out of memory", def->name);
    w->corrupt = corrupt;
    w->def = def;
    w->dtype = dtype;
    w->reference = reference;
    w->batch = p->scenario == JB_SCENARIO_OFFLINE && p->batch > 0 ? p->batch : 1;
    w->threads = p->scenario == JB_SCENARIO_OFFLINE && p->threads > 1 ? p->threads : 1;
    if (w->threads > w->batch)
        w->threads = w->batch;
    rc = jb_tm_workload_model_open(def, dtype, p->options, p->seed,
                                   reference ? JB_ISA_REFERENCE : jb_cpu_isa(), &w->m, &w->src, err,
                                   errlen);
    if (rc)
        goto fail;
    char dir[256];
    if (jb_option_get(p->options, "dataset", dir, sizeof(dir)) &&
        (rc = jb_tm_dataset_score(w->m, def->name, dir, &w->quality, err, errlen)))
        goto fail;
    w->in_bytes = jb_tm_model_input_elems(w->m) * jb_tm_model_elem_bytes(w->m);
    w->out_bytes = jb_tm_model_output_elems(w->m) * jb_tm_model_elem_bytes(w->m);
    w->arena_bytes = jb_tm_model_arena_bytes(w->m);
    w->inputs = malloc(w->in_bytes * (size_t)w->batch);
    w->outputs = calloc((size_t)w->batch, w->out_bytes);
    w->ref_out = malloc(w->out_bytes);
    w->arenas = aligned_alloc(64, w->arena_bytes * (size_t)w->threads);
    if (!w->inputs || !w->outputs || !w->ref_out || !w->arenas) {
        rc = jb_err(err, errlen, JB_ENOMEM, "%s: out of memory for batch %d", def->name, w->batch);
        goto fail;
    }
    for (int i = 0; i < w->batch; i++)
        if (jb_tm_model_make_input(w->m, p->seed, (uint64_t)i,
                                   w->inputs + w->in_bytes * (size_t)i)) {
            rc = jb_err(err, errlen, JB_ENOMEM, "%s: out of memory drawing inputs", def->name);
            goto fail;
        }
    rc = jb_pool_create(w->threads, p->cpus, p->bind_memory, &w->pool, err, errlen);
    if (rc)
        goto fail;
    *st = w;
    return JB_OK;
fail:
    tm_close(w);
    return rc;
}

static void tm_worker(void *arg, int tid, int nt)
{
    struct tm_wl *w = arg;
    size_t b, e;
    jb_pool_range((size_t)w->batch, 1, tid, nt, &b, &e);
    void *arena = w->arenas + w->arena_bytes * (size_t)tid;
    for (size_t i = b; i < e; i++)
        jb_tm_model_run(w->m, w->reference, w->inputs + w->in_bytes * i,
                        w->outputs + w->out_bytes * i, arena);
}

static int tm_run(void *st, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    struct tm_wl *w = st;
    if (w->threads == 1)
        tm_worker(w, 0, 1);
    else
        jb_pool_run(w->pool, tm_worker, w);
    if (w->corrupt)
        for (int i = 0; i < w->batch; i++) {
            uint8_t *o = w->outputs + w->out_bytes * (size_t)i;
            if (w->dtype == JB_TM_INT8)
                o[0] ^= 1;
            else
                ((float *)(void *)o)[0] += 1.0f;
        }
    return JB_OK;
}

static int tm_check(void *st, char *err, size_t errlen)
{
    struct tm_wl *w = st;
    /* a different item each check, so that a long run covers the batch */
    size_t item = (size_t)((w->checks++ * 7919u) % (uint64_t)w->batch);
    const uint8_t *got = w->outputs + w->out_bytes * item;
    jb_tm_model_run(w->m, 1, w->inputs + w->in_bytes * item, w->ref_out, w->arenas);
    return jb_tm_workload_compare(w->def->name, w->dtype, item, got, w->ref_out,
                                  jb_tm_model_output_elems(w->m), err, errlen);
}

static void tm_info(const void *st, struct jb_workload_info *o)
{
    const struct tm_wl *w = st;
    const struct jb_tm_counts *c = jb_tm_model_counts(w->m);
    const struct jb_tm_model_def *d = jb_tm_model_get_def(w->m);
    snprintf(o->dtype, sizeof(o->dtype), "%s", w->dtype == JB_TM_INT8 ? "int8" : "fp32");
    snprintf(o->backend, sizeof(o->backend), "cpu");
    snprintf(o->kernel, sizeof(o->kernel), "%s%s",
             w->reference ? "reference" : jb_isa_name(jb_tm_model_isa(w->m)),
             w->threads == 1 ? ", 1 thread" : ", batch split over threads");
    o->units_per_iteration = w->batch;
    o->threads = w->threads;
    o->context = 0;
    o->per_unit.macs = c->macs;
    o->per_unit.flops = c->flops;
    o->per_unit.param_bytes = c->param_bytes;
    o->per_unit.activation_bytes = c->activation_bytes;
    o->per_unit.bytes_moved = c->param_bytes + c->activation_bytes;
    snprintf(o->input_shape, sizeof(o->input_shape), "%dx%dx%dx%d", w->batch, d->in_h, d->in_w,
             d->in_c);
    if (w->dtype == JB_TM_INT8)
        snprintf(o->check, sizeof(o->check),
                 "one item per check vs the portable reference kernels: int8 bit-exact");
    else
        snprintf(o->check, sizeof(o->check),
                 "one item per check vs the portable reference kernels: "
                 "|out-ref| <= %.0e * max(1, max|ref|)",
                 (double)JB_TM_F32_RTOL);
    snprintf(o->timing, sizeof(o->timing), "host-clock");
    o->parameters = c->params;
    snprintf(o->model_weights, sizeof(o->model_weights), "%s", w->src.weights);
    snprintf(o->model_file, sizeof(o->model_file), "%s", w->src.file);
    snprintf(o->model_sha256, sizeof(o->model_sha256), "%s", w->src.sha256);
    jb_tm_quality_info(&w->quality, o);
}

#define TM_OPEN(fn, def)                                                                           \
    static int fn(const struct jb_workload_params *p, void **st, char *err, size_t errlen)         \
    {                                                                                              \
        return tm_open(&def, p, st, err, errlen);                                                  \
    }
TM_OPEN(kws_open, jb_tm_kws_dscnn)
TM_OPEN(vww_open, jb_tm_vww_mobilenet)
TM_OPEN(ic_open, jb_tm_ic_resnet8)
TM_OPEN(ad_open, jb_tm_ad_autoencoder)

#define TM_VALIDATE(fn, def)                                                                       \
    static int fn(const char *dtype, const char *options, char *err, size_t errlen)                \
    {                                                                                              \
        return jb_tm_workload_validate(&def, dtype, options, err, errlen);                         \
    }
TM_VALIDATE(kws_validate, jb_tm_kws_dscnn)
TM_VALIDATE(vww_validate, jb_tm_vww_mobilenet)
TM_VALIDATE(ic_validate, jb_tm_ic_resnet8)
TM_VALIDATE(ad_validate, jb_tm_ad_autoencoder)

#define TM_OPS(var, nm, openfn, validatefn, desc)                                                  \
    const struct jb_workload_ops var = {                                                           \
        .name = nm,                                                                                \
        .version = "2",                                                                            \
        .family = "tinyml",                                                                        \
        .unit = "inference",                                                                       \
        .dtypes = "int8,fp32",                                                                     \
        .backends = "cpu",                                                                         \
        .description = desc,                                                                       \
        .open = openfn,                                                                            \
        .validate = validatefn,                                                                    \
        .run = tm_run,                                                                             \
        .check = tm_check,                                                                         \
        .info = tm_info,                                                                           \
        .close = tm_close,                                                                         \
    };
TM_OPS(jb_workload_kws_dscnn, "kws-dscnn", kws_open, kws_validate,
       "MLPerf Tiny keyword spotting: DS-CNN on 49x10 MFCC, 12 classes")
TM_OPS(jb_workload_vww_mobilenet, "vww-mobilenet", vww_open, vww_validate,
       "MLPerf Tiny visual wake words: MobileNetV1 0.25 on 96x96x3, 2 classes")
TM_OPS(jb_workload_ic_resnet8, "ic-resnet8", ic_open, ic_validate,
       "MLPerf Tiny image classification: ResNet-8 on 32x32x3, 10 classes")
TM_OPS(jb_workload_ad_autoencoder, "ad-autoencoder", ad_open, ad_validate,
       "MLPerf Tiny anomaly detection: FC autoencoder on 640 log-mel inputs")
