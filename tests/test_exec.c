/* test_exec.c: `joulebench exec` measuring real processes with the scripted
 * power source: whole runs of a command get the scripted watts x their time
 * within the stated uncertainty and a record that passes the schema; a
 * command that exits non-zero fails its run, ends the measurement and the
 * record says which run and how; marker regions (tests/marker_demo.c, built
 * against include/joulebench/marker.h only, and the Python module) become
 * their own entries, each region's energy the scripted watts x its time,
 * and the regions sum to the whole run within the stated uncertainties; the
 * estimate sees a command's CPU time; a program using the markers runs
 * unchanged outside joulebench. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/error.h"
#include "harness/exec.h"
#include "results/schema_validate.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define WATTS 50.0

struct fx {
    char dir[64];
    char demo[1024];
    json_t *schema;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    char err[JB_ERRLEN];
    snprintf(f->dir, sizeof(f->dir), "/tmp/jb_exec_XXXXXX");
    if (!f || !mkdtemp(f->dir))
        return -1;
    snprintf(f->demo, sizeof(f->demo), "%s/tests/marker_demo",
             getenv("JB_BUILD_DIR") ? getenv("JB_BUILD_DIR") : ".");
    if (jb_record_schema_load(&f->schema, err, sizeof(err))) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
    if (system(cmd)) {
        /* best effort */
    }
    json_decref(f->schema);
    free(f);
    return 0;
}

static char *self_argv[] = {"test_exec", NULL};

static struct jb_exec_opts opts(struct fx *f, const char *power, int runs)
{
    return (struct jb_exec_opts){.power = power,
                                 .counters = "auto",
                                 .runs = runs,
                                 .units = 1,
                                 .threads = 1,
                                 .out_dir = f->dir,
                                 .argc = 1,
                                 .argv = self_argv};
}

static json_t *get(const json_t *o, const char *a, const char *b)
{
    json_t *v = json_object_get(o, a);
    return b ? json_object_get(v, b) : v;
}

static double num(const json_t *o, const char *a, const char *b)
{
    return json_number_value(get(o, a, b));
}

static const json_t *entry(const json_t *energy_list, const char *source)
{
    size_t i;
    const json_t *e;
    json_array_foreach(
        energy_list, i,
        e) if (!strcmp(json_string_value(json_object_get(e, "source")), source)) return e;
    return NULL;
}

static json_t *run_cmd(struct fx *f, const struct jb_exec_opts *o, char *const *argv, int want_rc)
{
    struct jb_exec_command c = {argv, argv[0], NULL};
    json_t *rec = NULL;
    char path[1024], err[JB_ERRLEN];
    int rc = jb_exec_run(o, &c, &rec, path, sizeof(path), err, sizeof(err));
    if (rc != want_rc)
        fprintf(stderr, "jb_exec_run: %d: %s\n", rc, err);
    assert_int_equal(rc, want_rc);
    assert_non_null(rec);
    assert_int_equal(access(path, R_OK), 0);
    if (jb_record_check(f->schema, rec, err, sizeof(err)))
        fail_msg("record does not pass the schema: %s", err);
    return rec;
}

/* Five runs of sleep 0.2: five runs of about 0.2 s, energy per run the
 * scripted 50 W times the mean run time, within the stated uncertainty. */
static void whole_runs_get_watts_times_time(void **state)
{
    struct fx *f = *state;
    struct jb_exec_opts o = opts(f, "sim:watts=50", 5);
    json_t *rec = run_cmd(f, &o, (char *[]){"sleep", "0.2", NULL}, 0);
    json_t *m = get(rec, "measurements", NULL);
    assert_int_equal(json_integer_value(get(m, "latency_s", "n")), 5);
    double mean = num(m, "latency_s", "mean");
    assert_true(mean >= 0.2 && mean < 0.4);
    assert_int_equal(json_array_size(get(rec, "exec", "runs")), 5);
    assert_true(json_is_true(get(rec, "complete", NULL)));
    assert_string_equal(json_string_value(get(rec, "workload", "name")), "sleep");
    assert_string_equal(json_string_value(get(rec, "validity", "output_check")), "pass");
    const json_t *e = entry(get(m, "energy", NULL), "sim");
    assert_non_null(e);
    double j = num(e, "joules_per_unit", NULL), u = num(e, "uncertainty_joules_per_unit", NULL);
    assert_true(u > 0);
    assert_true(fabs(j - WATTS * mean) <= u);
    assert_true(json_is_true(get(e, "simulated", NULL)));
    json_decref(rec);
}

