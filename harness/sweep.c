/* sweep.c: the power-limit / GPU-clock sweep (sweep.h): apply a setting,
 * measure, and always put the original setting back.
 *
 * Restoring is the point of this file: a GPU left at a low power limit
 * slows every later user of the machine. So the original is read before
 * anything is set, the loop has one exit, and the restore runs on it for a
 * finished sweep, a failed measurement and SIGINT alike. */
#include "harness/sweep.h"
#include "base/error.h"
#include "harness/nvml.h"
#include "workloads/workload.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Set by the signal handler while a sweep runs: the first of SIGINT,
 * SIGTERM and SIGHUP that arrived. A handler can only reach global state;
 * this flag is the one piece of mutable global state. */
static volatile sig_atomic_t sweep_interrupted;

static void sweep_on_signal(int sig)
{
    if (!sweep_interrupted)
        sweep_interrupted = sig;
}

/* Every signal that stops a sweep must restore the GPU first. */
static const int sweep_signals[] = {SIGINT, SIGTERM, SIGHUP};
#define NSWEEP_SIGNALS (sizeof(sweep_signals) / sizeof(sweep_signals[0]))

int jb_sweep_parse(const char *range, enum jb_sweep_kind kind, struct jb_sweep_spec *spec,
                   char *err, size_t errlen)
{
    const char *what = kind == JB_SWEEP_POWER_LIMIT ? "--power-limit" : "--gpu-clock";
    double v[3];
    const char *p = range;
    memset(spec, 0, sizeof(*spec));
    spec->kind = kind;
    for (int i = 0; i < 3; i++) {
        char *end;
        errno = 0;
        v[i] = strtod(p, &end);
        if (end == p || errno || !isfinite(v[i]) || (i < 2 && *end != ':') || (i == 2 && *end))
            return jb_err(err, errlen, JB_EINVAL, "%s '%s': expected A:B:STEP (numbers)", what,
                          range ? range : "");
        p = end + 1;
    }
    if (v[0] <= 0 || v[1] < v[0] || v[2] <= 0)
        return jb_err(err, errlen, JB_EINVAL, "%s '%s': need 0 < A <= B and STEP > 0", what, range);
    if ((v[1] - v[0]) / v[2] >= 1000)
        return jb_err(err, errlen, JB_ERANGE, "%s '%s': more than 1000 settings", what, range);
    spec->from = v[0];
    spec->to = v[1];
    spec->step = v[2];
    return 0;
}

