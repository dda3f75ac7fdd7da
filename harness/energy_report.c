/* energy_report.c: turns a run's kept repetitions into the record's energy
 * entries (jb_energy_finish_run): per-repetition energy from the histories,
 * the availability rules (failed source, frozen counter, readings that do
 * not cover the run), the uncertainty, idle subtraction, the device state at
 * start and end, and the power trace. The formula is stated in
 * METHODOLOGY.md section 5.4 and in every entry's uncertainty_method. */
#include "harness/energy.h"
#include "harness/energy_internal.h"
#include "base/error.h"
#include "harness/power_opts.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A source that timestamps its own readings (an external meter) may lag the
 * run; wait this long at most for its data to cover the last repetition. */
#define METER_LAG_WAIT_S 3.0

static const char *const uncertainty_method =
    "U = sqrt(u_inst^2 + (2 s / sqrt(k))^2), u_inst = sum_i sqrt(res^2 + (P_i L_i)^2 + "
    "(a_rel E_i + a_w t_i)^2) / sum_i n_i; res: counter resolution, L_i: time by which the "
    "repetition's two boundaries can lag the counter, the update period T for an unaligned "
    "boundary and, for one aligned to a counter update, the time between the last read "
    "before the update and the read that saw it; P_i: E_i / (t_i - L_i) for counters; "
    "a_rel/a_w: stated calibration accuracy, s: stddev of per-repetition J/unit over k "
    "repetitions";

/* Waits, unlocked, for sources with lagging timestamps to deliver readings
 * past the run's end. Called with the lock held; returns with it held. */
static void wait_for_coverage(struct jb_energy *e, double t_end)
{
    double deadline = jb_power_now_s() + METER_LAG_WAIT_S;
    for (;;) {
        int behind = 0;
        for (int i = 0; i < e->ndom; i++) {
            struct jb_edom *d = &e->dom[i];
            if (!d->failed && !d->dropped && (!d->npts || d->pts[d->npts - 1].t_s < t_end)) {
                jb_energy_poll_dom_locked(e, d);
                behind |= !d->failed && (!d->npts || d->pts[d->npts - 1].t_s < t_end);
            }
        }
        if (!behind || jb_power_now_s() > deadline)
            return;
        pthread_mutex_unlock(&e->mu);
        jb_power_sleep_s(0.01);
        pthread_mutex_lock(&e->mu);
    }
}

static void set_num(json_t *o, const char *k, double v)
{
    json_object_set_new(o, k, isfinite(v) ? json_real(v) : json_null());
}

static json_t *entry_base(const struct jb_energy *e, const struct jb_edom *d)
{
    json_t *o = json_object();
    json_object_set_new(o, "domain", json_string(d->info.name));
    json_object_set_new(o, "source", json_string(e->src[d->src].ops->name));
    /* A simulated domain behaves like a physical counter inside energy.c (so
     * that every code path can be exercised), but what it reports is a
     * script, not a measurement: a record must never say otherwise. */
    json_object_set_new(o, "measured", json_boolean(d->info.measured && !d->info.simulated));
    if (d->info.simulated)
        json_object_set_new(o, "simulated", json_true());
    return o;
}

static void set_unavailable(json_t *o, const char *why)
{
    json_object_set_new(o, "available", json_false());
    json_object_set_new(o, "joules_per_unit", json_null());
    json_object_set_new(o, "uncertainty_joules_per_unit", json_null());
    json_object_set_new(o, "average_power_w", json_null());
    json_object_set_new(o, "unavailable_reason", json_string(why));
}

/* Computes one domain's entry over the k repetitions reps[0..k): a run's
 * kept repetitions, or the instances of a marker region. */
