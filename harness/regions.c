/* regions.c: the marker regions of a program measured by `joulebench exec`
 * (regions.h): the protocol's messages parsed, each begin and end turned
 * into a boundary read of the energy domains and counters, instances kept
 * per run, and at the end one record entry per region name with the
 * arithmetic of repetitions (jb_energy_finish_intervals,
 * jb_counters_finish_intervals). */
#include "harness/regions.h"
#include "base/error.h"
#include "harness/counters.h"
#include "harness/energy.h"
#include "harness/stats.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Distinct region names per command, and region instances kept over all its
 * runs: each instance holds two counter snapshots (1.5 KiB), so 16 Ki
 * instances cost 25 MiB; past that, instances are counted but not kept and
 * the record says so. */
#define MAX_REGIONS 32
#define MAX_INSTANCES 16384
#define REGION_NAME (JB_MARKER_NAME_MAX + 1)

struct region {
    char name[REGION_NAME];
    int open;
    double t0_s;
    struct jb_counters_snapshot s0;
};

struct instance {
    int region, run;
    double t0_s, t1_s, units;
    struct jb_counters_snapshot s0, s1;
};

struct jb_regions {
    struct jb_energy *energy;      /* borrowed */
    struct jb_counters *counters;  /* borrowed */
    int measuring, run, run_first; /* run_first: the current run's first instance */
    struct region regions[MAX_REGIONS];
    int nregions;
    struct instance *inst;
    int ninst, capinst, dropped;
    char proto_err[256];
    long proto_errors;
};

static void warnf(json_t *warnings, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warnf(json_t *warnings, const char *fmt, ...)
{
    char w[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w, sizeof(w), fmt, ap);
    va_end(ap);
    json_array_append_new(warnings, json_string(w));
}

int jb_regions_open(struct jb_energy *e, struct jb_counters *c, struct jb_regions **out)
{
    *out = calloc(1, sizeof(**out));
    if (!*out)
        return JB_ENOMEM;
    (*out)->energy = e;
    (*out)->counters = c;
    return JB_OK;
}

void jb_regions_close(struct jb_regions *r)
{
    if (!r)
        return;
    free(r->inst);
    free(r);
}

void jb_regions_begin_run(struct jb_regions *r, int run, int measuring)
{
    r->run = run;
    r->measuring = measuring;
    r->run_first = r->ninst;
    for (int i = 0; i < r->nregions; i++)
        r->regions[i].open = 0;
}

void jb_regions_end_run(struct jb_regions *r, int failed, json_t *warnings)
{
    if (failed) {
        r->ninst = r->run_first; /* a failed run's regions are not kept either */
        return;
    }
    for (int i = 0; i < r->nregions && r->measuring; i++)
        if (r->regions[i].open)
            warnf(warnings, "region %s was begun in run %d but not ended", r->regions[i].name,
                  r->run + 1);
}

static int find_region(struct jb_regions *x, const char *name, int create)
{
    for (int i = 0; i < x->nregions; i++)
        if (!strcmp(x->regions[i].name, name))
            return i;
    if (!create || x->nregions == MAX_REGIONS)
        return -1;
    struct region *r = &x->regions[x->nregions];
    memset(r, 0, sizeof(*r));
    snprintf(r->name, sizeof(r->name), "%s", name);
    return x->nregions++;
}

void jb_regions_protocol_error(struct jb_regions *x, const char *fmt, ...)
{
    if (!x->proto_errors++) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(x->proto_err, sizeof(x->proto_err), fmt, ap);
        va_end(ap);
    }
}

static int valid_name(const char *s, size_t n)
{
    if (n < 1 || n > JB_MARKER_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-' || s[i] == '.' ||
              s[i] == ':' || s[i] == '/'))
            return 0;
    return 1;
}

int jb_marker_parse(const char *msg, size_t len, struct jb_marker_msg *out, char *err,
                    size_t errlen)
{
    memset(out, 0, sizeof(*out));
    out->units = 1;
    if (len < 3 || (msg[0] != 'B' && msg[0] != 'E') || msg[1] != ' ')
        return jb_err(err, errlen, JB_EINVAL, "malformed marker message '%.*s'",
                      (int)(len < 80 ? len : 80), msg);
    const char *name = msg + 2, *sp = memchr(name, ' ', len - 2);
    size_t nlen = sp ? (size_t)(sp - name) : len - 2;
    if (!valid_name(name, nlen))
        return jb_err(err, errlen, JB_EINVAL, "bad region name in marker message '%.*s'",
                      (int)(len < 80 ? len : 80), msg);
    out->kind = msg[0];
    memcpy(out->name, name, nlen);
    out->name[nlen] = 0;
    if (!sp)
        return JB_OK;
    /* "E NAME UNITS": a finite number >= 0, and nothing after it */
    char num[64];
    size_t ulen = len - (size_t)(sp + 1 - msg);
    if (out->kind != 'E' || ulen < 1 || ulen >= sizeof(num))
        return jb_err(err, errlen, JB_EINVAL, "region %s: unexpected text after the name",
                      out->name);
    memcpy(num, sp + 1, ulen);
    num[ulen] = 0;
    char *end;
    double u = strtod(num, &end);
    if (end == num || *end || !(u >= 0) || !isfinite(u))
        return jb_err(err, errlen, JB_EINVAL, "region %s: bad unit count '%s'", out->name, num);
    out->units = u;
    return JB_OK;
}

/* One marker message. The boundary is taken here, while the program waits
 * for the answer sent after it. */
