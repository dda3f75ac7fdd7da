/* cmd_io.c: `joulebench import` (records and Google Benchmark JSON into the
 * results database, each record normalized on the way) and `joulebench
 * export` (the database as JSON, CSV or Markdown). */
#include "base/error.h"
#include "app/cmd_util.h"
#include "app/commands_impl.h"
#include "results/normalize.h"
#include "results/record_util.h"
#include "results/store.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Finds the calibration record for r among the batch being imported, else
 * in the database. Returned reference is owned by the caller. */
static json_t *find_calibration(jb_store *s, const json_t *batch, const char *which,
                                const json_t *r)
{
    size_t i;
    json_t *c, *best = NULL;
    json_array_foreach(batch, i, c) if (jb_is_calibration(c, which) && jb_calibration_matches(c, r))
        best = c;
    if (best)
        return json_incref(best);
    char err[JB_ERRLEN];
    json_t *found = NULL;
    if (jb_store_find_calibration(s, which, r, &found, err, sizeof(err)))
        return NULL;
    return found;
}

static const char usage_import[] =
    "usage: joulebench import [--db URL] [--region CODE | "
    "--grid-intensity G] [--pue P] [--wue W] [--platform NAME|PATH] FILES|DIRS\n";

int jb_cmd_import(int argc, char **argv)
{
    if (jb_opts_help(argc, argv, usage_import))
        return 0;
    const char *db = NULL, *region = NULL, *grid = NULL, *pue = NULL, *wue = NULL, *plat = NULL;
    const char *pos[256];
    int npos = 0, rc, bad = 0, added = 0, dup = 0, gb_files = 0, gb_added = 0, gb_dup = 0;
    char err[JB_ERRLEN];
    const struct jb_opt opts[] = {
        {"db", &db, NULL},   {"region", &region, NULL}, {"grid-intensity", &grid, NULL},
        {"pue", &pue, NULL}, {"wue", &wue, NULL},       {"platform", &plat, NULL},
        {NULL, NULL, NULL},
    };
    if ((rc = jb_opts_parse(argc, argv, opts, pos, 256, &npos, err, sizeof(err))) || npos == 0) {
        fprintf(stderr, "joulebench import: %s\n%s", rc ? err : "no files given", usage_import);
        return 2;
    }
    struct jb_norm_opts no;
    json_t *platform = NULL;
    if ((rc = jb_norm_opts_from(&no, region, grid, pue, wue, plat, &platform, err, sizeof(err)))) {
        fprintf(stderr, "joulebench import: %s\n", err);
        return 2;
    }
    json_t *recs = json_array(), *paths = json_array(), *gbench = json_array();
    for (int i = 0; i < npos; i++)
        if (jb_records_collect(pos[i], recs, paths, gbench, &bad))
            bad++;
    jb_store *s = NULL;
    if ((rc = jb_store_open(db, &s, err, sizeof(err)))) {
        fprintf(stderr, "joulebench import: %s\n", err);
        bad++;
        goto out;
    }
    /* Calibration runs first, so that later records of the same batch find
     * their roofline. */
    for (int pass = 0; pass < 2; pass++) {
        size_t i;
        json_t *r;
        json_array_foreach(recs, i, r)
        {
            int cal = jb_is_calibration(r, "triad") || jb_is_calibration(r, "fma");
            if (cal != (pass == 0))
                continue;
            const char *path = json_string_value(json_array_get(paths, i));
            json_t *tr = find_calibration(s, recs, "triad", r);
            json_t *fm = find_calibration(s, recs, "fma", r);
            no.calib_triad = tr;
            no.calib_fma = fm;
            rc = jb_normalize_record(r, &no, err, sizeof(err));
            json_decref(tr);
            json_decref(fm);
            if (rc) {
                fprintf(stderr, "joulebench import: %s: %s\n", path, err);
                bad++;
                continue;
            }
            char *trace = jb_read_trace_beside(path);
            int ins = 0;
            rc = jb_store_put(s, r, path, trace, &ins, err, sizeof(err));
            free(trace);
            if (rc) {
                fprintf(stderr, "joulebench import: %s: %s\n", path, err);
                bad++;
                if (rc == JB_EUNAVAIL || rc == JB_EFORMAT)
                    goto out; /* the database itself refuses: stop here */
                continue;
            }
            if (ins)
                added++;
            else
                dup++;
        }
    }
    size_t i;
    json_t *g;
    json_array_foreach(gbench, i, g)
    {
        int ins = 0;
        const char *path = json_string_value(json_object_get(g, "path"));
        const json_t *doc = json_object_get(g, "json");
        rc = jb_store_put_gbench(s, doc, path, &ins, err, sizeof(err));
        if (rc) {
            fprintf(stderr, "joulebench import: %s\n", err);
            bad++;
            continue;
        }
        gb_files++;
        gb_added += ins;
        gb_dup += (int)json_array_size(json_object_get(doc, "benchmarks")) - ins;
    }
    /* A Google Benchmark file holds one entry per repetition and one per
     * aggregate (mean, median, stddev, cv), so its entries are counted
     * apart from the records and from its files. */
    printf("import: %d record(s) stored, %d already present; Google Benchmark: %d file(s), "
           "%d entr%s stored, %d already present; %d problem(s)\n",
           added, dup, gb_files, gb_added, gb_added == 1 ? "y" : "ies", gb_dup, bad);
out:
    jb_store_close(s);
    json_decref(recs);
    json_decref(paths);
    json_decref(gbench);
    json_decref(platform);
    return bad ? 1 : 0;
}