static json_t *domain_entry(struct jb_energy *e, int di, const struct jb_erep *reps, int k,
                            json_t *warnings)
{
    struct jb_edom *d = &e->dom[di];
    const char *src = e->src[d->src].ops->name;
    json_t *o = entry_base(e, d);
    char why[JB_ERRLEN + 64] = "";
    double *jpu = calloc((size_t)k, sizeof(double));
    double sum_e = 0, sum_n = 0, sum_t = 0, sum_u = 0, sum_q = 0, sum_lag = 0;
    int n_start = 0, n_end = 0, n_stalled = 0, n_long = 0;
    double long_iter_s = 0, long_rep_s = 0, stalled_rep_s = 0;
    if (!jpu) {
        snprintf(why, sizeof(why), "out of memory");
        goto unavailable;
    }
    if (d->failed) {
        snprintf(why, sizeof(why), "%s", d->reason);
        goto unavailable;
    }
    for (int i = 0; i < k; i++) {
        const struct jb_erep *r = &reps[i];
        double e0, e1;
        if (jb_energy_interp(d, r->t0_s, &e0) || jb_energy_interp(d, r->t1_s, &e1)) {
            snprintf(why, sizeof(why), "its readings do not cover repetition %d", i);
            goto unavailable;
        }
        double ej = e1 - e0, dur = r->t1_s - r->t0_s, n = r->st.units > 0 ? r->st.units : 1;
        double p = dur > 0 ? ej / dur : 0;
        double lag = jb_energy_rep_lag_s(e, di, r);
        double u_res = d->info.kind == JB_POWER_ENERGY_COUNTER ? d->info.resolution_j : 0;
        /* a counter read at a boundary shows the energy up to an update up
         * to `lag` before it (summed over both boundaries); the energy
         * missed is bounded with the power it could have had: measured over
         * the part of the repetition the counter did cover */
        double p_up = p;
        if (d->info.kind == JB_POWER_ENERGY_COUNTER) {
            if (dur > 1.5 * lag)
                p_up = ej / (dur - lag);
            else if (d->power_est_w > p_up || d->info.max_power_w > p_up)
                p_up = d->power_est_w > d->info.max_power_w ? d->power_est_w : d->info.max_power_w;
        }
        double u_q = p_up * lag;
        sum_lag += lag;
        if (di == e->align_dom) {
            n_start += r->aligned;
            n_end += r->aligned && r->end == JB_REP_END_ALIGNED;
            if (r->end == JB_REP_END_STALLED) {
                n_stalled++;
                stalled_rep_s = dur > stalled_rep_s ? dur : stalled_rep_s;
            }
            if (r->end == JB_REP_END_LONG_ITER) {
                n_long++;
                long_iter_s = r->iteration_s > long_iter_s ? r->iteration_s : long_iter_s;
                long_rep_s = dur > long_rep_s ? dur : long_rep_s;
            }
        }
        double u_cal = d->info.accuracy_rel * ej + d->info.accuracy_w * dur;
        sum_u += sqrt(u_res * u_res + u_q * u_q + u_cal * u_cal);
        sum_q += u_q;
        jpu[i] = ej / n;
        sum_e += ej;
        sum_n += n;
        sum_t += dur;
    }
    if (sum_e <= 0 && d->info.measured) {
        /* never 0 J: a counter that did not move measured nothing */
        snprintf(why, sizeof(why),
                 "counter did not advance over the run (%.3f s): frozen or not counting", sum_t);
        goto unavailable;
    }
    double mean = 0, var = 0;
    for (int i = 0; i < k; i++)
        mean += jpu[i] / k;
    for (int i = 0; i < k; i++)
        var += k > 1 ? (jpu[i] - mean) * (jpu[i] - mean) / (k - 1) : 0;
    double u_inst = sum_u / sum_n, u_spread = 2 * sqrt(var) / sqrt((double)k);
    json_object_set_new(o, "available", json_true());
    set_num(o, "joules_per_unit", sum_e / sum_n);
    set_num(o, "uncertainty_joules_per_unit", sqrt(u_inst * u_inst + u_spread * u_spread));
    set_num(o, "average_power_w", sum_t > 0 ? sum_e / sum_t : NAN);
    set_num(o, "energy_j", sum_e);
    set_num(o, "duration_s", sum_t);
    json_t *samples = json_array();
    for (int i = 0; i < k; i++)
        json_array_append_new(samples, json_real(jpu[i]));
    json_object_set_new(o, "samples_joules_per_unit", samples);
    if (d->have_idle) {
        set_num(o, "idle_power_w", d->idle_w);
        set_num(o, "active_joules_per_unit", (sum_e - d->idle_w * sum_t) / sum_n);
    }
    double qrel = sum_e > 0 ? sum_q / sum_e : 0;
    set_num(o, "quantization_bound_rel", qrel);
    if (di == e->align_dom) {
        json_object_set_new(o, "repetitions_start_aligned", json_integer(n_start));
        json_object_set_new(o, "repetitions_end_aligned", json_integer(n_end));
    }
    if (d->info.measured && qrel > JB_ENERGY_QUANT_TARGET) {
        char w[256];
        snprintf(w, sizeof(w),
                 "%s %s: update-period quantization up to %.1f%% (repetitions of %.3f s; "
                 "%.3f s needed for 1%%)",
                 src, d->info.name, 100 * qrel, sum_t / k, sum_lag / k / JB_ENERGY_QUANT_TARGET);
        json_array_append_new(warnings, json_string(w));
    }
    if (n_stalled) {
        char w[320];
        snprintf(w, sizeof(w),
                 "%s %s: the counter did not update within %d periods (%.3f s) after the "
                 "minimum time in %d of %d repetitions: their ends are not aligned (the "
                 "start-aligned rule instead: repetitions of up to %.3f s, one period of "
                 "quantization at the end)",
                 src, d->info.name, JB_ENERGY_ALIGN_DEADLINE_PERIODS,
                 JB_ENERGY_ALIGN_DEADLINE_PERIODS * d->period_s, n_stalled, k, stalled_rep_s);
        json_array_append_new(warnings, json_string(w));
    }
    if (n_long) {
        char w[320];
        snprintf(w, sizeof(w),
                 "%s %s: %d of %d repetitions could not end at a counter update within 1%% "
                 "(mean iteration %.3g s against the counter's %.3g s period): they have only "
                 "their start aligned and last up to %.3f s",
                 src, d->info.name, n_long, k, long_iter_s, d->period_s, long_rep_s);
        json_array_append_new(warnings, json_string(w));
    }
    if (!d->info.measured) {
        char w[256];
        snprintf(w, sizeof(w), "%s %s: energy is estimated by a model, not measured", src,
                 d->info.name);
        json_array_append_new(warnings, json_string(w));
    }
    goto details;
unavailable:
    set_unavailable(o, why);
    {
        char w[JB_ERRLEN + 160];
        snprintf(w, sizeof(w), "%s %s: unavailable: %s", src, d->info.name, why);
        json_array_append_new(warnings, json_string(w));
    }
details:
    free(jpu);
    set_num(o, "update_period_s", d->period_s);
    set_num(o, "resolution_j", d->info.resolution_j);
    set_num(o, "wrap_j", d->info.wrap_j);
    json_object_set_new(o, "uncertainty_method", json_string(uncertainty_method));
    const char *quant = "minimum repetition raised to keep both boundaries' error under 1%";
    if (di == e->align_dom && e->align_end)
        quant = "repetition starts and ends aligned to counter updates (the end: the first "
                "update after the minimum time, read between iterations); repetition long "
                "enough that the latency of seeing the updates stays under 1%";
    else if (di == e->align_dom)
        quant = "repetition starts aligned to counter updates (align=start); minimum "
                "repetition raised to keep the end's error under 1%";
    json_object_set_new(o, "quantization", json_string(quant));
    return o;
}

