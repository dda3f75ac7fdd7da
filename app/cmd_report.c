/* cmd_report.c: `joulebench report --html DIR`: the static dashboard made
 * from the results database: an index, one page per workload with its
 * plots (energy-latency scatter with Pareto front, energy by platform,
 * history with change points, a power trace) and one provenance page per
 * run, so the source of every number is one click away. Every string from
 * a record is HTML-escaped: a system name in a submission is untrusted. */
#include "base/datadir.h"
#include "base/error.h"
#include "app/cmd_util.h"
#include "app/commands_impl.h"
#include "results/config_key.h"
#include "results/formats.h"
#include "results/history.h"
#include "results/plots.h"
#include "results/record_util.h"
#include "results/store.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void inline_asset(FILE *f, const char *name)
{
    char dir[4096], path[4200];
    jb_data_dir(JB_DATA_PLOTS, dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *a = fopen(path, "r");
    if (!a)
        return;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), a)) > 0)
        fwrite(buf, 1, n, f);
    fclose(a);
}

static void page_head(FILE *f, const char *title, const char *root)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src "
          "'self' file:; style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n<title>",
          f);
    jb_html_puts(f, title);
    fputs("</title>\n<style>\n", f);
    inline_asset(f, "dashboard.css");
    fprintf(f,
            "</style></head><body>\n<nav><a href=\"%sindex.html\">joulebench dashboard</a></nav>\n",
            root);
}

static void page_tail(FILE *f)
{
    fputs("<script>\n", f);
    inline_asset(f, "dashboard.js");
    fputs("</script>\n</body></html>\n", f);
}

/* A numeric cell: the raw value in data-v for sorting, shown with 4
 * significant digits; empty when absent. */
static void num_td(FILE *f, double v, const char *cls)
{
    if (!isfinite(v)) {
        fputs("<td class=\"n\" data-v=\"\">&ndash;</td>", f);
        return;
    }
    fprintf(f, "<td class=\"n%s%s\" data-v=\"%.9g\">%.4g</td>", cls ? " " : "", cls ? cls : "", v,
            v);
}

/* A numeric cell shown with an SI prefix and its unit ("656 mJ/token"),
 * sorting by the raw value. */
static void si_td(FILE *f, double v, const char *unit, const char *cls)
{
    char b[96];
    if (!isfinite(v)) {
        fputs("<td class=\"n\" data-v=\"\">&ndash;</td>", f);
        return;
    }
    fprintf(f, "<td class=\"n%s%s\" data-v=\"%.9g\">", cls ? " " : "", cls ? cls : "", v);
    jb_html_puts(f, jb_fmt_si(v, unit, 1, b, sizeof(b)));
    fputs("</td>", f);
}

static const char *const run_cols[] = {
    "run",     "date",     "workload",      "back-end",       "dtype",  "context",  "options",
    "threads", "batch",    "scenario",      "latency",        "energy", "&plusmn;", "label",
    "source",  "platform", "gCO2e/1000 op", "gCO2e/1000 emb", "check"};

