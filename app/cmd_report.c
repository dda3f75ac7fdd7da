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

static const char *const run_cols[] = {"run",           "date",           "workload",   "platform",
                                       "dtype",         "scenario",       "batch",      "threads",
                                       "latency s",     "J/unit",         "&plusmn; J", "label",
                                       "gCO2e/1000 op", "gCO2e/1000 emb", "check"};

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
        fputs("</td><td>", f);
        char pb[160];
        jb_html_puts(f, jb_rec_platform(r, pb, sizeof(pb)));
        fputs("</td><td>", f);
        jb_html_puts(f, jb_rec_str(r, "workload.dtype", ""));
        fputs("</td><td>", f);
        jb_html_puts(f, jb_rec_str(r, "config.scenario", ""));
        fputs("</td>", f);
        num_td(f, jb_rec_num(r, "config.batch", NAN), NULL);
        num_td(f, jb_rec_num(r, "config.threads", NAN), NULL);
        num_td(f, jb_rec_num(r, "measurements.latency_s.median", NAN), NULL);
        const char *label = jb_rec_str(r, "derived.energy.label", "");
        const char *cls = strcmp(label, "measured") ? "est" : NULL;
        num_td(f, jb_rec_num(r, "derived.energy.joules_per_unit", NAN), cls);
        num_td(f, jb_rec_num(r, "derived.energy.uncertainty_joules_per_unit", NAN), cls);
        fprintf(f, "<td%s>", cls ? " class=\"est\"" : "");
        jb_html_puts(f, label);
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
                               const json_t *cp_runs)
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
        if (!jb_plot_bars(recs, name, pdir, stem, sizeof(stem), err, sizeof(err)))
            plot_img(f, stem, "energy per unit by platform");
        for (int k = 0; k < 2; k++) {
            size_t j;
            const json_t *h;
            json_array_foreach(
                hs[k], j, h) if (json_array_size(json_object_get(h, "points")) >= 2 &&
                                 !jb_plot_history(h, pdir, stem, sizeof(stem), err, sizeof(err)))
                plot_img(f, stem, k ? "latency history" : "energy history");
        }
        /* the power trace of the newest run that has one */
        for (size_t i = json_array_size(recs); i-- > 0;) {
            const char *id = jb_rec_str(json_array_get(recs, i), "run_id", "");
            char *csv = NULL;
            if (jb_store_get_trace(s, id, &csv, err, sizeof(err)) || !csv)
                continue;
            int rc = jb_plot_trace(csv, id, pdir, stem, sizeof(stem), err, sizeof(err));
            free(csv);
            if (!rc) {
                fputs("<p>Power trace of run ", f);
                jb_html_puts(f, id);
                fputs("</p>\n", f);
                plot_img(f, stem, "power trace");
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
    int plots_ok = jb_gnuplot_check(err, sizeof(err)) == 0;
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
                                plots_ok, cp_runs)) {
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
            "<h1>joulebench dashboard</h1>\n<p>%zu runs, %zu workloads. Energy figures in "
            "<span class=\"est\">italics</span> are estimates, not measurements. Click a run "
            "for its provenance; click a header to sort.</p>\n",
            json_array_size(recs), json_object_size(by));
    fputs("<h2>Workloads</h2>\n<table class=\"sortable\" id=\"workloads\"><thead><tr><th>workload"
          "</th><th>runs</th><th>latest J/unit</th><th>latest latency s</th><th>change points"
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
        num_td(f, jb_rec_num(last, "derived.energy.joules_per_unit", NAN),
               strcmp(jb_rec_str(last, "derived.energy.label", ""), "measured") ? "est" : NULL);
        num_td(f, jb_rec_num(last, "measurements.latency_s.median", NAN), NULL);
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
