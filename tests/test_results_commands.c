/* test_results_commands.c: import, export, compare and history as a user
 * runs them (in-process, through the same command table the CLI uses):
 * records and Google Benchmark files go into the database once, exports
 * carry them with hostile strings neutralized, compare's exit status gates
 * on a significant regression over the threshold, and history finds the
 * commit range of a step. */
#include "base/error.h"
#include "results/config_key.h"
#include "results/plots.h"
#include "results/record_util.h"
#include "results/store.h"
#include "test_results_helpers.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

static char dir[1024], db[1200];

static int setup(void **st)
{
    (void)st;
    th_scratch(dir, sizeof(dir), "cmds");
    snprintf(db, sizeof(db), "%s/jb.db", dir);
    return 0;
}

static int teardown(void **st)
{
    (void)st;
    th_rmrf(dir);
    return 0;
}

static void write_json(const char *path, const json_t *j)
{
    assert_int_equal(json_dump_file(j, path, JSON_INDENT(1)), 0);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* Scales the latency and energy samples (and medians) of a record. */
static void scale(json_t *r, double lat, double en, const char *run_id)
{
    json_object_set_new(r, "run_id", json_string(run_id));
    json_t *ls = (json_t *)jb_rec_get(r, "measurements.latency_s.samples");
    size_t i;
    json_t *v;
    json_array_foreach(ls, i, v) json_real_set(v, json_number_value(v) * lat);
    json_t *lm = (json_t *)jb_rec_get(r, "measurements.latency_s");
    json_object_set_new(lm, "median", json_real(jb_rec_num(lm, "median", 0) * lat));
    json_t *e = json_array_get(jb_rec_get(r, "measurements.energy"), 0);
    json_array_foreach(json_object_get(e, "samples_joules_per_unit"), i, v)
        json_real_set(v, json_number_value(v) * en);
    json_object_set_new(e, "joules_per_unit", json_real(jb_rec_num(e, "joules_per_unit", 0) * en));
}

static void import_export(void **st)
{
    (void)st;
    char recdir[1200], p[1400], gb[1400], out[1400];
    snprintf(recdir, sizeof(recdir), "%s/recs", dir);
    snprintf(p, sizeof(p), "mkdir -p '%s/sub'", recdir);
    assert_int_equal(system(p), 0);
    const char *names[] = {"triad.json", "fma.json", "ic-resnet8-int8.json", "llm-decode.json"};
    for (int i = 0; i < 4; i++) {
        json_t *r = th_load_fixture(names[i]);
        if (i == 2) /* a hostile system name */
            json_object_set_new((json_t *)jb_rec_get(r, "system"), "name",
                                json_string("=cmd|' /C calc'!A0 <script>alert(1)</script>|x"));
        snprintf(p, sizeof(p), "%s/%s%s", recdir, i % 2 ? "sub/" : "", names[i]);
        write_json(p, r);
        json_decref(r);
    }
    /* a power trace beside the llm record */
    snprintf(p, sizeof(p), "%s/sub/llm-decode.power.csv", recdir);
    FILE *f = fopen(p, "w");
    fputs("time_s,domain,watts\n0.0,sim-total,30\n0.1,sim-total,33\n0.2,sim-total,34\n", f);
    fclose(f);
    /* a truncated record and a Google Benchmark file */
    snprintf(p, sizeof(p), "%s/broken.json", recdir);
    f = fopen(p, "w");
    fputs("{\"schema_version\": 1, \"run_id\": \"trunc", f);
    fclose(f);
    snprintf(gb, sizeof(gb), "%s/sub/gbench.json", recdir);
    f = fopen(gb, "w");
    fputs("{\"context\": {\"date\": \"2026-11-20T10:00:00+00:00\", \"host_name\": \"vm\"},"
          " \"benchmarks\": [{\"name\": \"BM_triad/threads:2\", \"run_type\": \"iteration\","
          " \"iterations\": 100, \"real_time\": 11.1, \"cpu_time\": 11.0, \"time_unit\": \"ms\"},"
          " {\"name\": \"BM_fma\", \"run_type\": \"iteration\", \"iterations\": 40,"
          " \"real_time\": 25.0, \"cpu_time\": 24.9, \"time_unit\": \"ms\"}]}",
          f);
    fclose(f);

    char *argv[] = {"import", "--db", db, "--region", "DE", "--platform", "amd-epyc-vm-2vcpu",
                    recdir,   NULL};
    /* 1: the broken file is reported, the rest stored */
    assert_int_equal(th_cmd(8, argv), 1);
    jb_store *s;
    char err[JB_ERRLEN];
    assert_int_equal(jb_store_open(db, &s, err, sizeof(err)), 0);
    long n;
    assert_int_equal(jb_store_count(s, &n, err, sizeof(err)), 0);
    assert_int_equal(n, 4);
    assert_int_equal(jb_store_count_gbench(s, &n, err, sizeof(err)), 0);
    assert_int_equal(n, 2);
    char *trace = NULL;
    assert_int_equal(jb_store_get_trace(s, "a1b2c3d4-0004-llm", &trace, err, sizeof(err)), 0);
    assert_non_null(trace);
    assert_non_null(strstr(trace, "0.2,sim-total,34"));
    free(trace);
    /* stored records carry their derived figures, with the roofline from
     * the calibration runs of the same batch */
    json_t *got = json_array();
    struct jb_store_filter flt = {0};
    flt.workload = "llm-decode";
    assert_int_equal(jb_store_query(s, &flt, got, err, sizeof(err)), 0);
    json_t *r = json_array_get(got, 0);
    assert_true(jb_rec_num(r, "derived.roofline.fraction_of_bandwidth", -1) > 0);
    assert_non_null(strstr(jb_rec_str(r, "derived.carbon.grid_source", ""), "DE"));
    assert_true(jb_rec_num(r, "derived.carbon.embodied_gco2e_per_1000_units", -1) > 0);
    json_decref(got);
    jb_store_close(s);

    /* importing again stores nothing new */
    snprintf(p, sizeof(p), "%s/broken.json", recdir);
    unlink(p);
    assert_int_equal(th_cmd(8, argv), 0);
    assert_int_equal(jb_store_open(db, &s, err, sizeof(err)), 0);
    assert_int_equal(jb_store_count(s, &n, err, sizeof(err)), 0);
    assert_int_equal(n, 4);
    jb_store_close(s);

    /* exports */
    snprintf(out, sizeof(out), "%s/out.csv", dir);
    char *ex[] = {"export", "--db", db, "--format", "csv", "--out", out, NULL};
    assert_int_equal(th_cmd(7, ex), 0);
    char *csv = slurp(out);
    assert_non_null(strstr(csv, "\"run_id\",\"created_utc\",\"config_key\",\"workload\""));
    assert_non_null(strstr(csv, "a1b2c3d4-0003-icresnet8"));
    /* the formula-like name is quoted and defused */
    assert_non_null(strstr(csv, "\"'=cmd|' /C calc'!A0"));
    ex[4] = "md";
    assert_int_equal(th_cmd(7, ex), 0);
    char *md = slurp(out);
    assert_null(strstr(md, "<script>"));
    /* pipes escaped for the table, the rest escaped as the HTML report
     * does (quotes included: one escaper for both) */
    assert_non_null(
        strstr(md, "=cmd\\|&#39; /C calc&#39;!A0 &lt;script&gt;alert(1)&lt;/script&gt;\\|x"));
    ex[4] = "json";
    assert_int_equal(th_cmd(7, ex), 0);
    json_error_t je;
    json_t *all = json_load_file(out, 0, &je);
    assert_non_null(all);
    assert_int_equal(json_array_size(all), 4);
    json_decref(all);
    ex[4] = "xml";
    assert_int_equal(th_cmd(7, ex), 2);
}

static void compare_gates_on_regression(void **st)
{
    (void)st;
    char base[1400], same[1400], slow[1400], fast[1400], js[1400];
    snprintf(base, sizeof(base), "%s/base.json", dir);
    snprintf(same, sizeof(same), "%s/same.json", dir);
    snprintf(slow, sizeof(slow), "%s/slow.json", dir);
    snprintf(fast, sizeof(fast), "%s/fast.json", dir);
    snprintf(js, sizeof(js), "%s/cmp.json", dir);
    json_t *r = th_load_fixture("llm-decode.json");
    write_json(base, r);
    scale(r, 1.0, 1.0, "same-run-0001");
    write_json(same, r);
    json_decref(r);
    r = th_load_fixture("llm-decode.json");
    scale(r, 1.20, 1.10, "slow-run-0001");
    write_json(slow, r);
    json_decref(r);
    r = th_load_fixture("llm-decode.json");
    scale(r, 0.8, 0.9, "fast-run-0001");
    write_json(fast, r);
    json_decref(r);

    char *a1[] = {"compare", "--json", js, base, same, NULL};
    assert_int_equal(th_cmd(5, a1), 0);
    char *a2[] = {"compare", "--json", js, base, slow, NULL};
    assert_int_equal(th_cmd(5, a2), 1);
    json_error_t je;
    json_t *doc = json_load_file(js, 0, &je);
    json_t *rows = json_object_get(doc, "comparisons");
    assert_int_equal(json_array_size(rows), 2);
    json_t *lat = json_array_get(rows, 0);
    assert_string_equal(jb_rec_str(lat, "verdict", ""), "slower");
    assert_true(fabs(jb_rec_num(lat, "ratio", 0) - 1.2) < 1e-9);
    assert_true(jb_rec_num(lat, "ci95_low", 0) <= 1.2 && jb_rec_num(lat, "ci95_high", 0) >= 1.2);
    assert_true(jb_rec_num(lat, "p_value", 1) < 0.05);
    assert_true(json_is_true(json_object_get(lat, "regression")));
    assert_string_equal(jb_rec_str(json_array_get(rows, 1), "verdict", ""), "more energy");
    json_decref(doc);
    /* 25% threshold: a 20% slowdown does not fail the gate */
    char *a3[] = {"compare", "--threshold", "25", base, slow, NULL};
    assert_int_equal(th_cmd(5, a3), 0);
    /* faster is never a regression */
    char *a4[] = {"compare", "--json", js, base, fast, NULL};
    assert_int_equal(th_cmd(5, a4), 0);
    doc = json_load_file(js, 0, &je);
    assert_string_equal(
        jb_rec_str(json_array_get(json_object_get(doc, "comparisons"), 0), "verdict", ""),
        "faster");
    json_decref(doc);
    /* selections by run id and by query on the database */
    char *imp[] = {"import", "--db", db, base, slow, NULL};
    assert_int_equal(th_cmd(5, imp), 0);
    char *a5[] = {"compare", "--db", db, "a1b2c3d4-0004-llm", "run=slow-run-0001", NULL};
    assert_int_equal(th_cmd(5, a5), 1);
    char *a6[] = {"compare", "--db", db, "a1b2c3d4-0004-llm", "nosuchrun", NULL};
    assert_int_equal(th_cmd(5, a6), 2);
    char *a7[] = {"compare", "--db", db, "bogus=1", "x", NULL};
    assert_int_equal(th_cmd(5, a7), 2);
}

/* A record with negative energy is refused by import (exit 1, nothing
 * stored) and by compare (exit 2), where it was "less energy". */
static void absurd_record_refused(void **st)
{
    (void)st;
    char neg[1400], base[1400], adb[1400];
    snprintf(neg, sizeof(neg), "%s/negative.json", dir);
    snprintf(base, sizeof(base), "%s/base2.json", dir);
    snprintf(adb, sizeof(adb), "%s/absurd.db", dir);
    json_t *r = th_load_fixture("llm-decode.json");
    write_json(base, r);
    scale(r, 1.0, -1.0, "negative-run-0001");
    write_json(neg, r);
    json_decref(r);
    char *imp[] = {"import", "--db", adb, neg, NULL};
    assert_int_equal(th_cmd(4, imp), 1);
    jb_store *s;
    char err[JB_ERRLEN];
    assert_int_equal(jb_store_open(adb, &s, err, sizeof(err)), 0);
    long n = -1;
    assert_int_equal(jb_store_count(s, &n, err, sizeof(err)), 0);
    assert_int_equal(n, 0);
    jb_store_close(s);
    char *cmp[] = {"compare", base, neg, NULL};
    assert_int_equal(th_cmd(3, cmp), 2);
    /* integers that atoi took as 0 or wrapped are bad input */
    char *h[] = {"history", "--db", adb, "--min-size", "abc", NULL};
    assert_int_equal(th_cmd(5, h), 2);
    char *c2[] = {"compare", "--db", adb, "threads=-1", "threads=1", NULL};
    assert_int_equal(th_cmd(5, c2), 2);
    char *i2[] = {"import", "--db", adb, "--pue", "0.5", base, NULL};
    assert_int_equal(th_cmd(6, i2), 2);
}

static void history_finds_the_commit_range(void **st)
{
    (void)st;
    char hdb[1400], recdir[1400], p[1600], js[1400], plots[1400];
    snprintf(hdb, sizeof(hdb), "%s/hist.db", dir);
    snprintf(recdir, sizeof(recdir), "%s/hist", dir);
    snprintf(js, sizeof(js), "%s/hist.json", dir);
    snprintf(plots, sizeof(plots), "%s/plots", dir);
    snprintf(p, sizeof(p), "mkdir -p '%s' '%s'", recdir, plots);
    assert_int_equal(system(p), 0);
    for (int i = 0; i < 24; i++) {
        json_t *r = th_load_fixture("llm-decode.json");
        char id[64], ts[64], commit[32];
        snprintf(id, sizeof(id), "nightly-run-%04d", i);
        snprintf(ts, sizeof(ts), "2026-10-%02dT02:00:00Z", i + 1);
        snprintf(commit, sizeof(commit), "c0ffee%04d", i);
        /* energy steps up 15% at night 14; small deterministic wobble */
        double wob = 1.0 + 0.004 * ((i * 7) % 5 - 2);
        scale(r, 1.0, (i >= 14 ? 1.15 : 1.0) * wob, id);
        json_object_set_new(r, "created_utc", json_string(ts));
        json_object_set_new((json_t *)jb_rec_get(r, "system"), "git_commit", json_string(commit));
        snprintf(p, sizeof(p), "%s/%s.json", recdir, id);
        write_json(p, r);
        json_decref(r);
        if (i % 6 == 3) {
            /* a one-thread run the same night, at twice the energy: another
             * series, not a change of this one */
            r = th_load_fixture("llm-decode.json");
            snprintf(id, sizeof(id), "nightly-t1-run-%04d", i);
            scale(r, 1.0, 2.0, id);
            json_object_set_new(r, "created_utc", json_string(ts));
            json_object_set_new((json_t *)jb_rec_get(r, "config"), "threads", json_integer(1));
            snprintf(p, sizeof(p), "%s/%s.json", recdir, id);
            write_json(p, r);
            json_decref(r);
        }
    }
    char *imp[] = {"import", "--db", hdb, recdir, NULL};
    assert_int_equal(th_cmd(4, imp), 0);
    char *h[] = {"history", "--db",   hdb, "--workload", "llm-decode", "--metric",
                 "energy",  "--json", js,  "--plot",     plots,        NULL};
    assert_int_equal(th_cmd(11, h), 0);
    json_error_t je;
    json_t *doc = json_load_file(js, 0, &je);
    assert_int_equal(json_array_size(doc), 2);
    json_t *hs = json_array_get(doc, 0);
    const char *t2 = "q8_0 single-stream b1 t2 ctx512 cpu/avx512";
    if (strcmp(jb_rec_str(hs, "config", ""), t2))
        hs = json_array_get(doc, 1);
    assert_string_equal(jb_rec_str(hs, "config", ""), t2);
    json_t *t2rec = th_load_fixture("llm-decode.json");
    struct jb_config_key key;
    jb_config_key_of(t2rec, JB_ACROSS_NONE, &key);
    json_decref(t2rec);
    assert_string_equal(jb_rec_str(hs, "config_key", ""), key.id);
    assert_int_equal(json_array_size(json_object_get(hs, "points")), 24);
    json_t *cps = json_object_get(hs, "change_points");
    assert_int_equal(json_array_size(cps), 1);
    json_t *c = json_array_get(cps, 0);
    assert_string_equal(jb_rec_str(c, "from_commit", ""), "c0ffee0013");
    assert_string_equal(jb_rec_str(c, "to_commit", ""), "c0ffee0014");
    assert_true(fabs(jb_rec_num(c, "change_pct", 0) - 15) < 1.5);
    json_decref(doc);
    /* the plot exists in both formats when gnuplot is installed */
    if (system("command -v gnuplot >/dev/null 2>&1") == 0) {
        snprintf(p, sizeof(p), "%s/history-llm-decode-%s-energy.svg", plots, key.id);
        assert_int_equal(access(p, R_OK), 0);
        snprintf(p, sizeof(p), "%s/history-llm-decode-%s-energy.png", plots, key.id);
        assert_int_equal(access(p, R_OK), 0);
    }
    /* joulebench plot: a paper's figures from the database, in SVG, PDF
     * and PNG, for a query */
    if (system("command -v gnuplot >/dev/null 2>&1") == 0) {
        char figs[1400];
        snprintf(figs, sizeof(figs), "%s/figs", dir);
        char *pl[] = {"plot", "--db", hdb, "--out", figs, "--query", "workload=llm-decode,threads=2",
                      NULL};
        assert_int_equal(th_cmd(7, pl), 0);
        const char *exts[] = {"svg", "pdf", "png"};
        for (int e = 0; e < 3; e++) {
            snprintf(p, sizeof(p), "%s/scatter-llm-decode.%s", figs, exts[e]);
            assert_int_equal(access(p, R_OK), 0);
            snprintf(p, sizeof(p), "%s/bars-llm-decode.%s", figs, exts[e]);
            assert_int_equal(access(p, R_OK), 0);
            snprintf(p, sizeof(p), "%s/history-llm-decode-%s-energy.%s", figs, key.id, exts[e]);
            assert_int_equal(access(p, R_OK), 0);
        }
        /* a PDF, and the estimated/measured legend in the SVG */
        snprintf(p, sizeof(p), "%s/scatter-llm-decode.pdf", figs);
        assert_int_equal(strncmp(slurp(p), "%PDF", 4), 0);
        snprintf(p, sizeof(p), "%s/scatter-llm-decode.svg", figs);
        assert_non_null(strstr(slurp(p), "Pareto front"));
        char *bad[] = {"plot", "--db", hdb, "--out", figs, "--query", "workload=nosuch", NULL};
        assert_int_equal(th_cmd(7, bad), 1);
    }
    /* latency is flat: no change point */
    char *h2[] = {"history",  "--db",    hdb,      "--workload", "llm-decode",
                  "--metric", "latency", "--json", js,           NULL};
    assert_int_equal(th_cmd(9, h2), 0);
    doc = json_load_file(js, 0, &je);
    assert_int_equal(json_array_size(doc), 2);
    assert_int_equal(json_array_size(json_object_get(json_array_get(doc, 0), "change_points")), 0);
    assert_int_equal(json_array_size(json_object_get(json_array_get(doc, 1), "change_points")), 0);
    json_decref(doc);
    /* a missing gnuplot is said plainly */
    setenv("JB_GNUPLOT", "/nonexistent/gnuplot", 1);
    char err[JB_ERRLEN];
    assert_int_equal(jb_gnuplot_check(err, sizeof(err)), JB_ENOTSUP);
    assert_non_null(strstr(err, "gnuplot not found"));
    unsetenv("JB_GNUPLOT");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(import_export),
        cmocka_unit_test(absurd_record_refused),
        cmocka_unit_test(compare_gates_on_regression),
        cmocka_unit_test(history_finds_the_commit_range),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
