/* history.h: the series of one metric of one workload over time on one
 * machine, with its change points (E-Divisive means, stats.h), as used by
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

/* records: oldest first. Keeps those of `workload` on machine `topology`
 * (NULL: the machine of the newest record of that workload), and returns
 * in *out a new object {workload, metric, topology_hash, points[],
 * change_points[]} (caller owns). Each change point names the runs and
 * commits on both sides, its size in percent and its p-value. */
int jb_history_analyze(const json_t *records, const char *workload, const char *metric,
                       const char *topology, size_t min_size, json_t **out, char *err,
                       size_t errlen);

#endif
