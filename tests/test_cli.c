/* test_cli.c: the joulebench command line as a user meets it: help, list,
 * probe, run with each output format, and the bad-input cases (unknown
 * workload, suite or flag, malformed suite file, unwritable output directory,
 * SIGINT during a run), each a clear one-line error and a non-zero exit, with
 * nothing already measured lost. Exit codes as README.md documents them:
 * 2 for input that cannot run (including what only the machine's topology
 * refuses: cpus that do not exist, more threads than cpus), found before
 * anything runs; 1 for a run or check that failed. */
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
#include <unistd.h>

static char tmp[] = "/tmp/jb_cli_XXXXXX";
static char out_buf[1 << 16], err_buf[1 << 16];

/* Runs the CLI with args, its stdout and stderr kept in out_buf and
 * err_buf; returns its exit status (128+signal if killed). If
 * sigint_after_s > 0, sends SIGINT after that many seconds. */
static int run_cli(const char *const *args, double sigint_after_s)
{
    char op[256], ep[256];
    snprintf(op, sizeof(op), "%s/stdout", tmp);
    snprintf(ep, sizeof(ep), "%s/stderr", tmp);
    int rc = jb_test_run_cli(args, op, ep, sigint_after_s);
    jb_test_slurp(op, out_buf, sizeof(out_buf));
    jb_test_slurp(ep, err_buf, sizeof(err_buf));
    return rc;
}

/* Whether dir holds a finished record whose name starts with prefix. */
static int have_record(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int found = 0;
    while (d && (e = readdir(d)))
        if (!strncmp(e->d_name, prefix, strlen(prefix)) && !strstr(e->d_name, ".tmp") &&
            strstr(e->d_name, ".gbench.json"))
            found = 1;
    if (d)
        closedir(d);
    return found;
}

/* Runs the CLI and sends SIGINT 1.5 s after the record of the run named by
 * `prefix` appears in out_dir (waiting on the files, not on a fixed delay,
 * so that a loaded machine does not change what is interrupted). */
static int run_cli_interrupt(const char *const *args, const char *out_dir, const char *prefix)
{
    char op[256], ep[256];
    snprintf(op, sizeof(op), "%s/stdout", tmp);
    snprintf(ep, sizeof(ep), "%s/stderr", tmp);
    pid_t pid = jb_test_spawn_cli(args, op, ep);
    for (int i = 0; i < 1200 && !have_record(out_dir, prefix); i++)
        jb_test_sleep_s(0.05);
    jb_test_sleep_s(1.5);
    kill(pid, SIGINT);
    int rc = jb_test_wait_cli(pid);
    jb_test_slurp(op, out_buf, sizeof(out_buf));
    jb_test_slurp(ep, err_buf, sizeof(err_buf));
    return rc;
}

/* Whether dir holds a file whose name starts with prefix. */
static int have_file(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int found = 0;
    while (d && (e = readdir(d)))
        found |= !strncmp(e->d_name, prefix, strlen(prefix));
    if (d)
        closedir(d);
    return found;
}

/* Runs the CLI; once a file named prefix* appears in out_dir, waits
 * delay_s and sends sig, and a second later_sig (if not 0) 10 ms after. */
static int run_cli_signal(const char *const *args, const char *out_dir, const char *prefix,
                          double delay_s, int sig, int later_sig)
{
    char op[256], ep[256];
    snprintf(op, sizeof(op), "%s/stdout", tmp);
    snprintf(ep, sizeof(ep), "%s/stderr", tmp);
    pid_t pid = jb_test_spawn_cli(args, op, ep);
    for (int i = 0; i < 1200 && !have_file(out_dir, prefix); i++)
        jb_test_sleep_s(0.01);
    jb_test_sleep_s(delay_s);
    kill(pid, sig);
    if (later_sig) {
        jb_test_sleep_s(0.01);
        kill(pid, later_sig);
    }
    int rc = jb_test_wait_cli(pid);
    jb_test_slurp(op, out_buf, sizeof(out_buf));
    jb_test_slurp(ep, err_buf, sizeof(err_buf));
    return rc;
}

/* Counts the records in dir (complete and not) and fails on any
 * temporary file or unreadable record; *reps0: incomplete records with no
 * repetition. */