/* A run that exits non-zero fails: earlier runs are kept, the failed one
 * ends the measurement, and the record says which run and how. */
static void failing_run_is_reported(void **state)
{
    struct fx *f = *state;
    char script[600];
    snprintf(script, sizeof(script),
             "n=$(cat %s/count 2>/dev/null || echo 0); n=$((n+1)); echo $n > %s/count; "
             "[ $n -lt 3 ] || exit 7",
             f->dir, f->dir);
    struct jb_exec_opts o = opts(f, "sim:watts=50", 5);
    json_t *rec = run_cmd(f, &o, (char *[]){"/bin/sh", "-c", script, NULL}, JB_ECHECK);
    assert_false(json_is_true(get(rec, "complete", NULL)));
    assert_string_equal(json_string_value(get(rec, "validity", "output_check")), "fail");
    assert_non_null(strstr(json_string_value(get(rec, "validity", "run_error")),
                           "run 3 of 5 exited with status 7"));
    json_t *runs = get(rec, "exec", "runs");
    assert_int_equal(json_array_size(runs), 3);
    assert_true(json_is_true(json_object_get(json_array_get(runs, 2), "failed")));
    assert_int_equal(json_integer_value(json_object_get(json_array_get(runs, 2), "exit_status")),
                     7);
    assert_int_equal(json_integer_value(get(rec, "measurements", "iterations")), 2);
    json_decref(rec);

    /* a hang is killed at the timeout and failed as such */
    o.timeout_s = 0.2;
    rec = run_cmd(f, &o, (char *[]){"sleep", "10", NULL}, JB_ECHECK);
    assert_non_null(strstr(json_string_value(get(rec, "validity", "run_error")),
                           "run 1 of 5 timed out after 0.2 s"));
    assert_true(
        json_is_true(json_object_get(json_array_get(get(rec, "exec", "runs"), 0), "timed_out")));
    json_decref(rec);
    o.timeout_s = 0;

    /* and a command that fails at once still gets its record */
    rec = run_cmd(f, &o, (char *[]){"/bin/sh", "-c", "exit 3", NULL}, JB_ECHECK);
    assert_int_equal(json_integer_value(get(rec, "measurements", "iterations")), 0);
    assert_int_equal(json_array_size(get(rec, "measurements", "energy")), 0);
    json_decref(rec);
}

/* Two regions per run; each region's energy is the scripted watts times its
 * own time, and the two sum to the whole run's energy within the stated
 * uncertainties (the rest is the program's start and exit). */
