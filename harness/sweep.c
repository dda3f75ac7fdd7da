/* sweep.c: the power-limit / GPU-clock sweep (sweep.h): apply a setting,
 * measure, and always put the original setting back.
 *
 * Restoring is the point of this file: a GPU left at a low power limit
 * slows every later user of the machine. So the original is read before
 * anything is set, the loop has one exit, and the restore runs on it for a
 * finished sweep, a failed measurement and SIGINT alike. */
#include "harness/sweep.h"
#include "harness/error.h"
#include "harness/nvml.h"
#include "workloads/workload.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Set by the SIGINT handler while a sweep runs. A handler can only reach
 * global state; this flag is the one piece of mutable global state. */
static volatile sig_atomic_t sweep_interrupted;

static void sweep_on_sigint(int sig)
{
    (void)sig;
    sweep_interrupted = 1;
}

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
    struct sigaction sa, old;
    memset(out, 0, sizeof(*out));
    out->best_energy = -1;
    out->pts = calloc((size_t)n, sizeof(*out->pts));
    if (!out->pts)
        return jb_err(err, errlen, JB_ENOMEM, "sweep: out of memory");
    out->n = n;
    for (int i = 0; i < n; i++)
        out->pts[i].setting = spec->from + i * spec->step;
    /* The original setting, read before anything changes. Locked clocks
     * cannot be read back through NVML; a sweep of clocks restores the
     * default (unlocked) state, which is what a GPU not being swept has. */
    if (spec->kind == JB_SWEEP_POWER_LIMIT) {
        if ((rc = jb_nvml_power_limit(nv, spec->gpu, &cur_mw, &min_mw, &max_mw, err, errlen)))
            return rc;
        out->original = cur_mw / 1000.0;
    }
    out->restored = 1;
    if (spec->dry_run) {
        for (int i = 0; i < n; i++) {
            struct jb_sweep_point *p = &out->pts[i];
            if (spec->kind == JB_SWEEP_POWER_LIMIT &&
                (p->setting * 1000.0 < min_mw || p->setting * 1000.0 > max_mw))
                snprintf(p->note, sizeof(p->note),
                         "dry run: %.0f W is outside the GPU's %.0f..%.0f W", p->setting,
                         min_mw / 1000.0, max_mw / 1000.0);
            else
                snprintf(p->note, sizeof(p->note), "dry run: would set %.0f %s", p->setting,
                         spec->kind == JB_SWEEP_POWER_LIMIT ? "W" : "MHz");
        }
        return 0;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = sweep_on_sigint;
    sigemptyset(&sa.sa_mask);
    sweep_interrupted = 0;
    sigaction(SIGINT, &sa, &old);
    for (int i = 0; i < n && !sweep_interrupted; i++) {
        struct jb_sweep_point *p = &out->pts[i];
        char why[JB_ERRLEN];
        int arc = apply(spec, nv, p->setting, why, sizeof(why));
        if (arc) {
            /* Refused: say which and why, go on with the next setting. */
            snprintf(p->note, sizeof(p->note), "not applied: %.140s", why);
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
            snprintf(p->note, sizeof(p->note), "measurement failed: %.130s", err);
            break;
        }
        p->applied = 1;
    }
    out->interrupted = sweep_interrupted != 0;
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
    sigaction(SIGINT, &old, NULL);
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
