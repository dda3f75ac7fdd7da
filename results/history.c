/* history.c: series and change points (see history.h). */
#include "results/history.h"

#include "base/error.h"
#include "results/record_util.h"
#include "harness/stats.h"

#include <math.h>
#include <stdio.h>
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

void jb_history_config(const json_t *r, char *dst, size_t n)
{
    snprintf(dst, n, "%s/%s/b%d/t%d", jb_rec_str(r, "workload.dtype", "?"),
             jb_rec_str(r, "config.scenario", "?"), (int)jb_rec_num(r, "config.batch", 0),
             (int)jb_rec_num(r, "config.threads", 0));
}

int jb_history_analyze(const json_t *records, const char *workload, const char *config,
                       const char *metric, const char *topology, size_t min_size, json_t **out,
                       char *err, size_t errlen)
{
    *out = NULL;
    if (strcmp(metric, "latency") && strcmp(metric, "energy"))
        return jb_err(err, errlen, JB_EINVAL, "metric '%.30s': energy or latency", metric);
    size_t i;
    const json_t *r;
    char cfg[160], want_cfg[160] = "";
    const char *topo = NULL;
    /* The newest matching record fixes what is not given (records are
     * oldest first, so the last match wins), configuration and machine
     * from the same record. */
    json_array_foreach(records, i, r)
    {
        if (strcmp(jb_rec_str(r, "workload.name", ""), workload))
            continue;
        jb_history_config(r, cfg, sizeof(cfg));
        if ((config && strcmp(cfg, config)) ||
            (topology && strcmp(jb_rec_str(r, "system.topology_hash", ""), topology)))
            continue;
        snprintf(want_cfg, sizeof(want_cfg), "%s", cfg);
        topo = jb_rec_str(r, "system.topology_hash", NULL);
    }
    topology = topo;
    if (!topology || !want_cfg[0])
        return jb_err(err, errlen, JB_ENOENT, "no records of workload '%.60s'%s%.60s", workload,
                      config ? " in configuration " : "", config ? config : "");
    json_t *pts = json_array();
    size_t n = 0;
    double *x = malloc((json_array_size(records) + 1) * sizeof(double));
    json_array_foreach(records, i, r)
    {
        jb_history_config(r, cfg, sizeof(cfg));
        if (strcmp(jb_rec_str(r, "workload.name", ""), workload) || strcmp(cfg, want_cfg) ||
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
    *out =
        json_pack("{s:s,s:s,s:s,s:s,s:o,s:o}", "workload", workload, "config", want_cfg, "metric",
                  metric, "topology_hash", topology, "points", pts, "change_points", cps);
    return JB_OK;
}

json_t *jb_history_all(const json_t *records, const char *workload, const char *metric,
                       const char *topology, size_t min_size, char *err, size_t errlen)
{
    /* distinct (workload, configuration) pairs, in order of first run */
    json_t *pairs = json_object(), *order = json_array(), *all = json_array();
    size_t i;
    const json_t *r;
    json_array_foreach(records, i, r)
    {
        const char *w = jb_rec_str(r, "workload.name", "?");
        if (workload && strcmp(w, workload))
            continue;
        if (topology && strcmp(jb_rec_str(r, "system.topology_hash", ""), topology))
            continue;
        char cfg[160], key[400];
        jb_history_config(r, cfg, sizeof(cfg));
        snprintf(key, sizeof(key), "%s\n%s", w, cfg);
        if (json_object_get(pairs, key))
            continue;
        json_object_set_new(pairs, key, json_true());
        json_array_append_new(order, json_pack("[s,s]", w, cfg));
    }
    json_t *p;
    json_array_foreach(order, i, p)
    {
        json_t *h = NULL;
        int rc = jb_history_analyze(records, json_string_value(json_array_get(p, 0)),
                                    json_string_value(json_array_get(p, 1)), metric, topology,
                                    min_size, &h, err, errlen);
        if (rc) {
            json_decref(all);
            all = NULL;
            break;
        }
        json_array_append_new(all, h);
    }
    json_decref(pairs);
    json_decref(order);
    return all;
}
