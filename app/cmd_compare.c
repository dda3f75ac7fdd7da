/* cmd_compare.c: `joulebench compare BASE CONTENDER`: per configuration
 * key (config_key.h: runs of different configurations or machines are
 * never pooled; keys on one side only are listed as unmatched), the ratio of medians (contender /
 * base) of latency and of energy per unit, a bootstrap 95% confidence interval of that ratio, and a
 * Mann-Whitney U test on the per-repetition samples; a verdict, and exit
 * status 1 when any significant regression exceeds --threshold, so that CI
 * can gate on it. BASE and CONTENDER are record files or folders, run ids,
 * or queries on the database ("workload=triad,commit=abc123"). With
 * --across backend|machine the key leaves out the back-end or the machine,
 * for a deliberate cross-implementation or cross-platform comparison, and
 * every line and the JSON say so. */
#include "base/error.h"
#include "app/cmd_util.h"
#include "app/commands_impl.h"
#include "results/config_key.h"
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
        if ((rc = jb_query_parse(buf, &f, err, errlen)))
            return rc;
    } else {
        memset(&f, 0, sizeof(f));
        f.run_id = buf;
    }
    return jb_store_query(*s, &f, out, err, errlen);
}

/* The key runs are grouped by: the configuration key without the fields
 * `across` leaves out. */
static void group_key(const json_t *r, unsigned across, char *dst, size_t n)
{
    struct jb_config_key k;
    jb_config_key_of(r, across, &k);
    snprintf(dst, n, "%s", k.id);
}

