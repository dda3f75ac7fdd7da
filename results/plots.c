/* plots.c: writes the data files and runs gnuplot over the plots/NAME.gp
 * templates (see plots.h). gnuplot is started with posix_spawnp and an
 * argument vector, never through a shell. */
#include "results/plots.h"

#include "base/datadir.h"
#include "base/error.h"
#include "results/history.h"
#include "results/record_util.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

extern char **environ;

static const char *gnuplot_bin(void)
{
    const char *g = getenv("JB_GNUPLOT");
    return g && *g ? g : "gnuplot";
}

static void plots_dir(char *dst, size_t n)
{
    jb_data_dir(JB_DATA_PLOTS, dst, n);
}

/* Runs gnuplot with argv; returns its exit status, or -errno when it could
 * not be started. Its stdout goes to /dev/null, its stderr (warnings such as
 * "empty x range" for a single point) to log, or /dev/null when NULL. */
static int spawn_gnuplot(char *const argv[], const char *log)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, log ? log : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
        return -rc;
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -errno;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

int jb_gnuplot_check(char *err, size_t errlen)
{
    char *argv[] = {(char *)gnuplot_bin(), (char *)"-e", (char *)"exit", NULL};
    int rc = spawn_gnuplot(argv, NULL);
    if (rc == -ENOENT)
        return jb_err(err, errlen, JB_ENOTSUP,
                      "gnuplot not found (%s): install it (Debian: apt-get install gnuplot-nox) "
                      "to get plots",
                      gnuplot_bin());
    if (rc != 0)
        return jb_err(err, errlen, JB_ENOTSUP, "gnuplot (%s) does not run (status %d)",
                      gnuplot_bin(), rc);
    return JB_OK;
}

void jb_safe_name(const char *s, char *dst, size_t n)
{
    size_t k = 0;
    int changed = 0;
    uint32_t h = 2166136261u; /* FNV-1a of the original */
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        h = (h ^ *p) * 16777619u;
        int ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                 *p == '-' || *p == '_' || (*p == '.' && k > 0);
        if (k + 10 < n) {
            dst[k++] = ok ? (char)*p : '_';
            changed |= !ok;
        } else {
            changed = 1;
        }
    }
    if (k == 0)
        changed = 1;
    if (changed && k + 10 <= n)
        k += (size_t)snprintf(dst + k, n - k, "-%08x", h);
    dst[k < n ? k : n - 1] = '\0';
}

/* A string as gnuplot data: in double quotes, with quotes, backslashes and
 * control characters replaced. */
static void put_label(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        fputc((*p < 0x20 || *p == '"' || *p == '\\' || *p == 0x7f) ? '_' : *p, f);
    fputc('"', f);
}

/* Renders template NAME.gp over datafile into stem.svg and stem.png. vars
 * is extra "name=value; " gnuplot text made only of numbers and our own
 * constant strings. */
static int render(const char *tmpl, const char *stem, const char *vars, char *err, size_t errlen)
{
    char pdir[1024], script[1200], e[4096];
    plots_dir(pdir, sizeof(pdir));
    snprintf(script, sizeof(script), "%s/%s.gp", pdir, tmpl);
    /* Paths go into gnuplot single-quoted strings: refuse any quote. */
    if (strpbrk(stem, "'\\\n") || strpbrk(pdir, "'\\\n"))
        return jb_err(err, errlen, JB_EINVAL, "plot path %s: quotes are not allowed", stem);
    const char *terms[2] = {"svg", "png"};
    for (int t = 0; t < 2; t++) {
        snprintf(e, sizeof(e), "term='%s'; plotdir='%s'; datafile='%s.dat'; outfile='%s.%s'; %s",
                 terms[t], pdir, stem, stem, terms[t], vars ? vars : "");
        char *argv[] = {(char *)gnuplot_bin(), (char *)"-e", e, script, NULL};
        char log[1400];
        snprintf(log, sizeof(log), "%s.log", stem);
        int rc = spawn_gnuplot(argv, log);
        if (rc == -ENOENT)
            return jb_gnuplot_check(err, errlen);
        if (rc != 0)
            return jb_err(err, errlen, JB_EIO, "gnuplot %s for %s.%s failed (status %d, see %s)",
                          tmpl, stem, terms[t], rc, log);
    }
    return JB_OK;
}

