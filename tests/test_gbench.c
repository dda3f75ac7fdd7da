/* test_gbench.c: the C wrapper of Google Benchmark: a C function registered
 * as a benchmark runs under the C keep-running loop, its repetitions and
 * aggregates come back through the callback, counters and manual time are
 * honoured, skip-with-error is reported, and Google Benchmark's own JSON is
 * written where asked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "harness/gbench.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct seen {
    int calls;
    int runs, aggregates;
    int64_t iterations_sum;
    double last_real_s;
    int errors;
    char error[128];
    double counter;
    int have_median;
};

static void on_report(const struct jb_gb_run *runs, int n, void *ctx)
{
    struct seen *s = ctx;
    for (int i = 0; i < n; i++) {
        if (runs[i].is_aggregate) {
            s->aggregates++;
            if (!strcmp(runs[i].aggregate_name, "median"))
                s->have_median = 1;
            continue;
        }
        s->runs++;
        s->iterations_sum += runs[i].iterations;
        s->last_real_s = runs[i].real_time_s;
        if (runs[i].error_occurred) {
            s->errors++;
            snprintf(s->error, sizeof(s->error), "%s", runs[i].error_message);
        }
        for (int k = 0; k < runs[i].ncounters; k++)
            if (!strcmp(runs[i].counters[k].name, "items"))
                s->counter = runs[i].counters[k].value;
    }
}

struct bench_arg {
    struct seen *seen;
    double iter_time_s;
    int fail;
};

static void manual_bench(struct jb_gb_state *st, void *arg)
{
    struct bench_arg *a = arg;
    a->seen->calls++;
    int64_t n = 0;
    while (jb_gb_keep_running(st)) {
        jb_gb_set_iteration_time(st, a->iter_time_s);
        n++;
    }
    jb_gb_set_counter(st, "items", (double)n * 2, JB_GB_COUNTER_DEFAULT);
}

static void failing_bench(struct jb_gb_state *st, void *arg)
{
    (void)arg;
    jb_gb_skip_with_error(st, "workload refused: test");
    while (jb_gb_keep_running(st))
        ;
}

static void test_repetitions_and_aggregates(void **state)
{
    (void)state;
    struct seen s = {0};
    struct bench_arg a = {.seen = &s, .iter_time_s = 1e-3};
    struct jb_gb_options o = {.min_time_s = 0.05, .repetitions = 4, .manual_time = 1};
    assert_int_equal(jb_gb_register("t/manual", manual_bench, &a, &o), 0);
    char err[256];
    assert_int_equal(jb_gb_run_all(NULL, on_report, &s, err, sizeof(err)), 0);
    assert_int_equal(s.runs, 4);
    assert_true(s.have_median);
    assert_true(s.aggregates >= 3); /* mean, median, stddev (and cv) */
    /* Manual time: each iteration is 1 ms however fast the loop really is. */
    assert_true(s.last_real_s > 0.99e-3 && s.last_real_s < 1.01e-3);
    /* 0.05 s of 1 ms iterations: at least 50 per repetition. */
    assert_true(s.iterations_sum >= 4 * 50);
    /* The counter is the per-repetition value we set (2 x iterations). */
    assert_true(s.counter >= 100);
    /* Calls = probes + repetitions; the reported ones are the last four. */
    assert_true(s.calls >= 4);
}

static void test_skip_with_error(void **state)
{
    (void)state;
    struct seen s = {0};
    assert_int_equal(jb_gb_register("t/fail", failing_bench, NULL, NULL), 0);
    assert_int_equal(jb_gb_run_all(NULL, on_report, &s, NULL, 0), 0);
    assert_int_equal(s.errors, 1);
    assert_string_equal(s.error, "workload refused: test");
}

static void test_register_rejects_bad_input(void **state)
{
    (void)state;
    assert_true(jb_gb_register("", manual_bench, NULL, NULL) < 0);
    assert_true(jb_gb_register("x", NULL, NULL, NULL) < 0);
}

static void test_gbench_json_written(void **state)
{
    (void)state;
    char path[] = "/tmp/jb_gbench_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    struct seen s = {0};
    struct bench_arg a = {.seen = &s, .iter_time_s = 2e-3};
    struct jb_gb_options o = {.min_time_s = 0.02, .repetitions = 2, .manual_time = 1};
    jb_gb_add_context("joulebench_test", "yes");
    assert_int_equal(jb_gb_register("t/json", manual_bench, &a, &o), 0);
    assert_int_equal(jb_gb_run_all(path, on_report, &s, NULL, 0), 0);
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    assert_non_null(j);
    json_t *bm = json_object_get(j, "benchmarks");
    assert_true(json_array_size(bm) >= 2);
    /* Google Benchmark appends its own suffixes (min_time, repeats...). */
    const char *name = json_string_value(json_object_get(json_array_get(bm, 0), "name"));
    assert_non_null(name);
    assert_int_equal(strncmp(name, "t/json/", 7), 0);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(j, "context"), "joulebench_test")),
        "yes");
    json_decref(j);
    unlink(path);
    /* A later run without a path must not write to the old file again. */
    struct seen s2 = {0};
    a.seen = &s2;
    assert_int_equal(jb_gb_register("t/nojson", manual_bench, &a, &o), 0);
    assert_int_equal(jb_gb_run_all(NULL, on_report, &s2, NULL, 0), 0);
    assert_int_equal(access(path, F_OK), -1);
}

static void test_unwritable_json_path(void **state)
{
    (void)state;
    char err[256] = "";
    assert_int_equal(jb_gb_register("t/x", failing_bench, NULL, NULL), 0);
    assert_true(jb_gb_run_all("/nonexistent-dir/x.json", on_report, NULL, err, sizeof(err)) < 0);
    assert_non_null(strstr(err, "/nonexistent-dir/x.json"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_repetitions_and_aggregates),
        cmocka_unit_test(test_skip_with_error),
        cmocka_unit_test(test_register_rejects_bad_input),
        cmocka_unit_test(test_gbench_json_written),
        cmocka_unit_test(test_unwritable_json_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