static void regions_measure_and_sum_to_the_run(void **state)
{
    struct fx *f = *state;
    /* a counter that updates every 20 ms, so that the stated uncertainties
     * are a counter's, not zero */
    struct jb_exec_opts o = opts(f, "sim:watts=50,period_ms=20", 3);
    json_t *rec = run_cmd(f, &o, (char *[]){f->demo, "150", "150", NULL}, 0);
    json_t *m = get(rec, "measurements", NULL), *regions = get(m, "regions", NULL);
    assert_int_equal(json_array_size(regions), 2);
    double sum_j = 0, sum_u2 = 0, sum_s = 0;
    for (size_t i = 0; i < 2; i++) {
        json_t *r = json_array_get(regions, i);
        const char *name = json_string_value(json_object_get(r, "name"));
        assert_true(!strcmp(name, "load") || !strcmp(name, "compute"));
        assert_int_equal(json_integer_value(json_object_get(r, "instances")), 3);
        double units = num(r, "units", NULL), dur = num(r, "duration_s", NULL);
        assert_true(units == (!strcmp(name, "load") ? 3 : 30));
        assert_true(dur >= 3 * 0.15 && dur < 3 * 0.3);
        const json_t *e = entry(json_object_get(r, "energy"), "sim");
        assert_non_null(e);
        double jpu = num(e, "joules_per_unit", NULL),
               u = num(e, "uncertainty_joules_per_unit", NULL);
        assert_true(u > 0);
        /* per unit: the region's energy over its units */
        assert_true(fabs(jpu * units - WATTS * dur) <= u * units);
        assert_true(json_is_object(json_object_get(r, "counters")));
        sum_j += jpu * units / 3; /* per run */
        sum_u2 += (u * units / 3) * (u * units / 3);
        sum_s += dur / 3;
    }
    /* counters read while the program runs see it (a group read sums the
     * live inherited counters): the spinning region's CPU time is there, and
     * the regions' never exceed the whole runs' */
    double tc_sum = 0, tc_compute = 0;
    for (size_t i = 0; i < 2; i++) {
        json_t *r = json_array_get(regions, i);
        json_t *tc = get(get(json_object_get(r, "counters"), "events", NULL), "task-clock", NULL);
        if (!tc)
            continue;
        tc_sum += num(tc, "total", NULL);
        if (!strcmp(json_string_value(json_object_get(r, "name")), "compute"))
            tc_compute = num(tc, "total", NULL);
    }
    json_t *wtc = get(get(m, "counters", "events"), "task-clock", NULL);
    if (wtc) {
        assert_true(tc_compute > 0.02e9); /* ns: of 0.45 s spinning, on a loaded machine */
        assert_true(tc_sum <= num(wtc, "total", NULL) * 1.01);
    }
    const json_t *whole = entry(get(m, "energy", NULL), "sim");
    double wj = num(whole, "joules_per_unit", NULL),
           wu = num(whole, "uncertainty_joules_per_unit", NULL);
    assert_true(sum_s <= num(m, "latency_s", "mean"));
    /* the regions' sum and the run agree within their combined uncertainty */
    assert_true(fabs(wj - sum_j) <= wu + sqrt(sum_u2));
    json_decref(rec);
}

/* Regions with a continuous counter: the energy of each is the scripted
 * watts times the time between the harness's own reads, to rounding. */
static void regions_are_exact_with_a_continuous_counter(void **state)
{
    struct fx *f = *state;
    struct jb_exec_opts o = opts(f, "sim:watts=50", 2);
    json_t *rec = run_cmd(f, &o, (char *[]){f->demo, "40", "40", "3", NULL}, 0);
    json_t *regions = get(get(rec, "measurements", NULL), "regions", NULL);
    assert_int_equal(json_array_size(regions), 2);
    for (size_t i = 0; i < 2; i++) {
        json_t *r = json_array_get(regions, i);
        assert_int_equal(json_integer_value(json_object_get(r, "instances")), 6);
        const json_t *e = entry(json_object_get(r, "energy"), "sim");
        double ej = num(e, "energy_j", NULL), dur = num(e, "duration_s", NULL);
        assert_true(fabs(ej - WATTS * dur) <= 1e-6 * ej + 1e-9);
        assert_true(fabs(dur - num(r, "duration_s", NULL)) < 1e-9);
    }
    json_decref(rec);
}

/* The estimate counts the command's CPU time: a region that spins costs
 * more per second than one that sleeps. */
