/* gbench_json.c: makes Google Benchmark's own JSON of a run useful beside
 * the record (gbench_json.h): energy and power as user counters, names that
 * Google Benchmark's compare.py pairs across runs at other settings, and
 * the time unit Google Benchmark itself would pick. */
#include "results/gbench_json.h"

#include "results/config_key.h"
#include "results/record_util.h"
#include "harness/stats.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Drops the "/min_time:X" and "/repeats:N" segments Google Benchmark adds
 * to a name when the benchmark sets them: a run at --min-time 0.1 and one
 * at 0.5 measure the same thing and must pair. An aggregate's suffix
 * ("_mean") follows the last segment and is kept. Then inserts the key
 * fields the runner's name lacks (options, a back-end other than cpu)
 * before "/manual_time", so that different configurations never pair. */
static void fix_name(const char *in, const char *extra, char *out, size_t n)
{
    char tmp[1024];
    size_t len = 0;
    tmp[0] = '\0';
    for (const char *p = in; *p && len + 1 < sizeof(tmp);) {
        if (*p == '/' && (!strncmp(p + 1, "min_time:", 9) || !strncmp(p + 1, "repeats:", 8))) {
            const char *q = strchr(p + 1, ':') + 1;
            while (*q && *q != '/' && *q != '_')
                q++;
            /* "repeats:5_mean": the aggregate suffix stays */
            p = q;
            continue;
        }
        tmp[len++] = *p++;
    }
    tmp[len] = '\0';
    const char *mt = strstr(tmp, "/manual_time");
    if (extra[0] && !strstr(tmp, extra)) {
        if (mt)
            snprintf(out, n, "%.*s%s%s", (int)(mt - tmp), tmp, extra, mt);
        else {
            /* before an aggregate suffix when there is one */
            const char *u = strrchr(tmp, '_');
            const char *sl = strrchr(tmp, '/');
            if (u && (!sl || u > sl) &&
                (!strcmp(u, "_mean") || !strcmp(u, "_median") || !strcmp(u, "_stddev") ||
                 !strcmp(u, "_cv")))
                snprintf(out, n, "%.*s%s%s", (int)(u - tmp), tmp, extra, u);
            else
                snprintf(out, n, "%s%s", tmp, extra);
        }
    } else {
        snprintf(out, n, "%s", tmp);
    }
}

static void set_name(json_t *b, const char *field, const char *extra)
{
    const char *s = json_string_value(json_object_get(b, field));
    if (!s)
        return;
    char out[1200];
    fix_name(s, extra, out, sizeof(out));
    json_object_set_new(b, field, json_string(out));
}

/* Multiplier from a Google Benchmark time unit to seconds. */
static double unit_s(const char *u)
{
    if (!u)
        return NAN;
    return !strcmp(u, "ns")   ? 1e-9
           : !strcmp(u, "us") ? 1e-6
           : !strcmp(u, "ms") ? 1e-3
           : !strcmp(u, "s")  ? 1.0
                              : NAN;
}

static double agg(const double *x, size_t n, const char *which)
{
    if (!n)
        return NAN;
    double m = 0, v = 0;
    for (size_t i = 0; i < n; i++)
        m += x[i];
    m /= (double)n;
    for (size_t i = 0; i < n; i++)
        v += (x[i] - m) * (x[i] - m);
    double sd = n > 1 ? sqrt(v / (double)(n - 1)) : 0;
    if (!strcmp(which, "mean"))
        return m;
    if (!strcmp(which, "median"))
        return jb_median(x, n);
    if (!strcmp(which, "stddev"))
        return sd;
    if (!strcmp(which, "cv"))
        return m != 0 ? sd / m : NAN;
    return NAN;
}

static void set_num(json_t *b, const char *k, double v)
{
    if (isfinite(v))
        json_object_set_new(b, k, json_real(v));
}

void jb_gbench_annotate(json_t *doc, const json_t *record)
{
    json_t *list = json_object_get(doc, "benchmarks");
    const json_t *e = jb_rec_primary_energy(record);
    size_t ns = 0, nit = 0, i;
    double *s = e ? jb_rec_energy_samples(record, &ns) : NULL;
    json_t *b;
    json_array_foreach(list, i, b) nit += !strcmp(jb_rec_str(b, "run_type", ""), "iteration");

    char opts[512], be[128], kern[128], extra[900] = "";
    jb_config_key_field(record, "options", opts, sizeof(opts));
    jb_config_key_field(record, "backend", be, sizeof(be));
    jb_config_key_field(record, "kernel", kern, sizeof(kern));
    size_t l = 0;
    if (strcmp(be, "cpu"))
        l += (size_t)snprintf(extra + l, sizeof(extra) - l, "/backend:%s", be);
    if (opts[0] && l < sizeof(extra))
        snprintf(extra + l, sizeof(extra) - l, "/options:%s", opts);
    /* Google Benchmark's own choice for times of milliseconds (a token of
     * an LLM) is "us" in its examples; the rest stays in ns. Fixed per
     * workload family, so that two files of one benchmark share the unit
     * compare.py assumes. */
    const char *want = !strcmp(jb_rec_str(record, "workload.family", ""), "llm") ? "us" : "ns";
    double jpu = e ? jb_rec_num(e, "joules_per_unit", NAN) : NAN;
    double unc = e ? jb_rec_num(e, "uncertainty_joules_per_unit", NAN) : NAN;
    double w = e ? jb_rec_num(e, "average_power_w", NAN) : NAN;
    char label[256];
    if (e)
        snprintf(label, sizeof(label), "energy %s by %s (%s)",
                 json_is_true(json_object_get(e, "simulated"))  ? "SIMULATED"
                 : json_is_true(json_object_get(e, "measured")) ? "measured"
                                                                : "ESTIMATED",
                 jb_rec_str(e, "source", "?"), jb_rec_str(e, "domain", "?"));
    else
        snprintf(label, sizeof(label), "energy not available");
    size_t it = 0;
    json_array_foreach(list, i, b)
    {
        set_name(b, "name", extra);
        set_name(b, "run_name", extra);
        double from = unit_s(jb_rec_str(b, "time_unit", NULL)), to = unit_s(want);
        if (isfinite(from) && isfinite(to) && from != to) {
            set_num(b, "real_time", jb_rec_num(b, "real_time", NAN) * from / to);
            set_num(b, "cpu_time", jb_rec_num(b, "cpu_time", NAN) * from / to);
            json_object_set_new(b, "time_unit", json_string(want));
        }
        const char *rt = jb_rec_str(b, "run_type", "");
        double v = jpu;
        if (!strcmp(rt, "iteration")) {
            /* one entry per kept repetition, in order, as the samples */
            if (ns == nit && it < ns)
                v = s[it];
            it++;
        } else if (ns) {
            v = agg(s, ns, jb_rec_str(b, "aggregate_name", ""));
        }
        const char *an = jb_rec_str(b, "aggregate_name", "");
        int is_rel = !strcmp(an, "cv");
        set_num(b, "J_per_unit", v);
        if (!is_rel && strcmp(an, "stddev")) {
            set_num(b, "J_per_unit_uncertainty", unc);
            set_num(b, "W", w);
        }
        if (e)
            json_object_set_new(b, "energy_measured",
                                json_real(json_is_true(json_object_get(e, "measured")) ? 1 : 0));
        json_object_set_new(b, "label", json_string(label));
    }
    free(s);
}
