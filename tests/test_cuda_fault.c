/* test_cuda_fault.c: a GPU lost in the middle of a suite (cuda_fault.h,
 * cuda_rt.h's guard).
 *
 * Everywhere: JB_CUDA_FAULT parses as documented and malformed values are
 * refused; the fault fires once, at the planned run; the lost-GPU latch
 * keeps the first cause per device. With the CUDA back-end built (a GPU or
 * not): a GPU marked lost is refused by the probe and by the CUDA
 * workloads' open, naming the workload and error that lost it, and a
 * malformed JB_CUDA_FAULT makes a CUDA workload refuse to open.
 *
 * With a GPU: `joulebench run` of a suite whose first run, a CUDA one, has
 * its context poisoned by JB_CUDA_FAULT after one passed check: that run
 * fails with the CUDA error and "context lost" (its completed repetitions
 * kept in a record marked incomplete, with the error in validity.run_error),
 * the CPU run after it (triad) still runs and passes, the CUDA run after
 * that is refused at once with "GPU 0 unusable since ...", and the exit
 * status is 1. The trap variant of the fault is seen as
 * cudaErrorLaunchFailure. The CLI runs in a child process, so this test's
 * own CUDA context stays healthy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "platforms/cuda/cuda_fault.h"
#include "workloads/workload.h"
#ifdef JB_HAVE_CUDA
#include "cli_util.h"
#include "tests/cuda_test_util.h"
#include "platforms/cuda/cuda_rt.h"
#include <jansson.h>
#endif

static void test_parse(void **state)
{
    (void)state;
    struct jb_cuda_fault f;
    char err[JB_ERRLEN] = "";
    assert_int_equal(jb_cuda_fault_parse(NULL, &f, err, sizeof(err)), 0);
    assert_int_equal(f.when, JB_CUDA_FAULT_NONE);
    assert_int_equal(jb_cuda_fault_parse("", &f, err, sizeof(err)), 0);
    assert_int_equal(f.when, JB_CUDA_FAULT_NONE);
    assert_int_equal(jb_cuda_fault_parse("after:3", &f, err, sizeof(err)), 0);
    assert_int_equal(f.when, JB_CUDA_FAULT_AFTER_RUNS);
    assert_int_equal(f.n, 3);
    assert_int_equal(f.trap, 0);
    assert_int_equal(jb_cuda_fault_parse("after-checks:2:trap", &f, err, sizeof(err)), 0);
    assert_int_equal(f.when, JB_CUDA_FAULT_AFTER_CHECKS);
    assert_int_equal(f.n, 2);
    assert_int_equal(f.trap, 1);
    assert_string_equal(f.spec, "after-checks:2:trap");
    assert_int_equal(jb_cuda_fault_parse("after:0", &f, err, sizeof(err)), 0);
    assert_int_equal(f.n, 0);
    static const char *const bad[] = {"after",        "after:",       "after:-1", "after:x",
                                      "after:3:boom", "after:3trap",  "before:3", "after: 3",
                                      "trap",         "after-checks", "AFTER:3"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        if (jb_cuda_fault_parse(bad[i], &f, err, sizeof(err)) != JB_EINVAL)
            fail_msg("JB_CUDA_FAULT=%s was accepted", bad[i]);
        assert_non_null(strstr(err, "JB_CUDA_FAULT"));
        assert_non_null(strstr(err, "after:N"));
        assert_int_equal(f.when, JB_CUDA_FAULT_NONE); /* nothing half-parsed */
    }
}

