/* test_power_nvml_real.c: on a machine with a real NVIDIA driver, checks
 * the nvml source against the same counter read independently by
 * nvidia-smi (total_energy_consumption, mJ) at the start and end of one
 * repetition. Skipped (and says so) where there is no driver, as on the
 * development VM; on the GPU machine it prints the agreement line recorded
 * in the README. JB_NVML_AGREE_S sets the repetition's length (default 12 s,
 * above the 10 s that keeps NVML's 100 ms quantization under 1%). */
#include "tests/power_test_util.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "harness/power.h"

/* nvidia-smi's reading of GPU 0's counter, in joules, and when the call
 * began and ended: the counter was read somewhere in between. */
static int smi_j(double *j, double *t_begin, double *t_end)
{
    *t_begin = jb_power_now_s();
    FILE *p = popen("nvidia-smi --query-gpu=total_energy_consumption --format=csv,noheader,"
                    "nounits -i 0 2>/dev/null",
                    "r");
    if (!p)
        return -1;
    double mj = NAN;
    int ok = fscanf(p, "%lf", &mj) == 1;
    pclose(p);
    *t_end = jb_power_now_s();
    *j = mj * 1e-3;
    return ok && isfinite(mj) ? 0 : -1;
}

static void agrees_with_nvidia_smi(void **st)
{
    (void)st;
    const struct jb_power_source_ops *ops = jb_power_source_find("nvml");
    struct jb_power_context ctx = {1, NULL, "/", 0};
    char why[JB_ERRLEN] = "";
    double j, a, b;
    if (getenv("JB_NVML_LIB") || ops->probe("gpu=0", &ctx, why, sizeof(why)) || smi_j(&j, &a, &b)) {
        fprintf(stderr, "skipped: no real NVML with an energy counter and nvidia-smi here (%s)\n",
                why);
        skip();
    }
    const char *ds = getenv("JB_NVML_AGREE_S");
    double dur = ds && atof(ds) > 0 ? atof(ds) : 12;
    struct jb_energy_opts o = {1, NULL, -1, NULL, 0};
    struct jb_energy *e = NULL;
    char err[JB_ERRLEN];
    assert_int_equal(jb_energy_open("nvml:gpu=0", &o, &e, err, sizeof(err)), 0);
    json_t *list = json_array(), *warn = json_array();
    double ja = 0, jb = 0, s0 = 0, e0 = 0, s1 = 0, e1 = 0;
    jb_energy_begin_run(e);
    jb_energy_rep_begin(e);
    double t_rb = jb_power_now_s();
    assert_int_equal(smi_j(&ja, &s0, &e0), 0);
    jb_power_sleep_s(dur);
    assert_int_equal(smi_j(&jb, &s1, &e1), 0);
    double t_re = jb_power_now_s();
    struct jb_rep_stats rs = {t_re - t_rb, 0, 1};
    jb_energy_rep_end(e, &rs);
    assert_int_equal(jb_energy_finish_run(e, 1, list, warn, NULL, err, sizeof(err)), 0);
    json_t *d = json_array_get(list, 0);
    assert_true(json_is_true(json_object_get(d, "available")));
    double jj = json_number_value(json_object_get(d, "energy_j"));
    double u = json_number_value(json_object_get(d, "uncertainty_joules_per_unit"));
    double p = json_number_value(json_object_get(d, "average_power_w"));
    double period = json_number_value(json_object_get(d, "update_period_s"));
    double smi = jb - ja;
    /* joulebench's window holds nvidia-smi's: it also counts the time before
     * the first and after the second nvidia-smi read */
    double lo = p * ((s0 - t_rb) + (t_re - e1)), hi = p * ((e0 - t_rb) + (t_re - s1));
    double slack = 2 * p * period + u; /* each nvidia-smi read may be one update stale */
    double diff = jj - smi;
    fprintf(stderr,
            "NVML agreement over %.2f s: joulebench %.3f J +- %.3f J (%.1f W, update period "
            "%.3f s); nvidia-smi delta %.3f J; difference %.3f J (%.2f%%); expected window "
            "excess %.3f..%.3f J, slack %.3f J\n",
            t_re - t_rb, jj, u, p, period, smi, diff, 100 * diff / smi, lo, hi, slack);
    assert_true(diff >= lo - slack && diff <= hi + slack);
    json_decref(list);
    json_decref(warn);
    jb_energy_close(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(agrees_with_nvidia_smi),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
