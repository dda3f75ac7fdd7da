/* test_counters.c: perf counters as a run uses them.
 *
 * Software events are checked against independent clocks and known work:
 * task-clock against the thread's CPU-time clock over a busy loop (also for
 * a worker thread created after the counters opened, which must be counted
 * through inherit), page faults against pages touched for the first time.
 * Whether hardware events exist is found out here with a direct
 * perf_event_open, so the fallback is checked on machines with and without
 * a PMU. */
#include "harness/counters.h"
#include "base/error.h"

#include <errno.h>
#include <jansson.h>
#include <linux/perf_event.h>
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

static double thread_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Spins until this thread has used `seconds` of CPU time. */
static void burn_cpu(double seconds)
{
    double t0 = thread_cpu_s();
    volatile double x = 1.0;
    while (thread_cpu_s() - t0 < seconds)
        for (int i = 0; i < 1000; i++)
            x = x * 1.0000001 + 1e-9;
}

static int hardware_cycles_open(void)
{
    struct perf_event_attr a;
    memset(&a, 0, sizeof(a));
    a.size = sizeof(a);
    a.type = PERF_TYPE_HARDWARE;
    a.config = PERF_COUNT_HW_CPU_CYCLES;
    a.exclude_kernel = 1;
    a.exclude_hv = 1;
    long fd = syscall(SYS_perf_event_open, &a, 0, -1, -1, 0);
    if (fd < 0)
        return 0;
    close((int)fd);
    return 1;
}

static json_t *event(json_t *out, const char *name)
{
    return json_object_get(json_object_get(out, "events"), name);
}

static double num(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_number(v))
        fail_msg("'%s' is not a number", key);
    return json_number_value(v);
}

static void test_task_clock_matches_cpu_time(void **state)
{
    (void)state;
    struct jb_counters *c = NULL;
    char err[JB_ERRLEN] = "";
    assert_int_equal(jb_counters_open("task-clock", &c, err, sizeof(err)), JB_OK);
    jb_counters_begin_run(c);
    assert_int_equal(jb_counters_rep_begin(c), JB_OK);
    double t0 = thread_cpu_s();
    burn_cpu(0.2);
    double used_ns = (thread_cpu_s() - t0) * 1e9;
    assert_int_equal(jb_counters_rep_end(c, 100.0), JB_OK);
    json_t *out = json_object(), *warn = json_array();
    assert_int_equal(jb_counters_finish_run(c, 1, out, warn, err, sizeof(err)), JB_OK);
    json_t *tc = event(out, "task-clock");
    assert_non_null(tc);
    double total = num(tc, "total");
    /* both read the scheduler's runtime of this thread; 10% leaves room for
     * the reads themselves and clock granularity */
    assert_true(total > 0.9 * used_ns && total < 1.1 * used_ns);
    assert_true(fabs(num(tc, "per_unit") - total / 100.0) < 1e-6 * total);
    assert_string_equal(json_string_value(json_object_get(tc, "unit")), "ns");
    assert_false(json_is_true(json_object_get(tc, "scaled")));
    assert_true(json_is_null(json_object_get(out, "fallback")));
    json_decref(out);
    json_decref(warn);
    jb_counters_close(c);
}

static void *worker(void *arg)
{
    burn_cpu(*(double *)arg);
    return NULL;
}

static void test_threads_created_after_open_are_counted(void **state)
{
    (void)state;
    struct jb_counters *c = NULL;
    char err[JB_ERRLEN] = "";
    assert_int_equal(jb_counters_open("task-clock,context-switches", &c, err, sizeof(err)), JB_OK);
    jb_counters_begin_run(c);
    assert_int_equal(jb_counters_rep_begin(c), JB_OK);
    double main0 = thread_cpu_s(), secs = 0.15;
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, worker, &secs), 0);
    pthread_join(th, NULL);
    double main_ns = (thread_cpu_s() - main0) * 1e9;
    assert_int_equal(jb_counters_rep_end(c, 1.0), JB_OK);
    json_t *out = json_object();
    assert_int_equal(jb_counters_finish_run(c, 0, out, NULL, err, sizeof(err)), JB_OK);
    double total = num(event(out, "task-clock"), "total");
    /* the worker's 150 ms (the main thread only waited) */
    assert_true(total > 0.9 * secs * 1e9);
    assert_true(total < 1.1 * secs * 1e9 + main_ns + 5e6);
    /* No assertion on context switches here: whether the join blocks depends
     * on scheduling (under sanitizers the worker can finish before it), so
     * the count may rightly be 0. */
    assert_true(json_is_true(json_object_get(out, "grouped")));
    json_decref(out);
    jb_counters_close(c);
}

