/* test_backend_plugin.c: the back-end plug-in point as a contributor uses
 * it. A test-only back-end (platforms/test/tinyml_test_backend.c),
 * registered like a real one, runs every TinyML workload through the same
 * runner path, its outputs pass the model layer's check against the
 * reference, its wrong outputs fail it, and the record names it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/error.h"
#include "workloads/workload.h"

#include <string.h>

static void test_registered_and_listed(void **state)
{
    (void)state;
    const struct jb_backend *b = jb_backend_find("tinyml", "test");
    assert_non_null(b);
    assert_string_equal(b->family, "tinyml");
    char why[JB_ERRLEN];
    assert_int_equal(jb_backend_probe(b, why, sizeof(why)), 0);
    /* not a back-end of the other families */
    assert_null(jb_backend_find("llm", "test"));
}

static void run_one(const char *name, const char *dtype, const char *options, int want_check)
{
    const struct jb_workload_ops *w = jb_workload_find(name);
    assert_non_null(w);
    struct jb_workload_params p = {.dtype = dtype,
                                   .backend = "test",
                                   .scenario = JB_SCENARIO_OFFLINE,
                                   .batch = 3,
                                   .threads = 1,
                                   .seed = 7,
                                   .options = options};
    void *st = NULL;
    char err[JB_ERRLEN] = "";
    int rc = jb_workload_open(w, &p, &st, err, sizeof(err));
    if (rc)
        fail_msg("%s: %s", name, err);
    assert_int_equal(w->run(st, err, sizeof(err)), 0);
    for (int i = 0; i < 3; i++) {
        rc = w->check(st, err, sizeof(err));
        if (rc != want_check)
            fail_msg("%s %s %s: check %d '%s' (expected %d)", name, dtype, options ? options : "",
                     rc, err, want_check);
    }
    if (want_check)
        assert_non_null(strstr(err, "on test"));
    struct jb_workload_info info;
    memset(&info, 0, sizeof(info));
    w->info(st, &info);
    assert_string_equal(info.backend, "test");
    assert_int_equal(info.units_per_iteration, 3);
    assert_true(info.per_unit.macs > 0); /* the model's counts, whoever computes */
    w->close(st);
}

static void test_every_model_checks_through_it(void **state)
{
    (void)state;
    const char *models[] = {"kws-dscnn", "vww-mobilenet", "ic-resnet8", "ad-autoencoder"};
    for (int m = 0; m < 4; m++) {
        run_one(models[m], "int8", NULL, 0);
        run_one(models[m], "fp32", NULL, 0);
        run_one(models[m], "int8", "wrong=1", JB_ECHECK);
    }
}

static void test_its_options_are_typed(void **state)
{
    (void)state;
    const struct jb_workload_ops *w = jb_workload_find("kws-dscnn");
    const struct jb_backend *b = jb_backend_find("tinyml", "test");
    char err[JB_ERRLEN];
    assert_int_equal(jb_workload_options_check(w, b, "wrong=2", err, sizeof(err)), JB_EINVAL);
    assert_non_null(strstr(err, "wrong=2 is not 0 or 1"));
    /* the cpu back-end's option is not this back-end's */
    assert_int_equal(jb_workload_options_check(w, b, "kernel=reference", err, sizeof(err)),
                     JB_EINVAL);
    assert_non_null(strstr(err, "valid: weights, model, dataset, corrupt, wrong"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registered_and_listed),
        cmocka_unit_test(test_every_model_checks_through_it),
        cmocka_unit_test(test_its_options_are_typed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
