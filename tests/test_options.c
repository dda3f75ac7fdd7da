/* test_options.c: the one strict key=value parser (base/options.h) and the
 * typed option tables of workloads and back-ends, as a user meets them: a
 * typo or a malformed value is refused naming the option and what is
 * valid, never ignored. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/error.h"
#include "base/options.h"
#include "harness/power_opts.h"
#include "workloads/workload.h"

#include <string.h>

static const struct jb_option_def table[] = {
    {"n", JB_OPT_INT, "4", 1, 8, NULL, "an integer"},
    {"x", JB_OPT_REAL, "0.5", 0, 1, NULL, "a number"},
    {"on", JB_OPT_BOOL, "0", 0, 0, NULL, "a flag"},
    {"mode", JB_OPT_ENUM, "a", 0, 0, "a|bb|c", "a choice"},
    {"path", JB_OPT_STR, NULL, 0, 0, NULL, "text"},
    {NULL, 0, NULL, 0, 0, NULL, NULL},
};

static int check(const char *spec, char *err)
{
    const struct jb_option_def *const t[] = {table, NULL};
    return jb_options_check("test", spec, t, err, JB_ERRLEN);
}

static void refused(const char *spec, const char *says)
{
    char err[JB_ERRLEN] = "";
    int rc = check(spec, err);
    if (rc != JB_EINVAL || !strstr(err, says))
        fail_msg("'%s': rc %d '%s' (expected JB_EINVAL and '%s')", spec, rc, err, says);
}

static void test_valid_specs(void **state)
{
    (void)state;
    char err[JB_ERRLEN];
    assert_int_equal(check(NULL, err), 0);
    assert_int_equal(check("", err), 0);
    assert_int_equal(check("n=8,x=1e-1,on=1,mode=bb,path=/a/b.gguf", err), 0);
    long n = 0;
    double x = 0;
    char buf[32];
    assert_int_equal(jb_opt_int("n=7", table, "n", &n), 1);
    assert_int_equal(n, 7);
    assert_int_equal(jb_opt_int("", table, "n", &n), 1); /* the default */
    assert_int_equal(n, 4);
    assert_int_equal(jb_opt_real("x=0.25", table, "x", &x), 1);
    assert_true(x == 0.25);
    assert_int_equal(jb_opt_str(NULL, table, "path", buf, sizeof(buf)), 0); /* no default */
    assert_int_equal(jb_opt_str("mode=c", table, "mode", buf, sizeof(buf)), 1);
    assert_string_equal(buf, "c");
}

static void test_malformed_refused(void **state)
{
    (void)state;
    refused("nosuch=1", "unknown option 'nosuch' (valid: n, x, on, mode, path)");
    refused("n=9", "n=9 is not an integer in 1..8");
    refused("n=0x4", "not an integer");
    refused("n=4.0", "not an integer");
    refused("n=", "empty value");
    refused("=4", "empty key");
    refused("n", "not key=value");
    refused("n=1,,x=0", "empty option");
    refused("n=1,", "trailing comma");
    refused("n=1,n=2", "given twice");
    refused("x=nan", "not a number");
    refused("x=inf", "not a number");
    refused("x=0x1p-2", "not a number");
    refused("x=2", "not a number in 0..1");
    refused("on=yes", "not 0 or 1");
    refused("mode=b", "not one of a|bb|c");
    refused("path=a\tb", "control character");
    char big[2048];
    memset(big, 'a', sizeof(big));
    memcpy(big, "path=", 5);
    big[sizeof(big) - 1] = 0;
    refused(big, "too long");
}

/* Workloads and back-ends declare their options: --options nosuch=1 and a
 * back-end option out of its range are refused with the option named and
 * the valid ones listed (issue: CUDA options went through atoi). */
static void test_workload_and_backend_tables(void **state)
{
    (void)state;
    char err[JB_ERRLEN];
    const struct jb_workload_ops *w = jb_workload_find("llama3.2-1b");
    const struct jb_backend *b = NULL;
    assert_non_null(w);
    assert_int_equal(jb_workload_backend(w, NULL, &b, err, sizeof(err)), 0);
    assert_string_equal(b->name, "cpu");
    assert_int_equal(jb_workload_options_check(w, b, "kv=fp16,token=3", err, sizeof(err)), 0);
    assert_int_equal(jb_workload_options_check(w, b, "nosuch=1", err, sizeof(err)), JB_EINVAL);
    assert_non_null(strstr(err, "unknown option 'nosuch'"));
    assert_non_null(strstr(err, "token, kv, gguf"));
    /* a cuda option on the cpu back-end is no option of that run */
    assert_int_equal(jb_workload_options_check(w, b, "qmma=2", err, sizeof(err)), JB_EINVAL);
    assert_non_null(strstr(err, "qmma"));
    assert_int_equal(jb_workload_backend(w, "cuda", &b, err, sizeof(err)), 0);
    assert_int_equal(jb_workload_options_check(w, b, "qmma=2", err, sizeof(err)), JB_EINVAL);
#ifdef JB_HAVE_CUDA
    assert_non_null(strstr(err, "qmma=2 is not one of 0|1"));
    assert_int_equal(jb_workload_options_check(w, b, "qmma=0,graph=0", err, sizeof(err)), 0);
#else
    /* the stand-in of a build without CUDA declares no options */
    assert_non_null(strstr(err, "unknown option 'qmma'"));
#endif
    /* an alias names its back-end; asking for another is refused */
    const struct jb_workload_ops *a = jb_workload_find("cuda-llama3.2-1b");
    assert_non_null(a);
    assert_ptr_equal(jb_workload_canonical(a), w);
    assert_int_equal(jb_workload_backend(a, NULL, &b, err, sizeof(err)), 0);
    assert_string_equal(b->name, "cuda");
    assert_int_equal(jb_workload_backend(a, "cpu", &b, err, sizeof(err)), JB_EINVAL);
    assert_non_null(strstr(err, "--backend cpu"));
    assert_int_equal(jb_workload_backend(w, "nosuch", &b, err, sizeof(err)), JB_EINVAL);
    assert_non_null(strstr(err, "cpu, cuda"));
}

/* --power specs go through the same strict splitter. */
static void test_power_specs_are_strict(void **state)
{
    (void)state;
    static const char *const keys[] = {"watts", "period_ms", NULL};
    char err[JB_ERRLEN];
    assert_int_equal(jb_power_opts_check("sim", "watts=5,period_ms=100", keys, err, sizeof(err)),
                     0);
    assert_int_equal(jb_power_opts_check("sim", NULL, keys, err, sizeof(err)), 0);
    const char *bad[][2] = {{"watts=5,watts=6", "given twice"},
                            {"watts=5,", "trailing comma"},
                            {"watts", "not key=value"},
                            {"wats=5", "unknown option 'wats' (valid: watts, period_ms)"},
                            {"watts=5,,period_ms=1", "empty option"}};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(jb_power_opts_check("sim", bad[i][0], keys, err, sizeof(err)),
                         JB_EINVAL);
        if (!strstr(err, bad[i][1]))
            fail_msg("'%s': '%s' (expected '%s')", bad[i][0], err, bad[i][1]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_specs),
        cmocka_unit_test(test_malformed_refused),
        cmocka_unit_test(test_workload_and_backend_tables),
        cmocka_unit_test(test_power_specs_are_strict),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
