/* power_registry.c: the one list of power and energy sources. Adding a source
 * is one file plus one line here. Order matters for `--power auto`: hardware
 * sources first (auto takes every one that works); the estimate is the
 * fallback; the meter and sim are only taken when named. */
#include "harness/power.h"

#include <string.h>

extern const struct jb_power_source_ops jb_power_rapl_perf;
extern const struct jb_power_source_ops jb_power_rapl_powercap;
extern const struct jb_power_source_ops jb_power_nvml;
extern const struct jb_power_source_ops jb_power_meter;
extern const struct jb_power_source_ops jb_power_estimate;
extern const struct jb_power_source_ops jb_power_sim;

const struct jb_power_source_ops *const jb_power_sources[] = {
    &jb_power_rapl_perf, &jb_power_rapl_powercap, &jb_power_nvml, &jb_power_meter,
    &jb_power_estimate,  &jb_power_sim,           NULL,
};

const struct jb_power_source_ops *jb_power_source_find(const char *name)
{
    for (int i = 0; jb_power_sources[i]; i++)
        if (!strcmp(jb_power_sources[i]->name, name))
            return jb_power_sources[i];
    return NULL;
}
