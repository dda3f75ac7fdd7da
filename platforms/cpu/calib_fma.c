/* fma.c: the peak-arithmetic calibration workload (fp32 FMA FLOP/s).
 *
 * Every worker runs independent FMA chains in registers, touching no memory,
 * so the result is the machine's arithmetic roof at that thread count and
 * vector width. The check recomputes every lane with scalar fmaf, which
 * rounds exactly as the vector FMA does: the comparison is exact. */
#include "base/error.h"
#include "platforms/cpu/cpu_features.h"
#include "platforms/cpu/fma_kernels.h"
#include "platforms/cpu/threadpool.h"
#include "platforms/backend.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Iterations per unit: 20000 x 256 lanes x 2 FLOP = 10 MFLOP per worker,
 * about 0.1 ms on a current core: long enough to hide the pool hand-off. */
#define FMA_ITERS 20000
/* a < 1 and b > 0 make the chain converge to b / (1 - a): no overflow, no
 * denormals, whatever the iteration count. */
#define FMA_A 0.9999f
#define FMA_B 0.0001f
#define FMA_MAX_LANES JB_FMA_LANES_AVX512

struct fma_wl {
    struct jb_pool *pool;
    int threads;
    enum jb_isa isa;
    int lanes;
    long iters;
    void (*chain)(float *, long, float, float);
    float *x;       /* threads x FMA_MAX_LANES, current values */
    float *start;   /* values before the last run, for the check */
};

static void fma_kernel(void *arg, int tid, int nt)
{
    (void)nt;
    struct fma_wl *w = arg;
    w->chain(w->x + (size_t)tid * FMA_MAX_LANES, w->iters, FMA_A, FMA_B);
}

static void fma_seed(struct fma_wl *w, uint64_t seed)
{
    for (int t = 0; t < w->threads; t++)
        for (int l = 0; l < FMA_MAX_LANES; l++)
            w->x[(size_t)t * FMA_MAX_LANES + l] =
                (float)((seed + (uint64_t)(t * 131 + l * 7)) % 997) / 997.0f;
}

static void fma_close(void *st)
{
    struct fma_wl *w = st;
    if (!w)
        return;
    jb_pool_destroy(w->pool);
    free(w->x);
    free(w->start);
    free(w);
}

static int fma_open(const struct jb_workload_params *p, void **st, char *err, size_t errlen)
{
    if (p->dtype && *p->dtype && strcmp(p->dtype, "fp32"))
        return jb_err(err, errlen, JB_EINVAL, "fma: dtype '%s' not supported (fp32)", p->dtype);
    struct fma_wl *w = calloc(1, sizeof(*w));
    if (!w)
        return jb_err(err, errlen, JB_ENOMEM, "fma: out of memory");
    w->threads = p->threads > 0 ? p->threads : 1;
    w->iters = FMA_ITERS;
    w->isa = jb_cpu_isa();
    switch (w->isa) {
#if defined(JB_X86)
    case JB_ISA_AVX512:
        w->chain = jb_fma_chain_avx512;
        w->lanes = JB_FMA_LANES_AVX512;
        break;
    case JB_ISA_AVX2:
        w->chain = jb_fma_chain_avx2;
        w->lanes = JB_FMA_LANES_AVX2;
        break;
#endif
    default:
        w->isa = JB_ISA_REFERENCE;
        w->chain = jb_fma_chain_ref;
        w->lanes = JB_FMA_LANES_REF;
        break;
    }
    size_t n = (size_t)w->threads * FMA_MAX_LANES;
    w->x = calloc(n, sizeof(float));
    w->start = calloc(n, sizeof(float));
    int rc;
    if (!w->x || !w->start) {
        rc = jb_err(err, errlen, JB_ENOMEM, "fma: out of memory");
        goto fail;
    }
    rc = jb_pool_create(w->threads, p->cpus, 0, &w->pool, err, errlen);
    if (rc)
        goto fail;
    fma_seed(w, p->seed);
    *st = w;
    return JB_OK;
fail:
    fma_close(w);
    return rc;
}

static int fma_run(void *st, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    struct fma_wl *w = st;
    memcpy(w->start, w->x, sizeof(float) * (size_t)w->threads * FMA_MAX_LANES);
    jb_pool_run(w->pool, fma_kernel, w);
    return JB_OK;
}

static int fma_check(void *st, char *err, size_t errlen)
{
    struct fma_wl *w = st;
    for (int t = 0; t < w->threads; t++) {
        for (int l = 0; l < w->lanes; l++) {
            size_t i = (size_t)t * FMA_MAX_LANES + (size_t)l;
            float v = w->start[i];
            for (long k = 0; k < w->iters; k++)
                v = fmaf(v, FMA_A, FMA_B);
            if (memcmp(&v, &w->x[i], sizeof(v)))
                return jb_err(err, errlen, JB_ECHECK,
                              "fma: thread %d lane %d = %.9g, scalar fmaf gives %.9g", t, l,
                              (double)w->x[i], (double)v);
        }
    }
    return JB_OK;
}

static void fma_info(const void *st, struct jb_workload_info *o)
{
    const struct fma_wl *w = st;
    snprintf(o->dtype, sizeof(o->dtype), "fp32");
    snprintf(o->kernel, sizeof(o->kernel), "%s", jb_isa_name(w->isa));
    o->units_per_iteration = 1;
    o->threads = w->threads;
    o->per_unit.macs = (double)w->threads * (double)w->lanes * (double)w->iters;
    o->per_unit.flops = 2.0 * o->per_unit.macs;
    snprintf(o->input_shape, sizeof(o->input_shape), "%dx%d", w->threads, w->lanes);
    snprintf(o->check, sizeof(o->check), "every lane exact against scalar fmaf");
    snprintf(o->timing, sizeof(o->timing), "host-clock");
}

const struct jb_calib_kernel jb_calib_cpu_fma = {
    .name = "fma",
    .open = fma_open,
    .run = fma_run,
    .check = fma_check,
    .info = fma_info,
    .close = fma_close,
};
