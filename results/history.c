/* history.c: series and change points (see history.h). */
#include "results/history.h"

#include "base/error.h"
#include "results/config_key.h"
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
    jb_config_key_label(r, JB_ACROSS_NONE, dst, n);
}

/* The uncertainty of a point: the energy entry's stated one, or for
 * latency the standard error of the per-repetition means. */
static double point_uncertainty(const json_t *r, const char *metric)
{
    if (!strcmp(metric, "latency")) {
        size_t n;
        double *s = jb_rec_samples(r, "measurements.latency_s.samples", &n);
        double u = NAN;
        if (n >= 2) {
            double m = 0, v = 0;
            for (size_t i = 0; i < n; i++)
                m += s[i];
            m /= (double)n;
            for (size_t i = 0; i < n; i++)
                v += (s[i] - m) * (s[i] - m);
            u = sqrt(v / (double)(n - 1) / (double)n);
        }
        free(s);
        return u;
    }
    const json_t *e = jb_rec_primary_energy(r);
    return e ? jb_rec_num(e, "uncertainty_joules_per_unit", NAN) : NAN;
}

int jb_history_analyze(const json_t *records, const char *key_id, const char *metric,
                       size_t min_size, json_t **out, char *err, size_t errlen)
{
    *out = NULL;
    if (strcmp(metric, "latency") && strcmp(metric, "energy"))
        return jb_err(err, errlen, JB_EINVAL, "metric '%.30s': energy or latency", metric);
    size_t i;
    const json_t *r, *newest = NULL;
    struct jb_config_key k;
    json_array_foreach(records, i, r)
    {
        jb_config_key_of(r, JB_ACROSS_NONE, &k);
        if (!strcmp(k.id, key_id))
            newest = r;
    }
    if (!newest)
        return jb_err(err, errlen, JB_ENOENT, "no records of configuration key %.40s", key_id);
    json_t *pts = json_array();
    size_t n = 0;
    double *x = malloc((json_array_size(records) + 1) * sizeof(double));
    json_array_foreach(records, i, r)
    {
        jb_config_key_of(r, JB_ACROSS_NONE, &k);
        if (strcmp(k.id, key_id) || !json_is_true(json_object_get(r, "complete")))
            continue;
        double v = jb_history_value(r, metric);
        if (!isfinite(v))
            continue;
        x[n++] = v;
        const json_t *e = jb_rec_primary_energy(r);
        double u = point_uncertainty(r, metric);
        json_array_append_new(
            pts, json_pack("{s:s,s:s,s:s,s:f,s:o,s:s,s:s?}", "run_id", jb_rec_str(r, "run_id", ""),
                           "created_utc", jb_rec_str(r, "created_utc", ""), "git_commit",
                           jb_rec_str(r, "system.git_commit", ""), "value", v, "uncertainty",
                           isfinite(u) ? json_real(u) : json_null(), "label",
                           !strcmp(metric, "latency")
                               ? "measured"
                               : (e && json_is_true(json_object_get(e, "measured")) ? "measured"
                                                                                    : "estimated"),
                           "source",
                           !strcmp(metric, "latency") ? "timer"
                           : e                        ? jb_rec_str(e, "source", NULL)
                                                      : NULL));
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
    char label[600], platform[160];
    jb_config_key_label(newest, JB_ACROSS_NONE, label, sizeof(label));
    json_t *key = jb_config_key_json(newest);
    *out = json_pack("{s:s,s:s,s:s,s:O,s:s,s:s,s:s,s:s,s:o,s:o}", "workload",
                     jb_rec_str(newest, "workload.name", ""), "config", label, "config_key", key_id,
                     "key", json_object_get(key, "fields"), "metric", metric, "unit",
                     jb_rec_str(newest, "workload.unit", "unit"), "topology_hash",
                     jb_rec_str(newest, "system.topology_hash", ""), "platform",
                     jb_rec_platform(newest, platform, sizeof(platform)), "points", pts,
                     "change_points", cps);
    json_decref(key);
    return *out ? JB_OK : jb_err(err, errlen, JB_ENOMEM, "history: out of memory");
}

json_t *jb_history_all(const json_t *records, const char *workload, const char *metric,
                       const char *topology, size_t min_size, char *err, size_t errlen)
{
    /* One pass groups the records by configuration key (in order of each
     * key's first run), so that each series is analysed over its own
     * records: analysing every key over all records was quadratic. */
    json_t *groups = json_object(), *order = json_array(), *all = json_array();
    size_t i;
    json_t *r;
    json_array_foreach(records, i, r)
    {
        if (workload && strcmp(jb_rec_str(r, "workload.name", "?"), workload))
            continue;
        if (topology && strcmp(jb_rec_str(r, "system.topology_hash", ""), topology))
            continue;
        struct jb_config_key k;
        jb_config_key_of(r, JB_ACROSS_NONE, &k);
        json_t *g = json_object_get(groups, k.id);
        if (!g) {
            g = json_array();
            json_object_set_new(groups, k.id, g);
            json_array_append_new(order, json_string(k.id));
        }
        json_array_append(g, r);
    }
    json_t *p;
    json_array_foreach(order, i, p)
    {
        json_t *h = NULL;
        const char *id = json_string_value(p);
        int rc = jb_history_analyze(json_object_get(groups, id), id, metric, min_size, &h, err,
                                    errlen);
        if (rc) {
            json_decref(all);
            all = NULL;
            break;
        }
        json_array_append_new(all, h);
    }
    json_decref(groups);
    json_decref(order);
    return all;
}

json_t *jb_history_since_previous_commit(const json_t *h, double threshold_pct)
{
    const json_t *pts = json_object_get(h, "points");
    size_t n = json_array_size(pts);
    if (n < 2)
        return NULL;
    const json_t *last = json_array_get(pts, n - 1), *prev = NULL;
    const char *c = jb_rec_str(last, "git_commit", "");
    for (size_t i = n - 1; i-- > 0;)
        if (strcmp(jb_rec_str(json_array_get(pts, i), "git_commit", ""), c)) {
            prev = json_array_get(pts, i);
            break;
        }
    if (!prev)
        return NULL;
    double a = jb_rec_num(prev, "value", NAN), b = jb_rec_num(last, "value", NAN);
    double ua = jb_rec_num(prev, "uncertainty", NAN), ub = jb_rec_num(last, "uncertainty", NAN);
    if (!isfinite(a) || !isfinite(b) || a == 0)
        return NULL;
    double pct = (b / a - 1.0) * 100.0;
    double comb = sqrt((isfinite(ua) ? ua * ua : 0) + (isfinite(ub) ? ub * ub : 0));
    int sig = fabs(b - a) > 2 * comb;
    return json_pack("{s:s,s:s,s:f,s:f,s:f,s:b,s:b}", "from_commit",
                     jb_rec_str(prev, "git_commit", ""), "to_commit", c, "before", a, "after", b,
                     "change_pct", pct, "significant", sig, "regression",
                     sig && pct > threshold_pct);
}