/* Watts between successive changes of the cumulative energy (counters) or
 * the samples themselves (power domains), from t_from on, as CSV rows. */
static void write_trace_domain(FILE *f, const struct jb_edom *d, double t_from, double t_to)
{
    const struct jb_epoint *prev = NULL;
    for (size_t i = 0; i < d->npts; i++) {
        const struct jb_epoint *p = &d->pts[i];
        if (p->t_s < t_from || p->t_s > t_to)
            continue;
        if (d->info.kind == JB_POWER_POWER_SAMPLE) {
            fprintf(f, "%.6f,%s,%.6g\n", p->t_s - t_from, d->info.name, p->w);
            continue;
        }
        if (prev && p->e_j != prev->e_j && p->t_s > prev->t_s) {
            fprintf(f, "%.6f,%s,%.6g\n", p->t_s - t_from, d->info.name,
                    (p->e_j - prev->e_j) / (p->t_s - prev->t_s));
            prev = p;
        } else if (!prev) {
            prev = p;
        }
    }
}

int jb_energy_finish_run(struct jb_energy *e, int keep_last, json_t *energy_list, json_t *warnings,
                         const char *trace_path, char *err, size_t errlen)
{
    int rc = JB_OK;
    pthread_mutex_lock(&e->mu);
    size_t nw = json_array_size(e->open_warnings);
    for (size_t i = 0; i < nw; i++)
        json_array_append(warnings, json_array_get(e->open_warnings, i));
    if (e->sampler && e->sampler_cpu >= 0 && !e->sampler_pinned) {
        char w[96];
        snprintf(w, sizeof(w), "energy sampler thread could not be pinned to cpu %d",
                 e->sampler_cpu);
        json_array_append_new(warnings, json_string(w));
    }
    int first = keep_last > 0 && e->nreps > keep_last ? e->nreps - keep_last : 0;
    if (e->nreps == 0) {
        json_array_append_new(warnings, json_string("energy: no repetition was measured"));
        goto out;
    }
    double t_from = e->reps[first].t0_s, t_to = e->reps[e->nreps - 1].t1_s;
    wait_for_coverage(e, t_to);
    for (int i = 0; i < e->ndom; i++) {
        struct jb_edom *d = &e->dom[i];
        if (d->dropped)
            continue;
        json_t *o = domain_entry(e, i, e->reps + first, e->nreps - first, warnings);
        const struct jb_esrc *s = &e->src[d->src];
        if (s->ops->domain_state) {
            json_object_set(o, "device_state_start", d->state_start ? d->state_start : json_null());
            json_t *end = json_object();
            s->ops->domain_state(s->state, d->idx, end);
            json_object_set_new(o, "device_state_end", end);
        }
        json_array_append_new(energy_list, o);
    }
    if (trace_path) {
        FILE *f = fopen(trace_path, "w");
        if (!f) {
            rc = jb_err(err, errlen, JB_EIO, "energy: cannot write power trace %s", trace_path);
            goto out;
        }
        errno = 0;
        fprintf(f, "time_s,domain,watts\n");
        for (int i = 0; i < e->ndom; i++)
            if (!e->dom[i].dropped && !e->dom[i].failed)
                write_trace_domain(f, &e->dom[i], t_from, t_to);
        struct stat st;
        int regular = fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode);
        int failed = ferror(f), why = errno;
        if (fclose(f) || failed) {
            rc = jb_err(err, errlen, JB_EIO, "energy: writing power trace %s: %s", trace_path,
                        strerror(failed && why ? why : errno ? errno : EIO));
            /* a cut trace (a full disk) is not kept: an empty or partial
             * file beside the record would pass for the run's trace */
            if (regular)
                unlink(trace_path);
        }
    }
