/* fuzz_pinlist.c: the --pin parser and the plan of an explicit cpu list,
 * which take text straight from the command line and suite files. A parsed
 * list must hold only distinct, non-negative cpus, and a plan must either
 * fail with a message or give every worker a cpu of the topology. */
#include "base/error.h"
#include "harness/topology.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char s[256], set[256], err[JB_ERRLEN];
    if (size >= sizeof(s))
        size = sizeof(s) - 1;
    memcpy(s, data, size);
    s[size] = 0;
    int cpus[64], n = 0;
    if (jb_cpu_list_parse(s, cpus, 64, &n, err, sizeof(err)) == JB_OK) {
        for (int i = 0; i < n; i++) {
            if (cpus[i] < 0)
                abort();
            for (int j = 0; j < i; j++)
                if (cpus[i] == cpus[j])
                    abort();
        }
    } else if (!err[0]) {
        abort(); /* a refusal always says why */
    }
    enum jb_pin_policy pol;
    if (jb_pin_policy_parse(s, &pol, set, sizeof(set), err, sizeof(err)) != JB_OK)
        return 0;
    /* loaded once per process: loading costs more than the rest together */
    static struct jb_topo *t;
    if (!t && jb_topo_open_from("pack:2 core:2 pu:2", &t, err, sizeof(err)) != JB_OK)
        abort();
    int plan[8], sampler;
    for (int threads = 1; threads <= 8; threads *= 2) {
        err[0] = 0;
        if (jb_topo_plan(t, pol, set, threads, plan, &sampler, err, sizeof(err)) != JB_OK) {
            if (!err[0])
                abort();
            continue;
        }
        for (int i = 0; i < threads; i++)
            if (pol != JB_PIN_NONE && (plan[i] < 0 || plan[i] > 7))
                abort();
        if (sampler < -1 || sampler > 7)
            abort();
    }
    return 0;
}
