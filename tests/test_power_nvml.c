/* test_power_nvml.c: the nvml source against tests/fake_nvml.c, a shared
 * library loaded through the same dlopen path as the real libnvidia-ml.so.1
 * (nvml:lib=PATH and JB_NVML_LIB): the energy counter stepping every 100 ms
 * (period measured; repetitions aligned at both ends: short repetitions,
 * figure within a small uncertainty; align=start: the 10 s rule), a GPU
 * without the counter (integrated power), an error mid-run (that GPU
 * unavailable, the other kept), the GPU state at start and end, and the
 * reasons given when there is no driver. */
#include "tests/power_test_util.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "harness/power.h"

static const char *fake_lib(void)
{
    const char *p = getenv("JB_FAKE_NVML");
    assert_non_null(p);
    return p;
}

static void clear_env(void)
{
    const char *vars[] = {"FAKE_NVML_INIT_FAIL",     "FAKE_NVML_GPUS",      "FAKE_NVML_WATTS",
                          "FAKE_NVML_STEP_MS",       "FAKE_NVML_NO_ENERGY", "FAKE_NVML_FAIL_GPU",
                          "FAKE_NVML_FAIL_AFTER_MS", "JB_NVML_LIB"};
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
        unsetenv(vars[i]);
}

static struct jb_energy *open_nvml(const char *extra)
{
    char spec[600], err[JB_ERRLEN] = "";
    snprintf(spec, sizeof(spec), "nvml:lib=%s%s", fake_lib(), extra);
    struct jb_energy_opts o = {1, NULL, -1, NULL, 0};
    struct jb_energy *e = NULL;
    int rc = jb_energy_open(spec, &o, &e, err, sizeof(err));
    if (rc)
        fprintf(stderr, "%s\n", err);
    assert_int_equal(rc, 0);
    return e;
}

/* 200 W, counter stepping every 100 ms as on H100, repetitions aligned at
 * the start only (align=start, the rule before end alignment). */
static void energy_counter_100ms(void **st)
{
    (void)st;
    clear_env();
    struct jb_energy *e = open_nvml(",align=start");
    /* the period was measured at open; aligned start: 100 x 100 ms */
    double md = jb_energy_min_duration_s(e);
    assert_true(md > 8 && md < 12);
    struct jb_test_run r;
    jb_test_reps(e, 2, 2, 0.35, 7, 0, NULL, &r);
    json_t *d = jb_test_entry(&r, "gpu-0");
    assert_non_null(d);
    assert_true(json_is_true(json_object_get(d, "available")));
    assert_string_equal(json_string_value(json_object_get(d, "source")), "nvml");
    double period = jb_test_num(d, "update_period_s");
    assert_true(period > 0.08 && period < 0.13);
    assert_true(fabs(jb_test_num(d, "resolution_j") - 1e-3) < 1e-12);
    double jpu = jb_test_num(d, "joules_per_unit"),
           u = jb_test_num(d, "uncertainty_joules_per_unit");
    double expect = 200 * r.wall_s / r.units;
    assert_true(fabs(jpu - expect) <= u);
    /* short repetitions of a 100 ms counter: flagged, and the bound is wide */
    assert_true(jb_test_warned(&r, "quantization"));
    assert_true(u > 200 * 0.1 / 7 * 0.9);
    /* GPU state at start and end */
    json_t *s0 = json_object_get(d, "device_state_start"),
           *s1 = json_object_get(d, "device_state_end");
    assert_true(json_is_object(s0) && json_is_object(s1));
    assert_int_equal(json_integer_value(json_object_get(s0, "sm_clock_mhz")), 1980);
    assert_int_equal(json_integer_value(json_object_get(s0, "mem_clock_mhz")), 2619);
    assert_true(fabs(json_number_value(json_object_get(s0, "power_limit_w")) - 700) < 1e-9);
    assert_string_equal(json_string_value(json_object_get(s0, "throttle_reasons")), "0x4");
    assert_string_equal(
        json_string_value(json_array_get(json_object_get(s0, "throttle_reason_names"), 0)),
        "sw_power_cap");
    assert_string_equal(json_string_value(json_object_get(s0, "gpu_name")), "Fake H100 0");
    assert_string_equal(json_string_value(json_object_get(s0, "driver_version")), "999.99-fake");
    assert_string_equal(json_string_value(json_object_get(s0, "counter")), "total_energy");
    assert_true(json_integer_value(json_object_get(s1, "temperature_c")) >=
                json_integer_value(json_object_get(s0, "temperature_c")));
    jb_test_run_free(&r);
    jb_energy_close(e);
}

/* The same counter with both ends of every repetition aligned to its
 * updates (the default): no 10 s minimum, repetitions of about 0.5 s, and a
 * figure within an uncertainty whose quantization part is under 1% (the
 * rest is NVML's stated +-5 W). */
