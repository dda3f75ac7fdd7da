/* plots.c: writes the data files and runs gnuplot over the plots/NAME.gp
 * templates (see plots.h). gnuplot is started with posix_spawnp and an
 * argument vector, never through a shell. */
#include "results/plots.h"

#include "base/datadir.h"
#include "base/error.h"
#include "results/config_key.h"
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

/* A string as gnuplot data: in double quotes, with what gnuplot's syntax
 * gives a meaning (quotes, backslashes, control characters) and what its SVG
 * terminal copies into the XML unescaped (< > &, and bytes outside ASCII,
 * which need not be valid UTF-8) replaced by '_': a label "]]>" once made
 * the SVG malformed. */
static void put_label(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        fputc((*p < 0x20 || *p >= 0x7f || strchr("\"'\\<>&", *p)) ? '_' : *p, f);
    fputc('"', f);
}

/* A word from a record made fit for gnuplot script text: only
 * [A-Za-z0-9._+-] kept, others '_' (units, source names). */
static void script_word(const char *s, char *dst, size_t n)
{
    size_t k = 0;
    for (const char *p = s ? s : ""; *p && k + 1 < n; p++)
        dst[k++] = ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                    (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' || *p == '+' || *p == '-')
                       ? *p
                       : '_';
    dst[k] = '\0';
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
    const char *terms[3] = {"svg", "png", "pdf"};
    for (int t = 0; t < 3; t++) {
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
    const json_t *p, *pts = json_object_get(h, "points");
    size_t np = json_array_size(pts);
    /* about 12 tick labels at most, and none repeating the one before */
    size_t stride = np > 12 ? (np + 11) / 12 : 1;
    double lo = INFINITY, hi = -INFINITY;
    char prev[40] = "";
    json_array_foreach(pts, i, p)
    {
        double v = jb_rec_num(p, "value", NAN), u = jb_rec_num(p, "uncertainty", NAN);
        if (!isfinite(u))
            u = 0;
        lo = fmin(lo, v - u);
        hi = fmax(hi, v + u);
        fprintf(f, "%zu %.9g %.9g %.9g ", i, v, v - u, v + u);
        char tick[40];
        const char *d = jb_rec_str(p, "created_utc", "");
        snprintf(tick, sizeof(tick), "%.5s %.7s", strlen(d) >= 10 ? d + 5 : d,
                 jb_rec_str(p, "git_commit", ""));
        if (i % stride || !strcmp(tick, prev))
            put_label(f, "");
        else {
            put_label(f, tick);
            snprintf(prev, sizeof(prev), "%s", tick);
        }
        fputc('\n', f);
    }
    fputs("\n\n", f);
    const json_t *cps = json_object_get(h, "change_points"), *c;
    json_array_foreach(cps, i, c)
        fprintf(f, "%.1f %.9g 0 %.9g\n", jb_rec_num(c, "index", 0) - 0.5, lo, hi - lo);
    if (!json_array_size(cps))
        fputs("0 0 0 0\n", f); /* gnuplot wants the block even when unplotted */
    fclose(f);
    int lat = !strcmp(json_string_value(json_object_get(h, "metric")), "latency");
    char vars[400], unit[64], yl[120];
    script_word(jb_rec_str(h, "unit", "unit"), unit, sizeof(unit));
    snprintf(yl, sizeof(yl), lat ? "latency of one iteration, median (s)" : "energy per %s (J)",
             unit);
    snprintf(vars, sizeof(vars),
             "ncp=%zu; ylabel_text='%s'; title_text='%s history, %zu runs, %zu change point%s';",
             json_array_size(cps), yl, lat ? "Latency" : "Energy", np, json_array_size(cps),
             json_array_size(cps) == 1 ? "" : "s");
    return render("history", stem, vars, err, errlen);
}

/* The latest run of each configuration key among recs (oldest first),
 * those with energy and latency, in order of first appearance. */
static json_t *latest_per_key(const json_t *recs)
{
    json_t *by = json_object(), *order = json_array(), *out = json_array();
    size_t i;
    const json_t *r;
    json_array_foreach(recs, i, r)
    {
        const json_t *e = jb_rec_primary_energy(r);
        if (!e || !(jb_rec_num(e, "joules_per_unit", NAN) > 0) ||
            !(jb_rec_num(r, "measurements.latency_s.median", NAN) > 0))
            continue;
        struct jb_config_key k;
        jb_config_key_of(r, JB_ACROSS_NONE, &k);
        if (!json_object_get(by, k.id))
            json_array_append_new(order, json_string(k.id));
        json_object_set(by, k.id, (json_t *)r);
    }
    json_t *id;
    json_array_foreach(order, i, id)
        json_array_append(out, json_object_get(by, json_string_value(id)));
    json_decref(by);
    json_decref(order);
    return out;
}

/* The legend line of a run: its number, configuration, platform, and
 * "estimated" when its energy is. */
static void legend_line(FILE *f, size_t k, size_t n, const json_t *r)
{
    char cfg[600], pb[160], line[900];
    const json_t *e = jb_rec_primary_energy(r);
    jb_config_key_label(r, JB_ACROSS_NONE, cfg, sizeof(cfg));
    snprintf(line, sizeof(line), "%zu  %s  @ %s%s", k + 1, cfg, jb_rec_platform(r, pb, sizeof(pb)),
             e && !json_is_true(json_object_get(e, "measured")) ? "  (energy estimated)" : "");
    fprintf(f, "0 %.4f ", 1.0 - ((double)k + 0.5) / (double)n);
    put_label(f, line);
    fputc('\n', f);
}

/* Standard error of the per-repetition latency means, s (0 if < 2). */
static double latency_se(const json_t *r)
{
    size_t n;
    double *x = jb_rec_samples(r, "measurements.latency_s.samples", &n), m = 0, v = 0;
    for (size_t i = 0; i < n; i++)
        m += x[i];
    if (n)
        m /= (double)n;
    for (size_t i = 0; i < n; i++)
        v += (x[i] - m) * (x[i] - m);
    free(x);
    return n >= 2 ? sqrt(v / (double)(n - 1) / (double)n) : 0;
}

struct pt {
    double t, e;
};

static int cmp_pt(const void *a, const void *b)
{
    const struct pt *x = a, *y = b;
    return (x->t > y->t) - (x->t < y->t);
}

/* Pixels of figure height for a plot of 400 px with a legend of rows. */
static int height_for(size_t rows)
{
    return 400 + 16 * (int)rows + 30;
}

int jb_plot_scatter(const json_t *recs, const char *workload, const char *dir, char *stem, size_t n,
                    char *err, size_t errlen)
{
    char name[300], safe[200];
    int rc;
    jb_safe_name(workload, safe, sizeof(safe));
    snprintf(name, sizeof(name), "scatter-%s", safe);
    json_t *runs = latest_per_key(recs);
    size_t np = json_array_size(runs), i;
    if (!np) {
        json_decref(runs);
        return jb_err(err, errlen, JB_ENOENT, "%s: no run with energy and latency to plot",
                      workload);
    }
    FILE *f = open_dat(dir, name, stem, n, err, errlen, &rc);
    if (!f) {
        json_decref(runs);
        return rc;
    }
    struct pt *pts = calloc(np, sizeof(*pts));
    double xlo = INFINITY, xhi = 0, ylo = INFINITY, yhi = 0;
    const json_t *r;
    json_array_foreach(runs, i, r)
    {
        const json_t *e = jb_rec_primary_energy(r);
        double upi = jb_rec_num(r, "measurements.units_per_iteration", 1);
        upi = upi > 0 ? upi : 1;
        double t = jb_rec_num(r, "measurements.latency_s.median", NAN) / upi;
        double tu = latency_se(r) / upi;
        double ej = jb_rec_num(e, "joules_per_unit", NAN);
        double eu = jb_rec_num(e, "uncertainty_joules_per_unit", 0);
        if (!isfinite(eu) || eu < 0)
            eu = 0;
        /* On log axes a bar reaching 0 or below is drawn to the edge:
         * ranges are set from the bars' ends, the lower ones kept above 0. */
        xlo = fmin(xlo, fmax(t - tu, t / 10));
        xhi = fmax(xhi, t + tu);
        ylo = fmin(ylo, fmax(ej - eu, ej / 10));
        yhi = fmax(yhi, ej + eu);
        pts[i].t = t;
        pts[i].e = ej;
        fprintf(f, "%zu %.9g %.9g %.9g %.9g %d\n", i + 1, t, tu, ej, eu,
                json_is_true(json_object_get(e, "measured")) ? 1 : 0);
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
    free(pts);
    fputs("\n\n", f);
    json_array_foreach(runs, i, r) legend_line(f, i, np, r);
    fclose(f);
    char vars[400], unit[64];
    script_word(jb_rec_str(json_array_get(runs, 0), "workload.unit", "unit"), unit, sizeof(unit));
    /* Log axes where the runs span more than a decade and a half (a CPU and
     * a GPU), linear ones otherwise (where a log axis would show one tick);
     * a margin on each side for the number labels and the caps. */
    int logx = xhi / xlo > 30, logy = yhi / ylo > 30;
    double xs = xhi - xlo > 0 ? xhi - xlo : xhi * 0.2, ys = yhi - ylo > 0 ? yhi - ylo : yhi * 0.2;
    double x0 = logx ? xlo / 1.8 : fmax(0, xlo - 0.15 * xs),
           x1 = logx ? xhi * 1.8 : xhi + 0.15 * xs;
    double y0 = logy ? ylo / 1.8 : fmax(0, ylo - 0.15 * ys),
           y1 = logy ? yhi * 1.8 : yhi + 0.25 * ys;
    snprintf(vars, sizeof(vars),
             "xlo=%.9g; xhi=%.9g; ylo=%.9g; yhi=%.9g; logx=%d; logy=%d; unit='%s'; nrows=%zu; "
             "height_px=%d;",
             x0, x1, y0, y1, logx, logy, unit, np, height_for(np));
    json_decref(runs);
    return render("scatter", stem, vars, err, errlen);
}

int jb_plot_bars(const json_t *recs, const char *workload, const char *dir, char *stem, size_t n,
                 char *err, size_t errlen)
{
    char name[300], safe[200];
    int rc;
    jb_safe_name(workload, safe, sizeof(safe));
    snprintf(name, sizeof(name), "bars-%s", safe);
    json_t *runs = latest_per_key(recs);
    size_t nb = json_array_size(runs), i;
    if (!nb) {
        json_decref(runs);
        return jb_err(err, errlen, JB_ENOENT, "%s: no run with energy to plot", workload);
    }
    FILE *f = open_dat(dir, name, stem, n, err, errlen, &rc);
    if (!f) {
        json_decref(runs);
        return rc;
    }
    double yhi = 0;
    const json_t *r;
    json_array_foreach(runs, i, r)
    {
        const json_t *e = jb_rec_primary_energy(r);
        double ej = jb_rec_num(e, "joules_per_unit", 0);
        double u = jb_rec_num(e, "uncertainty_joules_per_unit", 0);
        if (!isfinite(u) || u < 0)
            u = 0;
        yhi = fmax(yhi, ej + u);
        fprintf(f, "%zu %.9g %.9g %d\n", i + 1, ej, u,
                json_is_true(json_object_get(e, "measured")) ? 1 : 0);
    }
    fputs("\n\n", f);
    json_array_foreach(runs, i, r) legend_line(f, i, nb, r);
    fclose(f);
    char vars[300], unit[64];
    script_word(jb_rec_str(json_array_get(runs, 0), "workload.unit", "unit"), unit, sizeof(unit));
    snprintf(vars, sizeof(vars), "yhi=%.9g; unit='%s'; nrows=%zu; nbars=%zu; height_px=%d;",
             yhi * 1.25, unit, nb, nb, height_for(nb));
    json_decref(runs);
    return render("bars", stem, vars, err, errlen);
}

int jb_plot_trace(const char *csv, const char *run_id, const char *source, const char *how,
                  const char *dir, char *stem, size_t n, char *err, size_t errlen)
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
    char vars[300], src[80];
    /* the "estimate" source is the power model */
    script_word(!source                       ? "unknown source"
                : !strcmp(source, "estimate") ? "model"
                                              : source,
                src, sizeof(src));
    if (!how || !strcmp(how, "measured"))
        snprintf(vars, sizeof(vars), "nblocks=%zu; title_text='Power trace, measured by %s';",
                 json_object_size(doms), src);
    else
        snprintf(
            vars, sizeof(vars), "nblocks=%zu; title_text='Power trace, %s by %s, not measured';",
            json_object_size(doms), !strcmp(how, "simulated") ? "simulated" : "estimated", src);
    json_decref(doms);
    return render("trace", stem, vars, err, errlen);
}