static void runs_table(FILE *f, const json_t *recs, const char *root, const json_t *cp_runs)
{
    fputs("<div class=\"scroll\"><table class=\"sortable\" id=\"runs\"><thead><tr>", f);
    for (size_t i = 0; i < sizeof(run_cols) / sizeof(run_cols[0]); i++)
        fprintf(f, "<th>%s</th>", run_cols[i]);
    fputs("</tr></thead><tbody>\n", f);
    size_t i;
    const json_t *r;
    json_array_foreach(recs, i, r)
    {
        const char *id = jb_rec_str(r, "run_id", "?");
        char safe[200];
        jb_safe_name(id, safe, sizeof(safe));
        int cp = cp_runs && json_object_get(cp_runs, id);
        fputs(cp ? "<tr class=\"cp\">" : "<tr>", f);
        fprintf(f, "<td>%s<a href=\"%sruns/%s.html\" title=\"provenance\">",
                cp ? "<span class=\"flag\" title=\"change point starts here\">&#9873;</span> " : "",
                root, safe);
        jb_html_puts(f, id);
        fputs("</a></td><td>", f);
        jb_html_puts(f, jb_rec_str(r, "created_utc", ""));
        fputs("</td><td>", f);
        jb_html_puts(f, jb_rec_str(r, "workload.name", ""));
        char kv[300], kk[160], unit[96];
        fputs("</td><td>", f);
        jb_html_puts(f, jb_config_key_field(r, "backend", kv, sizeof(kv)));
        if (jb_config_key_field(r, "kernel", kk, sizeof(kk))[0]) {
            fputc('/', f);
            jb_html_puts(f, kk);
        }
        fputs("</td><td>", f);
        jb_html_puts(f, jb_rec_str(r, "workload.dtype", ""));
        fputs("</td>", f);
        num_td(f, jb_rec_num(r, "config.context", NAN), NULL);
        fputs("<td>", f);
        jb_html_puts(f, jb_config_key_field(r, "options", kv, sizeof(kv)));
        fputs("</td>", f);
        num_td(f, jb_rec_num(r, "config.threads", NAN), NULL);
        num_td(f, jb_rec_num(r, "config.batch", NAN), NULL);
        fputs("<td>", f);
        jb_html_puts(f, jb_rec_str(r, "config.scenario", ""));
        fputs("</td>", f);
        si_td(f, jb_rec_num(r, "measurements.latency_s.median", NAN), "s", NULL);
        const char *label = jb_rec_str(r, "derived.energy.label", "");
        const char *cls = strcmp(label, "measured") ? "est" : NULL;
        snprintf(unit, sizeof(unit), "J/%s", jb_rec_str(r, "workload.unit", "unit"));
        si_td(f, jb_rec_num(r, "derived.energy.joules_per_unit", NAN), unit, cls);
        si_td(f, jb_rec_num(r, "derived.energy.uncertainty_joules_per_unit", NAN), "J", cls);
        fprintf(f, "<td%s>", cls ? " class=\"est\"" : "");
        jb_html_puts(f, label);
        fputs("</td><td>", f);
        jb_html_puts(f, jb_rec_str(r, "derived.energy.source", ""));
        fputs("</td><td>", f);
        char pb[160];
        jb_html_puts(f, jb_rec_platform(r, pb, sizeof(pb)));
        fputs("</td>", f);
        num_td(f, jb_rec_num(r, "derived.carbon.operational_gco2e_per_1000_units", NAN), cls);
        num_td(f, jb_rec_num(r, "derived.carbon.embodied_gco2e_per_1000_units", NAN), "est");
        fputs("<td>", f);
        jb_html_puts(f, jb_rec_str(r, "validity.output_check", ""));
        fputs("</td></tr>\n", f);
    }
    fputs("</tbody></table></div>\n", f);
}

