/* test_tinyml_cli.c: the TinyML workloads from the command line, as a user
 * runs them: `joulebench run --suite tinyml` runs the four models in int8
 * and fp32 in both scenarios with every output check passing (shortened
 * with --min-time/--repetitions, which override the suite's); a spoiled
 * output (test option corrupt=1) makes the record say
 * validity.output_check "fail" and the exit status non-zero; an unknown
 * precision is a one-line error. The suite runs the official MLPerf Tiny
 * models (every record names the file and its sha256); a malformed model
 * file is bad input (exit 2, nothing run) with what is wrong and where. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/cli_util.h"

#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char tmp[] = "/tmp/jb_tinyml_XXXXXX";
static char err_buf[1 << 16];

/* Runs the CLI with args, stdout discarded, stderr kept; exit status. */
static int run_cli(const char *const *args)
{
    char ep[300];
    snprintf(ep, sizeof(ep), "%s/stderr", tmp);
    int rc = jb_test_run_cli(args, "/dev/null", ep, 0);
    jb_test_slurp(ep, err_buf, sizeof(err_buf));
    return rc;
}

/* Reads every record in dir; counts them and those whose check passed, and
 * marks which (model, dtype, scenario) combinations were seen. */
static int read_records(const char *dir, int *passed, int seen[4][2][2])
{
    const char *models[] = {"kws-dscnn", "vww-mobilenet", "ic-resnet8", "ad-autoencoder"};
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    *passed = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".json"))
            continue;
        char path[600];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        json_error_t je;
        json_t *j = json_load_file(path, 0, &je);
        assert_non_null(j);
        if (!json_object_get(j, "schema_version")) { /* Google Benchmark's own JSON */
            json_decref(j);
            continue;
        }
        n++;
        const char *check =
            json_string_value(json_object_get(json_object_get(j, "validity"), "output_check"));
        *passed += check && !strcmp(check, "pass");
        json_t *w = json_object_get(j, "workload");
        const char *name = json_string_value(json_object_get(w, "name"));
        const char *dt = json_string_value(json_object_get(w, "dtype"));
        const char *sc =
            json_string_value(json_object_get(json_object_get(j, "config"), "scenario"));
        for (int m = 0; m < 4; m++)
            if (name && dt && sc && !strcmp(name, models[m]))
                seen[m][!strcmp(dt, "fp32")][!strcmp(sc, "offline")] = 1;
        /* the official model by default, named with its sha256 */
        json_t *model = json_object_get(w, "model");
        const char *weights = json_string_value(json_object_get(model, "weights"));
        const char *sha = json_string_value(json_object_get(model, "sha256"));
        assert_non_null(weights);
        assert_string_equal(weights, "official");
        assert_non_null(sha);
        assert_int_equal(strlen(sha), 64);
        /* the op counts reach the record */
        assert_true(json_number_value(
                        json_object_get(json_object_get(w, "counts_per_unit"), "macs")) > 1e5);
        json_decref(j);
    }
    closedir(d);
    return n;
}

static int setup(void **s)
{
    (void)s;
    return mkdtemp(tmp) ? 0 : -1;
}

static int teardown(void **s)
{
    (void)s;
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_suite_runs_everything(void **s)
{
    (void)s;
    const char *src = getenv("JB_SOURCE_DIR");
    assert_non_null(src);
    char suite[512], out[400];
    snprintf(suite, sizeof(suite), "%s/suites/tinyml", src);
    snprintf(out, sizeof(out), "%s/suite", tmp);
    int rc =
        run_cli((const char *[]){"run", "--suite", suite, "--min-time", "0.01", "--repetitions",
                                 "2", "--warmup", "0", "--threads", "2", "--out", out, NULL});
    if (rc)
        print_error("%s", err_buf);
    assert_int_equal(rc, 0);
    int passed, seen[4][2][2] = {{{0}}};
    int n = read_records(out, &passed, seen);
    assert_int_equal(n, 16);
    assert_int_equal(passed, 16);
    for (int m = 0; m < 4; m++)
        for (int d = 0; d < 2; d++)
            for (int c = 0; c < 2; c++)
                assert_int_equal(seen[m][d][c], 1);
}

static void test_spoiled_output_fails_run(void **s)
{
    (void)s;
    char out[400];
    snprintf(out, sizeof(out), "%s/spoiled", tmp);
    int rc = run_cli((const char *[]){"run", "--workload", "ic-resnet8", "--dtype", "int8",
                                      "--options", "corrupt=1", "--min-time", "0.01",
                                      "--repetitions", "1", "--warmup", "0", "--out", out, NULL});
    assert_int_equal(rc, 1); /* a failed output check is a failed run, not bad input */
    assert_non_null(strstr(err_buf, "reference"));
    int passed, seen[4][2][2] = {{{0}}};
    assert_int_equal(read_records(out, &passed, seen), 1);
    assert_int_equal(passed, 0);
}

static void test_unknown_precision(void **s)
{
    (void)s;
    char out[400];
    snprintf(out, sizeof(out), "%s/bad", tmp);
    int rc = run_cli((const char *[]){"run", "--workload", "vww-mobilenet", "--dtype", "int4",
                                      "--out", out, NULL});
    assert_int_equal(rc, 2); /* bad input, found before anything runs */
    assert_non_null(strstr(err_buf, "int4"));
}

static void test_malformed_model_is_bad_input(void **s)
{
    (void)s;
    char out[400], bad[400], opt[450];
    snprintf(out, sizeof(out), "%s/badmodel", tmp);
    snprintf(bad, sizeof(bad), "%s/truncated.tflite", tmp);
    /* the first 3000 bytes of a real model: offsets past the end */
    const char *src = getenv("JB_SOURCE_DIR");
    char model[512];
    snprintf(model, sizeof(model), "%s/workloads/tinyml/models/kws_ref_model.tflite", src);
    FILE *in = fopen(model, "rb"), *o = fopen(bad, "wb");
    assert_non_null(in);
    assert_non_null(o);
    char buf[3000];
    assert_int_equal(fread(buf, 1, sizeof(buf), in), sizeof(buf));
    assert_int_equal(fwrite(buf, 1, sizeof(buf), o), sizeof(buf));
    fclose(in);
    fclose(o);
    snprintf(opt, sizeof(opt), "model=%s", bad);
    int rc = run_cli(
        (const char *[]){"run", "--workload", "kws-dscnn", "--options", opt, "--out", out, NULL});
    assert_int_equal(rc, 2);
    assert_non_null(strstr(err_buf, "malformed TFLite file"));
    assert_non_null(strstr(err_buf, "(byte "));
    assert_int_equal(access(out, F_OK), -1); /* refused before anything ran */
    unlink(bad);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_suite_runs_everything),
        cmocka_unit_test(test_spoiled_output_fails_run),
        cmocka_unit_test(test_unknown_precision),
        cmocka_unit_test(test_malformed_model_is_bad_input),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
