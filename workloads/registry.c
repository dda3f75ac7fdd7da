/* registry.c: the one list of workloads, in the order `joulebench list`
 * shows them, their aliases, and the choice of back-end and the option
 * check every workload shares. The LLM configurations come from one table
 * (llm/llm_configs.h): llm_workload.c makes a workload of each row, and an
 * alias cuda-<name> for the names records had before back-ends were chosen
 * separately. */
#include "workloads/workload.h"
#include "base/error.h"

#include <stdio.h>
#include <string.h>

extern const struct jb_workload_ops jb_workload_triad;
extern const struct jb_workload_ops jb_workload_fma;
extern const struct jb_workload_ops jb_workload_copy;
extern const struct jb_workload_ops jb_workload_copy_alias;
extern const struct jb_workload_ops jb_workload_kws_dscnn;
extern const struct jb_workload_ops jb_workload_vww_mobilenet;
extern const struct jb_workload_ops jb_workload_ic_resnet8;
extern const struct jb_workload_ops jb_workload_ad_autoencoder;
extern const struct jb_workload_ops jb_workload_cuda_kws_dscnn;
extern const struct jb_workload_ops jb_workload_cuda_vww_mobilenet;
extern const struct jb_workload_ops jb_workload_cuda_ic_resnet8;
extern const struct jb_workload_ops jb_workload_cuda_ad_autoencoder;
#define JB_LLM_CONFIG(id, ...)                                                                     \
    extern const struct jb_workload_ops jb_workload_llm_##id, jb_workload_llm_cuda_##id;
#include "workloads/llm/llm_configs.h"
#undef JB_LLM_CONFIG

const struct jb_workload_ops *const jb_workloads[] = {
    &jb_workload_triad,
    &jb_workload_fma,
    &jb_workload_copy,
    &jb_workload_kws_dscnn,
    &jb_workload_vww_mobilenet,
    &jb_workload_ic_resnet8,
    &jb_workload_ad_autoencoder,
#define JB_LLM_CONFIG(id, ...) &jb_workload_llm_##id,
#include "workloads/llm/llm_configs.h"
#undef JB_LLM_CONFIG
    /* aliases, after every workload they stand for */
    &jb_workload_copy_alias,
    &jb_workload_cuda_kws_dscnn,
    &jb_workload_cuda_vww_mobilenet,
    &jb_workload_cuda_ic_resnet8,
    &jb_workload_cuda_ad_autoencoder,
#define JB_LLM_CONFIG(id, ...) &jb_workload_llm_cuda_##id,
#include "workloads/llm/llm_configs.h"
#undef JB_LLM_CONFIG
    NULL,
};

const struct jb_workload_ops *jb_workload_find(const char *name)
{
    for (int i = 0; name && jb_workloads[i]; i++)
        if (!strcmp(jb_workloads[i]->name, name))
            return jb_workloads[i];
    return NULL;
}

const struct jb_workload_ops *jb_workload_canonical(const struct jb_workload_ops *w)
{
    const struct jb_workload_ops *c = w && w->alias_of ? jb_workload_find(w->alias_of) : NULL;
    return c ? c : w;
}

static void backend_names(const char *family, char *buf, size_t n)
{
    const struct jb_backend *b;
    size_t len = 0;
    buf[0] = 0;
    for (int i = 0; (b = jb_backend_at(family, i)) && len + 1 < n; i++)
        len += (size_t)snprintf(buf + len, n - len, "%s%s", i ? ", " : "", b->name);
}

int jb_workload_backend(const struct jb_workload_ops *w, const char *asked,
                        const struct jb_backend **out, char *err, size_t errlen)
{
    char names[160];
    const char *name = asked && *asked ? asked : w->default_backend;
    if (w->alias_backend) {
        if (name && strcmp(name, w->alias_backend))
            return jb_err(err, errlen, JB_EINVAL, "%s is %s on back-end %s, not %s (say "
                          "--workload %s --backend %s)", w->name, w->alias_of, w->alias_backend,
                          name, w->alias_of, name);
        name = w->alias_backend;
    }
    const struct jb_backend *b = name ? jb_backend_find(w->family, name)
                                      : jb_backend_at(w->family, 0);
    if (!b) {
        backend_names(w->family, names, sizeof(names));
        return jb_err(err, errlen, JB_EINVAL, "%s: no back-end '%s' for %s workloads in this "
                      "build (it has %s)", w->name, name ? name : "", w->family, names);
    }
    *out = b;
    return JB_OK;
}

int jb_workload_options_check(const struct jb_workload_ops *w, const struct jb_backend *b,
                              const char *spec, char *err, size_t errlen)
{
    char who[96];
    snprintf(who, sizeof(who), "%s on %s: --options", jb_workload_canonical(w)->name, b->name);
    const struct jb_option_def *const tables[] = {w->options, b->options, NULL};
    const struct jb_option_def *const only_b[] = {b->options, NULL};
    return jb_options_check(who, spec, w->options ? tables : only_b, err, errlen);
}

int jb_workload_open(const struct jb_workload_ops *w, const struct jb_workload_params *p,
                     void **state, char *err, size_t errlen)
{
    const struct jb_backend *b = NULL;
    int rc = jb_workload_backend(w, p->backend, &b, err, errlen);
    if (rc)
        return rc;
    if ((rc = jb_workload_options_check(w, b, p->options, err, errlen)))
        return rc;
    struct jb_workload_params q = *p;
    q.backend = b->name;
    return w->open(&q, state, err, errlen);
}
