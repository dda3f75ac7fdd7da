/* tinyml_workload.c: the four MLPerf Tiny models as joulebench workloads
 * (kws-dscnn, vww-mobilenet, ic-resnet8, ad-autoencoder), int8 or fp32, on
 * any TinyML back-end (platforms/backend.h): the trained reference models
 * by default, synthetic weights or a user's TFLite file by option
 * (tinyml_official.h).
 *
 * The model layer opens the model with the portable reference kernels (the
 * check's oracle), hands it to the back-end, and draws one input per batch
 * item at open, so a back-end's run() does nothing but inference.
 * check() recomputes one item of the last batch (rotating through the
 * batch) with the reference kernels and compares the back-end's output:
 * int8 must match bit for bit, fp32 within JB_TM_F32_RTOL.
 * Options: weights=official|synthetic, model=FILE.tflite; dataset=DIR
 * (score the model on a data set in MLPerf Tiny's EnergyRunner layout at
 * open, tinyml_dataset.h); corrupt=1 (test hook: spoils the output the
 * check reads, so that a check failure can be provoked end to end on any
 * back-end). */
#include "base/error.h"
#include "platforms/tinyml/tinyml_model.h"
#include "workloads/tinyml/tinyml_dataset.h"
#include "workloads/tinyml/tinyml_official.h"
#include "workloads/workload.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct jb_option_def tm_options[] = {
    {"weights", JB_OPT_ENUM, "official", 0, 0, "official|synthetic",
     "official: the MLPerf Tiny reference model (TFLite file); synthetic: seeded weights"},
    {"model", JB_OPT_STR, NULL, 0, 0, NULL, "run this TFLite file instead (supported operators)"},
    {"dataset", JB_OPT_STR, NULL, 0, 0, NULL,
     "score top-1 or AUC on a data set in MLPerf Tiny's EnergyRunner layout"},
    {"corrupt", JB_OPT_BOOL, "0", 0, 0, NULL, "test hook: spoil the output the check reads"},
    {NULL, 0, NULL, 0, 0, NULL, NULL},
};

struct tm_wl {
    const struct jb_tm_model_def *def;
    const struct jb_tinyml_backend_ops *be;
    void *bs;
    struct jb_tm_model *ref; /* reference-ISA model: the oracle */
    enum jb_tm_dtype dtype;
    int batch, corrupt;
    size_t in_bytes, out_bytes;
    uint8_t *inputs, *got, *want, *arena;
    uint64_t checks;
    struct jb_tm_model_source src;
    struct jb_tm_quality quality; /* metric "" unless dataset= was given */
};

static int tm_compare(const char *name, const char *backend, enum jb_tm_dtype dtype, size_t item,
                      const void *got, const void *ref, size_t n, char *err, size_t errlen)
{
    if (dtype == JB_TM_INT8) {
        const uint8_t *g = got, *r = ref;
        for (size_t i = 0; i < n; i++)
            if (g[i] != r[i])
                return jb_err(err, errlen, JB_ECHECK,
                              "%s int8 on %s: item %zu output %zu = %d, reference %d", name,
                              backend, item, i, (int8_t)g[i], (int8_t)r[i]);
        return JB_OK;
    }
    const float *g = got, *r = ref;
    float mx = 1.0f;
    for (size_t i = 0; i < n; i++)
        mx = fabsf(r[i]) > mx ? fabsf(r[i]) : mx;
    for (size_t i = 0; i < n; i++)
        if (!(fabsf(g[i] - r[i]) <= JB_TM_F32_RTOL * mx))
            return jb_err(err, errlen, JB_ECHECK,
                          "%s fp32 on %s: item %zu output %zu = %.9g, reference %.9g (tolerance "
                          "%.3g)", name, backend, item, i, (double)g[i], (double)r[i],
                          (double)(JB_TM_F32_RTOL * mx));
    return JB_OK;
}

static void tm_close(void *st)
{
    struct tm_wl *w = st;
    if (!w)
        return;
    if (w->bs)
        w->be->close(w->bs);
    jb_tm_model_close(w->ref);
    free(w->inputs);
    free(w->got);
    free(w->want);
    free(w->arena);
    free(w);
}

