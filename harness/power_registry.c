/* power_registry.c: the one list of power and energy sources. Adding a source
 * is one file plus one line here. Order matters for `--power auto`: hardware
 * sources first; the estimate is the fallback. */
#include "harness/power.h"

#include <string.h>

extern const struct jb_power_source_ops jb_power_estimate;

const struct jb_power_source_ops *const jb_power_sources[] = {
    &jb_power_estimate,
    NULL,
};

const struct jb_power_source_ops *jb_power_source_find(const char *name)
{
    for (int i = 0; jb_power_sources[i]; i++)
        if (!strcmp(jb_power_sources[i]->name, name))
            return jb_power_sources[i];
    return NULL;
}
