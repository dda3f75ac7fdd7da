/* triad.c: the memory-bandwidth calibration workload, STREAM's triad
 * a[i] = b[i] + s * c[i] over arrays far larger than the last-level cache.
 *
 * It gives each machine its sustainable bandwidth at a given thread count:
 * the roof that the LLM decode workloads are measured against. Bytes per pass
 * are counted as STREAM counts them (24 bytes per element: two reads, one
 * write), which excludes the write-allocate read that most caches add, so
 * the figure is comparable with published STREAM results. */
#include "base/error.h"
#include "platforms/cpu/threadpool.h"
#include "platforms/backend.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* 64 MiB per array by default: three arrays, 192 MiB, many times the LLC of
 * any current CPU, so the triad measures DRAM and not cache. */
#define TRIAD_DEFAULT_MIB 64
#define TRIAD_SCALAR 3.0

struct triad {
    struct jb_pool *pool;
    size_t n;
    double *a, *b, *c;
    int threads;
};

static void triad_init(void *arg, int tid, int nt)
{
    struct triad *t = arg;
    size_t lo, hi;
    jb_pool_range(t->n, 8, tid, nt, &lo, &hi);
    /* First touch by the worker that will stream the range, so pages land on
     * its NUMA node. Values are exact in double: checking is exact. */
    for (size_t i = lo; i < hi; i++) {
        t->a[i] = 0.0;
        t->b[i] = (double)(i % 1024);
        t->c[i] = (double)((i * 7) % 512) * 0.5;
    }
}

static void triad_kernel(void *arg, int tid, int nt)
{
    struct triad *t = arg;
    size_t lo, hi;
    jb_pool_range(t->n, 8, tid, nt, &lo, &hi);
    double *restrict a = t->a;
    const double *restrict b = t->b, *restrict c = t->c;
    for (size_t i = lo; i < hi; i++)
        a[i] = b[i] + TRIAD_SCALAR * c[i];
}

static void triad_close(void *st)
{
    struct triad *t = st;
    if (!t)
        return;
    size_t bytes = t->n * sizeof(double);
    jb_pool_free(t->pool, t->a, bytes);
    jb_pool_free(t->pool, t->b, bytes);
    jb_pool_free(t->pool, t->c, bytes);
    jb_pool_destroy(t->pool);
    free(t);
}

static int triad_open(const struct jb_workload_params *p, void **st, char *err, size_t errlen)
{
    char buf[32];
    long mib = TRIAD_DEFAULT_MIB;
    if (jb_option_get(p->options, "mib", buf, sizeof(buf))) {
        char *end;
        mib = strtol(buf, &end, 10);
        if (*end || mib < 1 || mib > 65536)
            return jb_err(err, errlen, JB_EINVAL, "triad: mib=%s is not 1..65536", buf);
    }
    if (p->dtype && *p->dtype && !jb_list_has("fp64", p->dtype))
        return jb_err(err, errlen, JB_EINVAL, "triad: dtype '%s' not supported (fp64)", p->dtype);
    struct triad *t = calloc(1, sizeof(*t));
    if (!t)
        return jb_err(err, errlen, JB_ENOMEM, "triad: out of memory");
    t->threads = p->threads > 0 ? p->threads : 1;
    int rc = jb_pool_create(t->threads, p->cpus, p->bind_memory, &t->pool, err, errlen);
    if (rc)
        goto fail;
    t->n = (size_t)mib * 1024 * 1024 / sizeof(double);
    size_t bytes = t->n * sizeof(double);
    t->a = jb_pool_alloc(t->pool, bytes);
    t->b = jb_pool_alloc(t->pool, bytes);
    t->c = jb_pool_alloc(t->pool, bytes);
    if (!t->a || !t->b || !t->c) {
        rc = jb_err(err, errlen, JB_ENOMEM, "triad: cannot allocate 3 x %ld MiB", mib);
        goto fail;
    }
    jb_pool_run(t->pool, triad_init, t);
    *st = t;
    return JB_OK;
fail:
    triad_close(t);
    return rc;
}

static int triad_run(void *st, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    struct triad *t = st;
    jb_pool_run(t->pool, triad_kernel, t);
    return JB_OK;
}

static int triad_check(void *st, char *err, size_t errlen)
{
    struct triad *t = st;
    for (size_t i = 0; i < t->n; i++) {
        double want = (double)(i % 1024) + TRIAD_SCALAR * ((double)((i * 7) % 512) * 0.5);
        if (t->a[i] != want)
            return jb_err(err, errlen, JB_ECHECK, "triad: a[%zu] = %g, expected %g", i, t->a[i],
                          want);
    }
    return JB_OK;
}

static void triad_info(const void *st, struct jb_workload_info *o)
{
    const struct triad *t = st;
    snprintf(o->dtype, sizeof(o->dtype), "fp64");
    snprintf(o->kernel, sizeof(o->kernel), "c-autovec");
    o->units_per_iteration = 1;
    o->threads = t->threads;
    o->per_unit.flops = 2.0 * (double)t->n;
    o->per_unit.bytes_moved = 24.0 * (double)t->n;
    o->per_unit.activation_bytes = o->per_unit.bytes_moved;
    snprintf(o->input_shape, sizeof(o->input_shape), "3x%zu", t->n);
    snprintf(o->check, sizeof(o->check), "every element exact: a[i] == b[i] + 3*c[i]");
    snprintf(o->timing, sizeof(o->timing), "host-clock");
}

const struct jb_calib_kernel jb_calib_cpu_triad = {
    .name = "triad",
    .open = triad_open,
    .run = triad_run,
    .check = triad_check,
    .info = triad_info,
    .close = triad_close,
};