static int write_run_page(const char *dir, const json_t *r)
{
    char safe[200], path[1600];
    jb_safe_name(jb_rec_str(r, "run_id", "?"), safe, sizeof(safe));
    snprintf(path, sizeof(path), "%s/runs/%s.html", dir, safe);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    page_head(f, jb_rec_str(r, "run_id", "run"), "../");
    fputs("<h1>Run ", f);
    jb_html_puts(f, jb_rec_str(r, "run_id", ""));
    fputs("</h1>\n<table id=\"provenance\"><tbody>\n", f);
    static const char *const keys[] = {"created_utc",
                                       "workload.name",
                                       "workload.version",
                                       "backend.kernel",
                                       "config.power",
                                       "system.git_commit",
                                       "system.joulebench_version",
                                       "system.kernel",
                                       "system.topology_hash",
                                       "derived.energy.label",
                                       "derived.energy.source",
                                       "derived.energy.domain",
                                       "derived.carbon.grid_source",
                                       "derived.carbon.pue_source",
                                       "derived.carbon.platform",
                                       "derived.water.wue_source",
                                       "validity.output_check",
                                       "validity.check_detail"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        fputs("<tr><th>", f);
        jb_html_puts(f, keys[i]);
        fputs("</th><td>", f);
        const json_t *v = jb_rec_get(r, keys[i]);
        if (json_is_string(v))
            jb_html_puts(f, json_string_value(v));
        else if (json_is_number(v))
            fprintf(f, "%.9g", json_number_value(v));
        fputs("</td></tr>\n", f);
    }
    fputs("<tr><th>command_line</th><td><code>", f);
    size_t i;
    const json_t *a;
    json_array_foreach(jb_rec_get(r, "system.command_line"), i, a)
    {
        jb_html_puts(f, json_string_value(a));
        fputc(' ', f);
    }
    fputs("</code></td></tr></tbody></table>\n<h2>Warnings</h2><ul>", f);
    json_array_foreach(jb_rec_get(r, "validity.warnings"), i, a)
    {
        fputs("<li>", f);
        jb_html_puts(f, json_string_value(a));
        fputs("</li>", f);
    }
    fputs("</ul>\n<h2>Full record</h2>\n<pre id=\"record\">", f);
    char *js = json_dumps(r, JSON_INDENT(2) | JSON_SORT_KEYS);
    jb_html_puts(f, js);
    free(js);
    fputs("</pre>\n", f);
    page_tail(f);
    return fclose(f) ? -1 : 0;
}

/* A plot that could not be drawn is said on the page and on stderr (it
 * once left a page without plots and exit 0); *failed counts them. */
static void plot_failed(FILE *f, const char *what, const char *err, int *failed)
{
    fputs("<p class=\"flag\">Plot not drawn (", f);
    jb_html_puts(f, what);
    fputs("): ", f);
    jb_html_puts(f, err);
    fputs("</p>\n", f);
    fprintf(stderr, "joulebench report: warning: %s plot not drawn: %s\n", what, err);
    (*failed)++;
}

static void plot_img(FILE *f, const char *stem, const char *alt)
{
    const char *base = strrchr(stem, '/');
    base = base ? base + 1 : stem;
    fprintf(f,
            "<figure><a href=\"../plots/%s.png\"><img src=\"../plots/%s.svg\" "
            "alt=\"%s\"></a></figure>\n",
            base, base, alt);
}

