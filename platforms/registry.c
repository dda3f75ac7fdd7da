/* registry.c: the back-ends of each family, in the order `joulebench list`
 * shows them; the first usable one of a family is its default. Adding a
 * back-end is one file defining its ops plus one line here. */
#include "platforms/backend.h"
#include "base/error.h"

#include <stdio.h>
#include <string.h>

extern const struct jb_llm_backend_ops jb_llm_backend_cpu;
extern const struct jb_tinyml_backend_ops jb_tinyml_backend_cpu;
extern const struct jb_calib_backend_ops jb_calib_backend_cpu;
/* platforms/cuda/, or cuda_absent.c's stand-ins without CUDA */
extern const struct jb_llm_backend_ops jb_llm_backend_cuda;
extern const struct jb_tinyml_backend_ops jb_tinyml_backend_cuda;
extern const struct jb_calib_backend_ops jb_calib_backend_cuda;
#ifdef JB_TEST_BACKENDS
extern const struct jb_tinyml_backend_ops jb_tinyml_backend_test;
#endif

const struct jb_llm_backend_ops *const jb_llm_backends[] = {
    &jb_llm_backend_cpu,
    &jb_llm_backend_cuda,
    NULL,
};

const struct jb_tinyml_backend_ops *const jb_tinyml_backends[] = {
    &jb_tinyml_backend_cpu,
    &jb_tinyml_backend_cuda,
#ifdef JB_TEST_BACKENDS
    &jb_tinyml_backend_test,
#endif
    NULL,
};

const struct jb_calib_backend_ops *const jb_calib_backends[] = {
    &jb_calib_backend_cpu,
    &jb_calib_backend_cuda,
    NULL,
};

const struct jb_backend *jb_backend_at(const char *family, int i)
{
    if (!family || i < 0)
        return NULL;
    if (!strcmp(family, "llm")) {
        for (int j = 0; jb_llm_backends[j]; j++)
            if (j == i)
                return &jb_llm_backends[j]->b;
    } else if (!strcmp(family, "tinyml")) {
        for (int j = 0; jb_tinyml_backends[j]; j++)
            if (j == i)
                return &jb_tinyml_backends[j]->b;
    } else if (!strcmp(family, "calibration")) {
        for (int j = 0; jb_calib_backends[j]; j++)
            if (j == i)
                return &jb_calib_backends[j]->b;
    }
    return NULL;
}

const struct jb_backend *jb_backend_find(const char *family, const char *name)
{
    const struct jb_backend *b;
    for (int i = 0; name && (b = jb_backend_at(family, i)); i++)
        if (!strcmp(b->name, name))
            return b;
    return NULL;
}

const struct jb_calib_kernel *jb_calib_kernel_find(const struct jb_calib_backend_ops *b,
                                                   const char *name)
{
    for (int i = 0; b && b->kernels && b->kernels[i]; i++)
        if (!strcmp(b->kernels[i]->name, name))
            return b->kernels[i];
    return NULL;
}

int jb_backend_probe(const struct jb_backend *b, char *why, size_t whylen)
{
    if (why && whylen)
        why[0] = 0;
    return b->probe ? b->probe(why, whylen) : JB_OK;
}
