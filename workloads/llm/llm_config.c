/* llm_config.c: the table of Llama-architecture configurations, made from
 * the rows of llm_configs.h. */
#include "workloads/llm/llm.h"

#include <string.h>

const struct jb_llm_config jb_llm_configs[] = {
#define JB_LLM_CONFIG(id, name, dim, nl, nh, nkv, hid, voc, tied, ctx, theta, eps, rope, desc)     \
    {name, dim, nl, nh, nkv, hid, voc, tied, ctx, theta, eps, rope},
#include "workloads/llm/llm_configs.h"
#undef JB_LLM_CONFIG
    {NULL, 0, 0, 0, 0, 0, 0, 0, 0, 0.0f, 0.0f, JB_ROPE_NONE},
};

const struct jb_llm_config *jb_llm_config_find(const char *name)
{
    for (int i = 0; name && jb_llm_configs[i].name; i++)
        if (!strcmp(jb_llm_configs[i].name, name))
            return &jb_llm_configs[i];
    return NULL;
}
