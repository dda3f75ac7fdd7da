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
#include <stdint.h>

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

/* Appends the last `keep_last` repetitions' counters (all if keep_last <= 0)
 * to `out`, the record's measurements.counters:
 *   events: { NAME: { pfm_name, type (hardware|software), unit (ns|count),
 *             modes (user|user+kernel), group, total, per_unit,
 *             [per_iteration], samples_per_unit (one per repetition),
 *             scaled, running_ratio } }  (values null where never counted)
 *   unavailable: { NAME: reason }, fallback: reason string or null,
 *   repetitions, units, grouped, requested, source.
 * Adds a line to `warnings` (a JSON array, may be NULL) for the fallback,
 * each multiplexed group, each unavailable event and failed reads. */
int jb_counters_finish_run(struct jb_counters *c, int keep_last, json_t *out, json_t *warnings,
                           char *err, size_t errlen);

/* Intervals that the measured program delimits itself (the marker regions
 * of `joulebench exec`): a snapshot reads every event now (children
 * included, as a group read sums the live inherited counters);
 * finish_intervals gives the object of finish_run over the n intervals
 * begin[i]..end[i] of units[i] units each. */
#define JB_COUNTERS_SNAPSHOT_EVENTS 32
struct jb_counters_snapshot {
    int ok;
    uint64_t value[JB_COUNTERS_SNAPSHOT_EVENTS], enabled[JB_COUNTERS_SNAPSHOT_EVENTS],
        running[JB_COUNTERS_SNAPSHOT_EVENTS];
};
int jb_counters_snapshot(struct jb_counters *c, struct jb_counters_snapshot *s);
int jb_counters_finish_intervals(struct jb_counters *c, const struct jb_counters_snapshot *begin,
                                 const struct jb_counters_snapshot *end, const double *units,
                                 int n, json_t *out, json_t *warnings, char *err, size_t errlen);

/* When set (> 0), finish_run also gives each event's value per iteration
 * (per_unit times this): units_per_iteration is the batch in offline runs. */
void jb_counters_set_units_per_iteration(struct jb_counters *c, double units);

/* The multiplexing correction: value * enabled / running. *scaled is 1 when
 * running < enabled; *running_ratio is running / enabled. NaN when the
 * event never ran while enabled (no estimate is possible). */
double jb_counters_scale(uint64_t value, uint64_t enabled, uint64_t running, int *scaled,
                         double *running_ratio);

/* For `joulebench probe`: which events open here, which do not, and why.
 * When `out` is an array, appends one entry per event (name, type, state
 * "working"/"absent", reason, errno) and a last entry named "summary" (state
 * "hardware" or "software", reason: paranoid level, kernel PMUs, fallback).
 * When `out` is an object, sets perf_event_paranoid, kernel_pmus,
 * libpfm4_pmus, events (the entries), hardware_available and fallback. */
int jb_counters_probe(json_t *out);

#endif
