/* counters.h: performance counters through libpfm4 event names and
 * perf_event_open, with a software fallback.
 *
 * Events are opened in groups on the calling process (inherited by threads
 * created afterwards), read around every repetition and normalized per unit.
 * When the kernel multiplexes a group, values are scaled by
 * time_enabled/time_running and the record says so. Where hardware events are
 * absent (VMs), software events (task-clock, context switches, page faults)
 * are used and the record says why. */
#ifndef JB_COUNTERS_H
#define JB_COUNTERS_H

#include <jansson.h>
#include <stddef.h>

struct jb_counters;

/* events: "auto" (cycles, instructions, cache misses, branch misses, and the
 * software set; whatever of it opens), "none", or a comma-separated list of
 * libpfm4 event names ("INST_RETIRED:ANY_P,cycles"). Call before the workload
 * creates its threads so that they inherit the counters. */
int jb_counters_open(const char *events, struct jb_counters **out, char *err, size_t errlen);
void jb_counters_close(struct jb_counters *c);

void jb_counters_begin_run(struct jb_counters *c);
int jb_counters_rep_begin(struct jb_counters *c);
/* units: units completed in the repetition, for per-unit values. */
int jb_counters_rep_end(struct jb_counters *c, double units);

/* Appends the last `keep_last` repetitions' counters to `out` (a JSON object:
 * per event: total, per_unit, scaled flag, multiplexing ratio; and "fallback"
 * with its reason when only software events were available). */
int jb_counters_finish_run(struct jb_counters *c, int keep_last, json_t *out, json_t *warnings,
                           char *err, size_t errlen);

/* For `joulebench probe`: which events open here, which do not, and why. */
int jb_counters_probe(json_t *out);

#endif
