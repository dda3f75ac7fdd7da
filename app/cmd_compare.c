/* cmd_compare.c: `joulebench compare BASE CONTENDER`: per workload
 * configuration, the ratio of medians (contender / base) of latency and of
 * energy per unit, a bootstrap 95% confidence interval of that ratio, and a
 * Mann-Whitney U test on the per-repetition samples; a verdict, and exit
 * status 1 when any significant regression exceeds --threshold, so that CI
 * can gate on it. BASE and CONTENDER are record files or folders, run ids,
 * or queries on the database ("workload=triad,commit=abc123"). */
#include "base/error.h"
#include "app/cmd_util.h"
#include "app/commands_impl.h"
#include "results/record_util.h"
#include "harness/stats.h"
#include "results/store.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define BOOT_ITERS 2000
#define BOOT_SEED 0x6a6f756c65ULL /* fixed, so a verdict reproduces */

/* Parses "key=value,key=value" into a store filter; values point into buf. */
static int parse_query(char *buf, struct jb_store_filter *f, char *err, size_t errlen)
{
    memset(f, 0, sizeof(*f));
    for (char *save = NULL, *kv = strtok_r(buf, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(kv, '=');
        if (!eq)
            return jb_err(err, errlen, JB_EINVAL, "query term '%.40s' is not key=value", kv);
        *eq = '\0';
        const char *k = kv, *v = eq + 1;
        if (!strcmp(k, "workload"))
            f->workload = v;
        else if (!strcmp(k, "commit"))
            f->git_commit = v;
        else if (!strcmp(k, "topology"))
            f->topology_hash = v;
        else if (!strcmp(k, "since"))
            f->since_utc = v;
        else if (!strcmp(k, "backend"))
            f->backend = v;
        else if (!strcmp(k, "dtype"))
            f->dtype = v;
        else if (!strcmp(k, "run"))
            f->run_id = v;
        else if (!strcmp(k, "threads"))
            f->threads = atoi(v);
        else
            return jb_err(err, errlen, JB_EINVAL,
                          "unknown query key '%.30s' (workload, commit, topology, since, backend, "
                          "dtype, threads, run)",
                          k);
    }
    return JB_OK;
}

/* Fills out with the records a BASE/CONTENDER argument names. */
static int resolve(const char *spec, const char *db, jb_store **s, json_t *out, char *err,
                   size_t errlen)
{
    struct stat st;
    int rc;
    if (stat(spec, &st) == 0) {
        int bad = 0;
        /* Google Benchmark files beside the records are not records, and
         * not an error either. */
        json_t *gb = json_array();
        rc = jb_records_collect(spec, out, NULL, gb, &bad);
        json_decref(gb);
        if (rc)
            return jb_err(err, errlen, rc, "%s: cannot read records", spec);
        if (bad)
            return jb_err(err, errlen, JB_EINVAL, "%s: %d file(s) could not be read", spec, bad);
        return JB_OK;
    }
    if (!*s && (rc = jb_store_open(db, s, err, errlen)))
        return rc;
    struct jb_store_filter f;
    char buf[512];
    snprintf(buf, sizeof(buf), "%s", spec);
    if (strchr(spec, '=')) {
        if ((rc = parse_query(buf, &f, err, errlen)))
            return rc;
    } else {
        memset(&f, 0, sizeof(f));
        f.run_id = buf;
    }
    return jb_store_query(*s, &f, out, err, errlen);
}

/* The configuration runs are grouped by. Control characters (the strings
 * come from record files, and the key is printed) are replaced. */
static void group_key(const json_t *r, char *dst, size_t n)
{
    snprintf(dst, n, "%s/%s/%s/b%d/t%d", jb_rec_str(r, "workload.name", "?"),
             jb_rec_str(r, "workload.dtype", "?"), jb_rec_str(r, "config.scenario", "?"),
             (int)jb_rec_num(r, "config.batch", 0), (int)jb_rec_num(r, "config.threads", 0));
    for (char *p = dst; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
}

/* Pools the samples of every record of `recs` with key `key`. */
static void pool(const json_t *recs, const char *key, int energy, double **x, size_t *n)
{
    size_t i;
    const json_t *r;
    *x = NULL;
    *n = 0;
    json_array_foreach(recs, i, r)
    {
        char k[256];
        group_key(r, k, sizeof(k));
        if (strcmp(k, key))
            continue;
        size_t m;
        double *s = energy ? jb_rec_energy_samples(r, &m)
                           : jb_rec_samples(r, "measurements.latency_s.samples", &m);
        if (m) {
            double *nx = realloc(*x, (*n + m) * sizeof(double));
            if (nx) {
                memcpy(nx + *n, s, m * sizeof(double));
                *x = nx;
                *n += m;
            }
        }
        free(s);
    }
}

/* Compares one metric; returns 1 when it is a significant regression over
 * the threshold. Appends a JSON row to rows. */
static int compare_metric(const char *key, const char *metric, const json_t *base,
                          const json_t *cont, double threshold, double alpha, json_t *rows)
{
    double *a, *b;
    size_t na, nb;
    int energy = !strcmp(metric, "energy");
    pool(base, key, energy, &a, &na);
    pool(cont, key, energy, &b, &nb);
    json_t *row = json_pack("{s:s,s:s,s:i,s:i}", "key", key, "metric", metric, "n_base", (int)na,
                            "n_contender", (int)nb);
    int regress = 0;
    if (na == 0 || nb == 0) {
        json_object_set_new(row, "verdict", json_string("no samples"));
        printf("%-40s %-8s %s\n", key, metric, "no samples on one side");
        goto out;
    }
    double ma = jb_median(a, na), mb = jb_median(b, nb);
    double ratio = ma > 0 ? mb / ma : NAN, lo = NAN, hi = NAN, u = NAN;
    jb_bootstrap_ratio_ci(a, na, b, nb, BOOT_ITERS, 0.05, BOOT_SEED, &lo, &hi);
    double p = jb_mann_whitney(b, nb, a, na, &u);
    int sig = p < alpha;
    const char *verdict = "same";
    if (sig && ratio > 1)
        verdict = energy ? "more energy" : "slower";
    else if (sig && ratio < 1)
        verdict = energy ? "less energy" : "faster";
    regress = sig && ratio > 1 + threshold;
    json_object_set_new(row, "median_base", json_real(ma));
    json_object_set_new(row, "median_contender", json_real(mb));
    json_object_set_new(row, "ratio", json_real(ratio));
    json_object_set_new(row, "ci95_low", isfinite(lo) ? json_real(lo) : json_null());
    json_object_set_new(row, "ci95_high", isfinite(hi) ? json_real(hi) : json_null());
    json_object_set_new(row, "mann_whitney_u", json_real(u));
    json_object_set_new(row, "p_value", json_real(p));
    json_object_set_new(row, "verdict", json_string(verdict));
    json_object_set_new(row, "regression", json_boolean(regress));
    printf("%-40s %-8s %10.4g %10.4g %7.3f [%6.3f, %6.3f] %8.4f  %s%s\n", key, metric, ma, mb,
           ratio, lo, hi, p, verdict, regress ? "  REGRESSION" : "");
    if (na < 5 || nb < 5)
        printf("%-40s %-8s note: fewer than 5 repetitions on a side; the test has little power\n",
               "", "");
out:
    json_array_append_new(rows, row);
    free(a);
    free(b);
    return regress;
}

static const char usage_compare[] =
    "usage: joulebench compare [--db URL] [--threshold "
    "PCT] [--alpha A] [--json FILE] BASE CONTENDER\n"
    "  BASE, CONTENDER: record file or folder, run id, or query "
    "key=value[,key=value] (workload, commit, topology, since, ...)\n";

int jb_cmd_compare(int argc, char **argv)
{
    if (jb_opts_help(argc, argv, usage_compare))
        return 0;
    const char *db = NULL, *thr = NULL, *alpha_s = NULL, *json_out = NULL, *pos[2];
    int npos, rc, ret = 2;
    char err[JB_ERRLEN];
    const struct jb_opt opts[] = {
        {"db", &db, NULL},         {"threshold", &thr, NULL}, {"alpha", &alpha_s, NULL},
        {"json", &json_out, NULL}, {NULL, NULL, NULL},
    };
    double threshold = 5, alpha = 0.05;
    if ((rc = jb_opts_parse(argc, argv, opts, pos, 2, &npos, err, sizeof(err))) || npos != 2 ||
        (thr && (rc = jb_opt_double("threshold", thr, &threshold, err, sizeof(err)))) ||
        (alpha_s && (rc = jb_opt_double("alpha", alpha_s, &alpha, err, sizeof(err))))) {
        fprintf(stderr, "joulebench compare: %s\n%s", rc ? err : "two selections needed",
                usage_compare);
        return 2;
    }
    threshold /= 100.0;
    jb_store *s = NULL;
    json_t *base = json_array(), *cont = json_array(), *rows = json_array();
    if ((rc = resolve(pos[0], db, &s, base, err, sizeof(err))) ||
        (rc = resolve(pos[1], db, &s, cont, err, sizeof(err)))) {
        fprintf(stderr, "joulebench compare: %s\n", err);
        goto out;
    }
    if (!json_array_size(base) || !json_array_size(cont)) {
        fprintf(stderr, "joulebench compare: no records match %s\n",
                json_array_size(base) ? pos[1] : pos[0]);
        goto out;
    }
    printf("%-40s %-8s %10s %10s %7s %16s %8s  %s\n", "workload/dtype/scenario/batch/threads",
           "metric", "base", "contender", "ratio", "95% CI", "p", "verdict");
    int regressions = 0, compared = 0;
    size_t i;
    json_t *r;
    json_t *seen = json_object();
    json_array_foreach(base, i, r)
    {
        char key[256];
        group_key(r, key, sizeof(key));
        if (json_object_get(seen, key))
            continue;
        json_object_set_new(seen, key, json_true());
        /* only keys present on both sides */
        size_t j;
        json_t *c;
        int both = 0;
        json_array_foreach(cont, j, c)
        {
            char k2[256];
            group_key(c, k2, sizeof(k2));
            if (!strcmp(k2, key))
                both = 1;
        }
        if (!both)
            continue;
        compared++;
        regressions += compare_metric(key, "latency", base, cont, threshold, alpha, rows);
        regressions += compare_metric(key, "energy", base, cont, threshold, alpha, rows);
    }
    json_decref(seen);
    if (!compared) {
        fprintf(stderr, "joulebench compare: no workload configuration is on both sides\n");
        goto out;
    }
    printf("%d regression(s) over %.1f%% at p < %g\n", regressions, threshold * 100, alpha);
    if (json_out) {
        json_t *doc =
            json_pack("{s:f,s:f,s:O}", "threshold", threshold, "alpha", alpha, "comparisons", rows);
        if (json_dump_file(doc, json_out, JSON_INDENT(2)))
            fprintf(stderr, "joulebench compare: cannot write %s\n", json_out);
        json_decref(doc);
    }
    ret = regressions ? 1 : 0;
out:
    json_decref(base);
    json_decref(cont);
    json_decref(rows);
    jb_store_close(s);
    return ret;
}
