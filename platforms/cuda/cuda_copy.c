/* cuda_copy.c: the cuda calibration back-end: the `copy` kernel, the GPU's
 * bandwidth roof: one pass copies a buffer (1 GiB by default, far beyond
 * any L2) device to device. Bytes moved per pass = bytes read + bytes
 * written, the figure the CUDA LLM decode's achieved bandwidth is compared
 * with. The roof is the best copy the GPU does: by default open times
 * joulebench's kernel and cudaMemcpyAsync and runs the faster
 * (method=kernel|memcpy asks for one); the record's kernel field says
 * which, with both figures. Built only with CUDA (platforms/cuda/cuda.cmake). */
#include "base/error.h"
#include "platforms/cuda/cuda_rt.h"
#include "platforms/backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CUDA_COPY_DEFAULT_MIB 1024

struct cuda_copy_state {
    struct jb_cuda_guard guard; /* a lost GPU, and the JB_CUDA_FAULT hook (cuda_rt.h) */
    struct jb_cuda_copy *copy;
    size_t bytes;
    double last_gpu_s;
    char kernel[48]; /* the method run, and the calibration's GB/s */
};

static int cuda_copy_open(const struct jb_workload_params *p, void **st, char *err, size_t errlen)
{
    char buf[32];
    long mib = CUDA_COPY_DEFAULT_MIB;
    int rc;
    if (jb_option_get(p->options, "mib", buf, sizeof(buf))) {
        char *end;
        mib = strtol(buf, &end, 10);
        if (*end || mib < 1 || mib > 65536)
            return jb_err(err, errlen, JB_EINVAL, "cuda-copy: mib=%s is not 1..65536", buf);
    }
    enum jb_cuda_copy_method method = JB_CUDA_COPY_BEST;
    if (jb_option_get(p->options, "method", buf, sizeof(buf))) {
        if (!strcmp(buf, "kernel"))
            method = JB_CUDA_COPY_KERNEL;
        else if (!strcmp(buf, "memcpy"))
            method = JB_CUDA_COPY_MEMCPY;
        else if (strcmp(buf, "best"))
            return jb_err(err, errlen, JB_EINVAL,
                          "cuda-copy: method=%s is not best, kernel or memcpy", buf);
    }
    if (p->dtype && *p->dtype && !jb_list_has("bytes", p->dtype))
        return jb_err(err, errlen, JB_EINVAL, "cuda-copy: dtype '%s' not supported (bytes)",
                      p->dtype);
    if (p->batch > 1)
        return jb_err(err, errlen, JB_EINVAL, "cuda-copy: batch %d: one pass per iteration only",
                      p->batch);
    struct cuda_copy_state *s = calloc(1, sizeof(*s));
    if (!s)
        return jb_err(err, errlen, JB_ENOMEM, "cuda-copy: out of memory");
    s->bytes = (size_t)mib << 20;
    rc = jb_cuda_guard_open(&s->guard, 0, "cuda-copy", err, errlen);
    if (!rc) {
        rc = jb_cuda_copy_open(0, s->bytes, p->seed, method, &s->copy, err, errlen);
        rc = jb_cuda_guard_end(&s->guard, rc, err, errlen);
    }
    if (rc) {
        free(s);
        return rc;
    }
    double kb, mb;
    int memcpy_runs = jb_cuda_copy_method(s->copy, &kb, &mb) == JB_CUDA_COPY_MEMCPY;
    snprintf(s->kernel, sizeof(s->kernel), "%s (kernel %.0f, memcpy %.0f GB/s)",
             memcpy_runs ? "memcpy" : "kernel", kb / 1e9, mb / 1e9);
    *st = s;
    return 0;
}

static int cuda_copy_run(void *st, char *err, size_t errlen)
{
    struct cuda_copy_state *s = st;
    jb_cuda_guard_begin_run(&s->guard);
    int rc = jb_cuda_copy_run(s->copy, &s->last_gpu_s, err, errlen);
    return jb_cuda_guard_end(&s->guard, rc, err, errlen);
}

static int cuda_copy_check(void *st, char *err, size_t errlen)
{
    struct cuda_copy_state *s = st;
    int rc = jb_cuda_copy_check(s->copy, err, errlen);
    return jb_cuda_guard_end_check(&s->guard, rc, err, errlen);
}

static void cuda_copy_info(const void *st, struct jb_workload_info *o)
{
    const struct cuda_copy_state *s = st;
    snprintf(o->dtype, sizeof(o->dtype), "bytes");
    snprintf(o->kernel, sizeof(o->kernel), "%s", s->kernel);
    o->units_per_iteration = 1;
    o->threads = 1;
    o->per_unit.bytes_moved = 2.0 * (double)s->bytes;
    o->per_unit.activation_bytes = 2.0 * (double)s->bytes;
    snprintf(o->input_shape, sizeof(o->input_shape), "%zu", s->bytes);
    snprintf(o->check, sizeof(o->check),
             "every 16-byte element equals the seeded source pattern (exact)");
    snprintf(o->timing, sizeof(o->timing), "cuda-events+sync");
}

static void cuda_copy_close(void *st)
{
    struct cuda_copy_state *s = st;
    if (!s)
        return;
    jb_cuda_copy_close(s->copy);
    free(s);
}

static const struct jb_calib_kernel jb_calib_cuda_copy = {
    .name = "copy",
    .open = cuda_copy_open,
    .run = cuda_copy_run,
    .check = cuda_copy_check,
    .info = cuda_copy_info,
    .close = cuda_copy_close,
};

static int cuda_calib_probe(char *why, size_t whylen)
{
    return jb_cuda_probe(0, NULL, why, whylen);
}

static const struct jb_option_def cuda_calib_options[] = {
    {"method", JB_OPT_ENUM, "best", 0, 0, "best|kernel|memcpy",
     "copy: best times both at open and runs the faster"},
    {NULL, 0, NULL, 0, 0, NULL, NULL},
};

static const struct jb_calib_kernel *const cuda_kernels[] = {&jb_calib_cuda_copy, NULL};

const struct jb_calib_backend_ops jb_calib_backend_cuda = {
    .b =
        {
            .name = "cuda",
            .family = "calibration",
            .version = "2",
            .dtypes = "bytes",
            .description = "joulebench's CUDA calibration kernels (copy: the better of joulebench's "
                           "kernel and cudaMemcpyAsync)",
            .options = cuda_calib_options,
            .probe = cuda_calib_probe,
        },
    .kernels = cuda_kernels,
};