/* CSV field: quoted when it holds a separator, quote or line break; a text
 * starting like a spreadsheet formula is prefixed with ' so that opening
 * an export cannot run one (system names come from submissions). */
static void csv_str(FILE *f, const char *s)
{
    if (!s)
        return;
    int q = strpbrk(s, ",\"\r\n") != NULL;
    int formula = strchr("=+-@\t", s[0]) != NULL && s[0];
    if (q || formula)
        fputc('"', f);
    if (formula)
        fputc('\'', f);
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            fputc('"', f);
        fputc(*p, f);
    }
    if (q || formula)
        fputc('"', f);
}

/* Markdown cell: pipes escaped, line breaks flattened, HTML neutralized
 * (Markdown renderers pass HTML through). */
static void md_str(FILE *f, const char *s)
{
    for (const char *p = s ? s : ""; *p; p++) {
        if (*p == '|')
            fputs("\\|", f);
        else if (*p == '\n' || *p == '\r')
            fputc(' ', f);
        else
            jb_html_putc(f, *p);
    }
}

struct col {
    const char *title;
    const char *path; /* dotted path in the record */
    int numeric;
};

static const struct col cols[] = {
    {"run_id", "run_id", 0},
    {"created_utc", "created_utc", 0},
    {"workload", "workload.name", 0},
    {"dtype", "workload.dtype", 0},
    {"scenario", "config.scenario", 0},
    {"batch", "config.batch", 1},
    {"threads", "config.threads", 1},
    {"platform", NULL, 0},
    {"git_commit", "system.git_commit", 0},
    {"latency_median_s", "measurements.latency_s.median", 1},
    {"throughput_units_per_s", "measurements.throughput_units_per_s", 1},
    {"energy_j_per_unit", "derived.energy.joules_per_unit", 1},
    {"energy_uncertainty_j_per_unit", "derived.energy.uncertainty_joules_per_unit", 1},
    {"energy_label", "derived.energy.label", 0},
    {"operational_gco2e_per_1000", "derived.carbon.operational_gco2e_per_1000_units", 1},
    {"operational_uncertainty_gco2e_per_1000",
     "derived.carbon.operational_uncertainty_gco2e_per_1000_units", 1},
    {"embodied_gco2e_per_1000", "derived.carbon.embodied_gco2e_per_1000_units", 1},
    {"embodied_uncertainty_gco2e_per_1000",
     "derived.carbon.embodied_uncertainty_gco2e_per_1000_units", 1},
    {"water_l_per_1000", "derived.water.water_l_per_1000_units", 1},
    {"output_check", "validity.output_check", 0},
};
#define NCOLS (sizeof(cols) / sizeof(cols[0]))

