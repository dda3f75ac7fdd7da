/* history.h: the series of one metric of one configuration key (one
 * workload configuration on one machine) over time, with its change points (E-Divisive means, harness/stats.h), as used by
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

/* The label of a record's configuration in a series (jb_config_key_label:
 * "q8_0 single-stream b1 t2 ctx512 cpu/avx512"). */
void jb_history_config(const json_t *record, char *dst, size_t n);

/* records: oldest first. Keeps the complete runs whose configuration key
 * (config_key.h, which holds the workload, its configuration and the
 * machine) has id key_id, and returns in *out a new object {workload,
 * config (label), config_key, key (fields), metric, unit, topology_hash,
 * platform, points[{run_id, created_utc, git_commit, value, uncertainty,
 * label, source}], change_points[]} (caller owns). Each change point names
 * the runs and commits on both sides, its size in percent and its p-value. */
int jb_history_analyze(const json_t *records, const char *key_id, const char *metric,
                       size_t min_size, json_t **out, char *err, size_t errlen);

/* Every series of `workload` (NULL: of every workload) in `records`: one
 * per configuration key, so runs of different configurations or machines
 * are never one series; only those on `topology` when non-NULL. Returns a new array (caller owns), or
 * NULL with err set. */
json_t *jb_history_all(const json_t *records, const char *workload, const char *metric,
                       const char *topology, size_t min_size, char *err, size_t errlen);

/* The change of a series since the previous commit: its newest point
 * against the newest point of an earlier commit. Returns a new object
 * {from_commit, to_commit, before, after, change_pct, significant,
 * regression} (caller owns), or NULL when the series has one commit only.
 * significant: the difference exceeds twice the points' combined stated
 * uncertainty (or there is none stated); regression: significant and worse
 * (higher) by more than threshold_pct. */
json_t *jb_history_since_previous_commit(const json_t *history, double threshold_pct);

#endif