static void test_fires_once_after_n_runs(void **state)
{
    (void)state;
    struct jb_cuda_fault f;
    char err[JB_ERRLEN];
    assert_int_equal(jb_cuda_fault_parse("after:3", &f, err, sizeof(err)), 0);
    int fired_at = -1, fired = 0;
    for (int i = 0; i < 10; i++)
        if (jb_cuda_fault_due(&f)) {
            fired++;
            fired_at = i;
        }
    assert_int_equal(fired, 1);
    assert_int_equal(fired_at, 3); /* runs 0, 1, 2 go normally */
    assert_true(f.fired);
    /* No plan: never. */
    assert_int_equal(jb_cuda_fault_parse(NULL, &f, err, sizeof(err)), 0);
    for (int i = 0; i < 10; i++)
        assert_int_equal(jb_cuda_fault_due(&f), 0);
}

static void test_fires_after_n_checks(void **state)
{
    (void)state;
    struct jb_cuda_fault f;
    char err[JB_ERRLEN];
    assert_int_equal(jb_cuda_fault_parse("after-checks:2", &f, err, sizeof(err)), 0);
    /* Repetitions of 5 runs, a check after each: the run after the second
     * check is the one. */
    int fired_at = -1, run = 0;
    for (int rep = 0; rep < 4; rep++) {
        for (int i = 0; i < 5; i++, run++)
            if (jb_cuda_fault_due(&f))
                fired_at = run;
        jb_cuda_fault_checked(&f);
    }
    assert_int_equal(fired_at, 10);
}

static void test_latch_keeps_first_cause(void **state)
{
    (void)state;
    char err[JB_ERRLEN] = "";
    assert_int_equal(jb_cuda_lost_check(7, err, sizeof(err)), 0);
    jb_cuda_lost_set(7, "cuda-kws-dscnn",
                     "cudaErrorIllegalAddress: an illegal memory access was encountered");
    jb_cuda_lost_set(7, "cuda-copy", "cudaErrorLaunchFailure: unspecified launch failure");
    assert_int_equal(jb_cuda_lost_check(7, err, sizeof(err)), JB_EUNAVAIL);
    assert_non_null(strstr(err, "GPU 7 unusable since cuda-kws-dscnn lost its context "
                                "(cudaErrorIllegalAddress: an illegal memory access"));
    assert_null(strstr(err, "cuda-copy"));
    assert_int_equal(jb_cuda_lost_check(6, err, sizeof(err)), 0); /* other GPUs are fine */
    /* Ordinals out of the latch's range are ignored, not a crash. */
    jb_cuda_lost_set(-1, "x", "y");
    jb_cuda_lost_set(1 << 20, "x", "y");
    assert_int_equal(jb_cuda_lost_check(-1, err, sizeof(err)), 0);
    assert_int_equal(jb_cuda_lost_check(1 << 20, err, sizeof(err)), 0);
}

#ifdef JB_HAVE_CUDA
/* No GPU is needed: the latch is consulted before any CUDA call. GPU 9 is
 * used so that GPU 0 stays usable for the tests below. */
static void test_lost_gpu_is_refused_at_open(void **state)
{
    (void)state;
    char err[JB_ERRLEN] = "";
    jb_cuda_lost_set(9, "cuda-llama3.2-1b",
                     "cudaErrorIllegalAddress: an illegal memory access was encountered");
    assert_int_equal(jb_cuda_probe(9, NULL, err, sizeof(err)), JB_EUNAVAIL);
    assert_non_null(strstr(err, "GPU 9 unusable since cuda-llama3.2-1b"));
    static const char *const names[] = {"cuda-kws-dscnn", "cuda-stories15m"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        const struct jb_workload_ops *w = jb_workload_find(names[i]);
        assert_non_null(w);
        struct jb_workload_params p = {
            .batch = 1, .threads = 1, .seed = 1, .context = 16, .options = "device=9"};
        void *st = NULL;
        err[0] = '\0';
        assert_int_equal(jb_workload_open(w, &p, &st, err, sizeof(err)), JB_EUNAVAIL);
        assert_null(st);
        assert_non_null(strstr(err, "unusable since cuda-llama3.2-1b lost its context"));
        assert_non_null(strstr(err, "an illegal memory access"));
    }
}

