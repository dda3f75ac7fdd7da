/* power_test_util.h: helpers shared by the power and energy tests: run a
 * few timed repetitions through the energy API as the runner does (with or
 * without the iterations jb_energy_rep_more asks for at the end), and pick
 * fields out of the resulting energy entries. */
#ifndef JB_POWER_TEST_UTIL_H
#define JB_POWER_TEST_UTIL_H

#include "harness/energy.h"
#include "base/error.h"
#include "harness/power_opts.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct jb_test_run {
    json_t *energy, *warnings;
    double wall_s, units; /* over the kept repetitions */
    double max_rep_s;     /* the longest repetition */
    int rc;
    char err[JB_ERRLEN];
};

/* Runs `reps` repetitions of `sleep_s` each (busy when busy != 0, to make
 * CPU time), each counting `units`, and finishes keeping `keep` of them. */
static inline void jb_test_reps(struct jb_energy *e, int reps, int keep, double sleep_s,
                                double units, int busy, const char *trace, struct jb_test_run *out)
{
    memset(out, 0, sizeof(*out));
    out->energy = json_array();
    out->warnings = json_array();
    jb_energy_begin_run(e);
    for (int i = 0; i < reps; i++) {
        jb_energy_rep_begin(e);
        double t0 = jb_power_now_s();
        if (busy) {
            volatile double x = 0;
            while (jb_power_now_s() - t0 < sleep_s)
                x += 1;
        } else {
            jb_power_sleep_s(sleep_s);
        }
        double t1 = jb_power_now_s();
        struct jb_rep_stats st = {t1 - t0, 0, units};
        jb_energy_rep_end(e, &st);
        if (i >= reps - keep) {
            out->wall_s += t1 - t0;
            out->units += units;
        }
    }
    out->rc = jb_energy_finish_run(e, keep, out->energy, out->warnings, trace, out->err,
                                   sizeof(out->err));
}

/* Runs `reps` repetitions as the runner does: iterations of `iter_s`
 * (sleeps, timed) for at least `min_s`, then as many more as
 * jb_energy_rep_more asks for, each iteration counting `units`; keeps all. */
static inline void jb_test_reps_more(struct jb_energy *e, int reps, double min_s, double iter_s,
                                     double units, struct jb_test_run *out)
{
    memset(out, 0, sizeof(*out));
    out->energy = json_array();
    out->warnings = json_array();
    jb_energy_begin_run(e);
    for (int i = 0; i < reps; i++) {
        jb_energy_rep_begin(e);
        double t0 = jb_power_now_s(), timed = 0;
        long n = 0;
        do {
            double a = jb_power_now_s();
            jb_power_sleep_s(iter_s);
            timed += jb_power_now_s() - a;
            n++;
        } while (jb_power_now_s() - t0 < min_s || jb_energy_rep_more(e, timed / (double)n));
        double t1 = jb_power_now_s();
        struct jb_rep_stats st = {t1 - t0, 0, (double)n * units};
        jb_energy_rep_end(e, &st);
        out->wall_s += t1 - t0;
        out->units += (double)n * units;
        if (t1 - t0 > out->max_rep_s)
            out->max_rep_s = t1 - t0;
    }
    out->rc =
        jb_energy_finish_run(e, reps, out->energy, out->warnings, NULL, out->err, sizeof(out->err));
}

static inline void jb_test_run_free(struct jb_test_run *r)
{
    json_decref(r->energy);
    json_decref(r->warnings);
}

/* The entry for domain `name`, or NULL. */
static inline json_t *jb_test_entry(const struct jb_test_run *r, const char *name)
{
    size_t i;
    json_t *o;
    json_array_foreach(r->energy, i, o)
    {
        if (!strcmp(json_string_value(json_object_get(o, "domain")), name))
            return o;
    }
    return NULL;
}

static inline double jb_test_num(json_t *o, const char *k)
{
    return json_number_value(json_object_get(o, k));
}

/* 1 if some warning contains `needle`. */
static inline int jb_test_warned(const struct jb_test_run *r, const char *needle)
{
    size_t i;
    json_t *w;
    json_array_foreach(r->warnings, i, w)
    {
        if (strstr(json_string_value(w), needle))
            return 1;
    }
    return 0;
}

static inline void jb_test_dump(const struct jb_test_run *r)
{
    char *s = json_dumps(r->energy, JSON_INDENT(1));
    char *w = json_dumps(r->warnings, JSON_INDENT(1));
    fprintf(stderr, "energy: %s\nwarnings: %s\n", s, w);
    free(s);
    free(w);
}

#endif
