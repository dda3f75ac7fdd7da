/* test_power_estimate.c: the estimate: its three bases (a platform
 * descriptor, a TDP on the command line, the default), always labelled
 * measured = false with its stated relative uncertainty, and its energy
 * equal to idle power x time + per-core power x CPU time. */
#include "tests/power_test_util.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness/power.h"

static double cpu_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Opens the estimate with opts, reads it around a busy/idle stretch and
 * checks the energy against the model with the given figures. */
static void check_model(const char *opts, double idle_w, double w_per_core, double rel)
{
    const struct jb_power_source_ops *ops = jb_power_source_find("estimate");
    assert_non_null(ops);
    assert_false(ops->is_hardware);
    struct jb_power_context ctx = {1, NULL, "/"};
    void *s = NULL;
    char err[JB_ERRLEN] = "";
    int rc = ops->open(opts, &ctx, &s, err, sizeof(err));
    if (rc)
        fprintf(stderr, "%s: %s\n", opts, err);
    assert_int_equal(rc, 0);
    struct jb_power_domain_info d;
    ops->domain(s, 0, &d);
    assert_false(d.measured);
    assert_true(fabs(d.accuracy_rel - rel) < 1e-9);
    struct jb_power_reading r0, r1;
    double c0 = cpu_now_s();
    assert_int_equal(ops->read(s, 0, &r0, err, sizeof(err)), 0);
    double t0 = jb_power_now_s();
    volatile double x = 0;
    while (jb_power_now_s() - t0 < 0.03)
        x += 1;
    jb_power_sleep_s(0.02);
    assert_int_equal(ops->read(s, 0, &r1, err, sizeof(err)), 0);
    double c1 = cpu_now_s();
    double expect = idle_w * (r1.t_s - r0.t_s) + w_per_core * (c1 - c0);
    assert_true(fabs((r1.energy_j - r0.energy_j) - expect) < 0.02 * expect + 1e-3);
    json_t *state = json_object();
    ops->domain_state(s, 0, state);
    assert_true(fabs(json_number_value(json_object_get(state, "idle_w")) - idle_w) < 1e-9);
    json_decref(state);
    ops->close(s);
}

static void from_tdp_and_default(void **st)
{
    (void)st;
    check_model("tdp=100,idle=20,cores=8", 20, 10, 0.5);
    check_model("tdp=100,cores=10", 30, 7, 0.5); /* idle defaults to 30% of TDP */
    check_model(NULL, 0, 10, 1.0);               /* the documented default: +-100% */
    check_model("active_w_per_core=3,idle=1,uncertainty_pct=25", 1, 3, 0.25);
}

static void from_platform_descriptor(void **st)
{
    (void)st;
    char path[] = "/tmp/jb_platform_XXXXXX.json";
    int fd = mkstemps(path, 5);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    /* A whole descriptor: the estimate loads it as --platform does, with
     * the same contract (platforms/descriptor.h). */
    const char *rest = "\"cores\": 8, \"embodied_kgco2e\": 100, \"lifetime_years\": 4, "
                       "\"pue_default\": 1, \"sources\": {\"tdp_w\": \"test\"}}\n";
    fprintf(f,
            "{\"name\": \"test-cpu\", \"kind\": \"cpu\", \"tdp_w\": 65, \"idle_w\": 9, "
            "\"active_w_per_core\": 6.5, %s",
            rest);
    fclose(f);
    char opts[128];
    snprintf(opts, sizeof(opts), "platform=%s", path);
    check_model(opts, 9, 6.5, 0.4);
    /* a GPU descriptor is refused: this model is of CPUs */
    f = fopen(path, "w");
    fprintf(f,
            "{\"name\": \"g\", \"kind\": \"gpu\", \"tdp_w\": 700, \"idle_w\": 60, "
            "\"active_w_per_core\": 0, %s",
            rest);
    fclose(f);
    const struct jb_power_source_ops *ops = jb_power_source_find("estimate");
    struct jb_power_context ctx = {1, NULL, "/"};
    char why[JB_ERRLEN];
    assert_int_equal(ops->probe(opts, &ctx, why, sizeof(why)), JB_ENOTSUP);
    /* and one that breaks the contract is refused, naming the field */
    f = fopen(path, "w");
    fprintf(f, "{\"name\": \"c\", \"kind\": \"cpu\", \"tdp_w\": 65, \"idle_w\": 9}\n");
    fclose(f);
    assert_int_equal(ops->probe(opts, &ctx, why, sizeof(why)), JB_EINVAL);
    assert_non_null(strstr(why, "active_w_per_core"));
    unlink(path);
    assert_int_equal(ops->probe("platform=no-such-platform", &ctx, why, sizeof(why)), JB_ENOENT);
    assert_non_null(strstr(why, "no-such-platform"));
    assert_int_equal(ops->probe("tdp=10,idle=20", &ctx, why, sizeof(why)), JB_EINVAL);
}

/* Through the energy API: labelled, never passed off as a measurement. */
static void labelled_in_record(void **st)
{
    (void)st;
    struct jb_energy_opts o = {1, NULL, -1, NULL};
    struct jb_energy *e = NULL;
    char err[JB_ERRLEN];
    assert_int_equal(jb_energy_open("estimate:tdp=50", &o, &e, err, sizeof(err)), 0);
    assert_true(jb_energy_min_duration_s(e) == 0);
    struct jb_test_run r;
    jb_test_reps(e, 2, 2, 0.02, 1, 1, NULL, &r);
    json_t *d = jb_test_entry(&r, "cpu-estimate");
    assert_true(json_is_false(json_object_get(d, "measured")));
    assert_string_equal(json_string_value(json_object_get(d, "source")), "estimate");
    double jpu = jb_test_num(d, "joules_per_unit"),
           u = jb_test_num(d, "uncertainty_joules_per_unit");
    assert_true(u >= 0.5 * jpu * 0.99);
    assert_true(jb_test_warned(&r, "estimated"));
    jb_test_run_free(&r);
    jb_energy_close(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(from_tdp_and_default),
        cmocka_unit_test(from_platform_descriptor),
        cmocka_unit_test(labelled_in_record),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