static void test_malformed_hook_refuses_open(void **state)
{
    (void)state;
    const struct jb_workload_ops *w = jb_workload_find("cuda-kws-dscnn");
    struct jb_workload_params p = {.batch = 1, .threads = 1, .seed = 1};
    void *st = NULL;
    char err[JB_ERRLEN] = "";
    setenv("JB_CUDA_FAULT", "sometimes", 1);
    int rc = jb_workload_open(w, &p, &st, err, sizeof(err));
    unsetenv("JB_CUDA_FAULT");
    assert_int_equal(rc, JB_EINVAL);
    assert_null(st);
    assert_non_null(strstr(err, "JB_CUDA_FAULT='sometimes'"));
}

static char tmp[] = "/tmp/jb_cuda_fault_XXXXXX";
static char err_txt[1 << 16];

/* Runs the CLI with JB_CUDA_FAULT=fault; its stderr into err_txt. */
static int run_cli_with_fault(const char *fault, const char *const *args)
{
    char o[96], e[96];
    snprintf(o, sizeof(o), "%s/stdout", tmp);
    snprintf(e, sizeof(e), "%s/stderr", tmp);
    setenv("JB_CUDA_FAULT", fault, 1);
    int rc = jb_test_run_cli(args, o, e, 0);
    unsetenv("JB_CUDA_FAULT");
    jb_test_slurp(e, err_txt, sizeof(err_txt));
    print_message("exit %d; stderr:\n%s", rc, err_txt);
    return rc;
}

/* The line of err_txt that mentions `what`, into line ("" if none). */
static void stderr_line(const char *what, char *line, size_t n)
{
    const char *p = strstr(err_txt, what);
    line[0] = '\0';
    if (!p)
        return;
    while (p > err_txt && p[-1] != '\n')
        p--;
    const char *q = strchr(p, '\n');
    snprintf(line, n, "%.*s", (int)(q ? q - p : (long)strlen(p)), p);
}

/* The path of a record file of `workload` in dir, or NULL. */
static const char *find_record_file(const char *dir, const char *workload)
{
    static char name[512];
    DIR *d = opendir(dir);
    struct dirent *e;
    const char *found = NULL;
    size_t n = strlen(workload);
    while (d && (e = readdir(d)))
        if (!strncmp(e->d_name, workload, n) && e->d_name[n] == '_' && strstr(e->d_name, ".json") &&
            !strstr(e->d_name, ".gbench.json")) {
            snprintf(name, sizeof(name), "%s/%s", dir, e->d_name);
            found = name;
            break;
        }
    if (d)
        closedir(d);
    return found;
}

