/* test_results_hooks.c: the results pipeline behind `joulebench run`: the
 * runner hooks normalize each record (roofline from a calibration run made
 * earlier in the same invocation) and store it with its trace and Google
 * Benchmark file; and the whole chain on real output of the joulebench
 * binary: run, import, compare, history, report. */
#include "base/error.h"
#include "results/record_util.h"
#include "app/run_hooks.h"
#include "results/schema_validate.h"
#include "results/store.h"
#include "test_results_helpers.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

static char dir[1024];

static int setup(void **st)
{
    (void)st;
    th_scratch(dir, sizeof(dir), "hooks");
    return 0;
}

static int teardown(void **st)
{
    (void)st;
    th_rmrf(dir);
    return 0;
}

static void hooks_normalize_and_store(void **st)
{
    (void)st;
    char db[1200], err[JB_ERRLEN], p[1400];
    snprintf(db, sizeof(db), "%s/h.db", dir);
    struct jb_results_sink_opts o = {0};
    o.db = db;
    o.region = "FR";
    o.platform = "amd-epyc-vm-2vcpu";
    struct jb_results_sink *s;
    if (jb_results_sink_open(&o, &s, err, sizeof(err)))
        fail_msg("%s", err);
    const char *names[] = {"triad.json", "fma.json", "llm-decode.json"};
    for (int i = 0; i < 3; i++) {
        json_t *r = th_load_fixture(names[i]);
        assert_int_equal(jb_results_before_write(r, s, err, sizeof(err)), 0);
        snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
        assert_int_equal(json_dump_file(r, p, 0), 0);
        if (i == 2) {
            snprintf(p, sizeof(p), "%s/llm-decode.power.csv", dir);
            FILE *f = fopen(p, "w");
            fputs("time_s,domain,watts\n0.1,sim-total,33\n", f);
            fclose(f);
            snprintf(p, sizeof(p), "%s/llm-decode.gbench.json", dir);
            f = fopen(p, "w");
            fputs("{\"context\": {\"date\": \"d\", \"host_name\": \"h\"}, \"benchmarks\":"
                  " [{\"name\": \"llm\", \"iterations\": 5, \"real_time\": 1}]}",
                  f);
            fclose(f);
            snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
            /* the derived figures are in the record, and it still validates */
            assert_true(jb_rec_num(r, "derived.roofline.fraction_of_bandwidth", -1) > 0);
            assert_true(jb_rec_num(r, "derived.roofline.fraction_of_flops", -1) > 0);
            assert_int_equal(jb_record_check(NULL, r, err, sizeof(err)), 0);
        }
        if (jb_results_after_write(r, p, s, err, sizeof(err)))
            fail_msg("%s", err);
        /* the same record again is not an error */
        assert_int_equal(jb_results_after_write(r, p, s, err, sizeof(err)), 0);
        json_decref(r);
    }
    jb_results_sink_close(s);
    jb_store *st2;
    assert_int_equal(jb_store_open(db, &st2, err, sizeof(err)), 0);
    long n;
    assert_int_equal(jb_store_count(st2, &n, err, sizeof(err)), 0);
    assert_int_equal(n, 3);
    assert_int_equal(jb_store_count_gbench(st2, &n, err, sizeof(err)), 0);
    assert_int_equal(n, 1);
    char *trace = NULL;
    assert_int_equal(jb_store_get_trace(st2, "a1b2c3d4-0004-llm", &trace, err, sizeof(err)), 0);
    assert_non_null(trace);
    free(trace);
    jb_store_close(st2);
    /* bad options are refused at open */
    o.region = "XX-nowhere";
    assert_int_equal(jb_results_sink_open(&o, &s, err, sizeof(err)), JB_ENOENT);
    o.region = NULL;
    o.pue = "0.5";
    /* bad input (exit 2), as a malformed number is */
    assert_int_equal(jb_results_sink_open(&o, &s, err, sizeof(err)), JB_EINVAL);
}

static void real_run_through_the_chain(void **st)
{
    (void)st;
    const char *cli = getenv("JB_CLI");
    if (!cli || access(cli, X_OK))
        skip();
    char cmd[4096], out[1200], db[1200], html[1200];
    snprintf(out, sizeof(out), "%s/run", dir);
    snprintf(db, sizeof(db), "%s/real.db", dir);
    snprintf(html, sizeof(html), "%s/html", dir);
    for (int i = 0; i < 2; i++) {
        snprintf(cmd, sizeof(cmd),
                 "'%s' run --workload triad --min-time 0.05 --repetitions 3 --out '%s/%d' "
                 ">/dev/null 2>&1",
                 cli, out, i);
        assert_int_equal(system(cmd), 0);
    }
    /* every record the binary wrote validates, imports and normalizes */
    char *imp[] = {"import", "--db", db, "--platform", "amd-epyc-vm-2vcpu", out, NULL};
    assert_int_equal(th_cmd(6, imp), 0);
    char err[JB_ERRLEN];
    jb_store *s;
    assert_int_equal(jb_store_open(db, &s, err, sizeof(err)), 0);
    json_t *recs = json_array();
    assert_int_equal(jb_store_query(s, NULL, recs, err, sizeof(err)), 0);
    assert_int_equal(json_array_size(recs), 2);
    json_t *r = json_array_get(recs, 0);
    assert_non_null(jb_rec_get(r, "derived.energy.label"));
    assert_true(jb_rec_num(r, "derived.carbon.operational_gco2e_per_1000_units", -1) >= 0);
    char ra[128], rb[128];
    snprintf(ra, sizeof(ra), "%s", jb_rec_str(r, "run_id", ""));
    snprintf(rb, sizeof(rb), "%s", jb_rec_str(json_array_get(recs, 1), "run_id", ""));
    json_decref(recs);
    jb_store_close(s);
    /* two runs of the same build: compare exits 0 or 1 by the data, never 2 */
    char *cmp[] = {"compare", "--db", db, ra, rb, NULL};
    int rc = th_cmd(5, cmp);
    assert_true(rc == 0 || rc == 1);
    /* and by folders of the binary's output (records beside Google
     * Benchmark files and power traces) */
    char d0[1300], d1[1300];
    snprintf(d0, sizeof(d0), "%s/0", out);
    snprintf(d1, sizeof(d1), "%s/1", out);
    char *cmp2[] = {"compare", d0, d1, NULL};
    rc = th_cmd(3, cmp2);
    assert_true(rc == 0 || rc == 1);
    char *hist[] = {"history", "--db", db, "--workload", "triad", NULL};
    assert_int_equal(th_cmd(5, hist), 0);
    char *rep[] = {"report", "--db", db, "--html", html, NULL};
    assert_int_equal(th_cmd(5, rep), 0);
    snprintf(cmd, sizeof(cmd), "%s/w/triad.html", html);
    assert_int_equal(access(cmd, R_OK), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hooks_normalize_and_store),
        cmocka_unit_test(real_run_through_the_chain),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