out:
    pthread_mutex_unlock(&e->mu);
    return rc;
}

int jb_energy_finish_intervals(struct jb_energy *e, const struct jb_energy_interval *iv, int n,
                               json_t *energy_list, json_t *warnings, char *err, size_t errlen)
{
    if (n <= 0)
        return JB_OK;
    /* The program, not the harness, chose these boundaries: neither end is
     * aligned to a counter update, so each costs its update period
     * (jb_energy_rep_lag_s) and the stated uncertainty says so. */
    struct jb_erep *reps = calloc((size_t)n, sizeof(*reps));
    if (!reps)
        return jb_err(err, errlen, JB_ENOMEM, "energy: out of memory");
    for (int i = 0; i < n; i++)
        reps[i] = (struct jb_erep){
            .t0_s = iv[i].t0_s, .t1_s = iv[i].t1_s, .end = JB_REP_END_OPEN, .st = iv[i].st};
    pthread_mutex_lock(&e->mu);
    wait_for_coverage(e, reps[n - 1].t1_s);
    for (int i = 0; i < e->ndom; i++)
        if (!e->dom[i].dropped)
            json_array_append_new(energy_list, domain_entry(e, i, reps, n, warnings));
    pthread_mutex_unlock(&e->mu);
    free(reps);
    return JB_OK;
}
