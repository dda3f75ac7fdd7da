/* registry.c: the one list of workloads, in the order `joulebench list`
 * shows them, and the small option helpers every workload uses. */
#include "workloads/workload.h"

#include <stdio.h>
#include <string.h>

extern const struct jb_workload_ops jb_workload_triad;
extern const struct jb_workload_ops jb_workload_fma;
extern const struct jb_workload_ops jb_workload_kws_dscnn;
extern const struct jb_workload_ops jb_workload_vww_mobilenet;
extern const struct jb_workload_ops jb_workload_ic_resnet8;
extern const struct jb_workload_ops jb_workload_ad_autoencoder;
extern const struct jb_workload_ops jb_workload_llm_stories15m;
extern const struct jb_workload_ops jb_workload_llm_stories110m;
extern const struct jb_workload_ops jb_workload_llm_tinyllama;
extern const struct jb_workload_ops jb_workload_llm_llama32_1b;
extern const struct jb_workload_ops jb_workload_llm_llama31_8b;
extern const struct jb_workload_ops jb_workload_llm_llama2_7b;
#ifdef JB_HAVE_CUDA
extern const struct jb_workload_ops jb_workload_cuda_copy;
extern const struct jb_workload_ops jb_workload_cuda_stories15m;
extern const struct jb_workload_ops jb_workload_cuda_stories110m;
extern const struct jb_workload_ops jb_workload_cuda_tinyllama_1_1b;
extern const struct jb_workload_ops jb_workload_cuda_llama3_2_1b;
extern const struct jb_workload_ops jb_workload_cuda_llama3_1_8b;
extern const struct jb_workload_ops jb_workload_cuda_llama2_7b;
extern const struct jb_workload_ops jb_workload_cuda_kws_dscnn;
extern const struct jb_workload_ops jb_workload_cuda_vww_mobilenet;
extern const struct jb_workload_ops jb_workload_cuda_ic_resnet8;
extern const struct jb_workload_ops jb_workload_cuda_ad_autoencoder;
#endif

const struct jb_workload_ops *const jb_workloads[] = {
    &jb_workload_triad,
    &jb_workload_fma,
    &jb_workload_kws_dscnn,
    &jb_workload_vww_mobilenet,
    &jb_workload_ic_resnet8,
    &jb_workload_ad_autoencoder,
    &jb_workload_llm_stories15m,
    &jb_workload_llm_stories110m,
    &jb_workload_llm_tinyllama,
    &jb_workload_llm_llama32_1b,
    &jb_workload_llm_llama31_8b,
    &jb_workload_llm_llama2_7b,
#ifdef JB_HAVE_CUDA
    &jb_workload_cuda_copy,
    &jb_workload_cuda_stories15m,
    &jb_workload_cuda_stories110m,
    &jb_workload_cuda_tinyllama_1_1b,
    &jb_workload_cuda_llama3_2_1b,
    &jb_workload_cuda_llama3_1_8b,
    &jb_workload_cuda_llama2_7b,
    &jb_workload_cuda_kws_dscnn,
    &jb_workload_cuda_vww_mobilenet,
    &jb_workload_cuda_ic_resnet8,
    &jb_workload_cuda_ad_autoencoder,
#endif
    NULL,
};

const struct jb_workload_ops *jb_workload_find(const char *name)
{
    for (int i = 0; jb_workloads[i]; i++)
        if (!strcmp(jb_workloads[i]->name, name))
            return jb_workloads[i];
    return NULL;
}

int jb_list_has(const char *list, const char *item)
{
    size_t n = strlen(item);
    for (const char *p = list; p && *p;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == n && !strncmp(p, item, n))
            return 1;
        p = comma ? comma + 1 : NULL;
    }
    return 0;
}

int jb_option_get(const char *options, const char *key, char *buf, size_t buflen)
{
    size_t klen = strlen(key);
    for (const char *p = options; p && *p;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len > klen && !strncmp(p, key, klen) && p[klen] == '=') {
            snprintf(buf, buflen, "%.*s", (int)(len - klen - 1), p + klen + 1);
            return 1;
        }
        p = comma ? comma + 1 : NULL;
    }
    return 0;
}