static int write_workload_page(const char *dir, const char *name, const json_t *recs, jb_store *s,
                               const json_t *hist_e, const json_t *hist_l, int plots_ok,
                               const json_t *cp_runs, int *failed)
{
    char safe[200], path[1600], pdir[1400], stem[1600], err[JB_ERRLEN];
    jb_safe_name(name, safe, sizeof(safe));
    snprintf(path, sizeof(path), "%s/w/%s.html", dir, safe);
    snprintf(pdir, sizeof(pdir), "%s/plots", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    page_head(f, name, "../");
    fputs("<h1>Workload ", f);
    jb_html_puts(f, name);
    fputs("</h1>\n", f);
    const json_t *hs[2] = {hist_e, hist_l};
    fputs("<h2>Change points</h2>\n<ul id=\"changepoints\">", f);
    int any = 0;
    for (int k = 0; k < 2; k++) {
        size_t i, j;
        const json_t *c, *h;
        json_array_foreach(hs[k], j, h)
            json_array_foreach(json_object_get(h, "change_points"), i, c)
        {
            any = 1;
            fprintf(f, "<li class=\"flag\">%s ", k ? "latency" : "energy");
            jb_html_puts(f, jb_rec_str(h, "config", ""));
            fprintf(f, " %+.1f%% between commit ", jb_rec_num(c, "change_pct", 0));
            jb_html_puts(f, jb_rec_str(c, "from_commit", "?"));
            fputs(" and ", f);
            jb_html_puts(f, jb_rec_str(c, "to_commit", "?"));
            fprintf(f, " (p = %.3f; machine ", jb_rec_num(c, "p_value", 1));
            jb_html_puts(f, jb_rec_str(h, "topology_hash", "?"));
            fputs(")</li>", f);
        }
    }
    if (!any)
        fputs("<li>none found (E-Divisive means, permutation test at p &lt; 0.05)</li>", f);
    fputs("</ul>\n<div class=\"plots\">\n", f);
    if (plots_ok) {
        if (!jb_plot_scatter(recs, name, pdir, stem, sizeof(stem), err, sizeof(err)))
            plot_img(f, stem, "energy vs latency with Pareto front");
        else
            plot_failed(f, "energy vs latency", err, failed);
        if (!jb_plot_bars(recs, name, pdir, stem, sizeof(stem), err, sizeof(err)))
            plot_img(f, stem, "energy per unit by platform");
        else
            plot_failed(f, "energy by platform", err, failed);
        for (int k = 0; k < 2; k++) {
            size_t j;
            const json_t *h;
            json_array_foreach(hs[k], j, h)
            {
                if (json_array_size(json_object_get(h, "points")) < 2)
                    continue;
                if (!jb_plot_history(h, pdir, stem, sizeof(stem), err, sizeof(err)))
                    plot_img(f, stem, k ? "latency history" : "energy history");
                else
                    plot_failed(f, k ? "latency history" : "energy history", err, failed);
            }
        }
        /* the power trace of the newest run that has one */
        for (size_t i = json_array_size(recs); i-- > 0;) {
            const json_t *tr = json_array_get(recs, i);
            const char *id = jb_rec_str(tr, "run_id", "");
            char *csv = NULL;
            if (jb_store_get_trace(s, id, &csv, err, sizeof(err)) || !csv)
                continue;
            const json_t *pe = jb_rec_primary_energy(tr);
            const char *how = !pe                                              ? "estimated"
                              : json_is_true(json_object_get(pe, "simulated")) ? "simulated"
                              : json_is_true(json_object_get(pe, "measured"))  ? "measured"
                                                                               : "estimated";
            int rc = jb_plot_trace(csv, id, pe ? jb_rec_str(pe, "source", NULL) : NULL, how, pdir,
                                   stem, sizeof(stem), err, sizeof(err));
            free(csv);
            if (!rc) {
                fputs("<p>Power trace of run ", f);
                jb_html_puts(f, id);
                fputs("</p>\n", f);
                plot_img(f, stem, "power trace");
            } else {
                plot_failed(f, "power trace", err, failed);
            }
            break;
        }
    } else {
        fputs("<p class=\"flag\">Plots not drawn: gnuplot is not installed.</p>\n", f);
    }
    fputs("</div>\n<h2>Runs</h2>\n", f);
    runs_table(f, recs, "../", cp_runs);
    page_tail(f);
    return fclose(f) ? -1 : 0;
}

/* Marks the first run after each change point of every series, for
 * flagging in tables; returns how many change points there are. */
static size_t collect_cp_runs(const json_t *series, json_t *cp_runs)
{
    size_t i, j, n = 0;
    const json_t *c, *h;
    json_array_foreach(series, j, h) json_array_foreach(json_object_get(h, "change_points"), i, c)
    {
        json_object_set_new(cp_runs, jb_rec_str(c, "first_run_after", "?"), json_true());
        n++;
    }
    return n;
}

/* An inline SVG sparkline of a series (no script, no file): the values as
 * a line scaled to the series' own range, change points as red dots, the
 * newest point as a dot. */
static void sparkline(FILE *f, const json_t *h)
{
    const json_t *pts = json_object_get(h, "points");
    size_t n = json_array_size(pts), i;
    const double W = 120, H = 26, pad = 3;
    if (n < 2) {
        fputs("<td>&ndash;</td>", f);
        return;
    }
    double lo = INFINITY, hi = -INFINITY;
    const json_t *p;
    json_array_foreach(pts, i, p)
    {
        double v = jb_rec_num(p, "value", NAN);
        lo = fmin(lo, v);
        hi = fmax(hi, v);
    }
    /* at least 5% of the level: run-to-run noise of a flat series should
     * look flat, not fill the box */
    double span = fmax(hi - lo, 0.05 * fmax(fabs(hi), fabs(lo)));
    if (!(span > 0))
        span = 1;
    lo = (hi + lo) / 2 - span / 2;
#define SX(k) (pad + (W - 2 * pad) * (double)(k) / (double)(n - 1))
#define SY(v) (H - pad - (H - 2 * pad) * (((v)-lo) / span))
    fprintf(f,
            "<td class=\"spark\"><svg width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
            "role=\"img\" aria-label=\"history of %zu runs\"><polyline fill=\"none\" "
            "stroke=\"#1f77b4\" stroke-width=\"1.5\" points=\"",
            W, H, W, H, n);
    json_array_foreach(pts, i, p)
        fprintf(f, "%s%.1f,%.1f", i ? " " : "", SX(i), SY(jb_rec_num(p, "value", lo)));
    fputs("\"/>", f);
    const json_t *c;
    json_array_foreach(json_object_get(h, "change_points"), i, c)
    {
        size_t k = (size_t)jb_rec_num(c, "index", 0);
        if (k < n)
            fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"#d62728\"/>", SX(k),
                    SY(jb_rec_num(json_array_get(pts, k), "value", lo)));
    }
    fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2\" fill=\"#1f77b4\"/></svg></td>", SX(n - 1),
            SY(jb_rec_num(json_array_get(pts, n - 1), "value", lo)));
