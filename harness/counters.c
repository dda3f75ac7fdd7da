/* counters.c: PLACEHOLDER until the perf-counter work lands (issue 2, item
 * 4): opens nothing and records that no counters were read. */
#include "harness/counters.h"
#include "harness/error.h"

#include <stdlib.h>

struct jb_counters {
    int unused;
};

int jb_counters_open(const char *events, struct jb_counters **out, char *err, size_t errlen)
{
    (void)events;
    *out = calloc(1, sizeof(**out));
    return *out ? JB_OK : jb_err(err, errlen, JB_ENOMEM, "counters: out of memory");
}

void jb_counters_close(struct jb_counters *c)
{
    free(c);
}

void jb_counters_begin_run(struct jb_counters *c)
{
    (void)c;
}

int jb_counters_rep_begin(struct jb_counters *c)
{
    (void)c;
    return JB_OK;
}

int jb_counters_rep_end(struct jb_counters *c, double units)
{
    (void)c;
    (void)units;
    return JB_OK;
}

int jb_counters_finish_run(struct jb_counters *c, int keep_last, json_t *out, json_t *warnings,
                           char *err, size_t errlen)
{
    (void)c;
    (void)keep_last;
    (void)warnings;
    (void)err;
    (void)errlen;
    json_object_set_new(out, "fallback", json_string("counters not implemented in this build"));
    return JB_OK;
}

int jb_counters_probe(json_t *out)
{
    (void)out;
    return JB_OK;
}
