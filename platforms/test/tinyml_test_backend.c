/* tinyml_test_backend.c: a test-only TinyML back-end, registered exactly as
 * a real one is (one file, one line in platforms/registry.c), so that the
 * test suite proves the plug-in point: it runs the portable reference
 * kernels on the model layer's own model, one item after another, and with
 * wrong=1 it computes wrong (every output's first byte flipped), which the
 * model layer's check must catch. Built when JB_TEST_BACKENDS is on (the
 * default; -DJB_TEST_BACKENDS=OFF leaves it out of an installed build). */
#ifdef JB_TEST_BACKENDS
#include "base/error.h"
#include "platforms/backend.h"
#include "platforms/tinyml/tinyml_model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct jb_option_def test_options[] = {
    {"wrong", JB_OPT_BOOL, "0", 0, 0, NULL, "compute wrong outputs (the check must fail)"},
    {NULL, 0, NULL, 0, 0, NULL, NULL},
};

struct test_be {
    const struct jb_tm_model *m;
    const uint8_t *inputs;
    size_t in_bytes, out_bytes;
    int batch, wrong;
    uint64_t runs;
    uint8_t *outputs, *arena;
};

static void test_close(void *st)
{
    struct test_be *t = st;
    if (!t)
        return;
    free(t->outputs);
    free(t->arena);
    free(t);
}

static int test_open(const struct jb_tinyml_problem *p, void **st, char *err, size_t errlen)
{
    long wrong = 0;
    jb_opt_int(p->options, test_options, "wrong", &wrong);
    struct test_be *t = calloc(1, sizeof(*t));
    if (!t)
        return jb_err(err, errlen, JB_ENOMEM, "test back-end: out of memory");
    t->m = p->model;
    t->inputs = p->inputs;
    t->in_bytes = p->in_bytes;
    t->out_bytes = p->out_bytes;
    t->batch = p->batch;
    t->wrong = (int)wrong;
    t->outputs = calloc((size_t)p->batch, p->out_bytes);
    t->arena = aligned_alloc(64, jb_tm_model_arena_bytes(p->model));
    if (!t->outputs || !t->arena) {
        test_close(t);
        return jb_err(err, errlen, JB_ENOMEM, "test back-end: out of memory");
    }
    *st = t;
    return JB_OK;
}

static int test_run(void *st, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    struct test_be *t = st;
    for (int i = 0; i < t->batch; i++) {
        uint8_t *o = t->outputs + t->out_bytes * (size_t)i;
        jb_tm_model_run(t->m, 1, t->inputs + t->in_bytes * (size_t)i, o, t->arena);
        if (t->wrong)
            o[0] ^= 0x40;
    }
    t->runs++;
    return JB_OK;
}

static int test_output(void *st, int item, void *dst, char *err, size_t errlen)
{
    struct test_be *t = st;
    if (item < 0 || item >= t->batch || !t->runs)
        return jb_err(err, errlen, JB_EINVAL, "test back-end: no output of item %d", item);
    memcpy(dst, t->outputs + t->out_bytes * (size_t)item, t->out_bytes);
    return JB_OK;
}

static void test_info(const void *st, struct jb_workload_info *o)
{
    (void)st;
    snprintf(o->backend, sizeof(o->backend), "test");
    snprintf(o->backend_version, sizeof(o->backend_version), "1");
    snprintf(o->kernel, sizeof(o->kernel), "reference, sequential");
    snprintf(o->timing, sizeof(o->timing), "host-clock");
    o->threads = 1;
}

const struct jb_tinyml_backend_ops jb_tinyml_backend_test = {
    .b =
        {
            .name = "test",
            .family = "tinyml",
            .version = "1",
            .dtypes = "int8,fp32",
            .description = "test-only: the reference kernels through the plug-in interface "
                           "(wrong=1 computes wrong)",
            .options = test_options,
            .probe = NULL,
        },
    .open = test_open,
    .run = test_run,
    .output = test_output,
    .info = test_info,
    .check_end = NULL,
    .close = test_close,
};
#else
/* ISO C forbids an empty translation unit. */
typedef int jb_tinyml_test_backend_unused;
#endif
