/* energy.c: energy accounting over the selected power sources (energy.h).
 *
 * Every domain keeps a history of (time, cumulative energy) points, fed by
 * reads at repetition boundaries and by the sampler thread. Counters are
 * unwrapped as they are read; power samples are integrated (trapezoids). A
 * repetition's energy is the history interpolated at its end minus at its
 * start, which also handles sources whose readings carry their own, lagging
 * timestamps (an external meter). The rules that keep the figures honest
 * (METHODOLOGY.md section 5): a counter that never moved, or a source that
 * failed, is reported unavailable, never as 0 J; each repetition starts
 * right after an update of the slowest counter and, unless align=start,
 * ends right after one too (the runner runs whole iterations until
 * jb_energy_rep_more has seen it), so that its update period costs no
 * quantization, only the latency with which the updates were seen; the
 * other counters' periods set a minimum repetition length; every figure
 * carries an uncertainty that combines resolution, quantization, stated
 * calibration and run-to-run spread. The per-run arithmetic and the record
 * entries are in energy_report.c. */
#include "harness/energy.h"
#include "harness/energy_internal.h"
#include "base/error.h"
#include "harness/power_opts.h"
#include "harness/sampler.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const struct jb_power_source_ops jb_power_estimate;

/* A point is kept for every poll, except that a run of equal counter values
 * keeps only its first and last point: enough for interpolation, and it
 * bounds memory for counters polled much faster than they update. */
static int push_point(struct jb_edom *d, double t, double e, double w)
{
    if (d->npts && t < d->pts[d->npts - 1].t_s)
        return JB_OK; /* a stale meter sample; the history only moves forward */
    if (d->info.kind == JB_POWER_ENERGY_COUNTER && d->npts >= 2 && d->pts[d->npts - 1].e_j == e &&
        d->pts[d->npts - 2].e_j == e) {
        d->pts[d->npts - 1].t_s = t;
        return JB_OK;
    }
    if (d->npts == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 256;
        struct jb_epoint *p = realloc(d->pts, cap * sizeof(*p));
        if (!p)
            return JB_ENOMEM;
        d->pts = p;
        d->cap = cap;
    }
    d->pts[d->npts++] = (struct jb_epoint){t, e, w};
    return JB_OK;
}

static void mark_failed(struct jb_edom *d, const char *why)
{
    if (!d->failed)
        jb_err(d->reason, sizeof(d->reason), JB_OK, "%s", why); /* "..." if cut */
    d->failed = 1;
}

static void poll_one(struct jb_energy *e, struct jb_edom *d, int *more);

/* Reads a domain once, or until a source with a backlog has none left. */
void jb_energy_poll_dom_locked(struct jb_energy *e, struct jb_edom *d)
{
    int more = 1;
    for (int i = 0; more && i < JB_ENERGY_MAX_BACKLOG && !d->failed; i++)
        poll_one(e, d, &more);
}