#undef SX
#undef SY
}

/* Threshold of the dashboard's regression list: a change smaller than this
 * is noise on the machines joulebench runs nightly (METHODOLOGY.md). */
#define REGRESSION_PCT 5.0

/* The latency series of the same key as energy series h, or NULL. */
static const json_t *same_key(const json_t *series, const json_t *h)
{
    size_t i;
    const json_t *x;
    json_array_foreach(series, i, x) if (!strcmp(jb_rec_str(x, "config_key", "?"),
                                                 jb_rec_str(h, "config_key", "!"))) return x;
    return NULL;
}

/* One row of the configurations table: the latest figure of a key with its
 * uncertainty and source, its history as a sparkline, and its change since
 * the previous commit. */
static void config_row(FILE *f, const json_t *he, const json_t *hl, const json_t *ce,
                       const json_t *cl)
{
    const json_t *pts = json_object_get(he, "points");
    const json_t *last = json_array_get(pts, json_array_size(pts) - 1);
    const json_t *lpts = json_object_get(hl, "points");
    const json_t *llast = json_array_get(lpts, json_array_size(lpts) - 1);
    int reg = (ce && json_is_true(json_object_get(ce, "regression"))) ||
              (cl && json_is_true(json_object_get(cl, "regression")));
    char safe[200], unit[96], b[96];
    jb_safe_name(jb_rec_str(he, "workload", "?"), safe, sizeof(safe));
    fprintf(f, "<tr%s><td><a href=\"w/%s.html\">", reg ? " class=\"reg\"" : "", safe);
    jb_html_puts(f, jb_rec_str(he, "workload", ""));
    fputs("</a></td><td>", f);
    jb_html_puts(f, jb_rec_str(he, "config", ""));
    fputs("<br><span class=\"key\">key ", f);
    jb_html_puts(f, jb_rec_str(he, "config_key", ""));
    fputs("</span></td><td>", f);
    jb_html_puts(f, jb_rec_str(he, "platform", ""));
    fputs("</td>", f);
    const char *label = jb_rec_str(last, "label", "");
    int est = strcmp(label, "measured") != 0;
    snprintf(unit, sizeof(unit), "J/%s", jb_rec_str(he, "unit", "unit"));
    double v = jb_rec_num(last, "value", NAN), u = jb_rec_num(last, "uncertainty", NAN);
    fprintf(f, "<td class=\"n%s\" data-v=\"%.9g\">", est ? " est" : "", v);
    jb_html_puts(f, jb_fmt_si(v, unit, 1, b, sizeof(b)));
    if (isfinite(u)) {
        fputs(" <span class=\"unc\">&plusmn; ", f);
        jb_html_puts(f, jb_fmt_si(u, "J", 1, b, sizeof(b)));
        fputs("</span>", f);
    }
    fprintf(f, "</td><td%s>", est ? " class=\"est\"" : "");
    jb_html_puts(f, label);
    fputs(" (", f);
    jb_html_puts(f, jb_rec_str(last, "source", "?"));
    fputs(")</td>", f);
    if (llast) {
        double lv = jb_rec_num(llast, "value", NAN), lu = jb_rec_num(llast, "uncertainty", NAN);
        fprintf(f, "<td class=\"n\" data-v=\"%.9g\">", lv);
        jb_html_puts(f, jb_fmt_si(lv, "s", 1, b, sizeof(b)));
        if (isfinite(lu)) {
            fputs(" <span class=\"unc\">&plusmn; ", f);
            jb_html_puts(f, jb_fmt_si(lu, "s", 1, b, sizeof(b)));
            fputs("</span>", f);
        }
        fputs("</td>", f);
    } else {
        fputs("<td>&ndash;</td>", f);
    }
    sparkline(f, he);
    const json_t *cs[2] = {ce, cl};
    const char *what[2] = {"energy", "latency"};
    fputs("<td>", f);
    int any = 0;
    for (int k = 0; k < 2; k++) {
        if (!cs[k])
            continue;
        int r = json_is_true(json_object_get(cs[k], "regression"));
        fprintf(f, "%s<span class=\"%s\">%s %+.1f%%%s</span>", any ? "<br>" : "",
                r ? "flag" : (json_is_true(json_object_get(cs[k], "significant")) ? "sig" : "same"),
                what[k], jb_rec_num(cs[k], "change_pct", 0), r ? " regression" : "");
        any = 1;
    }
    if (!any)
        fputs("&ndash;", f);
    fprintf(f, "</td><td class=\"n\" data-v=\"%zu\">%zu</td></tr>\n", json_array_size(pts),
            json_array_size(pts));
}