static FILE *open_dat(const char *dir, const char *stem_name, char *stem, size_t n, char *err,
                      size_t errlen, int *rc)
{
    char path[4200];
    snprintf(stem, n, "%s/%s", dir, stem_name);
    snprintf(path, sizeof(path), "%s.dat", stem);
    FILE *f = fopen(path, "w");
    *rc = f ? 0 : jb_err(err, errlen, JB_EIO, "%s: cannot write", path);
    return f;
}

int jb_plot_history(const json_t *h, const char *dir, char *stem, size_t n, char *err,
                    size_t errlen)
{
    char name[500], safe[200], cfg[200];
    int rc;
    /* One file per configuration key: its id names it, short and stable. */
    jb_safe_name(json_string_value(json_object_get(h, "workload")), safe, sizeof(safe));
    jb_safe_name(jb_rec_str(h, "config_key", "nokey"), cfg, sizeof(cfg));
    snprintf(name, sizeof(name), "history-%s-%s-%s", safe, cfg,
             json_string_value(json_object_get(h, "metric")));
    FILE *f = open_dat(dir, name, stem, n, err, errlen, &rc);
    if (!f)
        return rc;
    size_t i;
    const json_t *p;
    double lo = INFINITY, hi = -INFINITY;
    json_array_foreach(json_object_get(h, "points"), i, p)
    {
        double v = jb_rec_num(p, "value", NAN);
        lo = fmin(lo, v);
        hi = fmax(hi, v);
        fprintf(f, "%zu %.9g ", i, v);
        char tick[40];
        snprintf(tick, sizeof(tick), "%.10s %.7s", jb_rec_str(p, "created_utc", ""),
                 jb_rec_str(p, "git_commit", ""));
        put_label(f, tick);
        fputc('\n', f);
    }
    fputs("\n\n", f);
    const json_t *cps = json_object_get(h, "change_points"), *c;
    json_array_foreach(cps, i, c)
        fprintf(f, "%.1f %.9g 0 %.9g\n", jb_rec_num(c, "index", 0) - 0.5, lo, hi - lo);
    fclose(f);
    char vars[160];
    snprintf(vars, sizeof(vars), "ncp=%zu; ylabel_text='%s';", json_array_size(cps),
             !strcmp(json_string_value(json_object_get(h, "metric")), "latency")
                 ? "latency of one iteration, median (s)"
                 : "energy per unit (J)");
    return render("history", stem, vars, err, errlen);
}

/* What tells runs of one workload apart on a plot: the platform, the
 * precision, the batch and the threads. */
static const char *run_label(const json_t *r, char *dst, size_t n)
{
    char pb[160];
    snprintf(dst, n, "%s, %s, b%d, %d thr", jb_rec_platform(r, pb, sizeof(pb)),
             jb_rec_str(r, "workload.dtype", "?"), (int)jb_rec_num(r, "config.batch", 1),
             (int)jb_rec_num(r, "config.threads", 1));
    return dst;
}

struct pt {
    double t, e, u;
    char label[160];
};

static int cmp_pt(const void *a, const void *b)
{
    const struct pt *x = a, *y = b;
    return (x->t > y->t) - (x->t < y->t);
}

int jb_plot_scatter(const json_t *recs, const char *workload, const char *dir, char *stem, size_t n,
                    char *err, size_t errlen)
{
    char name[300], safe[200];
    int rc;
    jb_safe_name(workload, safe, sizeof(safe));
    snprintf(name, sizeof(name), "scatter-%s", safe);
    struct pt *pts = calloc(json_array_size(recs) + 1, sizeof(*pts));
    size_t np = 0, i;
    const json_t *r;
    json_array_foreach(recs, i, r)
    {
        const json_t *e = jb_rec_primary_energy(r);
        double upi = jb_rec_num(r, "measurements.units_per_iteration", 1);
        double t = jb_rec_num(r, "measurements.latency_s.median", NAN) / (upi > 0 ? upi : 1);
        double ej = e ? jb_rec_num(e, "joules_per_unit", NAN) : NAN;
        if (!(t > 0) || !(ej > 0))
            continue;
        pts[np].t = t;
        pts[np].e = ej;
        pts[np].u = e ? jb_rec_num(e, "uncertainty_joules_per_unit", 0) : 0;
        run_label(r, pts[np].label, sizeof(pts[np].label));
        np++;
    }
    if (!np) {
        free(pts);
        return jb_err(err, errlen, JB_ENOENT, "%s: no run with energy and latency to plot",
                      workload);
    }
    FILE *f = open_dat(dir, name, stem, n, err, errlen, &rc);
    if (!f) {
        free(pts);
        return rc;
    }
    for (i = 0; i < np; i++) {
        put_label(f, pts[i].label);
        fprintf(f, " %.9g %.9g %.9g\n", pts[i].t, pts[i].e, pts[i].u);
    }
    fputs("\n\n", f);
    /* Pareto front: by increasing time, each run that uses less energy
     * than every faster one. */
    qsort(pts, np, sizeof(*pts), cmp_pt);
    double best = INFINITY;
    for (i = 0; i < np; i++)
        if (pts[i].e < best) {
            best = pts[i].e;
            fprintf(f, "%.9g %.9g\n", pts[i].t, pts[i].e);
        }
    fclose(f);
    free(pts);
    return render("scatter", stem, NULL, err, errlen);
}