static void test_page_faults_on_fresh_pages(void **state)
{
    (void)state;
    const size_t pages = 2048;
    long pg = sysconf(_SC_PAGESIZE);
    struct jb_counters *c = NULL;
    char err[JB_ERRLEN] = "";
    assert_int_equal(jb_counters_open("page-faults", &c, err, sizeof(err)), JB_OK);
    char *m =
        mmap(NULL, pages * (size_t)pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(m != MAP_FAILED);
    madvise(m, pages * (size_t)pg, MADV_NOHUGEPAGE); /* one fault per 4 KiB page */
    jb_counters_begin_run(c);
    assert_int_equal(jb_counters_rep_begin(c), JB_OK);
    for (size_t i = 0; i < pages; i++)
        m[i * (size_t)pg] = 1;
    assert_int_equal(jb_counters_rep_end(c, (double)pages), JB_OK);
    json_t *out = json_object();
    assert_int_equal(jb_counters_finish_run(c, 1, out, NULL, err, sizeof(err)), JB_OK);
    double faults = num(event(out, "page-faults"), "total");
    /* one per page, plus a few of the process's own (more under ASan, whose
     * shadow memory faults in as the pages are written) */
    assert_true(faults >= (double)pages && faults < 1.5 * (double)pages);
    double pu = num(event(out, "page-faults"), "per_unit");
    assert_true(pu >= 1.0 && pu < 1.5);
    munmap(m, pages * (size_t)pg);
    json_decref(out);
    jb_counters_close(c);
}

static void test_per_unit_and_keep_last(void **state)
{
    (void)state;
    struct jb_counters *c = NULL;
    char err[JB_ERRLEN] = "";
    assert_int_equal(jb_counters_open("task-clock", &c, err, sizeof(err)), JB_OK);
    jb_counters_set_units_per_iteration(c, 4.0);
    jb_counters_begin_run(c);
    static const double units[3] = {10, 20, 40};
    for (int r = 0; r < 3; r++) {
        assert_int_equal(jb_counters_rep_begin(c), JB_OK);
        burn_cpu(0.02 * (r + 1));
        assert_int_equal(jb_counters_rep_end(c, units[r]), JB_OK);
    }
    json_t *out = json_object();
    assert_int_equal(jb_counters_finish_run(c, 2, out, NULL, err, sizeof(err)), JB_OK);
    json_t *tc = event(out, "task-clock");
    json_t *samples = json_object_get(tc, "samples_per_unit");
    assert_int_equal(json_array_size(samples), 2); /* the first (warm-up) repetition dropped */
    assert_int_equal(json_integer_value(json_object_get(out, "repetitions")), 2);
    assert_true(fabs(num(out, "units") - 60.0) < 1e-9);
    double total = num(tc, "total"), per_unit = num(tc, "per_unit");
    assert_true(fabs(per_unit - total / 60.0) < 1e-9 * total);
    assert_true(fabs(num(tc, "per_iteration") - 4.0 * per_unit) < 1e-9 * total);
    /* repetition 2: 40 ms over 20 units, repetition 3: 60 ms over 40 units */
    double s0 = json_number_value(json_array_get(samples, 0));
    double s1 = json_number_value(json_array_get(samples, 1));
    assert_true(s0 > 0.9 * 2e6 && s0 < 1.2 * 2e6);
    assert_true(s1 > 0.9 * 1.5e6 && s1 < 1.2 * 1.5e6);
    json_decref(out);
    jb_counters_close(c);
}

static void test_scaling(void **state)
{
    (void)state;
    int scaled;
    double ratio;
    assert_true(fabs(jb_counters_scale(1000, 200, 100, &scaled, &ratio) - 2000.0) < 1e-9);
    assert_int_equal(scaled, 1);
    assert_true(fabs(ratio - 0.5) < 1e-12);
    assert_true(fabs(jb_counters_scale(1000, 300, 300, &scaled, &ratio) - 1000.0) < 1e-9);
    assert_int_equal(scaled, 0);
    assert_true(fabs(ratio - 1.0) < 1e-12);
    assert_true(isnan(jb_counters_scale(5, 300, 0, &scaled, &ratio)));
    assert_true(fabs(ratio) < 1e-12);
}

static void test_unknown_and_malformed_events(void **state)
{
    (void)state;
    struct jb_counters *c = NULL;
    char err[JB_ERRLEN] = "";
    assert_int_equal(jb_counters_open("task-clock,NO_SUCH_EVENT_XYZ", &c, err, sizeof(err)),
                     JB_ENOENT);
    assert_null(c);
    assert_non_null(strstr(err, "NO_SUCH_EVENT_XYZ"));
    err[0] = 0;
    assert_int_equal(jb_counters_open("task-clock,,page-faults", &c, err, sizeof(err)), JB_EINVAL);
    assert_non_null(strstr(err, "empty event name"));
    assert_int_equal(jb_counters_open("task-clock,", &c, err, sizeof(err)), JB_EINVAL);
}

static void test_fallback_when_hardware_is_absent(void **state)
{
    (void)state;
    int hw = hardware_cycles_open();
    struct jb_counters *c = NULL;
    char err[JB_ERRLEN] = "";
    static const char *const lists[] = {"auto", "cycles,instructions"};
    for (int l = 0; l < 2; l++) {
        assert_int_equal(jb_counters_open(lists[l], &c, err, sizeof(err)), JB_OK);
        jb_counters_begin_run(c);
        assert_int_equal(jb_counters_rep_begin(c), JB_OK);
        burn_cpu(0.01);
        assert_int_equal(jb_counters_rep_end(c, 1.0), JB_OK);
        json_t *out = json_object(), *warn = json_array();
        assert_int_equal(jb_counters_finish_run(c, 1, out, warn, err, sizeof(err)), JB_OK);
        json_t *fb = json_object_get(out, "fallback");
        if (hw) {
            assert_true(json_is_null(fb));
            assert_true(num(event(out, "cycles"), "total") > 0);
        } else {
            /* says so, says why, and still counts what it can */
            assert_true(json_is_string(fb));
            assert_non_null(strstr(json_string_value(fb), "software events only"));
            assert_non_null(json_object_get(json_object_get(out, "unavailable"), "cycles"));
            assert_null(event(out, "cycles"));
            assert_true(num(event(out, "task-clock"), "total") > 0.5 * 0.01e9);
            assert_non_null(event(out, "page-faults"));
            int said = 0;
            for (size_t i = 0; i < json_array_size(warn); i++)
                said |= strstr(json_string_value(json_array_get(warn, i)), "software") != NULL;
            assert_true(said);
        }
        json_decref(out);
        json_decref(warn);
        jb_counters_close(c);
    }
}

static void test_none_counts_nothing(void **state)
{
    (void)state;
    struct jb_counters *c = NULL;
    char err[JB_ERRLEN] = "";
    assert_int_equal(jb_counters_open("none", &c, err, sizeof(err)), JB_OK);
    jb_counters_begin_run(c);
    assert_int_equal(jb_counters_rep_begin(c), JB_OK);
    assert_int_equal(jb_counters_rep_end(c, 1.0), JB_OK);
    json_t *out = json_object();
    assert_int_equal(jb_counters_finish_run(c, 1, out, NULL, err, sizeof(err)), JB_OK);
    assert_int_equal(json_object_size(json_object_get(out, "events")), 0);
    json_decref(out);
    jb_counters_close(c);
}

static void test_probe_explains_absent_events(void **state)
{
    (void)state;
    json_t *out = json_object();
    assert_int_equal(jb_counters_probe(out), JB_OK);
    json_t *events = json_object_get(out, "events");
    assert_true(json_array_size(events) >= 8);
    int hw = hardware_cycles_open(), seen_task_clock = 0;
    for (size_t i = 0; i < json_array_size(events); i++) {
        json_t *e = json_array_get(events, i);
        const char *name = json_string_value(json_object_get(e, "name"));
        int avail = json_is_true(json_object_get(e, "available"));
        if (!avail) /* every absent event says why */
            assert_true(strlen(json_string_value(json_object_get(e, "reason"))) > 10);
        if (!strcmp(name, "task-clock")) {
            seen_task_clock = 1;
            assert_true(avail);
        }
        if (!strcmp(name, "cycles"))
            assert_int_equal(avail, hw);
    }
    assert_true(seen_task_clock);
    assert_int_equal(json_is_true(json_object_get(out, "hardware_available")), hw);
    assert_int_equal(json_is_null(json_object_get(out, "fallback")), hw);
    size_t nevents = json_array_size(events);
    json_decref(out);

    /* the list form the CLI prints: the same events, then a summary */
    json_t *arr = json_array();
    assert_int_equal(jb_counters_probe(arr), JB_OK);
    assert_int_equal(json_array_size(arr), nevents + 1);
    json_t *last = json_array_get(arr, json_array_size(arr) - 1);
    assert_string_equal(json_string_value(json_object_get(last, "name")), "summary");
    assert_string_equal(json_string_value(json_object_get(last, "state")),
                        hw ? "hardware" : "software");
    assert_non_null(
        strstr(json_string_value(json_object_get(last, "reason")), "perf_event_paranoid="));
    for (size_t i = 0; i + 1 < json_array_size(arr); i++) {
        const char *st = json_string_value(json_object_get(json_array_get(arr, i), "state"));
        assert_true(!strcmp(st, "working") || !strcmp(st, "absent"));
    }
    json_decref(arr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_task_clock_matches_cpu_time),
        cmocka_unit_test(test_threads_created_after_open_are_counted),
        cmocka_unit_test(test_page_faults_on_fresh_pages),
        cmocka_unit_test(test_per_unit_and_keep_last),
        cmocka_unit_test(test_scaling),
        cmocka_unit_test(test_unknown_and_malformed_events),
        cmocka_unit_test(test_fallback_when_hardware_is_absent),
        cmocka_unit_test(test_none_counts_nothing),
        cmocka_unit_test(test_probe_explains_absent_events),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