static void count_records(const char *dir, int *complete, int *incomplete, int *reps0)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    *complete = *incomplete = *reps0 = 0;
    while ((e = readdir(d))) {
        if (strstr(e->d_name, ".tmp"))
            fail_msg("temporary file %s left behind", e->d_name);
        size_t n = strlen(e->d_name);
        if (n < 5 || strcmp(e->d_name + n - 5, ".json") || strstr(e->d_name, ".gbench."))
            continue;
        char p[512];
        snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
        json_error_t je;
        json_t *j = json_load_file(p, 0, &je);
        if (!j)
            fail_msg("%s: %s", p, je.text);
        if (json_is_true(json_object_get(j, "complete"))) {
            (*complete)++;
        } else {
            (*incomplete)++;
            json_t *m = json_object_get(j, "measurements");
            *reps0 += json_integer_value(json_object_get(m, "repetitions_completed")) == 0;
        }
        json_decref(j);
    }
    closedir(d);
}

/* SIGTERM and SIGHUP stop a run as SIGINT does (exit 128 + the signal, the
 * finished run kept, the interrupted one written incomplete, no temporary
 * file left); a second signal right after the first (GNU timeout signals
 * the process and its group) changes nothing; a signal before the first
 * repetition finished still leaves a record that says so. */