int jb_sweep_pareto(struct jb_sweep_point *pts, int n)
{
    int best = -1;
    for (int i = 0; i < n; i++) {
        pts[i].pareto = 0;
        if (!pts[i].applied)
            continue;
        int dominated = 0;
        for (int j = 0; j < n && !dominated; j++)
            dominated = j != i && pts[j].applied && pts[j].latency_s <= pts[i].latency_s &&
                        pts[j].energy_j <= pts[i].energy_j &&
                        (pts[j].latency_s < pts[i].latency_s || pts[j].energy_j < pts[i].energy_j);
        pts[i].pareto = !dominated;
        if (best < 0 || pts[i].energy_j < pts[best].energy_j)
            best = i;
    }
    return best;
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

int jb_sweep_measure_workload(void *ctx, struct jb_sweep_point *pt, char *err, size_t errlen)
{
    struct jb_sweep_workload *w = ctx;
    unsigned long long e_prev, e0, e1;
    double t0, t, step_max = 0;
    long iters = 0;
    int rc;
    /* One iteration first: the setting takes effect, caches are warm. */
    if ((rc = w->ops->run(w->state, err, errlen)))
        return rc;
    if ((rc = jb_nvml_energy_mj(w->nv, w->gpu, &e_prev, err, errlen)) ||
        (rc = jb_nvml_wait_energy_change(w->nv, w->gpu, e_prev, &e0, 2.0, err, errlen)))
        return rc;
    t0 = t = mono_s();
    for (;;) {
        double a = mono_s();
        if ((rc = w->ops->run(w->state, err, errlen)))
            return rc;
        t = mono_s();
        iters++;
        if (t - a > step_max)
            step_max = t - a;
        if (t - t0 >= w->min_s) {
            /* Stop at the first counter update after the minimum time. */
            if ((rc = jb_nvml_energy_mj(w->nv, w->gpu, &e1, err, errlen)))
                return rc;
            if (e1 != e0 && t - t0 >= w->min_s)
                break;
        }
    }
    double units = (double)iters * w->units_per_iteration, ej = (double)(e1 - e0) / 1000.0;
    if (ej <= 0 || units <= 0)
        return jb_err(err, errlen, JB_EUNAVAIL, "sweep: energy counter did not advance over %.2f s",
                      t - t0);
    pt->latency_s = (t - t0) / units;
    pt->energy_j = ej / units;
    pt->energy_unc_j = ej / (t - t0) * (step_max + 0.0004) / units;
    return 0;
}

/* Appends "what: why" to l->unread. */
static void unread(struct jb_sweep_limits *l, const char *what, const char *why)
{
    size_t k = strlen(l->unread);
    snprintf(l->unread + k, sizeof(l->unread) - k, "%s%s: %s", k ? "; " : "", what, why);
}

int jb_sweep_read_limits(struct jb_nvml *nv, int gpu, struct jb_sweep_limits *l, char *err,
                         size_t errlen)
{
    char why[JB_ERRLEN];
    unsigned cur = 0, mn = 0, mx = 0, def = 0, mem = 0, app = 0, app_def = 0;
    struct jb_gpu_state st;
    memset(l, 0, sizeof(*l));
    l->clocks_held = -1;
    if (gpu < 0 || gpu >= jb_nvml_count(nv))
        return jb_err(err, errlen, JB_ENOENT, "sweep: --gpu %d: the driver sees %d GPU(s)", gpu,
                      jb_nvml_count(nv));
    snprintf(l->driver, sizeof(l->driver), "%s", jb_nvml_driver(nv));
    l->root = geteuid() == 0;
    if (jb_nvml_name(nv, gpu, l->name, sizeof(l->name), why, sizeof(why)))
        jb_err(l->name, sizeof(l->name), JB_OK, "(name unknown: %s)", why);
    if (!jb_nvml_power_limit(nv, gpu, &cur, &mn, &mx, why, sizeof(why))) {
        l->have_power = 1;
        l->power_w = cur / 1000.0;
        l->power_min_w = mn / 1000.0;
        l->power_max_w = mx / 1000.0;
    } else {
        unread(l, "power limit", why);
    }
    if (!jb_nvml_power_limit_default(nv, gpu, &def, why, sizeof(why)))
        l->power_default_w = def / 1000.0;
    else
        unread(l, "default power limit", why);
    int crc = jb_nvml_supported_gpu_clocks(nv, gpu, &mem, l->clocks_mhz, JB_SWEEP_MAX_CLOCKS,
                                           &l->nclocks, why, sizeof(why));
    if (!crc && l->nclocks > 0) {
        l->have_clocks = 1;
        l->mem_mhz = mem;
        l->clock_min_mhz = l->clock_max_mhz = l->clocks_mhz[0];
        for (int i = 1; i < l->nclocks; i++) {
            if (l->clocks_mhz[i] < l->clock_min_mhz)
                l->clock_min_mhz = l->clocks_mhz[i];
            if (l->clocks_mhz[i] > l->clock_max_mhz)
                l->clock_max_mhz = l->clocks_mhz[i];
        }
    } else {
        unread(l, "supported clocks", crc ? why : "none listed");
        l->nclocks = 0;
    }
    if (!jb_nvml_app_clocks(nv, gpu, &app, &app_def, why, sizeof(why))) {
        l->app_mhz = app;
        l->app_default_mhz = app_def;
    } else {
        unread(l, "application clocks", why);
    }
    /* The state reader keeps going past fields it cannot read. */
    jb_nvml_state(nv, gpu, &st, why, sizeof(why));
    if (st.have & JB_GPU_REASONS)
        l->clocks_held = (st.reasons & 0x2ull) != 0; /* applications_clocks_setting */
    else
        unread(l, "clocks event reasons", "not read");
    return 0;
}

/* A dry run: the plan from the GPU's limits; nothing is set or measured. */
static int plan(const struct jb_sweep_spec *spec, struct jb_nvml *nv, struct jb_sweep_result *out,
                char *err, size_t errlen)
{
    const struct jb_sweep_limits *l = &out->limits;
    int power = spec->kind == JB_SWEEP_POWER_LIMIT, rc;
    const char *unit = power ? "W" : "MHz";
    if ((rc = jb_sweep_read_limits(nv, spec->gpu, &out->limits, err, errlen)))
        return rc;
    double lo = power ? l->power_min_w : l->clock_min_mhz;
    double hi = power ? l->power_max_w : l->clock_max_mhz;
    int known = power ? l->have_power : l->have_clocks;
    for (int i = 0; i < out->n; i++) {
        struct jb_sweep_point *p = &out->pts[i];
        p->in_range = !known ? -1 : p->setting >= lo - 1e-9 && p->setting <= hi + 1e-9;
        out->n_in_range += p->in_range == 1;
        if (p->in_range == 0) {
            snprintf(p->note, sizeof(p->note),
                     "dry run: %g %s is outside the GPU's %g..%g %s: NVML would refuse it",
                     p->setting, unit, lo, hi, unit);
            continue;
        }
        char extra[80] = "";
        if (!known) {
            snprintf(extra, sizeof(extra), " (the GPU's range could not be read)");
        } else if (!power) {
            /* A lock between two supported clocks: say which is nearest. */
            unsigned near = l->clocks_mhz[0];
            for (int k = 1; k < l->nclocks; k++)
                if (fabs(l->clocks_mhz[k] - p->setting) < fabs(near - p->setting))
                    near = l->clocks_mhz[k];
            if (fabs(near - p->setting) > 0.5)
                snprintf(extra, sizeof(extra), " (not a supported clock; nearest %u MHz)", near);
        }
        snprintf(p->note, sizeof(p->note), "dry run: would set %g %s%s", p->setting, unit, extra);
    }
    out->original = power ? l->power_w : 0;
    out->restored = 1; /* nothing was changed */
    if (power && !l->have_power)
        return jb_err(err, errlen, JB_ENOTSUP,
                      "sweep: GPU %d's power limit cannot be read (%s): a power-limit sweep "
                      "could not start",
                      spec->gpu, l->unread);
    if (known && out->n_in_range == 0)
        return jb_err(err, errlen, JB_ERANGE,
                      "sweep: no setting of %g..%g %s is within GPU %d's %g..%g %s", spec->from,
                      spec->to, unit, spec->gpu, lo, hi, unit);
    return 0;
}

static int apply(const struct jb_sweep_spec *s, struct jb_nvml *nv, double v, char *err,
                 size_t errlen)
{
    if (s->kind == JB_SWEEP_POWER_LIMIT)
        return jb_nvml_set_power_limit(nv, s->gpu, (unsigned)llround(v * 1000.0), err, errlen);
    return jb_nvml_lock_clocks(nv, s->gpu, (unsigned)llround(v), (unsigned)llround(v), err, errlen);
}

int jb_sweep_run(const struct jb_sweep_spec *spec, struct jb_nvml *nv, jb_sweep_measure_fn fn,
                 void *ctx, struct jb_sweep_result *out, char *err, size_t errlen)
{
    int rc = 0, n = (int)floor((spec->to - spec->from) / spec->step + 1e-9) + 1, nperm = 0,
        nset = 0;
    unsigned cur_mw = 0, min_mw = 0, max_mw = 0;
    struct sigaction sa, old[NSWEEP_SIGNALS];
    memset(out, 0, sizeof(*out));
    out->best_energy = -1;
    out->pts = calloc((size_t)n, sizeof(*out->pts));
    if (!out->pts)
        return jb_err(err, errlen, JB_ENOMEM, "sweep: out of memory");
    out->n = n;
    for (int i = 0; i < n; i++)
        out->pts[i].setting = spec->from + i * spec->step;
    if (spec->dry_run)
        return plan(spec, nv, out, err, errlen);
    /* The original setting, read before anything changes. Locked clocks
     * cannot be read back through NVML; a sweep of clocks restores the
     * default (unlocked) state, which is what a GPU not being swept has. */
    if (spec->kind == JB_SWEEP_POWER_LIMIT) {
        if ((rc = jb_nvml_power_limit(nv, spec->gpu, &cur_mw, &min_mw, &max_mw, err, errlen)))
            return rc;
        out->original = cur_mw / 1000.0;
    }
    out->restored = 1;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = sweep_on_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sweep_interrupted = 0;
    for (size_t i = 0; i < NSWEEP_SIGNALS; i++)
        sigaction(sweep_signals[i], &sa, &old[i]);
    for (int i = 0; i < n && !sweep_interrupted; i++) {
        struct jb_sweep_point *p = &out->pts[i];
        char why[JB_ERRLEN];
        int arc = apply(spec, nv, p->setting, why, sizeof(why));
        if (arc) {
            /* Refused: say which and why, go on with the next setting. */
            jb_err(p->note, sizeof(p->note), JB_OK, "not applied: %s", why);
            nperm += arc == JB_EPERM;
            if (arc == JB_EUNAVAIL) { /* the GPU is gone: stop */
                rc = jb_err(err, errlen, arc, "sweep: %s", why);
                break;
            }
            continue;
        }
        nset++;
        out->restored = 0;
        if ((rc = fn(ctx, p, err, errlen))) {
            jb_err(p->note, sizeof(p->note), JB_OK, "measurement failed: %s", err);
            break;
        }
        p->applied = 1;
    }
    out->interrupted = sweep_interrupted;
    /* The one exit: restore whatever was changed. */
    if (nset) {
        char why[JB_ERRLEN];
        int rrc = spec->kind == JB_SWEEP_POWER_LIMIT
                      ? jb_nvml_set_power_limit(nv, spec->gpu, cur_mw, why, sizeof(why))
                      : jb_nvml_reset_clocks(nv, spec->gpu, why, sizeof(why));
        out->restored = rrc == 0;
        if (rrc && !rc)
            rc = jb_err(err, errlen, rrc, "sweep: could not restore the original setting: %s", why);
    }
    for (size_t i = 0; i < NSWEEP_SIGNALS; i++)
        sigaction(sweep_signals[i], &old[i], NULL);
    out->best_energy = jb_sweep_pareto(out->pts, n);
    if (!rc && out->interrupted)
        rc = jb_err(err, errlen, JB_EINTR, "sweep: interrupted; original setting %s",
                    out->restored ? "restored" : "NOT restored");
    if (!rc && !nset && nperm)
        rc = jb_err(err, errlen, JB_EPERM,
                    "sweep: no setting could be applied (permission denied: run as root, or "
                    "ask the administrator); nothing was changed");
    return rc;
}

int jb_sweep_write_plot(const struct jb_sweep_spec *spec, const struct jb_sweep_result *r,
                        const char *title, const char *dat_path, const char *gp_path,
                        const char *svg_path, char *err, size_t errlen)
{
    const char *unit = spec->kind == JB_SWEEP_POWER_LIMIT ? "W" : "MHz";
    FILE *d = fopen(dat_path, "w");
    if (!d)
        return jb_err(err, errlen, JB_EIO, "sweep: cannot write %s", dat_path);
    fprintf(d, "# setting_%s latency_s energy_j energy_unc_j pareto energy_optimal\n", unit);
    /* Points in order of latency, so the front plots as a line. */
    int *order = malloc(sizeof(int) * (size_t)(r->n ? r->n : 1));
    if (!order) {
        fclose(d);
        return jb_err(err, errlen, JB_ENOMEM, "sweep: out of memory");
    }
    int m = 0;
    for (int i = 0; i < r->n; i++)
        if (r->pts[i].applied)
            order[m++] = i;
    for (int i = 1; i < m; i++)
        for (int j = i; j > 0 && r->pts[order[j]].latency_s < r->pts[order[j - 1]].latency_s; j--) {
            int t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    for (int k = 0; k < m; k++) {
        const struct jb_sweep_point *p = &r->pts[order[k]];
        fprintf(d, "%g %.9g %.9g %.9g %d %d\n", p->setting, p->latency_s, p->energy_j,
                p->energy_unc_j, p->pareto, order[k] == r->best_energy);
    }
    free(order);
    int bad = ferror(d);
    bad |= fclose(d) != 0;
    if (bad)
        return jb_err(err, errlen, JB_EIO, "sweep: write error on %s", dat_path);
    FILE *g = fopen(gp_path, "w");
    if (!g)
        return jb_err(err, errlen, JB_EIO, "sweep: cannot write %s", gp_path);
    fprintf(g,
            "# Time-energy Pareto front of a %s sweep (joulebench sweep).\n"
            "set terminal svg size 720,480 dynamic\n"
            "set output '%s'\n"
            "set title \"%s\" noenhanced\n"
            "set xlabel 'latency per unit (s)'\n"
            "set ylabel 'energy per unit (J)'\n"
            "set grid\n"
            "set format x '%%.1s %%cs'\n"
            "# NaN marks a point off the front: skipped, without breaking the line\n"
            "set datafile missing NaN\n"
            "plot '%s' using 2:3:4 with yerrorbars title 'settings', \\\n"
            "     '' using 2:($5 > 0 ? $3 : NaN) with linespoints title 'Pareto front', \\\n"
            "     '' using 2:3:(sprintf('%%g %s', $1)) with labels offset 0,1 notitle, \\\n"
            "     '' using 2:($6 > 0 ? $3 : NaN) with points pt 7 ps 2 title 'energy-optimal'\n",
            spec->kind == JB_SWEEP_POWER_LIMIT ? "power-limit" : "GPU-clock", svg_path,
            title ? title : "joulebench sweep", dat_path, unit);
    bad = ferror(g);
    bad |= fclose(g) != 0;
    if (bad)
        return jb_err(err, errlen, JB_EIO, "sweep: write error on %s", gp_path);
    return 0;
}

void jb_sweep_result_free(struct jb_sweep_result *r)
{
    if (!r)
        return;
    free(r->pts);
    r->pts = NULL;
    r->n = 0;
}
