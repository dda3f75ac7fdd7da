/* history.c: series and change points (see history.h). */
#include "results/history.h"

#include "harness/error.h"
#include "results/record_util.h"
#include "results/stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CHANGE_POINTS 16
#define HISTORY_SEED 0x68697374ULL

double jb_history_value(const json_t *r, const char *metric)
{
    if (!strcmp(metric, "latency"))
        return jb_rec_num(r, "measurements.latency_s.median", NAN);
    const json_t *e = jb_rec_primary_energy(r);
    return e ? jb_rec_num(e, "joules_per_unit", NAN) : NAN;
}

int jb_history_analyze(const json_t *records, const char *workload, const char *metric,
                       const char *topology, size_t min_size, json_t **out, char *err,
                       size_t errlen)
{
    *out = NULL;
    if (strcmp(metric, "latency") && strcmp(metric, "energy"))
        return jb_err(err, errlen, JB_EINVAL, "metric '%.30s': energy or latency", metric);
    size_t i;
    const json_t *r;
    if (!topology) {
        json_array_foreach(records, i, r) if (!strcmp(jb_rec_str(r, "workload.name", ""), workload))
            topology = jb_rec_str(r, "system.topology_hash", NULL);
    }
    if (!topology)
        return jb_err(err, errlen, JB_ENOENT, "no records of workload '%.60s'", workload);
    json_t *pts = json_array();
    size_t n = 0;
    double *x = malloc((json_array_size(records) + 1) * sizeof(double));
    json_array_foreach(records, i, r)
    {
        if (strcmp(jb_rec_str(r, "workload.name", ""), workload) ||
            strcmp(jb_rec_str(r, "system.topology_hash", ""), topology) ||
            !json_is_true(json_object_get(r, "complete")))
            continue;
        double v = jb_history_value(r, metric);
        if (!isfinite(v))
            continue;
        x[n++] = v;
        const json_t *e = jb_rec_primary_energy(r);
        json_array_append_new(
            pts,
            json_pack("{s:s,s:s,s:s,s:f,s:s}", "run_id", jb_rec_str(r, "run_id", ""), "created_utc",
                      jb_rec_str(r, "created_utc", ""), "git_commit",
                      jb_rec_str(r, "system.git_commit", ""), "value", v, "label",
                      !strcmp(metric, "latency")
                          ? "measured"
                          : (e && json_is_true(json_object_get(e, "measured")) ? "measured"
                                                                               : "estimated")));
    }
    struct jb_change_point cp[MAX_CHANGE_POINTS];
    int ncp = n ? jb_edivisive(x, n, min_size, JB_HISTORY_PERMUTATIONS, JB_HISTORY_SIGNIFICANCE,
                               HISTORY_SEED, cp, MAX_CHANGE_POINTS)
                : 0;
    free(x);
    if (ncp < 0) {
        json_decref(pts);
        return jb_err(err, errlen, ncp, "change-point detection failed");
    }
    json_t *cps = json_array();
    for (int k = 0; k < ncp; k++) {
        json_t *before = json_array_get(pts, cp[k].index - 1),
               *after = json_array_get(pts, cp[k].index);
        double pct =
            cp[k].mean_before != 0 ? (cp[k].mean_after / cp[k].mean_before - 1.0) * 100.0 : NAN;
        json_t *c = json_pack(
            "{s:i,s:O,s:O,s:O,s:O,s:O,s:O,s:f,s:f,s:f,s:f}", "index", (int)cp[k].index,
            "last_run_before", json_object_get(before, "run_id"), "first_run_after",
            json_object_get(after, "run_id"), "from_commit", json_object_get(before, "git_commit"),
            "to_commit", json_object_get(after, "git_commit"), "from_utc",
            json_object_get(before, "created_utc"), "to_utc", json_object_get(after, "created_utc"),
            "mean_before", cp[k].mean_before, "mean_after", cp[k].mean_after, "change_pct",
            isfinite(pct) ? pct : 0.0, "p_value", cp[k].p_value);
        json_array_append_new(cps, c);
    }
    *out = json_pack("{s:s,s:s,s:s,s:o,s:o}", "workload", workload, "metric", metric,
                     "topology_hash", topology, "points", pts, "change_points", cps);
    return JB_OK;
}
