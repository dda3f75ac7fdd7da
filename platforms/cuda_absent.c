/* cuda_absent.c: the cuda back-ends of a build without CUDA. They stay
 * registered so that `--backend cuda`, the cuda-<name> aliases and old
 * suites still resolve, and their probe says why they cannot run: the build
 * found no CUDA compiler. (With CUDA, platforms/cuda/ defines the real ones
 * and this file is empty.) */
#ifndef JB_HAVE_CUDA
#include "base/error.h"
#include "platforms/backend.h"

#include <stdio.h>

static int absent_probe(char *why, size_t whylen)
{
    return jb_err(why, whylen, JB_ENOTSUP, "cuda: not built (no CUDA compiler was found when "
                  "this joulebench was configured)");
}

static int absent_llm_open(const struct jb_llm_problem *p, void **st, char *err, size_t errlen)
{
    (void)p;
    (void)st;
    return absent_probe(err, errlen);
}

static int absent_tm_open(const struct jb_tinyml_problem *p, void **st, char *err, size_t errlen)
{
    (void)p;
    (void)st;
    return absent_probe(err, errlen);
}

#define ABSENT_HEAD(fam, dt)                                                                      \
    {                                                                                             \
        .name = "cuda", .family = fam, .version = "1", .dtypes = dt,                              \
        .description = "joulebench's CUDA kernels (not in this build)", .options = NULL,          \
        .probe = absent_probe,                                                                    \
    }

const struct jb_llm_backend_ops jb_llm_backend_cuda = {
    .b = ABSENT_HEAD("llm", "bf16,fp16,q8_0,q4_0"),
    .open = absent_llm_open,
};
const struct jb_tinyml_backend_ops jb_tinyml_backend_cuda = {
    .b = ABSENT_HEAD("tinyml", "int8,fp32"),
    .open = absent_tm_open,
};
static const struct jb_calib_kernel *const no_kernels[] = {NULL};
const struct jb_calib_backend_ops jb_calib_backend_cuda = {
    .b = ABSENT_HEAD("calibration", "bytes"),
    .kernels = no_kernels,
};
#else
/* ISO C forbids an empty translation unit. */
typedef int jb_cuda_absent_unused;
#endif