int jb_plot_bars(const json_t *recs, const char *workload, const char *dir, char *stem, size_t n,
                 char *err, size_t errlen)
{
    char name[300], safe[200];
    int rc;
    jb_safe_name(workload, safe, sizeof(safe));
    snprintf(name, sizeof(name), "bars-%s", safe);
    /* One bar per platform: the latest run's energy and uncertainty. */
    json_t *by = json_object();
    size_t i;
    const json_t *r;
    json_array_foreach(recs, i, r) if (jb_rec_primary_energy(r))
    {
        char pb[160];
        json_object_set(by, run_label(r, pb, sizeof(pb)), (json_t *)r);
    }
    if (!json_object_size(by)) {
        json_decref(by);
        return jb_err(err, errlen, JB_ENOENT, "%s: no run with energy to plot", workload);
    }
    FILE *f = open_dat(dir, name, stem, n, err, errlen, &rc);
    if (!f) {
        json_decref(by);
        return rc;
    }
    const char *k;
    json_t *v;
    json_object_foreach(by, k, v)
    {
        const json_t *e = jb_rec_primary_energy(v);
        put_label(f, k);
        double u = jb_rec_num(e, "uncertainty_joules_per_unit", 0);
        fprintf(f, " %.9g %.9g %s\n", jb_rec_num(e, "joules_per_unit", 0), isfinite(u) ? u : 0,
                json_is_true(json_object_get(e, "measured")) ? "measured" : "estimated");
    }
    fclose(f);
    json_decref(by);
    return render("bars", stem, NULL, err, errlen);
}

int jb_plot_trace(const char *csv, const char *run_id, const char *dir, char *stem, size_t n,
                  char *err, size_t errlen)
{
    char name[300], safe[200];
    int rc;
    jb_safe_name(run_id, safe, sizeof(safe));
    snprintf(name, sizeof(name), "trace-%s", safe);
    /* Group lines by domain, keeping first-seen order. */
    json_t *doms = json_object();
    char *copy = strdup(csv);
    char *save = NULL;
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *c1 = strchr(line, ','), *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
        if (!c2 || !strncmp(line, "time_s", 6))
            continue;
        *c1 = *c2 = '\0';
        char *end1, *end2;
        double t = strtod(line, &end1), w = strtod(c2 + 1, &end2);
        if (end1 == line || end2 == c2 + 1 || !isfinite(t) || !isfinite(w))
            continue;
        json_t *arr = json_object_get(doms, c1 + 1);
        if (!arr) {
            arr = json_array();
            json_object_set_new(doms, c1 + 1, arr);
        }
        json_array_append_new(arr, json_pack("[f,f]", t, w));
    }
    free(copy);
    if (!json_object_size(doms)) {
        json_decref(doms);
        return jb_err(err, errlen, JB_ENOENT, "power trace of %s: no samples", run_id);
    }
    FILE *f = open_dat(dir, name, stem, n, err, errlen, &rc);
    if (!f) {
        json_decref(doms);
        return rc;
    }
    const char *k;
    json_t *arr;
    json_object_foreach(doms, k, arr)
    {
        put_label(f, k);
        fputs(" \"W\"\n", f);
        size_t i;
        json_t *p;
        json_array_foreach(arr, i, p)
            fprintf(f, "%.9g %.9g\n", json_real_value(json_array_get(p, 0)),
                    json_real_value(json_array_get(p, 1)));
        fputs("\n\n", f);
    }
    fclose(f);
    char vars[64];
    snprintf(vars, sizeof(vars), "nblocks=%zu;", json_object_size(doms));
    json_decref(doms);
    return render("trace", stem, vars, err, errlen);
}