void jb_regions_message(struct jb_regions *x, const char *msg, size_t len)
{
    struct jb_marker_msg m;
    char e[JB_ERRLEN];
    if (jb_marker_parse(msg, len, &m, e, sizeof(e))) {
        jb_regions_protocol_error(x, "%s", e);
        return;
    }
    const char kind = m.kind, *name = m.name;
    double units = m.units;
    if (!x->measuring)
        return;
    double t = jb_energy_mark(x->energy);
    struct jb_counters_snapshot s;
    jb_counters_snapshot(x->counters, &s);
    int ri = find_region(x, name, kind == 'B');
    if (ri < 0) {
        if (kind == 'B')
            jb_regions_protocol_error(x, "more than %d region names; '%s' not measured",
                                      MAX_REGIONS, name);
        else
            jb_regions_protocol_error(x, "region %s ended but never begun", name);
        return;
    }
    struct region *r = &x->regions[ri];
    if (kind == 'B') {
        if (r->open)
            jb_regions_protocol_error(
                x, "region %s begun again before its end (the first begin is dropped)", name);
        r->open = 1;
        r->t0_s = t;
        r->s0 = s;
        return;
    }
    if (!r->open) {
        jb_regions_protocol_error(x, "region %s ended but not begun", name);
        return;
    }
    r->open = 0;
    if (x->ninst == MAX_INSTANCES) {
        x->dropped++;
        return;
    }
    if (x->ninst == x->capinst) {
        int cap = x->capinst ? 2 * x->capinst : 64;
        struct instance *p = realloc(x->inst, (size_t)cap * sizeof(*p));
        if (!p) {
            x->dropped++;
            return;
        }
        x->inst = p;
        x->capinst = cap;
    }
    x->inst[x->ninst++] = (struct instance){.region = ri,
                                            .run = x->run,
                                            .t0_s = r->t0_s,
                                            .t1_s = t,
                                            .units = units,
                                            .s0 = r->s0,
                                            .s1 = s};
}

/* The record's measurements.regions: one entry per region name. */
json_t *jb_regions_json(struct jb_regions *x, double run_total_s, json_t *warnings)
{
    json_t *out = json_array();
    char err[JB_ERRLEN];
    for (int ri = 0; ri < x->nregions; ri++) {
        int k = 0;
        for (int i = 0; i < x->ninst; i++)
            k += x->inst[i].region == ri;
        if (!k)
            continue;
        struct jb_energy_interval *iv = calloc((size_t)k, sizeof(*iv));
        struct jb_counters_snapshot *s0 = calloc((size_t)k, sizeof(*s0)),
                                    *s1 = calloc((size_t)k, sizeof(*s1));
        double *units = calloc((size_t)k, sizeof(double)), *dur = calloc((size_t)k, sizeof(double));
        if (!iv || !s0 || !s1 || !units || !dur) {
            warnf(warnings, "region %s: out of memory", x->regions[ri].name);
            goto next;
        }
        double sum_units = 0, sum_s = 0;
        int j = 0;
        for (int i = 0; i < x->ninst; i++) {
            const struct instance *in = &x->inst[i];
            if (in->region != ri)
                continue;
            iv[j] = (struct jb_energy_interval){
                in->t0_s, in->t1_s, {.wall_s = in->t1_s - in->t0_s, .units = in->units}};
            s0[j] = in->s0;
            s1[j] = in->s1;
            units[j] = in->units;
            dur[j] = in->t1_s - in->t0_s;
            sum_units += in->units;
            sum_s += dur[j];
            j++;
        }
        json_t *energy = json_array(), *counters = json_object(), *w = json_array();
        if (jb_energy_finish_intervals(x->energy, iv, k, energy, w, err, sizeof(err)))
            json_array_append_new(w, json_string(err));
        if (jb_counters_finish_intervals(x->counters, s0, s1, units, k, counters, NULL, err,
                                         sizeof(err)))
            json_array_append_new(w, json_string(err));
        size_t wi;
        json_t *wv;
        json_array_foreach(w, wi, wv)
            warnf(warnings, "region %s: %s", x->regions[ri].name, json_string_value(wv));
        json_decref(w);
        json_t *samples = json_array();
        for (int i = 0; i < k; i++)
            json_array_append_new(samples, json_real(dur[i]));
        struct jb_summary sum;
        jb_summarize(dur, (size_t)k, &sum);
        json_t *r = json_object();
        json_object_set_new(r, "name", json_string(x->regions[ri].name));
        json_object_set_new(r, "instances", json_integer(k));
        json_object_set_new(r, "units", json_real(sum_units));
        json_object_set_new(r, "duration_s", json_real(sum_s));
        json_object_set_new(r, "fraction_of_runs",
                            json_real(run_total_s > 0 ? sum_s / run_total_s : 0));
        json_object_set_new(r, "throughput_units_per_s",
                            json_real(sum_s > 0 ? sum_units / sum_s : 0));
        json_object_set_new(r, "latency_s", jb_summary_json(&sum, samples));
        json_object_set_new(r, "energy", energy);
        json_object_set_new(r, "counters", counters);
        json_array_append_new(out, r);
    next:
        free(iv);
        free(s0);
        free(s1);
        free(units);
        free(dur);
    }
    if (x->proto_errors)
        warnf(warnings, "markers: %ld protocol error(s); the first: %s", x->proto_errors,
              x->proto_err);
    if (x->dropped)
        warnf(warnings, "markers: %d region instance(s) past the first %d were not kept",
              x->dropped, MAX_INSTANCES);
    return out;
}
