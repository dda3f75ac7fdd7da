/* cmd_io.c: `joulebench import` (records and Google Benchmark JSON into the
 * results database, each record normalized and keyed on the way) and
 * `joulebench export` (the database in the formats of results/formats.h). */
#include "base/error.h"
#include "app/cmd_util.h"
#include "app/commands_impl.h"
#include "results/config_key.h"
#include "results/formats.h"
#include "results/normalize.h"
#include "results/record_util.h"
#include "results/schema_validate.h"
#include "results/store.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The key a calibration record serves: which, topology and thread count
 * (jb_calibration_matches). */
static void calib_key(const char *which, const json_t *r, char *key, size_t n)
{
    snprintf(key, n, "%s|%s|%g", which, jb_rec_str(r, "system.topology_hash", ""),
             jb_rec_num(r, "config.threads", -1));
}

/* Finds the calibration record for r among the batch being imported (calibs:
 * key -> the batch's last such record), else in the database. Returned
 * reference is owned by the caller. */
static json_t *find_calibration(jb_store *s, const json_t *calibs, const char *which,
                                const json_t *r)
{
    char key[300];
    calib_key(which, r, key, sizeof(key));
    json_t *best = json_object_get(calibs, key);
    if (best && jb_calibration_matches(best, r))
        return json_incref(best);
    char err[JB_ERRLEN];
    json_t *found = NULL;
    if (jb_store_find_calibration(s, which, r, &found, err, sizeof(err)))
        return NULL;
    return found;
}

#define IMPORT_BATCH 1000

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
    /* Streaming: the files are listed, then read one at a time, so memory
     * holds one record and the calibrations (one per machine and thread
     * count), not every record (100,000 parsed records took 2.3 GB). The
     * first read finds the calibrations (the batch's last of each key
     * serves the batch, as when every record was held); the second stores
     * the calibration runs, the third the others, so that records of the
     * batch find their roofline. */
    json_t *paths = json_array(), *kind = NULL, *gbench = json_array(), *calibs = json_object(),
           *schema = NULL;
    int in_batch = 0;
    for (int i = 0; i < npos; i++)
        jb_records_list(pos[i], paths, &bad);
    jb_store *s = NULL;
    if ((rc = jb_record_schema_load(&schema, err, sizeof(err)))) {
        fprintf(stderr, "joulebench import: %s\n", err);
        bad++;
        goto out;
    }
    if ((rc = jb_store_open(db, &s, err, sizeof(err)))) {
        fprintf(stderr, "joulebench import: %s\n", err);
        bad++;
        goto out;
    }
    /* kind[i]: 0 skipped or Google Benchmark, 1 calibration, 2 other */
    kind = json_array();
    {
        size_t i;
        json_t *p;
        json_array_foreach(paths, i, p)
        {
            json_t *r = NULL;
            int k = jb_record_file_load(json_string_value(p), schema, &r, &bad), cal = 0;
            if (k == 1)
                json_array_append_new(gbench, json_pack("{s:O,s:o}", "path", p, "json", r));
            else if (k == 0) {
                for (int c = 0; c < 2; c++) {
                    const char *which = c ? "fma" : "triad";
                    if (jb_is_calibration(r, which)) {
                        char key[300];
                        calib_key(which, r, key, sizeof(key));
                        json_object_set(calibs, key, r);
                        cal = 1;
                    }
                }
                json_decref(r);
            }
            json_array_append_new(kind, json_integer(k == 0 ? 1 + !cal : 0));
        }
    }
    /* Records go in batches of IMPORT_BATCH per transaction: one commit
     * (a disk sync) per record made 100,000 records take minutes. */
    for (int pass = 1; pass <= 2; pass++) {
        size_t i;
        json_t *p;
        json_array_foreach(paths, i, p)
        {
            if (json_integer_value(json_array_get(kind, i)) != pass)
                continue;
            const char *path = json_string_value(p);
            json_t *r = NULL;
            if (jb_record_file_load(path, schema, &r, &bad) != 0) {
                json_decref(r); /* changed under us into something else */
                continue;
            }
            json_t *tr = find_calibration(s, calibs, "triad", r);
            json_t *fm = find_calibration(s, calibs, "fma", r);
            no.calib_triad = tr;
            no.calib_fma = fm;
            rc = jb_normalize_record(r, &no, err, sizeof(err));
            json_decref(tr);
            json_decref(fm);
            /* An old record gets the key a new one is written with. */
            if (!rc && jb_config_key_attach(r))
                rc = jb_err(err, sizeof(err), JB_ENOMEM, "out of memory");
            if (rc) {
                fprintf(stderr, "joulebench import: %s: %s\n", path, err);
                json_decref(r);
                bad++;
                continue;
            }
            char *trace = jb_read_trace_beside(path);
            int ins = 0;
            if (!in_batch && !(rc = jb_store_batch_begin(s, err, sizeof(err))))
                in_batch = IMPORT_BATCH;
            if (!rc)
                rc = jb_store_put(s, r, path, trace, &ins, err, sizeof(err));
            free(trace);
            json_decref(r);
            if (!rc && in_batch && !--in_batch)
                rc = jb_store_batch_end(s, 1, err, sizeof(err));
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
    if (in_batch && (rc = jb_store_batch_end(s, 1, err, sizeof(err)))) {
        in_batch = 0;
        fprintf(stderr, "joulebench import: %s\n", err);
        bad++;
        goto out;
    }
    in_batch = 0;
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
    if (in_batch)
        jb_store_batch_end(s, 0, NULL, 0); /* stopped on a database error */
    jb_store_close(s);
    json_decref(calibs);
    json_decref(kind);
    json_decref(paths);
    json_decref(schema);
    json_decref(gbench);
    json_decref(platform);
    return bad ? 1 : 0;
}

static const char usage_export[] =
    "usage: joulebench export [--db URL] [--format json|csv|jsonl|sql|md|table] [--workload W]\n"
    "       [--key ID] [--out FILE]\n"
    "  json: the full records; csv, jsonl, sql: one row per run with numbers in the units\n"
    "  their column names say and every configuration key field; md, table: for people\n";

int jb_cmd_export(int argc, char **argv)
{
    if (jb_opts_help(argc, argv, usage_export))
        return 0;
    const char *db = NULL, *fmt = "json", *out = NULL, *workload = NULL, *key = NULL, *pos[1];
    int npos, rc, ret = 1;
    char err[JB_ERRLEN];
    const struct jb_opt opts[] = {
        {"db", &db, NULL},   {"format", &fmt, NULL},
        {"out", &out, NULL}, {"workload", &workload, NULL},
        {"key", &key, NULL}, {NULL, NULL, NULL},
    };
    enum jb_rows_format rf = JB_ROWS_JSON;
    if ((rc = jb_opts_parse(argc, argv, opts, pos, 0, &npos, err, sizeof(err))) ||
        jb_rows_format_parse(fmt, &rf)) {
        fprintf(stderr, "joulebench export: %s\n%s", rc ? err : "--format is " JB_ROWS_FORMAT_NAMES,
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
    flt.config_key = key;
    if ((rc = jb_store_query(s, &flt, recs, err, sizeof(err)))) {
        fprintf(stderr, "joulebench export: %s\n", err);
        goto out;
    }
    if (out && !(f = fopen(out, "w"))) {
        fprintf(stderr, "joulebench export: %s: cannot write\n", out);
        f = stdout;
        goto out;
    }
    if (jb_rows_write(f, rf, recs)) {
        fprintf(stderr, "joulebench export: %s: write failed\n", out ? out : "stdout");
        goto out;
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