static void estimate_sees_the_commands_cpu(void **state)
{
    struct fx *f = *state;
    struct jb_exec_opts o = opts(f, "estimate", 1);
    json_t *rec = run_cmd(f, &o, (char *[]){f->demo, "100", "100", NULL}, 0);
    json_t *m = get(rec, "measurements", NULL);
    const json_t *e = entry(get(m, "energy", NULL), "estimate");
    assert_non_null(e);
    assert_false(json_is_true(json_object_get(e, "measured")));
    /* The estimate is 10 W per busy core (no idle power): the command's own
     * CPU time, which task-clock counts, must be in it, whatever share of a
     * core a loaded machine gave the spinning region; /proc's 10 ms ticks
     * may lag by a tick at each boundary. */
    json_t *tc = get(get(m, "counters", "events"), "task-clock", NULL);
    double cpu_s = tc ? num(tc, "total", NULL) * 1e-9 : 0;
    assert_true(num(e, "joules_per_unit", NULL) > 0);
    assert_true(num(e, "joules_per_unit", NULL) >= 10 * (cpu_s - 0.02));
    double ej[2] = {0, 0}, cpu[2] = {0, 0};
    for (size_t i = 0; i < 2; i++) {
        json_t *r = json_array_get(get(m, "regions", NULL), i);
        const json_t *re = entry(json_object_get(r, "energy"), "estimate");
        int is_compute = !strcmp(json_string_value(json_object_get(r, "name")), "compute");
        ej[is_compute] = num(re, "energy_j", NULL);
        json_t *rtc =
            get(get(json_object_get(r, "counters"), "events", NULL), "task-clock", NULL);
        cpu[is_compute] = rtc ? num(rtc, "total", NULL) * 1e-9 : 0;
    }
    assert_true(ej[1] > ej[0]);
    assert_true(ej[1] >= 10 * (cpu[1] - 0.02));
    json_decref(rec);
}

/* The Python module speaks the same protocol. */
static void python_module_regions(void **state)
{
    struct fx *f = *state;
    if (system("command -v python3 >/dev/null 2>&1")) {
        skip();
        return;
    }
    char py[1024];
    snprintf(py, sizeof(py), "%s/tests/marker_demo.py",
             getenv("JB_SOURCE_DIR") ? getenv("JB_SOURCE_DIR") : ".");
    struct jb_exec_opts o = opts(f, "sim:watts=50", 1);
    json_t *rec = run_cmd(f, &o, (char *[]){"python3", py, NULL}, 0);
    json_t *r = json_array_get(get(get(rec, "measurements", NULL), "regions", NULL), 0);
    assert_non_null(r);
    assert_string_equal(json_string_value(json_object_get(r, "name")), "py");
    assert_int_equal(json_integer_value(json_object_get(r, "instances")), 2);
    assert_true(num(r, "units", NULL) == 10);
    json_decref(rec);
    /* and does nothing outside joulebench */
    char cmd[1200];
    snprintf(cmd, sizeof(cmd), "env -u JB_MARKER_FD python3 %s", py);
    int st = system(cmd);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* Outside joulebench the markers do nothing and the program runs as is. */
static void markers_are_a_noop_outside(void **state)
{
    struct fx *f = *state;
    char cmd[1200];
    snprintf(cmd, sizeof(cmd), "env -u JB_MARKER_FD %s 1 1 2", f->demo);
    int st = system(cmd);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* Bad input is refused before anything runs. */
static void plan_refuses_bad_input(void **state)
{
    struct fx *f = *state;
    char err[JB_ERRLEN];
    struct jb_exec_opts o = opts(f, "sim", 1);
    struct jb_exec_command c = {(char *[]){"no-such-command-jb", NULL}, "x", NULL};
    assert_int_equal(jb_exec_plan(&o, &c, err, sizeof(err)), JB_ENOENT);
    assert_non_null(strstr(err, "no-such-command-jb"));
    c.argv = (char *[]){"true", NULL};
    o.pin = "compact";
    o.threads = 100000;
    assert_int_not_equal(jb_exec_plan(&o, &c, err, sizeof(err)), 0);
    o.pin = "bogus";
    o.threads = 1;
    assert_int_equal(jb_exec_plan(&o, &c, err, sizeof(err)), JB_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(whole_runs_get_watts_times_time),
        cmocka_unit_test(failing_run_is_reported),
        cmocka_unit_test(regions_measure_and_sum_to_the_run),
        cmocka_unit_test(regions_are_exact_with_a_continuous_counter),
        cmocka_unit_test(estimate_sees_the_commands_cpu),
        cmocka_unit_test(python_module_regions),
        cmocka_unit_test(markers_are_a_noop_outside),
        cmocka_unit_test(plan_refuses_bad_input),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