static int tm_open(const struct jb_tm_model_def *def, const struct jb_workload_params *p, void **st,
                   char *err, size_t errlen)
{
    int rc;
    /* p->backend is resolved by jb_workload_open (the one rule for the
     * default back-end); open() is not called around it */
    const struct jb_backend *b =
        jb_backend_find("tinyml", p->backend); /* resolved by jb_workload_open */
    if (!b)
        return jb_err(err, errlen, JB_EINVAL, "%s: no TinyML back-end '%s'", def->name,
                      p->backend ? p->backend : "(none)");
    const char *dname = p->dtype && *p->dtype ? p->dtype : "int8";
    if (!jb_list_has(b->dtypes, dname))
        return jb_err(err, errlen, JB_EINVAL, "%s: dtype '%s' not supported on %s (%s)",
                      def->name, dname, b->name, b->dtypes);
    enum jb_tm_dtype dtype = !strcmp(dname, "fp32") ? JB_TM_FP32 : JB_TM_INT8;
    if (p->scenario == JB_SCENARIO_SINGLE_STREAM && p->batch > 1)
        return jb_err(err, errlen, JB_EINVAL,
                      "%s: single-stream runs one inference per iteration; batch=%d needs "
                      "scenario=offline", def->name, p->batch);
    if (p->batch < 0 || p->batch > 1 << 16)
        return jb_err(err, errlen, JB_ERANGE, "%s: batch %d out of range (1..65536)", def->name,
                      p->batch);
    long corrupt = 0;
    jb_opt_int(p->options, tm_options, "corrupt", &corrupt);
    struct tm_wl *w = calloc(1, sizeof(*w));
    if (!w)
        return jb_err(err, errlen, JB_ENOMEM, "%s: out of memory", def->name);
    w->def = def;
    w->be = jb_tinyml_backend(b);
    w->dtype = dtype;
    w->corrupt = (int)corrupt;
    w->batch = p->scenario == JB_SCENARIO_OFFLINE && p->batch > 0 ? p->batch : 1;
    if ((rc = jb_tm_workload_model_open(def, dtype, p->options, p->seed, JB_ISA_REFERENCE,
                                        &w->ref, &w->src, err, errlen)))
        goto fail;
    char dir[JB_OPT_VALUE_MAX + 1];
    if (jb_opt_str(p->options, tm_options, "dataset", dir, sizeof(dir)) &&
        (rc = jb_tm_dataset_score(w->ref, def->name, dir, &w->quality, err, errlen)))
        goto fail;
    w->in_bytes = jb_tm_model_input_elems(w->ref) * jb_tm_model_elem_bytes(w->ref);
    w->out_bytes = jb_tm_model_output_elems(w->ref) * jb_tm_model_elem_bytes(w->ref);
    w->inputs = malloc(w->in_bytes * (size_t)w->batch);
    w->got = malloc(w->out_bytes);
    w->want = malloc(w->out_bytes);
    w->arena = aligned_alloc(64, jb_tm_model_arena_bytes(w->ref));
    if (!w->inputs || !w->got || !w->want || !w->arena) {
        rc = jb_err(err, errlen, JB_ENOMEM, "%s: out of memory for batch %d", def->name, w->batch);
        goto fail;
    }
    for (int i = 0; i < w->batch; i++)
        if (jb_tm_model_make_input(w->ref, p->seed, (uint64_t)i,
                                   w->inputs + w->in_bytes * (size_t)i)) {
            rc = jb_err(err, errlen, JB_ENOMEM, "%s: out of memory drawing inputs", def->name);
            goto fail;
        }
    struct jb_tinyml_problem prob = {
        .def = def,
        .dtype = dtype,
        .seed = p->seed,
        .batch = w->batch,
        .threads = p->scenario == JB_SCENARIO_OFFLINE && p->threads > 1 ? p->threads : 1,
        .cpus = p->cpus,
        .bind_memory = p->bind_memory,
        .model = w->ref,
        .inputs = w->inputs,
        .in_bytes = w->in_bytes,
        .out_bytes = w->out_bytes,
        .options = p->options,
    };
    if ((rc = w->be->open(&prob, &w->bs, err, errlen))) {
        w->bs = NULL;
        goto fail;
    }
    *st = w;
    return JB_OK;
fail:
    tm_close(w);
    return rc;
}

static int tm_run(void *st, char *err, size_t errlen)
{
    struct tm_wl *w = st;
    return w->be->run(w->bs, err, errlen);
}

