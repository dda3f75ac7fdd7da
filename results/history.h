/* history.h: the series of one metric of one workload over time on one
 * machine, with its change points (E-Divisive means, harness/stats.h), as used by
 * `joulebench history` and the dashboard. */
#ifndef JB_HISTORY_H
#define JB_HISTORY_H

#include <jansson.h>
#include <stddef.h>

/* Permutations of the significance test and its level: 199 shuffles give
 * p-values down to 0.005, enough for a 5% test, in milliseconds for the few
 * hundred points a nightly series holds. */
#define JB_HISTORY_PERMUTATIONS 199
#define JB_HISTORY_SIGNIFICANCE 0.05

/* Metric value of a record: "latency" (median latency of one iteration, s)
 * or "energy" (J per unit of the primary energy entry). NAN if absent. */
double jb_history_value(const json_t *record, const char *metric);

/* The configuration a series holds fixed besides workload and machine:
 * "dtype/scenario/bBATCH/tTHREADS" (a 1-thread and a 2-thread run are two
 * series, not a change). */
void jb_history_config(const json_t *record, char *dst, size_t n);

/* records: oldest first. Keeps those of `workload` in configuration
 * `config` on machine `topology` (NULL: those of the newest record of that
 * workload), and returns in *out a new object {workload, config, metric,
 * topology_hash, points[], change_points[]} (caller owns). Each change
 * point names the runs and commits on both sides, its size in percent and
 * its p-value. */
int jb_history_analyze(const json_t *records, const char *workload, const char *config,
                       const char *metric, const char *topology, size_t min_size, json_t **out,
                       char *err, size_t errlen);

/* Every series of `workload` (NULL: of every workload) in `records`: one
 * per workload and configuration, on `topology` (NULL: for each, the
 * machine of its newest record). Returns a new array (caller owns), or
 * NULL with err set. */
json_t *jb_history_all(const json_t *records, const char *workload, const char *metric,
                       const char *topology, size_t min_size, char *err, size_t errlen);

#endif