static void test_suite_goes_on_after_gpu_lost(void **state)
{
    (void)state;
    if (!jb_test_have_gpu())
        skip();
    assert_non_null(mkdtemp(tmp));
    char suite[96], out[96], line[1024];
    snprintf(suite, sizeof(suite), "%s/gpufault", tmp);
    snprintf(out, sizeof(out), "%s/out", tmp);
    FILE *f = fopen(suite, "w");
    assert_non_null(f);
    /* The fault comes at the first run after the second passed check: the
     * runner checks after each repetition (and a probe that came close to
     * the minimum time), so at least one repetition of the four is kept. */
    fputs("cuda-kws-dscnn backend=cuda dtype=int8 repetitions=4\n"
          "triad repetitions=2 options=mib=16\n"
          "cuda-ic-resnet8 backend=cuda dtype=int8 repetitions=2\n",
          f);
    fclose(f);
    /* --power estimate: no energy counter lengthens the repetitions. No
     * warm-up, whose calls would be checked too. 0.2 s a repetition: a
     * first iteration slowed by a twentieth of that would make Google
     * Benchmark size the repetitions from it (too short to be checked). */
    int rc = run_cli_with_fault("after-checks:2",
                                (const char *[]){"run", "--suite", suite, "--min-time", "0.2",
                                                 "--warmup", "0", "--power", "estimate", "--format",
                                                 "json", "--out", out, NULL});
    assert_int_equal(rc, 1); /* failed runs, as for any failed run */

    /* The faulted run: the CUDA error, the lost context, that it was a test. */
    stderr_line("cuda-kws-dscnn:", line, sizeof(line));
    assert_non_null(strstr(line, "GPU 0 context lost (sticky cudaErrorIllegalAddress"));
    assert_non_null(strstr(line, "injected by JB_CUDA_FAULT"));
    /* The CUDA run after it: refused at once, naming the cause. */
    stderr_line("cuda-ic-resnet8:", line, sizeof(line));
    assert_non_null(strstr(line, "GPU 0 unusable since kws-dscnn on cuda lost its context "
                                 "(cudaErrorIllegalAddress"));
    /* The CPU run: no complaint (its progress line, "run 2 of 3 done ...:
     * triad ...", is no error; an error line would name it after the
     * suite line, "gpufault:2: triad:"). */
    assert_null(strstr(err_txt, ":2: triad"));

    /* The records on disk: triad's complete and passed; the faulted run's
     * incomplete, with the error; none of the refused run. */
    json_error_t je;
    assert_non_null(find_record_file(out, "triad"));
    json_t *tri = json_load_file(find_record_file(out, "triad"), 0, &je);
    assert_non_null(tri);
    assert_true(json_is_true(json_object_get(tri, "complete")));
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(tri, "validity"), "output_check")),
        "pass");
    assert_non_null(find_record_file(out, "cuda-kws-dscnn"));
    json_t *kws = json_load_file(find_record_file(out, "cuda-kws-dscnn"), 0, &je);
    assert_non_null(kws);
    assert_true(json_is_false(json_object_get(kws, "complete")));
    const char *why =
        json_string_value(json_object_get(json_object_get(kws, "validity"), "run_error"));
    assert_non_null(why);
    assert_non_null(strstr(why, "context lost"));
    /* The repetitions before the fault, and nothing of the one it cut. */
    json_t *m = json_object_get(kws, "measurements");
    json_int_t done = json_integer_value(json_object_get(m, "repetitions_completed"));
    assert_true(done >= 1 && done < 4);
    assert_int_equal(json_array_size(json_object_get(json_object_get(m, "latency_s"), "samples")),
                     done);
    assert_true(json_integer_value(json_object_get(m, "iterations")) > 0);
    assert_null(find_record_file(out, "cuda-ic-resnet8"));
    json_decref(tri);
    json_decref(kws);

    /* The trap variant, at the very first run: no record; CUDA reports a
     * trap as cudaErrorLaunchFailure, but any sticky error other than the
     * illegal address shows the trap was what lost the context. */
    rc = run_cli_with_fault("after:0:trap",
                            (const char *[]){"run", "--workload", "cuda-copy", "--backend", "cuda",
                                             "--options", "mib=16", "--min-time", "0.05",
                                             "--warmup", "0", "--power", "estimate", "--format",
                                             "json", "--out", out, NULL});
    assert_int_equal(rc, 1);
    stderr_line("cuda-copy:", line, sizeof(line));
    assert_non_null(strstr(line, "GPU 0 context lost (sticky cudaError"));
    assert_null(strstr(line, "cudaErrorIllegalAddress"));
    assert_null(find_record_file(out, "cuda-copy"));

    snprintf(line, sizeof(line), "rm -rf %s", tmp);
    assert_int_equal(system(line), 0);
}
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_fires_once_after_n_runs),
        cmocka_unit_test(test_fires_after_n_checks),
        cmocka_unit_test(test_latch_keeps_first_cause),
#ifdef JB_HAVE_CUDA
        cmocka_unit_test(test_lost_gpu_is_refused_at_open),
        cmocka_unit_test(test_malformed_hook_refuses_open),
        cmocka_unit_test(test_suite_goes_on_after_gpu_lost),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
