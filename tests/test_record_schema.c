/* test_record_schema.c: every record that `joulebench run` writes validates
 * against results/schema/record.schema.json, for each kind of workload in
 * the registry that runs quickly on the CPU, for both scenarios, with the
 * estimate and the simulated power source. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/cli_util.h"

#include "results/schema_validate.h"
#include "workloads/workload.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char tmp[] = "/tmp/jb_schema_XXXXXX";

static int validate_dir(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 5, ".json") || strstr(e->d_name, ".gbench."))
            continue;
        char path[1024], err[512];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        json_t *rec = NULL;
        if (jb_record_load(path, &rec, err, sizeof(err)))
            fail_msg("%s does not validate: %s", e->d_name, err);
        json_decref(rec);
        n++;
    }
    closedir(d);
    return n;
}

static void test_calibration_records_validate(void **state)
{
    (void)state;
    char out[256];
    snprintf(out, sizeof(out), "%s/cal", tmp);
    const char *args[] = {"run", "--workload", "triad,fma", "--min-time",
                          "0.02", "--repetitions", "2", "--warmup", "0", "--out", out, NULL};
    assert_int_equal(jb_test_run_cli(args, "/dev/null", NULL, 0), 0);
    assert_int_equal(validate_dir(out), 2);
}

static void test_every_cheap_workload_validates(void **state)
{
    (void)state;
    /* One record per family, on the smallest configuration each has; both
     * scenarios; a measured (simulated) source beside the estimate. */
    static const char *const cheap[] = {"triad", "kws-dscnn", "ad-autoencoder", "stories15m"};
    /* each with one of its own options (any other key is refused) */
    static const char *const opts[] = {"mib=8", "corrupt=0", "corrupt=0", "token=1"};
    /* the cpu LLM back-end decodes one sequence per step (it refuses more) */
    static const char *const batch[] = {"2", "2", "2", "1"};
    int expected = 0;
    char out[256];
    snprintf(out, sizeof(out), "%s/all", tmp);
    for (size_t i = 0; i < sizeof(cheap) / sizeof(cheap[0]); i++) {
        if (!jb_workload_find(cheap[i]))
            continue; /* not in this build yet */
        const char *args[] = {"run", "--workload", cheap[i], "--scenario",
                              "single-stream,offline", "--batch", batch[i], "--options", opts[i],
                              "--power", "estimate+sim:watts=20", "--min-time", "0.02",
                              "--repetitions", "2", "--warmup", "0", "--out", out, NULL};
        assert_int_equal(jb_test_run_cli(args, "/dev/null", NULL, 0), 0);
        expected += 2;
    }
    assert_int_equal(validate_dir(out), expected);
}

static int setup(void **state)
{
    (void)state;
    return mkdtemp(tmp) && getenv("JB_CLI") ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
    return system(cmd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_calibration_records_validate),
        cmocka_unit_test(test_every_cheap_workload_validates),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
