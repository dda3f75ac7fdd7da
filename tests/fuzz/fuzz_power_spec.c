/* fuzz_power_spec.c: the options of a --power source ("k=v,k=v" after
 * NAME:), through the helpers every source parses them with and the probes
 * of the two sources that touch no hardware, no file and no network (sim,
 * estimate). */
#include "base/error.h"
#include "harness/power.h"
#include "harness/power_opts.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char opts[1024], out[256], err[JB_ERRLEN];
    if (size >= sizeof(opts))
        size = sizeof(opts) - 1;
    memcpy(opts, data, size);
    opts[size] = '\0';
    static const char *const keys[] = {"watts", "period_ms", "tdp", "file", NULL};
    (void)jb_power_opts_check("fuzz", opts, keys, err, sizeof(err));
    for (int i = 0; keys[i]; i++) {
        if (jb_power_opt_str(opts, keys[i], out, sizeof(out)) && strlen(out) >= sizeof(out))
            abort();
        double v;
        (void)jb_power_opt_double("fuzz", opts, keys[i], 1, &v, err, sizeof(err));
    }
    static const char *const safe[] = {"sim", "estimate"};
    struct jb_power_context ctx = {1, NULL, "/nonexistent-sysfs", 0};
    for (size_t i = 0; i < 2; i++) {
        const struct jb_power_source_ops *ops = jb_power_source_find(safe[i]);
        if (ops && ops->probe)
            (void)ops->probe(opts, &ctx, err, sizeof(err));
    }
    return 0;
}
