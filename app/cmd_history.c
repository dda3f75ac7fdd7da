/* cmd_history.c: `joulebench history`: a metric's series over time on one
 * machine, per workload, with the change points E-Divisive means finds,
 * each with its size and the commit range it happened in. */
#include "base/error.h"
#include "app/cmd_util.h"
#include "app/commands_impl.h"
#include "results/history.h"
#include "results/plots.h"
#include "results/record_util.h"
#include "results/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Prints a series. Its strings come from record files: control characters
 * are replaced on the way to the terminal, so that a hostile workload name
 * or commit cannot drive it. */
static void print_series(const json_t *h, int by_commit)
{
    char *text = NULL;
    size_t len = 0;
    FILE *o = open_memstream(&text, &len);
    if (!o)
        return;
    fprintf(o, "%s %s %s on %s (topology %s), key %s\n", jb_rec_str(h, "workload", ""),
            jb_rec_str(h, "config", ""), jb_rec_str(h, "metric", ""), jb_rec_str(h, "platform", ""),
            jb_rec_str(h, "topology_hash", ""), jb_rec_str(h, "config_key", ""));
    size_t i;
    const json_t *p, *cps = json_object_get(h, "change_points");
    json_array_foreach(json_object_get(h, "points"), i, p)
    {
        int mark = 0;
        size_t k;
        const json_t *c;
        json_array_foreach(cps, k, c) if ((size_t)json_integer_value(json_object_get(c, "index")) ==
                                          i) mark = 1;
        fprintf(o, "  %s%-24s %-14s %.6g %s\n", mark ? "* " : "  ",
                jb_rec_str(p, by_commit ? "git_commit" : "created_utc", ""),
                jb_rec_str(p, by_commit ? "created_utc" : "git_commit", ""),
                jb_rec_num(p, "value", 0), jb_rec_str(p, "label", ""));
    }
    size_t k;
    const json_t *c;
    if (!json_array_size(cps))
        fprintf(o, "  no change point (E-Divisive means, permutation test at p < 0.05)\n");
    json_array_foreach(cps, k, c) fprintf(
        o, "  change point: %+.1f%% (%.6g -> %.6g) between commit %s (%s) and %s (%s), p = %.3f\n",
        jb_rec_num(c, "change_pct", 0), jb_rec_num(c, "mean_before", 0),
        jb_rec_num(c, "mean_after", 0), jb_rec_str(c, "from_commit", "?"),
        jb_rec_str(c, "from_utc", "?"), jb_rec_str(c, "to_commit", "?"),
        jb_rec_str(c, "to_utc", "?"), jb_rec_num(c, "p_value", 1));
    fclose(o);
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)text[i];
        putchar(ch == '\n' || (ch >= 0x20 && ch != 0x7f) ? ch : '?');
    }
    free(text);
}

/* Collects the series of each configuration key that the store hands over,
 * one key's records at a time (jb_store_query_grouped). */
struct series_ctx {
    const char *metric;
    size_t min_size;
    json_t *out; /* [{first, series}] until qsort_series */
    int rc;
    char err[JB_ERRLEN];
};

static int add_series(void *ctx, const char *key_id, json_t *recs)
{
    struct series_ctx *sc = ctx;
    (void)key_id; /* the keys are computed again from the records, as they
                   * are read: a column written by an older build could
                   * differ, and a series must hold exactly one key */
    json_t *hs = jb_history_all(recs, NULL, sc->metric, NULL, sc->min_size, sc->err,
                                sizeof(sc->err));
    if (!hs)
        return sc->rc = JB_EINVAL;
    size_t i;
    json_t *h;
    json_array_foreach(hs, i, h)
    {
        const json_t *first = json_array_get(json_object_get(h, "points"), 0);
        char when[200];
        snprintf(when, sizeof(when), "%s\x1f%s", jb_rec_str(first, "created_utc", ""),
                 jb_rec_str(first, "run_id", ""));
        json_array_append_new(sc->out, json_pack("{s:s,s:O}", "first", when, "series", h));
    }
    json_decref(hs);
    return 0;
}

static int by_first_run(const void *a, const void *b)
{
    return strcmp(jb_rec_str(*(json_t *const *)a, "first", ""),
                  jb_rec_str(*(json_t *const *)b, "first", ""));
}