static int tm_check(void *st, char *err, size_t errlen)
{
    struct tm_wl *w = st;
    /* a different item each check, so that a long run covers the batch */
    int item = (int)((w->checks++ * 7919u) % (uint64_t)w->batch);
    int rc = w->be->output(w->bs, item, w->got, err, errlen);
    if (!rc) {
        if (w->corrupt) {
            if (w->dtype == JB_TM_INT8)
                w->got[0] ^= 1;
            else
                ((float *)(void *)w->got)[0] += 1.0f;
        }
        jb_tm_model_run(w->ref, 1, w->inputs + w->in_bytes * (size_t)item, w->want, w->arena);
        rc = tm_compare(w->def->name, w->be->b.name, w->dtype, (size_t)item, w->got, w->want,
                        jb_tm_model_output_elems(w->ref), err, errlen);
    }
    return w->be->check_end ? w->be->check_end(w->bs, rc, err, errlen) : rc;
}

static void tm_info(const void *st, struct jb_workload_info *o)
{
    const struct tm_wl *w = st;
    const struct jb_tm_counts *c = jb_tm_model_counts(w->ref);
    const struct jb_tm_model_def *d = jb_tm_model_get_def(w->ref);
    memset(o, 0, sizeof(*o));
    w->be->info(w->bs, o);
    snprintf(o->dtype, sizeof(o->dtype), "%s", w->dtype == JB_TM_INT8 ? "int8" : "fp32");
    o->units_per_iteration = w->batch;
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
    o->parameters = c->params;
    snprintf(o->model_weights, sizeof(o->model_weights), "%s", w->src.weights);
    snprintf(o->model_file, sizeof(o->model_file), "%s", w->src.file);
    snprintf(o->model_sha256, sizeof(o->model_sha256), "%s", w->src.sha256);
    jb_tm_quality_info(&w->quality, o);
}

#define TM_WORKLOAD(var, alias_var, defv, nm, desc)                                               \
    static int open_##var(const struct jb_workload_params *p, void **st, char *err,              \
                          size_t errlen)                                                          \
    {                                                                                             \
        return tm_open(&defv, p, st, err, errlen);                                                \
    }                                                                                             \
    static int validate_##var(const char *dtype, const char *backend, const char *options,        \
                              char *err, size_t errlen)                                           \
    {                                                                                             \
        (void)backend;                                                                            \
        return jb_tm_workload_validate(&defv, dtype, options, err, errlen);                       \
    }                                                                                             \
    const struct jb_workload_ops var = {                                                          \
        .name = nm,                                                                               \
        .version = "2",                                                                           \
        .family = "tinyml",                                                                       \
        .unit = "inference",                                                                      \
        .dtypes = "int8,fp32",                                                                    \
        .description = desc,                                                                      \
        .options = tm_options,                                                                    \
        .open = open_##var,                                                                       \
        .validate = validate_##var,                                                               \
        .run = tm_run,                                                                            \
        .check = tm_check,                                                                        \
        .info = tm_info,                                                                          \
        .close = tm_close,                                                                        \
    };                                                                                            \
    const struct jb_workload_ops alias_var = {                                                    \
        .name = "cuda-" nm,                                                                       \
        .version = "2",                                                                           \
        .family = "tinyml",                                                                       \
        .unit = "inference",                                                                      \
        .dtypes = "int8,fp32",                                                                    \
        .description = "alias of " nm " --backend cuda",                                         \
        .options = tm_options,                                                                    \
        .alias_of = nm,                                                                           \
        .alias_backend = "cuda",                                                                  \
        .open = open_##var,                                                                       \
        .validate = validate_##var,                                                               \
        .run = tm_run,                                                                            \
        .check = tm_check,                                                                        \
        .info = tm_info,                                                                          \
        .close = tm_close,                                                                        \
    };
TM_WORKLOAD(jb_workload_kws_dscnn, jb_workload_cuda_kws_dscnn, jb_tm_kws_dscnn, "kws-dscnn",
            "MLPerf Tiny keyword spotting: DS-CNN on 49x10 MFCC, 12 classes")
TM_WORKLOAD(jb_workload_vww_mobilenet, jb_workload_cuda_vww_mobilenet, jb_tm_vww_mobilenet,
            "vww-mobilenet", "MLPerf Tiny visual wake words: MobileNetV1 0.25 on 96x96x3, 2 classes")
TM_WORKLOAD(jb_workload_ic_resnet8, jb_workload_cuda_ic_resnet8, jb_tm_ic_resnet8, "ic-resnet8",
            "MLPerf Tiny image classification: ResNet-8 on 32x32x3, 10 classes")
TM_WORKLOAD(jb_workload_ad_autoencoder, jb_workload_cuda_ad_autoencoder, jb_tm_ad_autoencoder,
            "ad-autoencoder", "MLPerf Tiny anomaly detection: FC autoencoder on 640 log-mel inputs")