static void poll_one(struct jb_energy *e, struct jb_edom *d, int *more)
{
    *more = 0;
    const struct jb_esrc *s = &e->src[d->src];
    struct jb_power_reading r;
    char err[JB_ERRLEN] = "";
    int rc = s->ops->read(s->state, d->idx, &r, err, sizeof(err));
    if (rc) {
        char why[JB_ERRLEN + 32];
        snprintf(why, sizeof(why), "read failed: %s", err[0] ? err : jb_strerror(rc));
        mark_failed(d, why);
        return;
    }
    *more = r.more;
    if (r.t_s < 0)
        return; /* the source has nothing yet */
    double t = r.t_s > 0 ? r.t_s : jb_power_now_s();
    if (d->info.kind == JB_POWER_ENERGY_COUNTER) {
        if (d->started && d->info.wrap_j > 0) {
            /* reads this far apart could hide a whole wrap: say so rather
             * than report a figure short by wrap_j */
            double w = d->info.max_power_w > 0 ? 2 * d->info.max_power_w : JB_ENERGY_DEFAULT_MAX_W;
            if ((t - d->last_t) * w >= d->info.wrap_j) {
                char why[160];
                snprintf(why, sizeof(why), "reads %.3f s apart could hide a wrap of %g J",
                         t - d->last_t, d->info.wrap_j);
                mark_failed(d, why);
                return;
            }
        }
        if (d->started) {
            double delta = r.energy_j - d->last_raw;
            if (delta < 0) {
                /* a wrap: the sampler polls faster than one range at the
                 * highest plausible power, so at most one wrap happened */
                if (d->info.wrap_j > 0)
                    delta += d->info.wrap_j;
                else {
                    mark_failed(d, "counter went backwards without a wrap range (reset?)");
                    return;
                }
            }
            d->acc_j += delta;
            d->nchanges += delta != 0;
        }
        d->last_raw = r.energy_j;
        d->last_t = t;
        d->started = 1;
        if (push_point(d, t, d->acc_j, NAN))
            mark_failed(d, "out of memory for the history");
        return;
    }
    if (d->started && t > d->last_t) {
        d->acc_j += 0.5 * (r.power_w + d->last_w) * (t - d->last_t);
        d->nchanges += r.power_w != d->last_w;
    }
    if (!d->started || t > d->last_t) {
        d->last_t = t;
        d->last_w = r.power_w;
        d->started = 1;
        if (push_point(d, t, d->acc_j, r.power_w))
            mark_failed(d, "out of memory for the history");
    }
}

void jb_energy_poll_all_locked(struct jb_energy *e)
{
    for (int i = 0; i < e->ndom; i++)
        jb_energy_poll_dom_locked(e, &e->dom[i]);
}

static void sampler_tick(void *arg)
{
    struct jb_energy *e = arg;
    pthread_mutex_lock(&e->mu);
    jb_energy_poll_all_locked(e);
    pthread_mutex_unlock(&e->mu);
}

/* Takes align=start|end, which every source accepts, out of a source's
 * options into *align_end, and copies the others (which the source parses
 * itself) into rest. */
static int take_align(const char *src, const char *opts, char *rest, size_t n, int *align_end,
                      char *err, size_t errlen)
{
    size_t len = 0;
    *align_end = 1;
    rest[0] = 0;
    for (const char *p = opts; p && *p;) {
        const char *end = strchr(p, ',');
        size_t l = end ? (size_t)(end - p) : strlen(p);
        if (l >= 6 && !strncmp(p, "align=", 6)) {
            const char *v = p + 6;
            size_t vl = l - 6;
            if (vl == 5 && !strncmp(v, "start", 5))
                *align_end = 0;
            else if (!(vl == 3 && !strncmp(v, "end", 3)))
                return jb_err(err, errlen, JB_EINVAL, "%s: align=%.*s, expected start or end", src,
                              (int)vl, v);
        } else {
            if (len + l + 2 > n)
                return jb_err(err, errlen, JB_EINVAL, "%s: options too long", src);
            if (len)
                rest[len++] = ',';
            memcpy(rest + len, p, l);
            len += l;
            rest[len] = 0;
        }
        p = end ? end + 1 : NULL;
    }
    return JB_OK;
}

static int add_source(struct jb_energy *e, const struct jb_power_source_ops *ops, const char *opts,
                      const struct jb_power_context *ctx, char *err, size_t errlen)
{
    if (e->nsrc == JB_ENERGY_MAX_SRC)
        return jb_err(err, errlen, JB_ERANGE, "--power: more than %d sources", JB_ENERGY_MAX_SRC);
    char own[sizeof(e->src[0].opts)];
    int align_end;
    int rc = take_align(ops->name, opts, own, sizeof(own), &align_end, err, errlen);
    if (rc)
        return rc;
    void *st = NULL;
    rc = ops->open(opts ? own : NULL, ctx, &st, err, errlen);
    if (rc)
        return rc;
    int n = ops->ndomains(st);
    struct jb_edom *nd = realloc(e->dom, (size_t)(e->ndom + n) * sizeof(*nd));
    if (!nd) {
        ops->close(st);
        return jb_err(err, errlen, JB_ENOMEM, "energy: out of memory");
    }
    e->dom = nd;
    struct jb_esrc *s = &e->src[e->nsrc];
    s->ops = ops;
    s->state = st;
    snprintf(s->opts, sizeof(s->opts), "%s", own);
    s->align_end = align_end;
    for (int i = 0; i < n; i++) {
        struct jb_edom *d = &e->dom[e->ndom + i];
        memset(d, 0, sizeof(*d));
        d->src = e->nsrc;
        d->idx = i;
        ops->domain(st, i, &d->info);
        d->period_s = d->info.update_period_s;
    }
    e->ndom += n;
    e->nsrc++;
    return JB_OK;
}