static void test_signals_stop_cleanly(void **state)
{
    (void)state;
    char suite[256];
    snprintf(suite, sizeof(suite), "%s/sig.suite", tmp);
    FILE *f = fopen(suite, "w");
    fputs("fma repetitions=2 min_time=0.1\ntriad repetitions=50 min_time=0.4 options=mib=16\n",
          f);
    fclose(f);
    struct {
        int sig, later;
    } cases[] = {{SIGTERM, 0}, {SIGHUP, 0}, {SIGINT, SIGINT}, {SIGTERM, SIGINT}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[256];
        snprintf(out, sizeof(out), "%s/sig%zu", tmp, i);
        int rc = run_cli_signal((const char *[]){"run", "--suite", suite, "--warmup", "0",
                                                 "--out", out, NULL},
                                out, "fma_", 1.0, cases[i].sig, cases[i].later);
        if (rc != 128 + cases[i].sig)
            fail_msg("case %zu: exit %d after signal %d; stderr: %s", i, rc, cases[i].sig,
                     err_buf);
        assert_non_null(strstr(err_buf, "interrupted"));
        int complete, incomplete, reps0;
        count_records(out, &complete, &incomplete, &reps0);
        assert_int_equal(complete, 1);
        assert_int_equal(incomplete, 1);
    }
    /* stopped during the warm-up, before any repetition */
    char out[256];
    snprintf(out, sizeof(out), "%s/sig-early", tmp);
    int rc = run_cli_signal((const char *[]){"run", "--workload", "triad", "--warmup", "5",
                                             "--out", out, NULL},
                            out, ".gbench-", 0.3, SIGTERM, 0);
    if (rc != 128 + SIGTERM)
        fail_msg("exit %d after an early SIGTERM; stderr: %s", rc, err_buf);
    int complete, incomplete, reps0;
    count_records(out, &complete, &incomplete, &reps0);
    assert_int_equal(complete, 0);
    assert_int_equal(incomplete, 1);
    assert_int_equal(reps0, 1);
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static int setup(void **state)
{
    (void)state;
    return mkdtemp(tmp) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
    return system(cmd);
}

static void test_help_and_list(void **state)
{
    (void)state;
    assert_int_equal(run_cli((const char *[]){"--help", NULL}, 0), 0);
    assert_non_null(strstr(out_buf, "probe"));
    assert_int_equal(run_cli((const char *[]){"run", "--help", NULL}, 0), 0);
    static const char *const flags[] = {"--suite", "--workload", "--dtype", "--scenario",
                                        "--context", "--batch", "--threads", "--pin",
                                        "--power", "--min-time", "--repetitions", "--idle",
                                        "--out", "--format", "--gbench-json"};
    for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
        if (!strstr(out_buf, flags[i]))
            fail_msg("run --help does not mention %s", flags[i]);
    assert_int_equal(run_cli((const char *[]){"list", NULL}, 0), 0);
    assert_non_null(strstr(out_buf, "triad"));
    assert_non_null(strstr(out_buf, "fma"));
    assert_non_null(strstr(out_buf, "estimate"));
    assert_int_equal(run_cli((const char *[]){"list", "--format", "json", NULL}, 0), 0);
    json_error_t je;
    json_t *j = json_loads(out_buf, 0, &je);
    assert_non_null(j);
    assert_true(json_array_size(json_object_get(j, "workloads")) >= 2);
    json_decref(j);
}

static void test_probe(void **state)
{
    (void)state;
    assert_int_equal(run_cli((const char *[]){"probe", "--format", "json", NULL}, 0), 0);
    json_error_t je;
    json_t *j = json_loads(out_buf, 0, &je);
    assert_non_null(j);
    assert_non_null(json_object_get(j, "topology"));
    assert_true(json_array_size(json_object_get(j, "power_sources")) >= 1);
    json_decref(j);
}

static void expect_one_line_error(int status, int want, const char *needle)
{
    if (status != want)
        fail_msg("exit %d, expected %d; stderr: %s", status, want, err_buf);
    if (!strstr(err_buf, needle))
        fail_msg("stderr does not name '%s': %s", needle, err_buf);
    assert_true(count_lines(err_buf) <= 2);
}

static void test_bad_input(void **state)
{
    (void)state;
    expect_one_line_error(run_cli((const char *[]){"frobnicate", NULL}, 0), 2, "frobnicate");
    expect_one_line_error(run_cli((const char *[]){"run", "--workload", "nosuch", NULL}, 0), 2,
                          "nosuch");
    expect_one_line_error(run_cli((const char *[]){"run", "--suite", "nosuch", NULL}, 0), 2,
                          "nosuch");
    expect_one_line_error(run_cli((const char *[]){"run", "--workload", "triad", "--threads",
                                                   "zero", NULL},
                                  0),
                          2, "threads=zero");
    expect_one_line_error(run_cli((const char *[]){"run", NULL}, 0), 2, "--suite");
    char suite[256];
    snprintf(suite, sizeof(suite), "%s/bad.suite", tmp);
    FILE *f = fopen(suite, "w");
    fputs("triad threads=1\nfma repetitions=many\n", f);
    fclose(f);
    expect_one_line_error(run_cli((const char *[]){"run", "--suite", suite, NULL}, 0), 2,
                          "bad.suite:2");
    expect_one_line_error(run_cli((const char *[]){"run", "--workload", "fma", "--out",
                                                   "/proc/joulebench-cannot-be-here", NULL},
                                  0),
                          1, "/proc/joulebench-cannot-be-here");
    /* values that are bad input, exit 2 naming them (--seed -1 once wrapped
     * to 2^64 - 1; --pue 0.5 exited 1) */
    expect_one_line_error(
        run_cli((const char *[]){"run", "--workload", "fma", "--seed", "-1", NULL}, 0), 2,
        "--seed: '-1' is not an integer");
    expect_one_line_error(
        run_cli((const char *[]){"run", "--workload", "fma", "--seed", "12abc", NULL}, 0), 2,
        "'12abc'");
    expect_one_line_error(run_cli((const char *[]){"run", "--workload", "fma", "--db", "none",
                                                   "--pue", "0.5", NULL},
                                  0),
                          2, "--pue 0.5: must be >= 1");
    expect_one_line_error(run_cli((const char *[]){"run", "--workload", "fma", "--db", "none",
                                                   "--wue", "-1", NULL},
                                  0),
                          2, "--wue -1");
    expect_one_line_error(run_cli((const char *[]){"run", "--workload", "fma", "--db", "none",
                                                   "--grid-intensity", "abc", NULL},
                                  0),
                          2, "grid-intensity");
    /* --bogus: getopt prints its own line, then usage; exit 2. */
    assert_int_equal(run_cli((const char *[]){"run", "--bogus", NULL}, 0), 2);
    assert_non_null(strstr(err_buf, "bogus"));
}

/* Whether path exists. */
static int exists(const char *path)
{
    return access(path, F_OK) == 0;
}

static void test_plan_errors_exit_2(void **state)
{
    (void)state;
    char out[256];
    snprintf(out, sizeof(out), "%s/plan-out", tmp);
    /* A cpu that no machine here has (the parser takes up to 65535). */
    expect_one_line_error(run_cli((const char *[]){"run", "--workload", "triad", "--pin", "0,4000",
                                                   "--out", out, NULL},
                                  0),
                          2, "cpu 4000 does not exist");
    /* More threads than this machine lets joulebench use. */
    expect_one_line_error(run_cli((const char *[]){"run", "--workload", "triad", "--threads",
                                                   "4096", "--out", out, NULL},
                                  0),
                          2, "--threads 4096");
    /* More threads than the pin list names (or than the machine has, on a
     * one-cpu machine): either way the threads are refused, exit 2. */
    expect_one_line_error(run_cli((const char *[]){"run", "--workload", "triad", "--threads", "2",
                                                   "--pin", "0", "--out", out, NULL},
                                  0),
                          2, "--threads 2");
    expect_one_line_error(run_cli((const char *[]){"run", "--workload", "triad", "--pin",
                                                   "sideways", "--out", out, NULL},
                                  0),
                          2, "sideways");
    expect_one_line_error(run_cli((const char *[]){"run", "--workload", "triad", "--dtype", "int8",
                                                   "--out", out, NULL},
                                  0),
                          2, "int8");
    /* Nothing was opened for any of them: no output folder. */
    assert_false(exists(out));
    /* In a suite, a bad line refuses the whole suite before its first run
     * (fma, line 1, is not measured), naming the line. */
    char suite[256];
    snprintf(suite, sizeof(suite), "%s/bad-pin.suite", tmp);
    FILE *f = fopen(suite, "w");
    fputs("fma min_time=0.01 repetitions=1\ntriad pin=0,4000\n", f);
    fclose(f);
    expect_one_line_error(run_cli((const char *[]){"run", "--suite", suite, "--out", out, NULL}, 0),
                          2, "bad-pin.suite:2");
    assert_false(exists(out));
}

static void test_run_formats(void **state)
{
    (void)state;
    char out[256], gb[256];
    snprintf(out, sizeof(out), "%s/fmt", tmp);
    snprintf(gb, sizeof(gb), "%s/gb.json", tmp);
    static const char *const formats[] = {"table", "csv", "md", "json"};
    for (int i = 0; i < 4; i++) {
        int rc = run_cli((const char *[]){"run", "--workload", "fma", "--min-time", "0.01",
                                          "--repetitions", "2", "--warmup", "0", "--out", out,
                                          "--format", formats[i], "--gbench-json", gb, NULL},
                         0);
        if (rc != 0)
            fail_msg("format %s: exit %d: %s", formats[i], rc, err_buf);
        assert_non_null(strstr(out_buf, "fma"));
    }
    /* The last one was json: the full records. */
    json_error_t je;
    json_t *j = json_loads(out_buf, 0, &je);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_array_get(j, 0), "workload"), "name")),
                        "fma");
    json_decref(j);
    j = json_load_file(gb, 0, &je);
    assert_non_null(j);
    assert_true(json_array_size(json_object_get(j, "benchmarks")) >= 2);
    json_decref(j);
}