/* Pools the samples of every record of `recs` with key `key`. */
static void pool(const json_t *recs, const char *key, unsigned across, int energy, double **x,
                 size_t *n)
{
    size_t i;
    const json_t *r;
    *x = NULL;
    *n = 0;
    json_array_foreach(recs, i, r)
    {
        char k[64];
        group_key(r, across, k, sizeof(k));
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

/* What a side of a cross-key comparison had in the fields left out:
 * "cpu/avx512" or the platform name; the distinct values joined by ", ". */
static void side_values(const json_t *recs, const char *key, unsigned across, char *dst, size_t n)
{
    json_t *seen = json_object();
    size_t i, len = 0;
    const json_t *r;
    dst[0] = '\0';
    json_array_foreach(recs, i, r)
    {
        char k[64], v[400], a[160], b[160];
        group_key(r, across, k, sizeof(k));
        if (strcmp(k, key))
            continue;
        if (across & JB_ACROSS_MACHINE)
            jb_rec_platform(r, v, sizeof(v));
        else
            v[0] = '\0';
        if (across & JB_ACROSS_BACKEND) {
            jb_config_key_field(r, "backend", a, sizeof(a));
            jb_config_key_field(r, "kernel", b, sizeof(b));
            size_t l = strlen(v);
            snprintf(v + l, sizeof(v) - l, "%s%s%s%s", l ? " " : "", a, b[0] ? "/" : "", b);
        }
        if (json_object_get(seen, v))
            continue;
        json_object_set_new(seen, v, json_true());
        int w = snprintf(dst + len, n - len, "%s%s", len ? ", " : "", v);
        if (w < 0 || (size_t)w >= n - len)
            break;
        len += (size_t)w;
    }
    json_decref(seen);
    for (char *p = dst; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
}

/* Compares one metric; returns 1 when it is a significant regression over
 * the threshold. Appends a JSON row to rows. */
static int compare_metric(const char *key, const char *label, unsigned across, const char *metric,
                          const json_t *base, const json_t *cont, double threshold, double alpha,
                          json_t *rows)
{
    double *a, *b;
    size_t na, nb;
    int energy = !strcmp(metric, "energy");
    pool(base, key, across, energy, &a, &na);
    pool(cont, key, across, energy, &b, &nb);
    json_t *row = json_pack("{s:s,s:s,s:s,s:s,s:i,s:i}", "key", key, "label", label, "across",
                            jb_across_name(across), "metric", metric, "n_base", (int)na,
                            "n_contender", (int)nb);
    if (across) {
        char v[600];
        side_values(base, key, across, v, sizeof(v));
        json_object_set_new(row, "base_values", json_string(v));
        side_values(cont, key, across, v, sizeof(v));
        json_object_set_new(row, "contender_values", json_string(v));
    }
    int regress = 0;
    if (na == 0 || nb == 0) {
        json_object_set_new(row, "verdict", json_string("no samples"));
        printf("%-48s %-8s %s\n", label, metric, "no samples on one side");
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
    char tag[40] = "";
    if (across)
        snprintf(tag, sizeof(tag), " (across %s)", jb_across_name(across));
    /* A cross-key comparison measures a difference of implementation or
     * platform on purpose: it reports, it does not gate. */
    regress = !across && sig && ratio > 1 + threshold;
    json_object_set_new(row, "median_base", json_real(ma));
    json_object_set_new(row, "median_contender", json_real(mb));
    json_object_set_new(row, "ratio", json_real(ratio));
    json_object_set_new(row, "ci95_low", isfinite(lo) ? json_real(lo) : json_null());
    json_object_set_new(row, "ci95_high", isfinite(hi) ? json_real(hi) : json_null());
    json_object_set_new(row, "mann_whitney_u", json_real(u));
    json_object_set_new(row, "p_value", json_real(p));
    json_object_set_new(row, "verdict", json_string(verdict));
    json_object_set_new(row, "regression", json_boolean(regress));
    printf("%-48s %-8s %10.4g %10.4g %7.3f [%6.3f, %6.3f] %8.4f  %s%s%s\n", label, metric, ma, mb,
           ratio, lo, hi, p, verdict, tag, regress ? "  REGRESSION" : "");
    if (na < 5 || nb < 5)
        printf("%-48s %-8s note: fewer than 5 repetitions on a side; the test has little power\n",
               "", "");
out:
    json_array_append_new(rows, row);
    free(a);
    free(b);
    return regress;
}

static const char usage_compare[] =
    "usage: joulebench compare [--db URL] [--threshold "
    "PCT] [--alpha A] [--across backend|machine] [--json FILE] BASE CONTENDER\n"
    "  BASE, CONTENDER: record file or folder, run id, or query "
    "key=value[,key=value] (workload, commit, topology, since, backend, dtype, threads,\n"
    "  context, options, key, run)\n"
    "  Runs are compared configuration key by configuration key (METHODOLOGY.md); keys\n"
    "  on one side only are listed. --across backend compares one workload on two\n"
    "  implementations, --across machine on two platforms, labelled as such.\n";

/* The people's name of a key: workload and configuration label, with the
 * platform unless the comparison is across machines. */
static void key_label(const json_t *r, unsigned across, char *dst, size_t n)
{
    char cfg[600], plat[160] = "";
    jb_config_key_label(r, across, cfg, sizeof(cfg));
    if (!(across & JB_ACROSS_MACHINE))
        jb_rec_platform(r, plat, sizeof(plat));
    snprintf(dst, n, "%s %s%s%s", jb_rec_str(r, "workload.name", "?"), cfg, plat[0] ? " @ " : "",
             plat);
    for (char *p = dst; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
}

/* Lists the keys of `side` that `other` lacks; returns how many. */
static int list_unmatched(const char *name, const json_t *side, const json_t *other,
                          unsigned across, json_t *out)
{
    json_t *seen = json_object();
    int n = 0;
    size_t i, j;
    const json_t *r, *c;
    json_array_foreach(side, i, r)
    {
        char key[64], k2[64], label[900];
        group_key(r, across, key, sizeof(key));
        if (json_object_get(seen, key))
            continue;
        json_object_set_new(seen, key, json_true());
        int both = 0;
        json_array_foreach(other, j, c)
        {
            group_key(c, across, k2, sizeof(k2));
            both |= !strcmp(k2, key);
        }
        if (both)
            continue;
        key_label(r, across, label, sizeof(label));
        if (!n)
            printf("only in %s (no counterpart with the same configuration key):\n", name);
        printf("  %s  [key %s]\n", label, key);
        json_array_append_new(out,
                              json_pack("{s:s,s:s,s:s}", "side", name, "key", key, "label", label));
        n++;
    }
    json_decref(seen);
    return n;
}

int jb_cmd_compare(int argc, char **argv)
{
    if (jb_opts_help(argc, argv, usage_compare))
        return 0;
    const char *db = NULL, *thr = NULL, *alpha_s = NULL, *json_out = NULL, *across_s = NULL,
               *pos[2];
    int npos, rc, ret = 2;
    char err[JB_ERRLEN];
    const struct jb_opt opts[] = {
        {"db", &db, NULL},         {"threshold", &thr, NULL},   {"alpha", &alpha_s, NULL},
        {"json", &json_out, NULL}, {"across", &across_s, NULL}, {NULL, NULL, NULL},
    };
    double threshold = 5, alpha = 0.05;
    unsigned across = JB_ACROSS_NONE;
    if ((rc = jb_opts_parse(argc, argv, opts, pos, 2, &npos, err, sizeof(err))) || npos != 2 ||
        (thr && (rc = jb_opt_double("threshold", thr, &threshold, err, sizeof(err)))) ||
        (alpha_s && (rc = jb_opt_double("alpha", alpha_s, &alpha, err, sizeof(err)))) ||
        (across_s && (rc = jb_across_parse(across_s, &across)) &&
         snprintf(err, sizeof(err), "--across %.40s: backend or machine", across_s) > 0)) {
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
    if (across)
        printf("CROSS-%s COMPARISON (--across %s): %s differ by design; a difference is one of "
               "%s, not a regression\n",
               across & JB_ACROSS_MACHINE ? "MACHINE" : "BACKEND", jb_across_name(across),
               across == JB_ACROSS_BACKEND   ? "back-end, kernel and power sources"
               : across == JB_ACROSS_MACHINE ? "machine and power sources"
                                             : "back-end, machine and power sources",
               across & JB_ACROSS_MACHINE ? "platform" : "implementation");
    int regressions = 0, compared = 0;
    size_t i;
    json_t *r;
    json_t *seen = json_object(), *unmatched = json_array();
    json_array_foreach(base, i, r)
    {
        char key[64], label[900];
        group_key(r, across, key, sizeof(key));
        if (json_object_get(seen, key))
            continue;
        json_object_set_new(seen, key, json_true());
        /* only keys present on both sides */
        size_t j;
        json_t *c;
        int both = 0;
        json_array_foreach(cont, j, c)
        {
            char k2[64];
            group_key(c, across, k2, sizeof(k2));
            if (!strcmp(k2, key))
                both = 1;
        }
        if (!both)
            continue;
        if (!compared++)
            printf("%-48s %-8s %10s %10s %7s %16s %8s  %s\n", "workload configuration [@ platform]",
                   "metric", "base", "contender", "ratio", "95% CI", "p", "verdict");
        key_label(r, across, label, sizeof(label));
        if (across) {
            char a[600], b[600];
            side_values(base, key, across, a, sizeof(a));
            side_values(cont, key, across, b, sizeof(b));
            printf("%s: base %s, contender %s\n", label, a, b);
        }
        regressions +=
            compare_metric(key, label, across, "latency", base, cont, threshold, alpha, rows);
        regressions +=
            compare_metric(key, label, across, "energy", base, cont, threshold, alpha, rows);
    }
    json_decref(seen);
    int nun = list_unmatched("base", base, cont, across, unmatched);
    nun += list_unmatched("contender", cont, base, across, unmatched);
    if (json_out) {
        json_t *doc = json_pack("{s:f,s:f,s:s,s:i,s:O,s:O}", "threshold", threshold, "alpha", alpha,
                                "across", jb_across_name(across), "keys_compared", compared,
                                "comparisons", rows, "unmatched", unmatched);
        if (json_dump_file(doc, json_out, JSON_INDENT(2)))
            fprintf(stderr, "joulebench compare: cannot write %s\n", json_out);
        json_decref(doc);
    }
    json_decref(unmatched);
    if (!compared) {
        fprintf(stderr,
                "joulebench compare: no configuration key is on both sides (%d unmatched key(s) "
                "listed above; runs of different configurations are not compared)\n",
                nun);
        goto out;
    }
    printf("%d regression(s) over %.1f%% at p < %g%s; %d key(s) compared, %d unmatched\n",
           regressions, threshold * 100, alpha,
           across ? (across & JB_ACROSS_MACHINE ? " (across machine: not gated)"
                                                : " (across backend: not gated)")
                  : "",
           compared, nun);
    ret = regressions ? 1 : 0;
out:
    json_decref(base);
    json_decref(cont);
    json_decref(rows);
    jb_store_close(s);
    return ret;
}