static void warnf(struct jb_energy *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warnf(struct jb_energy *e, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    json_array_append_new(e->open_warnings, json_string(buf));
}

/* Measures each measured domain's update period on the spot (when the
 * source does not state it, or always under auto), which also finds frozen
 * counters. Under auto a frozen domain is dropped with a warning; named
 * explicitly it stays, and the run-level check reports it unavailable. */
static void measure_domains(struct jb_energy *e, int is_auto)
{
    for (int i = 0; i < e->ndom; i++) {
        struct jb_edom *d = &e->dom[i];
        if (!d->info.measured || (!is_auto && d->info.update_period_s > 0))
            continue;
        double period = 0, power = 0;
        int changes = 0;
        char err[JB_ERRLEN] = "";
        const struct jb_esrc *s = &e->src[d->src];
        int rc = jb_power_measure_period(s->ops, s->state, d->idx, JB_ENERGY_MEASURE_WINDOW_S,
                                         &period, &changes, &power, err, sizeof(err));
        if (rc) {
            mark_failed(d, err);
            d->dropped = is_auto; /* auto takes only what works */
            warnf(e, "%s %s: %s%s", s->ops->name, d->info.name, err, is_auto ? "; left out" : "");
            continue;
        }
        /* a steady power reading is legitimate; only a counter can freeze */
        if (!changes && d->info.kind == JB_POWER_ENERGY_COUNTER) {
            char why[128];
            snprintf(why, sizeof(why), "counter did not advance in %.1f s (frozen)",
                     JB_ENERGY_MEASURE_WINDOW_S);
            mark_failed(d, why);
            d->dropped = is_auto;
            warnf(e, "%s %s: %s%s", s->ops->name, d->info.name, why, is_auto ? "; left out" : "");
            continue;
        }
        if (d->info.update_period_s <= 0)
            d->period_s = period;
        d->power_est_w = power;
    }
}

static int has_source(const struct jb_energy *e, const char *name)
{
    for (int i = 0; i < e->nsrc; i++)
        if (!strcmp(e->src[i].ops->name, name))
            return 1;
    return 0;
}

/* Every hardware source whose probe works, minus frozen domains; else the
 * estimate, with the reasons in a warning. */
static int open_auto(struct jb_energy *e, const struct jb_power_context *ctx, char *err,
                     size_t errlen)
{
    char why_all[1024] = "";
    for (int i = 0; jb_power_sources[i]; i++) {
        const struct jb_power_source_ops *ops = jb_power_sources[i];
        if (!ops->is_hardware)
            continue;
        char why[JB_ERRLEN] = "";
        /* rapl-perf and rapl-powercap read the same RAPL counters: taking
         * both would report every package twice */
        if (!strcmp(ops->name, "rapl-powercap") && has_source(e, "rapl-perf")) {
            size_t l = strlen(why_all);
            snprintf(why_all + l, sizeof(why_all) - l,
                     "%srapl-powercap: not used, rapl-perf "
                     "reads the same counters",
                     l ? "; " : "");
            continue;
        }
        int rc = ops->probe(NULL, ctx, why, sizeof(why));
        if (!rc)
            rc = add_source(e, ops, NULL, ctx, why, sizeof(why));
        if (rc) {
            size_t l = strlen(why_all);
            snprintf(why_all + l, sizeof(why_all) - l, "%s%s: %s", l ? "; " : "", ops->name, why);
        }
    }
    measure_domains(e, 1);
    int live = 0;
    for (int i = 0; i < e->ndom; i++)
        live += !e->dom[i].dropped;
    if (live)
        return JB_OK;
    warnf(e, "no hardware energy counter works here (%s); energy is estimated, not measured",
          why_all[0] ? why_all : "only frozen counters");
    return add_source(e, &jb_power_estimate, NULL, ctx, err, errlen);
}

static int open_spec(struct jb_energy *e, const char *spec, const struct jb_power_context *ctx,
                     char *err, size_t errlen)
{
    char buf[1024];
    if (strlen(spec) >= sizeof(buf))
        return jb_err(err, errlen, JB_EINVAL, "--power: spec of %zu characters is too long (at "
                      "most %zu)", strlen(spec), sizeof(buf) - 1);
    snprintf(buf, sizeof(buf), "%s", spec);
    /* split on '+' by hand: "a++b" and a '+' at an end are errors, not
     * sources that vanish */
    for (char *part = buf, *next; part; part = next) {
        char *plus = strchr(part, '+');
        next = plus ? plus + 1 : NULL;
        if (plus)
            *plus = 0;
        if (!*part)
            return jb_err(err, errlen, JB_EINVAL, "--power: empty source in '%.60s'", spec);
        char *colon = strchr(part, ':');
        if (colon)
            *colon = 0;
        const struct jb_power_source_ops *ops = jb_power_source_find(part);
        if (!ops)
            return jb_err(err, errlen, JB_ENOENT,
                          "--power: no source '%s' (separate several with '+')", part);
        int rc = add_source(e, ops, colon ? colon + 1 : NULL, ctx, err, errlen);
        if (rc)
            return rc;
    }
    if (!e->nsrc)
        return jb_err(err, errlen, JB_EINVAL, "--power: empty source list '%s'", spec);
    measure_domains(e, 0);
    return JB_OK;
}

/* Polls fast enough for the shortest need: a wrapping counter must be read
 * at least 4 times per range at its highest plausible power, power-only
 * domains at their update period, everything at least every 100 ms for the
 * power trace. */
static double sampler_interval(const struct jb_energy *e)
{
    double iv = JB_ENERGY_TRACE_INTERVAL_S;
    for (int i = 0; i < e->ndom; i++) {
        const struct jb_edom *d = &e->dom[i];
        if (d->dropped)
            continue;
        if (d->info.wrap_j > 0) {
            double w = d->info.max_power_w > 0 ? 2 * d->info.max_power_w : JB_ENERGY_DEFAULT_MAX_W;
            double need = d->info.wrap_j / w / 4;
            if (need < iv)
                iv = need;
        }
        if (d->info.kind == JB_POWER_POWER_SAMPLE && d->period_s > 0 && d->period_s < iv)
            iv = d->period_s;
    }
    return iv < JB_ENERGY_MIN_INTERVAL_S ? JB_ENERGY_MIN_INTERVAL_S : iv;
}

int jb_energy_open(const char *spec, const struct jb_energy_opts *o, struct jb_energy **out,
                   char *err, size_t errlen)
{
    *out = NULL;
    struct jb_energy *e = calloc(1, sizeof(*e));
    if (!e)
        return jb_err(err, errlen, JB_ENOMEM, "energy: out of memory");
    pthread_mutex_init(&e->mu, NULL);
    e->open_warnings = json_array();
    e->align_dom = -1;
    struct jb_power_context ctx = {o ? o->threads : 1, o ? o->cpus : NULL,
                                   o && o->sysfs_root ? o->sysfs_root : "/",
                                   o ? o->with_children : 0};
    const char *s = spec && spec[0] ? spec : "auto";
    int rc =
        !strcmp(s, "auto") ? open_auto(e, &ctx, err, errlen) : open_spec(e, s, &ctx, err, errlen);
    if (rc)
        goto fail;
    /* align repetitions to the coarsest counter that updates slowly
     * enough for the wait to matter (NVML: ~100 ms) */
    for (int i = 0; i < e->ndom; i++) {
        const struct jb_edom *d = &e->dom[i];
        if (!d->failed && d->info.measured && d->info.kind == JB_POWER_ENERGY_COUNTER &&
            d->period_s >= JB_ENERGY_ALIGN_MIN_PERIOD_S &&
            (e->align_dom < 0 || d->period_s > e->dom[e->align_dom].period_s))
            e->align_dom = i;
    }
    if (e->align_dom >= 0)
        e->align_end = e->src[e->dom[e->align_dom].src].align_end;
    int need_sampler = 0;
    for (int i = 0; i < e->ndom; i++)
        need_sampler |= !e->dom[i].dropped && e->dom[i].info.measured;
    pthread_mutex_lock(&e->mu);
    jb_energy_poll_all_locked(e);
    pthread_mutex_unlock(&e->mu);
    if (need_sampler) {
        e->sampler_interval_s = sampler_interval(e);
        e->sampler_cpu = o ? o->sampler_cpu : -1;
        rc = jb_sampler_start(e->sampler_interval_s, e->sampler_cpu, sampler_tick, e, &e->sampler,
                              &e->sampler_pinned, err, errlen);
        if (rc)
            goto fail;
    }
    *out = e;
    return JB_OK;
fail:
    jb_energy_close(e);
    return rc;
}

void jb_energy_close(struct jb_energy *e)
{
    if (!e)
        return;
    jb_sampler_stop(e->sampler);
    for (int i = 0; i < e->nsrc; i++)
        e->src[i].ops->close(e->src[i].state);
    for (int i = 0; i < e->ndom; i++) {
        free(e->dom[i].pts);
        json_decref(e->dom[i].state_start);
    }
    free(e->dom);
    free(e->reps);
    json_decref(e->open_warnings);
    pthread_mutex_destroy(&e->mu);
    free(e);
}

static double min_duration_locked(const struct jb_energy *e)
{
    double m = 0;
    for (int i = 0; i < e->ndom; i++) {
        const struct jb_edom *d = &e->dom[i];
        if (d->failed || !d->info.measured)
            continue;
        /* an end-aligned counter's need depends on the iteration time:
         * jb_energy_rep_more enforces it; a start-aligned one lags by up to
         * one period at the end; any other at both ends */
        double need = 0;
        if (i != e->align_dom || !e->align_end)
            need = jb_energy_quant_period_s(e, i) * (i == e->align_dom ? 1 : 2) /
                   JB_ENERGY_QUANT_TARGET;
        if (d->info.kind == JB_POWER_ENERGY_COUNTER && d->info.resolution_j > 0 &&
            d->power_est_w > 0) {
            double r = d->info.resolution_j / (JB_ENERGY_QUANT_TARGET * d->power_est_w);
            if (r > need)
                need = r;
        }
        if (need > m)
            m = need;
    }
    return m;
}

double jb_energy_min_duration_s(const struct jb_energy *e)
{
    /* the sampler may be marking a domain failed right now */
    pthread_mutex_t *mu = (pthread_mutex_t *)&e->mu;
    pthread_mutex_lock(mu);
    double m = min_duration_locked(e);
    pthread_mutex_unlock(mu);
    return m;
}

/* The period by which a domain's boundaries can be off: its update period,
 * and for power samples at least the interval they were polled at. */
double jb_energy_quant_period_s(const struct jb_energy *e, int i)
{
    const struct jb_edom *d = &e->dom[i];
    double p = d->period_s;
    if (d->info.kind == JB_POWER_POWER_SAMPLE && e->sampler_interval_s > p)
        p = e->sampler_interval_s;
    return p;
}

int jb_energy_idle(struct jb_energy *e, double seconds, char *err, size_t errlen)
{
    if (!(seconds > 0))
        return jb_err(err, errlen, JB_EINVAL, "--idle: %g s is not a positive duration", seconds);
    pthread_mutex_lock(&e->mu);
    jb_energy_poll_all_locked(e);
    double t0 = jb_power_now_s();
    pthread_mutex_unlock(&e->mu);
    jb_power_sleep_s(seconds);
    pthread_mutex_lock(&e->mu);
    double t1 = jb_power_now_s();
    jb_energy_poll_all_locked(e);
    for (int i = 0; i < e->ndom; i++) {
        struct jb_edom *d = &e->dom[i];
        double e0, e1;
        d->have_idle = 0;
        if (d->failed || jb_energy_interp(d, t0, &e0) || jb_energy_interp(d, t1, &e1))
            continue;
        d->idle_w = (e1 - e0) / (t1 - t0);
        d->have_idle = 1;
    }
    pthread_mutex_unlock(&e->mu);
    return JB_OK;
}

void jb_energy_begin_run(struct jb_energy *e)
{
    pthread_mutex_lock(&e->mu);
    double now = jb_power_now_s();
    e->nreps = 0;
    for (int i = 0; i < e->ndom; i++) {
        struct jb_edom *d = &e->dom[i];
        /* drop the history before now, keeping the last point before now
         * as the anchor of the run (and a meter's points from the future) */
        size_t keep = 0;
        while (keep + 1 < d->npts && d->pts[keep + 1].t_s <= now)
            keep++;
        if (keep) {
            memmove(d->pts, d->pts + keep, (d->npts - keep) * sizeof(d->pts[0]));
            d->npts -= keep;
        }
        json_decref(d->state_start);
        d->state_start = NULL;
        const struct jb_esrc *s = &e->src[d->src];
        if (s->ops->domain_state && !d->dropped) {
            d->state_start = json_object();
            s->ops->domain_state(s->state, d->idx, d->state_start);
        }
    }
    pthread_mutex_unlock(&e->mu);
}

/* The latest history point of a counter and the latency with which the
 * update it shows was seen: the time since the last read (ours or the
 * sampler's) that still had the previous value, the update being somewhere
 * in between; one period when the history holds no earlier value. */
static double update_seen_locked(const struct jb_edom *d, double *lag_s)
{
    size_t i = d->npts - 1;
    double e_new = d->pts[i].e_j, t_new = d->pts[i].t_s;
    while (i > 0 && d->pts[i - 1].e_j == e_new)
        i--;
    *lag_s = i > 0 ? t_new - d->pts[i - 1].t_s : d->period_s;
    return t_new;
}

int jb_energy_rep_begin(struct jb_energy *e)
{
    pthread_mutex_lock(&e->mu);
    e->rep_aligned = 0;
    e->rep_end = JB_REP_END_OPEN;
    e->rep_lag0_s = e->rep_lag1_s = e->rep_iteration_s = 0;
    double t0 = -1;
    if (e->align_dom >= 0 && !e->dom[e->align_dom].failed) {
        /* wait (outside the timed region) for the counter to step, so the
         * repetition starts right at an update */
        struct jb_edom *d = &e->dom[e->align_dom];
        jb_energy_poll_dom_locked(e, d);
        long n0 = d->nchanges;
        double deadline = jb_power_now_s() + JB_ENERGY_ALIGN_DEADLINE_PERIODS * d->period_s;
        while (!d->failed && d->nchanges == n0 && jb_power_now_s() < deadline) {
            jb_power_sleep_s(JB_ENERGY_ALIGN_POLL_S);
            double r0 = jb_power_now_s();
            jb_energy_poll_dom_locked(e, d);
            double rd = jb_power_now_s() - r0;
            if (e->align_read_s <= 0 || rd < e->align_read_s)
                e->align_read_s = rd;
        }
        if (!d->failed && d->nchanges != n0 && d->npts) {
            e->rep_aligned = 1;
            t0 = update_seen_locked(d, &e->rep_lag0_s);
        } else if (!d->failed) {
            /* A source that stamps its own readings (an external meter)
             * and has none this recent is not measuring this run; without
             * this, every repetition would wait out the start-only rule
             * (100 periods) for nothing. */
            double window = JB_ENERGY_ALIGN_DEADLINE_PERIODS * d->period_s;
            if (!d->started) {
                char why[160];
                snprintf(why, sizeof(why), "no reading within %.3g s (%d update periods)", window,
                         JB_ENERGY_ALIGN_DEADLINE_PERIODS);
                mark_failed(d, why);
            } else if (d->last_t < jb_power_now_s() - 2 * window) {
                char why[200];
                snprintf(why, sizeof(why),
                         "its latest reading is %.3g s old: its readings do not cover the run",
                         jb_power_now_s() - d->last_t);
                mark_failed(d, why);
            }
        }
    }
    for (int i = 0; i < e->ndom; i++)
        if (i != e->align_dom)
            jb_energy_poll_dom_locked(e, &e->dom[i]);
    e->rep_t0_s = t0 >= 0 ? t0 : jb_power_now_s();
    pthread_mutex_unlock(&e->mu);
    return JB_OK;
}

/* The repetition length that keeps lag_s of boundary lag within the 1%
 * target: the bound is P lag with P = E / (t - lag) (energy_report.c), so
 * lag / (t - lag) <= 1%. */
static double need_for_lag_s(double lag_s)
{
    return lag_s * (1 + 1 / JB_ENERGY_QUANT_TARGET);
}

/* The end of a repetition (METHODOLOGY.md 5.3, rule 4). Its energy for the
 * aligned counter is the difference of two values each read right after an
 * update, so the period does not enter; what does is the latency with which
 * each update was seen: at the start one 0.2 ms poll and a read, at the end
 * the spacing of the polls, rounded up to a whole iteration, and a read.
 * The repetition runs until that can be within 1% and then until the next
 * update; an update seen so late that the bound would exceed 1% does not
 * end it, the next one does. Where the need exceeds the start-aligned
 * rule's (one period at the end: iterations about as long as the period),
 * or the counter stalls, that rule applies instead. */
/* A poll of the end, past the repetition's minimum: 1 to go on. */
static int poll_end_locked(struct jb_energy *e, struct jb_edom *d, double now, double el,
                           double need_start)
{
    jb_energy_poll_dom_locked(e, d);
    e->rep_last_poll_s = now;
    if (d->failed)
        return 0;
    if (d->nchanges == e->rep_ref_changes) {
        if (now - e->rep_poll0_s <= JB_ENERGY_ALIGN_DEADLINE_PERIODS * d->period_s)
            return 1;
        e->rep_end = JB_REP_END_STALLED;
        return el < need_start;
    }
    double lag1, t1 = update_seen_locked(d, &lag1);
    if (t1 - e->rep_t0_s >= need_for_lag_s(e->rep_lag0_s + lag1)) {
        e->rep_t1_s = t1;
        e->rep_lag1_s = lag1;
        e->rep_end = JB_REP_END_ALIGNED;
        return 0;
    }
    /* seen too late for 1% (a long last iteration): the next update, unless
     * the repetition is long enough for the start-aligned rule already */
    if (el >= need_start) {
        e->rep_end = JB_REP_END_LONG_ITER;
        return 0;
    }
    e->rep_ref_changes = d->nchanges;
    e->rep_poll0_s = now;
    return 1;
}

int jb_energy_rep_more(struct jb_energy *e, double iteration_s)
{
    if (e->align_dom < 0)
        return 0;
    pthread_mutex_lock(&e->mu);
    struct jb_edom *d = &e->dom[e->align_dom];
    const double T = d->period_s;
    double now = jb_power_now_s(), el = now - e->rep_t0_s;
    double gap = e->align_read_s / JB_ENERGY_END_POLL_COST_MAX;
    if (gap > T / JB_ENERGY_END_POLLS_PER_PERIOD)
        gap = T / JB_ENERGY_END_POLLS_PER_PERIOD;
    if (gap < JB_ENERGY_ALIGN_POLL_S)
        gap = JB_ENERGY_ALIGN_POLL_S;
    double need_start = need_for_lag_s(e->rep_lag0_s + T),
           need_end = need_for_lag_s(e->rep_lag0_s + gap + iteration_s + e->align_read_s);
    int more;
    e->rep_iteration_s = iteration_s;
    if (d->failed || e->rep_end == JB_REP_END_ALIGNED) {
        more = 0;
    } else if (!e->rep_aligned) {
        /* no update to start from: as long as before end alignment, when
         * the start-aligned rule was the only one */
        e->rep_end = JB_REP_END_START_ONLY;
        more = el < T / JB_ENERGY_QUANT_TARGET;
    } else if (!e->align_end) {
        e->rep_end = JB_REP_END_START_ONLY;
        more = el < need_start;
    } else if (e->rep_end == JB_REP_END_STALLED || e->rep_end == JB_REP_END_LONG_ITER) {
        more = el < need_start;
    } else if (need_end >= need_start) {
        e->rep_end = JB_REP_END_LONG_ITER;
        more = el < need_start;
    } else if (el < need_end) {
        e->rep_end = JB_REP_END_OPEN; /* (the mean iteration may have grown) */
        more = 1;
    } else if (e->rep_end != JB_REP_END_POLLING) {
        /* the reference read: an update it shows may have happened anywhere
         * in the iterations before it */
        jb_energy_poll_dom_locked(e, d);
        e->rep_ref_changes = d->nchanges;
        e->rep_poll0_s = e->rep_last_poll_s = now;
        e->rep_end = JB_REP_END_POLLING;
        more = !d->failed;
    } else if (now - e->rep_last_poll_s < gap) {
        more = 1; /* not yet: reads are spaced by `gap` */
    } else {
        more = poll_end_locked(e, d, now, el, need_start);
    }
    pthread_mutex_unlock(&e->mu);
    return more;
}

int jb_energy_rep_end(struct jb_energy *e, const struct jb_rep_stats *r)
{
    double now = jb_power_now_s();
    pthread_mutex_lock(&e->mu);
    double t1 = e->rep_end == JB_REP_END_ALIGNED ? e->rep_t1_s : now;
    jb_energy_poll_all_locked(e);
    if (e->nreps == e->capreps) {
        int cap = e->capreps ? e->capreps * 2 : 64;
        struct jb_erep *p = realloc(e->reps, (size_t)cap * sizeof(*p));
        if (!p) {
            pthread_mutex_unlock(&e->mu);
            return JB_ENOMEM;
        }
        e->reps = p;
        e->capreps = cap;
    }
    e->reps[e->nreps++] = (struct jb_erep){.t0_s = e->rep_t0_s,
                                           .t1_s = t1,
                                           .aligned = e->rep_aligned,
                                           .end = e->rep_end,
                                           .lag0_s = e->rep_lag0_s,
                                           .lag1_s = e->rep_lag1_s,
                                           .iteration_s = e->rep_iteration_s,
                                           .st = *r};
    pthread_mutex_unlock(&e->mu);
    return JB_OK;
}

double jb_energy_mark(struct jb_energy *e)
{
    pthread_mutex_lock(&e->mu);
    jb_energy_poll_all_locked(e);
    double t = jb_power_now_s();
    pthread_mutex_unlock(&e->mu);
    return t;
}

double jb_energy_rep_lag_s(const struct jb_energy *e, int i, const struct jb_erep *r)
{
    double T = jb_energy_quant_period_s(e, i);
    if (i != e->align_dom || !r->aligned)
        return 2 * T;
    return r->lag0_s + (r->end == JB_REP_END_ALIGNED ? r->lag1_s : T);
}

int jb_energy_interp(const struct jb_edom *d, double t, double *e_j)
{
    size_t n = d->npts;
    if (!n || t < d->pts[0].t_s || t > d->pts[n - 1].t_s)
        return -1;
    size_t lo = 0, hi = n - 1; /* pts[lo].t <= t <= pts[hi].t */
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (d->pts[mid].t_s <= t)
            lo = mid;
        else
            hi = mid;
    }
    const struct jb_epoint *a = &d->pts[lo], *b = &d->pts[hi];
    double dt = b->t_s - a->t_s;
    *e_j = dt > 0 ? a->e_j + (b->e_j - a->e_j) * (t - a->t_s) / dt : b->e_j;
    return 0;
}
