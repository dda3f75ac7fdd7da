/* test_runner_load.c: harness/runner_load.c through jb_runner_run, with the
 * sim power source (constant watts, so energy per unit has an exact
 * expectation): a server run at a rate well under capacity achieves about
 * that rate, its energy per inference is the constant power over the
 * achieved rate (idle gaps included, not the power over busy time only),
 * its bound verdict agrees with its own p99, and --find-peak records a
 * bracket within its stated resolution whose peak the repetitions run at.
 * Multi-stream issues `streams` units per query. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/error.h"
#include "harness/runner.h"
#include "harness/suite.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char outdir[] = "/tmp/jb_test_runner_load_XXXXXX";

static json_t *run_spec(struct jb_run_spec *s)
{
    char *argv[] = {(char *)"test", NULL};
    struct jb_runner_opts o = {.power = "sim:watts=40", .counters = "none", .out_dir = outdir,
                               .seed = 5, .warmup_s = 0.05, .argc = 1, .argv = argv};
    struct jb_runner *r = NULL;
    char err[JB_ERRLEN], path[1024];
    assert_int_equal(jb_runner_open(&o, &r, err, sizeof(err)), 0);
    json_t *rec = NULL;
    int rc = jb_runner_run(r, s, &rec, path, sizeof(path), err, sizeof(err));
    if (rc)
        fprintf(stderr, "run: %s\n", err);
    assert_int_equal(rc, 0);
    jb_runner_close(r, err, sizeof(err));
    return rec;
}

static struct jb_run_spec spec(const char *scenario)
{
    struct jb_run_spec s;
    char err[JB_ERRLEN];
    jb_spec_defaults(&s);
    snprintf(s.workload, sizeof(s.workload), "ic-resnet8");
    snprintf(s.pin, sizeof(s.pin), "none");
    assert_int_equal(jb_spec_set(&s, "scenario", scenario, err, sizeof(err)), 0);
    s.repetitions = 3;
    s.min_time_s = 0.4;
    return s;
}

static double num(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);
    assert_non_null(v);
    return json_number_value(v);
}

static void test_server_energy_includes_idle(void **st)
{
    (void)st;
    struct jb_run_spec s = spec("server");
    s.target_qps = 20; /* light even for a sanitizer build's ~10 ms inference */
    json_t *rec = run_spec(&s);
    json_t *m = json_object_get(rec, "measurements");
    json_t *sc = json_object_get(m, "scenario");
    assert_non_null(sc);
    double qps = num(sc, "achieved_qps");
    /* Poisson count over 1.2 s at 20/s: 24 +- 5; 4 sigma is +-17/s */
    assert_true(fabs(qps - 20) < 17);
    double p99 = num(sc, "latency_p99_s"), p50 = num(sc, "latency_p50_s");
    assert_true(p99 >= p50 && p50 > 0);
    assert_int_equal(json_is_true(json_object_get(sc, "bound_met")),
                     p99 <= num(sc, "latency_bound_s"));
    double duty = num(sc, "duty_cycle");
    assert_true(duty > 0 && duty < 0.9); /* gaps exist, even in a sanitizer build */
    json_t *e = json_array_get(json_object_get(m, "energy"), 0);
    double jpu = num(e, "joules_per_unit"), dur = num(e, "duration_s");
    double n = num(m, "iterations");
    /* 40 W over the whole repetitions, gaps included */
    assert_float_equal(jpu, 40 * dur / n, 0.05 * 40 * dur / n);
    /* more than the power over busy time alone would give */
    assert_true(jpu * n > 40 * duty * dur / 0.9);
    assert_string_equal(json_string_value(json_object_get(json_object_get(rec, "validity"),
                                                          "output_check")),
                        "pass");
    json_decref(rec);
}

static void test_find_peak_brackets(void **st)
{
    (void)st;
    struct jb_run_spec s = spec("server");
    s.find_peak = 1;
    s.min_time_s = 0.2;
    s.repetitions = 2;
    s.latency_bound_ms = 200; /* met at low rates even by a sanitizer build */
    json_t *rec = run_spec(&s);
    json_t *sc = json_object_get(json_object_get(rec, "measurements"), "scenario");
    json_t *fp = json_object_get(sc, "find_peak");
    assert_non_null(fp);
    double peak = num(fp, "peak_qps"), fail = num(fp, "lowest_failing_qps");
    assert_true(peak > 0);
    if (fail > 0)
        assert_true(fail - peak <= num(fp, "resolution_rel") * peak * 1.0001);
    assert_float_equal(num(sc, "target_qps"), peak, 1e-9);
    assert_true(json_array_size(json_object_get(fp, "trials")) == (size_t)num(fp, "steps"));
    assert_non_null(json_object_get(fp, "converged_on"));
    json_decref(rec);
}

static void test_multi_stream_units(void **st)
{
    (void)st;
    struct jb_run_spec s = spec("multi-stream");
    s.streams = 4;
    s.interval_ms = 50;
    json_t *rec = run_spec(&s);
    json_t *m = json_object_get(rec, "measurements");
    json_t *sc = json_object_get(m, "scenario");
    double queries = num(sc, "queries");
    assert_float_equal(num(m, "iterations"), 4 * queries, 0);
    /* 0.4 s per repetition at 20 queries/s: 8 (9 with a tail) each */
    assert_true(queries >= 24 && queries <= 36);
    json_decref(rec);
}

static void test_spec_keys(void **st)
{
    (void)st;
    struct jb_run_spec s;
    char err[JB_ERRLEN];
    jb_spec_defaults(&s);
    assert_int_equal(jb_spec_set(&s, "target_qps", "250.5", err, sizeof(err)), 0);
    assert_float_equal(s.target_qps, 250.5, 0);
    assert_int_equal(jb_spec_set(&s, "target_qps", "0", err, sizeof(err)), JB_EINVAL);
    assert_int_equal(jb_spec_set(&s, "streams", "0", err, sizeof(err)), JB_EINVAL);
    assert_int_equal(jb_spec_set(&s, "scenario", "servr", err, sizeof(err)), JB_EINVAL);
    assert_non_null(strstr(err, "server"));
}

int main(void)
{
    if (!mkdtemp(outdir))
        return 1;
    setenv("JB_DB", "none", 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec_keys),
        cmocka_unit_test(test_server_energy_includes_idle),
        cmocka_unit_test(test_find_peak_brackets),
        cmocka_unit_test(test_multi_stream_units),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", outdir);
    if (system(cmd)) {
    }
    return rc;
}