static void energy_counter_100ms_end_aligned(void **st)
{
    (void)st;
    clear_env();
    struct jb_energy *e = open_nvml("");
    /* only the 1 mJ resolution at the power measured at open: < 1 ms */
    assert_true(jb_energy_min_duration_s(e) < 0.01);
    struct jb_test_run r;
    jb_test_reps_more(e, 2, 0.5, 0.002, 3, &r);
    assert_int_equal(r.rc, 0);
    json_t *d = jb_test_entry(&r, "gpu-0");
    assert_non_null(d);
    assert_true(json_is_true(json_object_get(d, "available")));
    assert_true(json_is_true(json_object_get(d, "measured")));
    assert_int_equal(json_integer_value(json_object_get(d, "repetitions_end_aligned")), 2);
    assert_true(r.max_rep_s >= 0.5 && r.max_rep_s < 3.0);
    /* the truth: 200 W over the repetitions' interval, per unit */
    double jpu = jb_test_num(d, "joules_per_unit"),
           u = jb_test_num(d, "uncertainty_joules_per_unit"),
           q = jb_test_num(d, "quantization_bound_rel");
    double expect = 200 * jb_test_num(d, "duration_s") / r.units;
    if (!(fabs(jpu - expect) <= u) || !(q <= 0.0101))
        jb_test_dump(&r);
    assert_true(fabs(jpu - expect) <= u);
    assert_true(q > 0 && q <= 0.0101);
    assert_false(jb_test_warned(&r, "quantization"));
    /* whole mJ of 200 W: the figure is within the quantization bound alone
     * (and the counter's 1 mJ steps), the +-5 W calibration term aside */
    assert_true(fabs(jpu - expect) <= q * jpu + 2e-3 / r.units);
    jb_test_run_free(&r);
    jb_energy_close(e);
}

/* GPU 1 has no energy counter: its power is integrated instead; GPU 0
 * fails mid-run (GPU is lost): unavailable, while GPU 1 is kept. The
 * library comes through JB_NVML_LIB this time. */
static void no_counter_and_error_mid_run(void **st)
{
    (void)st;
    clear_env();
    setenv("FAKE_NVML_GPUS", "2", 1);
    setenv("FAKE_NVML_NO_ENERGY", "1", 1);
    setenv("FAKE_NVML_FAIL_GPU", "0", 1);
    /* open measures the period for up to 0.5 s; the run then lasts > 0.6 s */
    setenv("FAKE_NVML_FAIL_AFTER_MS", "800", 1);
    setenv("FAKE_NVML_WATTS", "150", 1);
    setenv("JB_NVML_LIB", fake_lib(), 1);
    struct jb_energy_opts o = {1, NULL, -1, NULL, 0};
    struct jb_energy *e = NULL;
    char err[JB_ERRLEN] = "";
    assert_int_equal(jb_energy_open("nvml", &o, &e, err, sizeof(err)), 0);
    struct jb_test_run r;
    jb_test_reps(e, 3, 3, 0.2, 1, 0, NULL, &r);
    json_t *g0 = jb_test_entry(&r, "gpu-0"), *g1 = jb_test_entry(&r, "gpu-1");
    assert_non_null(g0);
    assert_non_null(g1);
    if (json_is_true(json_object_get(g0, "available")))
        jb_test_dump(&r);
    assert_true(json_is_false(json_object_get(g0, "available")));
    assert_true(json_is_null(json_object_get(g0, "joules_per_unit")));
    assert_non_null(
        strstr(json_string_value(json_object_get(g0, "unavailable_reason")), "GPU is lost"));
    assert_true(json_is_true(json_object_get(g1, "available")));
    double jpu = jb_test_num(g1, "joules_per_unit"),
           u = jb_test_num(g1, "uncertainty_joules_per_unit");
    assert_true(fabs(jpu - 150 * r.wall_s / r.units) <= u);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(g1, "device_state_end"), "counter")),
        "power_usage_integrated");
    jb_test_run_free(&r);
    jb_energy_close(e);
    clear_env();
}

static void absent_reasons(void **st)
{
    (void)st;
    clear_env();
    const struct jb_power_source_ops *ops = jb_power_source_find("nvml");
    assert_non_null(ops);
    assert_true(ops->is_hardware);
    struct jb_power_context ctx = {1, NULL, "/", 0};
    char why[JB_ERRLEN] = "", opt[600];
    assert_int_equal(ops->probe("lib=/nonexistent/libnvidia-ml.so.1", &ctx, why, sizeof(why)),
                     JB_ENOTSUP);
    assert_non_null(strstr(why, "no NVIDIA driver"));
    setenv("FAKE_NVML_INIT_FAIL", "9", 1);
    snprintf(opt, sizeof(opt), "lib=%s", fake_lib());
    assert_int_equal(ops->probe(opt, &ctx, why, sizeof(why)), JB_ENOTSUP);
    assert_non_null(strstr(why, "Driver Not Loaded"));
    clear_env();
    setenv("FAKE_NVML_GPUS", "0", 1);
    assert_int_equal(ops->probe(opt, &ctx, why, sizeof(why)), JB_ENOTSUP);
    assert_non_null(strstr(why, "no NVIDIA GPU"));
    clear_env();
    assert_int_equal(ops->probe(opt, &ctx, why, sizeof(why)), 0);
    /* gpu=N selects one */
    setenv("FAKE_NVML_GPUS", "3", 1);
    void *s = NULL;
    snprintf(opt, sizeof(opt), "lib=%s,gpu=2", fake_lib());
    assert_int_equal(ops->open(opt, &ctx, &s, why, sizeof(why)), 0);
    assert_int_equal(ops->ndomains(s), 1);
    struct jb_power_domain_info d;
    ops->domain(s, 0, &d);
    assert_string_equal(d.name, "gpu-2");
    assert_true(d.accuracy_w > 0);
    ops->close(s);
    clear_env();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(energy_counter_100ms),
        cmocka_unit_test(energy_counter_100ms_end_aligned),
        cmocka_unit_test(no_counter_and_error_mid_run),
        cmocka_unit_test(absent_reasons),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