static void test_sigint_keeps_finished_runs(void **state)
{
    (void)state;
    char out[256];
    snprintf(out, sizeof(out), "%s/intr", tmp);
    /* fma finishes quickly; triad is then interrupted in its repetitions. */
    char suite[256];
    snprintf(suite, sizeof(suite), "%s/intr.suite", tmp);
    FILE *f = fopen(suite, "w");
    fputs("fma repetitions=2 min_time=0.1\ntriad repetitions=50 min_time=0.4 options=mib=16\n",
          f);
    fclose(f);
    int rc = run_cli_interrupt((const char *[]){"run", "--suite", suite, "--warmup", "0", "--out",
                                                out, NULL},
                               out, "fma_");
    if (rc != 130)
        fail_msg("exit %d after SIGINT; stderr: %s", rc, err_buf);
    assert_non_null(strstr(err_buf, "interrupted"));
    DIR *d = opendir(out);
    assert_non_null(d);
    struct dirent *e;
    int complete = 0, incomplete = 0;
    while ((e = readdir(d))) {
        assert_null(strstr(e->d_name, ".tmp"));
        size_t n = strlen(e->d_name);
        if (n < 5 || strcmp(e->d_name + n - 5, ".json") || strstr(e->d_name, ".gbench."))
            continue;
        char p[512];
        snprintf(p, sizeof(p), "%s/%s", out, e->d_name);
        json_error_t je;
        json_t *j = json_load_file(p, 0, &je);
        assert_non_null(j);
        if (json_is_true(json_object_get(j, "complete")))
            complete++;
        else
            incomplete++;
        json_decref(j);
    }
    closedir(d);
    assert_int_equal(complete, 1);   /* fma */
    assert_int_equal(incomplete, 1); /* triad, stopped in its repetitions */
}

