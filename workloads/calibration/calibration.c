/* calibration.c: the calibration workloads, each machine's roofline: the
 * memory roof (triad on the CPU, copy on a GPU) and the arithmetic roof
 * (fma). Each is a kernel of a calibration back-end that checks itself
 * against its closed form; this file names them, declares their options and
 * hands a run to the back-end that has the kernel. */
#include "base/error.h"
#include "workloads/workload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct calib {
    const struct jb_backend *b;
    const struct jb_calib_kernel *k;
    void *ks;
};

static const struct jb_option_def mib_options[] = {
    {"mib", JB_OPT_INT, NULL, 1, 65536, NULL, "MiB per array (triad: 64, copy: 1024)"},
    {NULL, 0, NULL, 0, 0, NULL, NULL},
};

static int calib_open(const char *kernel, const struct jb_workload_params *p, void **st,
                      char *err, size_t errlen)
{
    /* p->backend is resolved by jb_workload_open (the one rule for the
     * default back-end); open() is not called around it */
    const struct jb_backend *b =
        jb_backend_find("calibration", p->backend); /* resolved by jb_workload_open */
    char why[JB_ERRLEN];
    int rc;
    if (!b)
        return jb_err(err, errlen, JB_EINVAL, "%s: no calibration back-end '%s'", kernel,
                      p->backend ? p->backend : "(none)");
    const struct jb_calib_kernel *k = jb_calib_kernel_find(jb_calib_backend(b), kernel);
    if (!k) {
        if ((rc = jb_backend_probe(b, why, sizeof(why))))
            return jb_err(err, errlen, rc, "%s on %s: %s", kernel, b->name, why);
        return jb_err(err, errlen, JB_ENOTSUP, "%s: back-end %s has no such kernel", kernel,
                      b->name);
    }
    struct calib *c = calloc(1, sizeof(*c));
    if (!c)
        return jb_err(err, errlen, JB_ENOMEM, "%s: out of memory", kernel);
    c->b = b;
    c->k = k;
    if ((rc = k->open(p, &c->ks, err, errlen))) {
        free(c);
        return rc;
    }
    *st = c;
    return JB_OK;
}

static int calib_run(void *st, char *err, size_t errlen)
{
    struct calib *c = st;
    return c->k->run(c->ks, err, errlen);
}

static int calib_check(void *st, char *err, size_t errlen)
{
    struct calib *c = st;
    return c->k->check(c->ks, err, errlen);
}

static void calib_info(const void *st, struct jb_workload_info *o)
{
    const struct calib *c = st;
    c->k->info(c->ks, o);
    snprintf(o->backend, sizeof(o->backend), "%s", c->b->name);
    snprintf(o->backend_version, sizeof(o->backend_version), "%s", c->b->version);
}

static void calib_close(void *st)
{
    struct calib *c = st;
    if (!c)
        return;
    c->k->close(c->ks);
    free(c);
}

static int triad_open(const struct jb_workload_params *p, void **st, char *e, size_t n)
{
    return calib_open("triad", p, st, e, n);
}
static int fma_open(const struct jb_workload_params *p, void **st, char *e, size_t n)
{
    return calib_open("fma", p, st, e, n);
}
static int copy_open(const struct jb_workload_params *p, void **st, char *e, size_t n)
{
    return calib_open("copy", p, st, e, n);
}

const struct jb_workload_ops jb_workload_triad = {
    .name = "triad",
    .version = "1",
    .family = "calibration",
    .unit = "pass",
    .dtypes = "fp64",
    .description = "memory bandwidth: STREAM triad over 3 x 64 MiB (option mib=N)",
    .options = mib_options,
    .open = triad_open,
    .run = calib_run,
    .check = calib_check,
    .info = calib_info,
    .close = calib_close,
};

const struct jb_workload_ops jb_workload_fma = {
    .name = "fma",
    .version = "1",
    .family = "calibration",
    .unit = "pass",
    .dtypes = "fp32",
    .description = "peak arithmetic: fp32 FMA chains in registers (FLOP/s)",
    .options = NULL,
    .open = fma_open,
    .run = calib_run,
    .check = calib_check,
    .info = calib_info,
    .close = calib_close,
};

const struct jb_workload_ops jb_workload_copy = {
    .name = "copy",
    .version = "1",
    .family = "calibration",
    .unit = "pass",
    .dtypes = "bytes",
    .description = "device-to-device copy bandwidth (bytes read + written): a GPU's roof "
                   "(--backend cuda)",
    .options = mib_options,
    .default_backend = "cuda",
    .open = copy_open,
    .run = calib_run,
    .check = calib_check,
    .info = calib_info,
    .close = calib_close,
};

const struct jb_workload_ops jb_workload_copy_alias = {
    .name = "cuda-copy",
    .version = "1",
    .family = "calibration",
    .unit = "pass",
    .dtypes = "bytes",
    .description = "alias of copy --backend cuda",
    .options = mib_options,
    .alias_of = "copy",
    .alias_backend = "cuda",
    .open = copy_open,
    .run = calib_run,
    .check = calib_check,
    .info = calib_info,
    .close = calib_close,
};