/* Sorts [{first, series}] by first run and replaces each by its series. */
static void qsort_series(json_t *all)
{
    size_t n = json_array_size(all);
    json_t **v = malloc((n + 1) * sizeof(*v));
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        v[i] = json_incref(json_array_get(all, i));
    qsort(v, n, sizeof(*v), by_first_run);
    json_array_clear(all);
    for (size_t i = 0; i < n; i++) {
        json_array_append(all, json_object_get(v[i], "series"));
        json_decref(v[i]);
    }
    free(v);
}

static const char usage_history[] =
    "usage: joulebench history [--db URL] [--workload W] "
    "[--metric energy|latency] [--topology HASH] [--key ID] [--by date|commit] "
    "[--min-size N] [--json FILE] [--plot DIR]\n"
    "  One series per configuration key (METHODOLOGY.md 8.0): runs of other contexts,\n"
    "  options, back-ends or machines are other series, never a change.\n";

int jb_cmd_history(int argc, char **argv)
{
    if (jb_opts_help(argc, argv, usage_history))
        return 0;
    const char *db = NULL, *workload = NULL, *metric = "energy", *topo = NULL, *by = "date",
               *json_out = NULL, *plot_dir = NULL, *min_s = NULL, *key = NULL, *pos[1];
    int npos, rc, ret = 1;
    char err[JB_ERRLEN];
    const struct jb_opt opts[] = {
        {"db", &db, NULL},         {"workload", &workload, NULL},
        {"metric", &metric, NULL}, {"topology", &topo, NULL},
        {"by", &by, NULL},         {"json", &json_out, NULL},
        {"plot", &plot_dir, NULL}, {"min-size", &min_s, NULL},
        {"key", &key, NULL},       {NULL, NULL, NULL},
    };
    if ((rc = jb_opts_parse(argc, argv, opts, pos, 0, &npos, err, sizeof(err))) ||
        (strcmp(metric, "energy") && strcmp(metric, "latency")) ||
        (strcmp(by, "date") && strcmp(by, "commit"))) {
        fprintf(stderr, "joulebench history: %s\n%s",
                rc ? err : "--metric is energy or latency, --by is date or commit", usage_history);
        return 2;
    }
    long long min_size = 3;
    if (min_s && jb_opt_long("--min-size", min_s, 1, 1000000, &min_size, err, sizeof(err))) {
        fprintf(stderr, "joulebench history: %s\n%s", err, usage_history);
        return 2;
    }
    jb_store *s = NULL;
    json_t *all = json_array();
    if ((rc = jb_store_open(db, &s, err, sizeof(err)))) {
        fprintf(stderr, "joulebench history: %s\n", err);
        goto out;
    }
    struct jb_store_filter f = {0};
    f.workload = workload;
    f.topology_hash = topo;
    f.config_key = key;
    struct series_ctx sc = {.metric = metric, .min_size = (size_t)min_size, .out = all};
    if ((rc = jb_store_query_grouped(s, &f, add_series, &sc, err, sizeof(err)))) {
        fprintf(stderr, "joulebench history: %s\n", rc == sc.rc ? sc.err : err);
        goto out;
    }
    /* Series in the order of their first run, as a reader scans time. */
    qsort_series(all);
    if (!json_array_size(all)) {
        fprintf(stderr, "joulebench history: no records%s%s\n", workload ? " of " : "",
                workload ? workload : "");
        goto out;
    }
    size_t i;
    json_t *h;
    json_array_foreach(all, i, h)
    {
        print_series(h, !strcmp(by, "commit"));
        if (plot_dir) {
            char png[4096];
            if (jb_plot_history(h, plot_dir, png, sizeof(png), err, sizeof(err)))
                fprintf(stderr, "joulebench history: %s\n", err);
            else
                printf("  plot: %s (.svg, .pdf and .png)\n", png);
        }
    }
    if (json_out && json_dump_file(all, json_out, JSON_INDENT(2)))
        fprintf(stderr, "joulebench history: cannot write %s\n", json_out);
    ret = 0;
out:
    json_decref(all);
    jb_store_close(s);
    return ret;
}