/* The configurations table of the index: one row per configuration key,
 * the keys with a regression since the previous commit first. Returns the
 * number of regressions. */
static int configs_table(FILE *f, const json_t *hists)
{
    int nreg = 0;
    /* rows with a regression and the others, written apart and then the
     * former first, with their count above the table */
    char *text[2] = {NULL, NULL};
    size_t len[2] = {0, 0};
    FILE *rows[2] = {open_memstream(&text[0], &len[0]), open_memstream(&text[1], &len[1])};
    if (!rows[0] || !rows[1]) {
        if (rows[0])
            fclose(rows[0]);
        if (rows[1])
            fclose(rows[1]);
        free(text[0]);
        free(text[1]);
        return 0;
    }
    const char *w;
    const json_t *pair;
    json_object_foreach((json_t *)hists, w, pair)
    {
        size_t j;
        const json_t *he, *hl_all = json_array_get(pair, 1);
        json_array_foreach(json_array_get(pair, 0), j, he)
        {
            const json_t *hl = same_key(hl_all, he);
            json_t *ce = jb_history_since_previous_commit(he, REGRESSION_PCT);
            json_t *cl = hl ? jb_history_since_previous_commit(hl, REGRESSION_PCT) : NULL;
            int reg = (ce && json_is_true(json_object_get(ce, "regression"))) ||
                      (cl && json_is_true(json_object_get(cl, "regression")));
            if (json_array_size(json_object_get(he, "points"))) {
                config_row(rows[reg ? 0 : 1], he, hl, ce, cl);
                nreg += reg;
            }
            json_decref(ce);
            json_decref(cl);
        }
    }
    fclose(rows[0]);
    fclose(rows[1]);
    fputs("<h2>Latest per configuration</h2>\n", f);
    if (nreg)
        fprintf(f,
                "<p id=\"regressions\" class=\"flag\">%d configuration%s worse since the "
                "previous commit (by more than %.0f%% and twice the stated uncertainty), listed "
                "first.</p>\n",
                nreg, nreg == 1 ? "" : "s", REGRESSION_PCT);
    else
        fputs("<p id=\"regressions\">No configuration is worse since the previous commit.</p>\n",
              f);
    fputs("<p>One row per configuration key (workload, back-end, precision, batch, context, "
          "threads, options, power sources, machine): runs of different keys are never "
          "pooled.</p>\n<table class=\"sortable\" id=\"configs\"><thead><tr><th>workload</th>"
          "<th>configuration</th><th>platform</th><th>latest energy</th><th>source</th>"
          "<th>latest latency</th><th>history</th><th>since previous commit</th><th>runs</th>"
          "</tr></thead><tbody>\n",
          f);
    fwrite(text[0], 1, len[0], f);
    fwrite(text[1], 1, len[1], f);
    free(text[0]);
    free(text[1]);
    fputs("</tbody></table>\n", f);
    return nreg;
}

