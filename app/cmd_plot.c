/* cmd_plot.c: `joulebench plot`: the figures of a paper from the results
 * database in one command, for a chosen query: per workload, energy against
 * latency with the Pareto front, energy per configuration as bars (across
 * platforms and implementations), the history of each configuration key
 * (energy and latency, with uncertainty bands and change points), and the
 * power trace of the newest run that has one; each in SVG, PDF and PNG. */
#include "app/cmd_util.h"
#include "app/commands_impl.h"
#include "base/error.h"
#include "results/history.h"
#include "results/plots.h"
#include "results/record_util.h"
#include "results/store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_plot[] =
    "usage: joulebench plot [--db URL] --out DIR [--query KEY=VALUE,...] [--workload W]\n"
    "                       [--kind all|pareto|bars|history|trace]\n"
    "  Writes DIR/KIND-WORKLOAD[-KEY][-METRIC].{svg,pdf,png} for the runs the query selects\n"
    "  (keys as for compare: workload, backend, dtype, threads, context, options, key,\n"
    "  topology, commit, since, run). Needs gnuplot with pdfcairo (Debian gnuplot-nox).\n";

static void said(const char *what, const char *stem)
{
    printf("plot: %s: %s.{svg,pdf,png}\n", what, stem);
}

int jb_cmd_plot(int argc, char **argv)
{
    if (jb_opts_help(argc, argv, usage_plot))
        return 0;
    const char *db = NULL, *out = NULL, *query = NULL, *workload = NULL, *kind = "all", *pos[1];
    int npos, rc, ret = 1, drawn = 0;
    char err[JB_ERRLEN], stem[4200], qbuf[512];
    const struct jb_opt opts[] = {
        {"db", &db, NULL},       {"out", &out, NULL},
        {"query", &query, NULL}, {"workload", &workload, NULL},
        {"kind", &kind, NULL},   {NULL, NULL, NULL},
    };
    struct jb_store_filter f;
    memset(&f, 0, sizeof(f));
    if ((rc = jb_opts_parse(argc, argv, opts, pos, 0, &npos, err, sizeof(err))) || !out ||
        (strcmp(kind, "all") && strcmp(kind, "pareto") && strcmp(kind, "bars") &&
         strcmp(kind, "history") && strcmp(kind, "trace"))) {
        fprintf(
            stderr, "joulebench plot: %s\n%s",
            rc ? err
               : (!out ? "--out DIR is required" : "--kind: all, pareto, bars, history or trace"),
            usage_plot);
        return 2;
    }
    if (query) {
        snprintf(qbuf, sizeof(qbuf), "%s", query);
        if ((rc = jb_query_parse(qbuf, &f, err, sizeof(err)))) {
            fprintf(stderr, "joulebench plot: --query: %s\n", err);
            return 2;
        }
    }
    if (workload)
        f.workload = workload;
    if ((rc = jb_gnuplot_check(err, sizeof(err)))) {
        fprintf(stderr, "joulebench plot: %s\n", err);
        return 1;
    }
    if (jb_mkdirs(out)) {
        fprintf(stderr, "joulebench plot: %s: %s\n", out, strerror(errno));
        return 1;
    }
    jb_store *s = NULL;
    json_t *recs = json_array(), *by = json_object();
    if ((rc = jb_store_open(db, &s, err, sizeof(err))) ||
        (rc = jb_store_query(s, &f, recs, err, sizeof(err)))) {
        fprintf(stderr, "joulebench plot: %s\n", err);
        goto done;
    }
    size_t i;
    json_t *r;
    json_array_foreach(recs, i, r)
    {
        const char *w = jb_rec_str(r, "workload.name", "?");
        if (!json_object_get(by, w))
            json_object_set_new(by, w, json_array());
        json_array_append(json_object_get(by, w), r);
    }
    int all = !strcmp(kind, "all");
    const char *w;
    json_t *arr;
    json_object_foreach(by, w, arr)
    {
        if ((all || !strcmp(kind, "pareto")) &&
            !jb_plot_scatter(arr, w, out, stem, sizeof(stem), err, sizeof(err)) && ++drawn)
            said("energy vs latency", stem);
        if ((all || !strcmp(kind, "bars")) &&
            !jb_plot_bars(arr, w, out, stem, sizeof(stem), err, sizeof(err)) && ++drawn)
            said("energy by configuration", stem);
        if (all || !strcmp(kind, "history")) {
            const char *metrics[2] = {"energy", "latency"};
            for (int m = 0; m < 2; m++) {
                json_t *hs = jb_history_all(arr, w, metrics[m], NULL, 3, err, sizeof(err));
                size_t j;
                json_t *h;
                json_array_foreach(hs, j, h) if (json_array_size(json_object_get(h, "points")) >= 2)
                {
                    if (jb_plot_history(h, out, stem, sizeof(stem), err, sizeof(err)))
                        fprintf(stderr, "joulebench plot: %s\n", err);
                    else if (++drawn)
                        said(metrics[m][0] == 'e' ? "energy history" : "latency history", stem);
                }
                json_decref(hs);
            }
        }
        if (all || !strcmp(kind, "trace"))
            for (size_t k = json_array_size(arr); k-- > 0;) {
                const json_t *tr = json_array_get(arr, k);
                char *csv = NULL;
                if (jb_store_get_trace(s, jb_rec_str(tr, "run_id", ""), &csv, err, sizeof(err)) ||
                    !csv)
                    continue;
                const json_t *pe = jb_rec_primary_energy(tr);
                const char *how = !pe                                              ? "estimated"
                                  : json_is_true(json_object_get(pe, "simulated")) ? "simulated"
                                  : json_is_true(json_object_get(pe, "measured"))  ? "measured"
                                                                                   : "estimated";
                rc = jb_plot_trace(csv, jb_rec_str(tr, "run_id", ""),
                                   pe ? jb_rec_str(pe, "source", NULL) : NULL, how, out, stem,
                                   sizeof(stem), err, sizeof(err));
                free(csv);
                if (rc)
                    fprintf(stderr, "joulebench plot: %s\n", err);
                else if (++drawn)
                    said("power trace", stem);
                break;
            }
    }
    if (!drawn) {
        fprintf(stderr, "joulebench plot: nothing to draw: %zu run(s) match%s%s\n",
                json_array_size(recs), query ? " " : "", query ? query : "");
        goto done;
    }
    ret = 0;
done:
    json_decref(recs);
    json_decref(by);
    jb_store_close(s);
    return ret;
}