static void cell(FILE *f, const json_t *r, const struct col *c, int md)
{
    if (!c->path) {
        char pb[160];
        md ? md_str(f, jb_rec_platform(r, pb, sizeof(pb)))
           : csv_str(f, jb_rec_platform(r, pb, sizeof(pb)));
        return;
    }
    if (c->numeric) {
        double v = jb_rec_num(r, c->path, NAN);
        if (isfinite(v))
            fprintf(f, "%.6g", v);
        return;
    }
    const char *s = jb_rec_str(r, c->path, "");
    md ? md_str(f, s) : csv_str(f, s);
}

static const char usage_export[] = "usage: joulebench export [--db URL] [--format "
                                   "json|csv|md] [--workload W] [--out FILE]\n";

int jb_cmd_export(int argc, char **argv)
{
    if (jb_opts_help(argc, argv, usage_export))
        return 0;
    const char *db = NULL, *fmt = "json", *out = NULL, *workload = NULL, *pos[1];
    int npos, rc, ret = 1;
    char err[JB_ERRLEN];
    const struct jb_opt opts[] = {
        {"db", &db, NULL},   {"format", &fmt, NULL},
        {"out", &out, NULL}, {"workload", &workload, NULL},
        {NULL, NULL, NULL},
    };
    if ((rc = jb_opts_parse(argc, argv, opts, pos, 0, &npos, err, sizeof(err))) ||
        (strcmp(fmt, "json") && strcmp(fmt, "csv") && strcmp(fmt, "md"))) {
        fprintf(stderr, "joulebench export: %s\n%s", rc ? err : "--format is json, csv or md",
                usage_export);
        return 2;
    }
    jb_store *s = NULL;
    json_t *recs = json_array();
    FILE *f = stdout;
    if ((rc = jb_store_open(db, &s, err, sizeof(err)))) {
        fprintf(stderr, "joulebench export: %s\n", err);
        goto out;
    }
    struct jb_store_filter flt = {0};
    flt.workload = workload;
    if ((rc = jb_store_query(s, &flt, recs, err, sizeof(err)))) {
        fprintf(stderr, "joulebench export: %s\n", err);
        goto out;
    }
    if (out && !(f = fopen(out, "w"))) {
        fprintf(stderr, "joulebench export: %s: cannot write\n", out);
        f = stdout;
        goto out;
    }
    if (!strcmp(fmt, "json")) {
        json_dumpf(recs, f, JSON_INDENT(2));
        fputc('\n', f);
    } else {
        int md = !strcmp(fmt, "md");
        for (size_t c = 0; c < NCOLS; c++)
            fprintf(f, md ? "| %s " : (c ? ",%s" : "%s"), cols[c].title);
        fputs(md ? "|\n" : "\n", f);
        if (md) {
            for (size_t c = 0; c < NCOLS; c++)
                fputs(cols[c].numeric ? "| ---: " : "| --- ", f);
            fputs("|\n", f);
        }
        size_t i;
        json_t *r;
        json_array_foreach(recs, i, r)
        {
            for (size_t c = 0; c < NCOLS; c++) {
                fputs(md ? "| " : (c ? "," : ""), f);
                cell(f, r, &cols[c], md);
                if (md)
                    fputc(' ', f);
            }
            fputs(md ? "|\n" : "\n", f);
        }
    }
    ret = 0;
out:
    if (f != stdout && fclose(f) != 0) {
        fprintf(stderr, "joulebench export: %s: write failed\n", out);
        ret = 1;
    }
    json_decref(recs);
    jb_store_close(s);
    return ret;
}