static const char usage_report[] = "usage: joulebench report [--db URL] --html DIR\n";

int jb_cmd_report(int argc, char **argv)
{
    if (jb_opts_help(argc, argv, usage_report))
        return 0;
    const char *db = NULL, *html = NULL, *pos[1];
    int npos, rc, ret = 1;
    char err[JB_ERRLEN], sub[1400];
    const struct jb_opt opts[] = {{"db", &db, NULL}, {"html", &html, NULL}, {NULL, NULL, NULL}};
    if ((rc = jb_opts_parse(argc, argv, opts, pos, 0, &npos, err, sizeof(err))) || !html) {
        fprintf(stderr, "joulebench report: %s\n%s", rc ? err : "--html DIR is required",
                usage_report);
        return 2;
    }
    jb_store *s = NULL;
    json_t *recs = json_array(), *by = json_object(), *cp_runs = json_object();
    FILE *f = NULL;
    if ((rc = jb_store_open(db, &s, err, sizeof(err))) ||
        (rc = jb_store_query(s, NULL, recs, err, sizeof(err)))) {
        fprintf(stderr, "joulebench report: %s\n", err);
        goto out;
    }
    const char *subs[] = {"", "/w", "/runs", "/plots"};
    for (int i = 0; i < 4; i++) {
        snprintf(sub, sizeof(sub), "%s%s", html, subs[i]);
        if (jb_mkdirs(sub)) {
            fprintf(stderr, "joulebench report: %s: %s\n", sub, strerror(errno));
            goto out;
        }
    }
    int plots_ok = jb_gnuplot_check(err, sizeof(err)) == 0, plots_failed = 0;
    if (!plots_ok)
        fprintf(stderr, "joulebench report: %s; pages are written without plots\n", err);
    size_t i;
    json_t *r;
    json_array_foreach(recs, i, r)
    {
        const char *w = jb_rec_str(r, "workload.name", "?");
        json_t *arr = json_object_get(by, w);
        if (!arr) {
            arr = json_array();
            json_object_set_new(by, w, arr);
        }
        json_array_append(arr, r);
        if (write_run_page(html, r)) {
            fprintf(stderr, "joulebench report: cannot write the page of run %s\n",
                    jb_rec_str(r, "run_id", "?"));
            goto out;
        }
    }
    /* history per workload, on the machine of its newest run */
    json_t *hists = json_object();
    const char *w;
    json_t *arr;
    json_object_foreach(by, w, arr)
    {
        /* every configuration's series, on the machine of its newest run */
        json_t *he = jb_history_all(arr, w, "energy", NULL, 3, err, sizeof(err));
        json_t *hl = jb_history_all(arr, w, "latency", NULL, 3, err, sizeof(err));
        collect_cp_runs(he, cp_runs);
        collect_cp_runs(hl, cp_runs);
        json_object_set_new(hists, w, json_pack("[o?,o?]", he, hl));
    }
    json_object_foreach(by, w, arr)
    {
        json_t *h = json_object_get(hists, w);
        if (write_workload_page(html, w, arr, s, json_array_get(h, 0), json_array_get(h, 1),
                                plots_ok, cp_runs, &plots_failed)) {
            fprintf(stderr, "joulebench report: cannot write the page of workload %s\n", w);
            json_decref(hists);
            goto out;
        }
    }
    snprintf(sub, sizeof(sub), "%s/index.html", html);
    if (!(f = fopen(sub, "w"))) {
        fprintf(stderr, "joulebench report: %s: cannot write\n", sub);
        json_decref(hists);
        goto out;
    }
    page_head(f, "joulebench dashboard", "");
    fprintf(f,
            "<h1>joulebench dashboard</h1>\n<p>%zu run%s, %zu workload%s. Energy figures in "
            "<span class=\"est\">italics</span> are estimates, not measurements. Click a run "
            "for its provenance; click a header to sort.</p>\n",
            json_array_size(recs), json_array_size(recs) == 1 ? "" : "s", json_object_size(by),
            json_object_size(by) == 1 ? "" : "s");
    configs_table(f, hists);
    fputs("<h2>Workloads</h2>\n<table class=\"sortable\" id=\"workloads\"><thead><tr><th>workload"
          "</th><th>runs</th><th>latest energy</th><th>latest latency</th><th>change points"
          "</th></tr></thead><tbody>\n",
          f);
    json_object_foreach(by, w, arr)
    {
        char safe[200];
        jb_safe_name(w, safe, sizeof(safe));
        const json_t *last = json_array_get(arr, json_array_size(arr) - 1);
        json_t *h = json_object_get(hists, w);
        json_t *dummy = json_object();
        size_t ncp = collect_cp_runs(json_array_get(h, 0), dummy) +
                     collect_cp_runs(json_array_get(h, 1), dummy);
        json_decref(dummy);
        fprintf(f, "<tr><td><a href=\"w/%s.html\">", safe);
        jb_html_puts(f, w);
        fprintf(f, "</a></td>");
        num_td(f, (double)json_array_size(arr), NULL);
        char unit[96];
        snprintf(unit, sizeof(unit), "J/%s", jb_rec_str(last, "workload.unit", "unit"));
        si_td(f, jb_rec_num(last, "derived.energy.joules_per_unit", NAN), unit,
              strcmp(jb_rec_str(last, "derived.energy.label", ""), "measured") ? "est" : NULL);
        si_td(f, jb_rec_num(last, "measurements.latency_s.median", NAN), "s", NULL);
        if (ncp)
            fprintf(f, "<td class=\"flag\" data-v=\"%zu\">&#9873; %zu</td></tr>\n", ncp, ncp);
        else
            fputs("<td data-v=\"0\">0</td></tr>\n", f);
    }
    fputs("</tbody></table>\n<h2>All runs</h2>\n", f);
    runs_table(f, recs, "", cp_runs);
    page_tail(f);
    json_decref(hists);
    if (fclose(f)) {
        f = NULL;
        fprintf(stderr, "joulebench report: %s: write failed\n", sub);
        goto out;
    }
    f = NULL;
    printf("report: %s/index.html (%zu runs, %zu workloads%s)\n", html, json_array_size(recs),
           json_object_size(by), plots_ok ? "" : ", no plots: gnuplot missing");
    if (plots_failed)
        fprintf(stderr, "joulebench report: warning: %d plot(s) not drawn; the pages say which\n",
                plots_failed);
    ret = 0;
out:
    if (f)
        fclose(f);
    json_decref(recs);
    json_decref(by);
    json_decref(cp_runs);
    jb_store_close(s);
    return ret;
}