/* Number of records in a `run --format json` output. */
static size_t json_records(const char *text)
{
    json_error_t je;
    json_t *j = json_loads(text, 0, &je);
    if (!j)
        fail_msg("not JSON: %s", je.text);
    size_t n = json_array_size(j);
    json_decref(j);
    return n;
}

/* A command-line value replaces a suite line's list: `threads=1,2` run
 * with --threads 1 is one run per line, not two identical ones; a
 * command-line list runs each of its values once. */
static void test_cli_value_replaces_suite_list(void **state)
{
    (void)state;
    char out[256], suite[256];
    snprintf(out, sizeof(out), "%s/over", tmp);
    snprintf(suite, sizeof(suite), "%s/over.suite", tmp);
    FILE *f = fopen(suite, "w");
    fputs("fma threads=1,2 min_time=0.01 repetitions=1\n", f);
    fclose(f);
    const char *args[] = {"run", "--suite", suite, "--threads", "1",    "--warmup", "0",
                          "--out", out,  "--format", "json", NULL};
    int rc = run_cli(args, 0);
    if (rc != 0)
        fail_msg("exit %d: %s", rc, err_buf);
    assert_int_equal(json_records(out_buf), 1);
    args[4] = "1,2,1";
    rc = run_cli(args, 0);
    if (rc != 0)
        fail_msg("exit %d: %s", rc, err_buf);
    assert_int_equal(json_records(out_buf), 2);
}

static void test_run_stores_in_database(void **state)
{
    (void)state;
    char out[256], db[256];
    snprintf(out, sizeof(out), "%s/db-out", tmp);
    snprintf(db, sizeof(db), "%s/db/sub/jb.db", tmp);
    int rc = run_cli((const char *[]){"run", "--workload", "fma", "--threads", "1,2",
                                      "--min-time", "0.01", "--repetitions", "2", "--warmup",
                                      "0", "--out", out, "--db", db, "--region", "FR", NULL},
                     0);
    if (rc != 0)
        fail_msg("exit %d: %s", rc, err_buf);
    assert_int_equal(run_cli((const char *[]){"export", "--db", db, "--format", "json", NULL}, 0),
                     0);
    json_error_t je;
    json_t *j = json_loads(out_buf, 0, &je);
    if (!j)
        fail_msg("export did not give JSON: %s", je.text);
    json_t *recs = json_is_array(j) ? j : json_object_get(j, "records");
    assert_int_equal(json_array_size(recs), 2);
    /* Stored records carry the normalized figures, with the grid asked for. */
    json_t *carbon = json_object_get(json_object_get(json_array_get(recs, 0), "derived"), "carbon");
    assert_non_null(carbon);
    assert_true(json_number_value(json_object_get(carbon, "grid_gco2e_per_kwh")) > 0);
    json_decref(j);
    /* An unknown region is bad input, refused before measuring anything. */
    assert_int_equal(run_cli((const char *[]){"run", "--workload", "fma", "--out", out, "--db",
                                              db, "--region", "ATLANTIS", NULL},
                             0),
                     2);
    assert_non_null(strstr(err_buf, "ATLANTIS"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_help_and_list),
        cmocka_unit_test(test_probe),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_plan_errors_exit_2),
        cmocka_unit_test(test_run_formats),
        cmocka_unit_test(test_sigint_keeps_finished_runs),
        cmocka_unit_test(test_signals_stop_cleanly),
        cmocka_unit_test(test_cli_value_replaces_suite_list),
        cmocka_unit_test(test_run_stores_in_database),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
