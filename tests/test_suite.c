/* test_suite.c: suite files: keys, comma-list expansion, includes, comments,
 * a clear file:line error for every kind of malformed line, and one run per
 * distinct configuration once command-line values are applied. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/error.h"
#include "harness/suite.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/jb_suite_XXXXXX";

static void write_suite(const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int setup(void **state)
{
    (void)state;
    if (!mkdtemp(dir))
        return -1;
    return setenv("JB_SUITES_DIR", dir, 1);
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd);
}

static void test_line_keys_and_defaults(void **state)
{
    (void)state;
    struct jb_run_spec base;
    jb_spec_defaults(&base);
    struct jb_spec_list l = {0};
    char err[256];
    assert_int_equal(jb_suite_parse_line("ic-resnet8 dtype=int8 scenario=offline batch=32 "
                                         "threads=2 pin=0,1 min_time=0.25 # comment",
                                         &base, "x:1", &l, err, sizeof(err)),
                     0);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.v[0].workload, "ic-resnet8");
    assert_string_equal(l.v[0].dtype, "int8");
    assert_string_equal(l.v[0].scenario, "offline");
    assert_int_equal(l.v[0].batch, 32);
    assert_int_equal(l.v[0].threads, 2);
    /* pin keeps its commas: a cpu list, not two runs. */
    assert_string_equal(l.v[0].pin, "0,1");
    assert_true(l.v[0].min_time_s == 0.25);
    assert_int_equal(l.v[0].repetitions, 5);
    assert_true(l.v[0].set & JB_SPEC_BATCH);
    assert_false(l.v[0].set & JB_SPEC_CONTEXT);
    jb_spec_list_free(&l);
}

static void test_list_expansion(void **state)
{
    (void)state;
    struct jb_run_spec base;
    jb_spec_defaults(&base);
    struct jb_spec_list l = {0};
    char err[256];
    assert_int_equal(jb_suite_parse_line("a,b dtype=fp32,q8_0,q4_0 context=128,2048 "
                                         "options=x=1,y=2",
                                         &base, "x:1", &l, err, sizeof(err)),
                     0);
    assert_int_equal(l.n, 2 * 3 * 2);
    assert_string_equal(l.v[0].workload, "a");
    assert_string_equal(l.v[11].workload, "b");
    assert_string_equal(l.v[11].dtype, "q4_0");
    assert_int_equal(l.v[11].context, 2048);
    assert_string_equal(l.v[5].options, "x=1,y=2");
    jb_spec_list_free(&l);
}

static void test_bad_lines(void **state)
{
    (void)state;
    static const char *const bad[][2] = {
        {"w batch=0", "batch=0"},
        {"w batch=12x", "batch=12x"},
        {"w scenario=servr", "scenario=servr"},
        {"w colour=blue", "unknown key 'colour'"},
        {"w threads", "'threads' is not key=value"},
        {"w =3", "'=3' is not key=value"},
        {"w min_time=-1", "min_time=-1"},
        {"w dtype=", "bad key=value"},
        {"w threads=1 threads=2", "threads given twice"},
        {"w threads=1,", "threads=1,: an empty value"},
        {"w context=,128", "an empty value"},
        {"w batch=1,,2", "an empty value"},
        {"w min_time=0x10", "min_time=0x10"},
        {"w min_time=inf", "min_time=inf"},
    };
    struct jb_run_spec base;
    jb_spec_defaults(&base);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct jb_spec_list l = {0};
        char err[256] = "";
        assert_true(jb_suite_parse_line(bad[i][0], &base, "suites/s:7", &l, err, sizeof(err)) <
                    0);
        assert_non_null(strstr(err, "suites/s:7"));
        if (!strstr(err, bad[i][1]))
            fail_msg("'%s' gave '%s'", bad[i][0], err);
        jb_spec_list_free(&l);
    }
}

static void test_files_include_and_errors(void **state)
{
    (void)state;
    write_suite("inner", "# calibration\n\ntriad threads=1,2\n");
    write_suite("outer", "@include inner\nfma repetitions=3\n");
    write_suite("broken", "triad\nfma threads=two\n");
    write_suite("loop", "@include loop\n");
    struct jb_run_spec base;
    jb_spec_defaults(&base);
    struct jb_spec_list l = {0};
    char err[256] = "";
    assert_int_equal(jb_suite_load("outer", &base, &l, err, sizeof(err)), 0);
    assert_int_equal(l.n, 3);
    assert_string_equal(l.v[2].workload, "fma");
    assert_int_equal(l.v[2].repetitions, 3);
    assert_string_equal(l.v[0].origin, "suites/inner:3");
    jb_spec_list_free(&l);
    assert_int_equal(jb_suite_load("broken", &base, &l, err, sizeof(err)), JB_EINVAL);
    assert_non_null(strstr(err, "suites/broken:2"));
    jb_spec_list_free(&l);
    assert_int_equal(jb_suite_load("nosuch", &base, &l, err, sizeof(err)), JB_ENOENT);
    assert_non_null(strstr(err, "unknown suite 'nosuch'"));
    jb_spec_list_free(&l);
    assert_int_equal(jb_suite_load("loop", &base, &l, err, sizeof(err)), JB_EINVAL);
    assert_non_null(strstr(err, "nested too deeply"));
    jb_spec_list_free(&l);
}

/* A suite cannot make run read a file outside the suites, nor quote one:
 * `@include /etc/shadow` once printed the file's first line as an unknown
 * workload. Includes are suite names or paths relative to the including
 * suite; errors quote at most a short, escaped excerpt; a NUL byte is named
 * as such (it was reported as "line too long"). */
static void test_hostile_suites(void **state)
{
    (void)state;
    struct jb_run_spec base;
    jb_spec_defaults(&base);
    struct jb_spec_list l = {0};
    char err[JB_ERRLEN] = "", sub[300];
    write_suite("abs", "@include /etc/passwd\n");
    assert_int_equal(jb_suite_load("abs", &base, &l, err, sizeof(err)), JB_EINVAL);
    assert_non_null(strstr(err, "suites/abs:1: @include /etc/passwd: give a suite name"));
    jb_spec_list_free(&l);
    write_suite("up", "@include ../../../../etc/passwd\n");
    assert_int_equal(jb_suite_load("up", &base, &l, err, sizeof(err)), JB_EINVAL);
    jb_spec_list_free(&l);
    /* a relative path is relative to the including suite */
    snprintf(sub, sizeof(sub), "%s/sub", dir);
    assert_int_equal(mkdir(sub, 0755), 0);
    write_suite("sub/leaf", "fma threads=1\n");
    write_suite("rel", "@include sub/leaf\n");
    assert_int_equal(jb_suite_load("rel", &base, &l, err, sizeof(err)), 0);
    assert_int_equal(l.n, 1);
    jb_spec_list_free(&l);
    /* another file's line is not a workload, and is not repeated whole */
    write_suite("pw", "root:x:0:0:root:/root:/bin/bash-and-a-long-secret-tail-0123456789\n");
    assert_int_equal(jb_suite_load("pw", &base, &l, err, sizeof(err)), JB_EINVAL);
    assert_non_null(strstr(err, "is not a workload name"));
    assert_null(strstr(err, "secret-tail"));
    jb_spec_list_free(&l);
    char line[400];
    snprintf(line, sizeof(line), "w colour=%0200d\x1b[2J", 7);
    assert_true(jb_suite_parse_line(line, &base, "suites/s:1", &l, err, sizeof(err)) < 0);
    assert_null(strchr(err, '\x1b'));
    assert_true(strlen(err) < 200);
    jb_spec_list_free(&l);
    /* a NUL byte */
    char path[300];
    snprintf(path, sizeof(path), "%s/nul", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fwrite("fma\0threads=1\n", 1, 14, f);
    fclose(f);
    assert_int_equal(jb_suite_load("nul", &base, &l, err, sizeof(err)), JB_EINVAL);
    if (!strstr(err, "suites/nul:1: a NUL byte"))
        fail_msg("%s", err);
    jb_spec_list_free(&l);
}

static void test_override(void **state)
{
    (void)state;
    struct jb_run_spec s, o;
    jb_spec_defaults(&s);
    jb_spec_defaults(&o);
    char err[64];
    jb_spec_set(&s, "threads", "4", err, sizeof(err));
    jb_spec_set(&s, "dtype", "int8", err, sizeof(err));
    jb_spec_set(&o, "threads", "2", err, sizeof(err));
    jb_spec_override(&s, &o);
    assert_int_equal(s.threads, 2);
    assert_string_equal(s.dtype, "int8"); /* not given in o: kept */
}

/* A command-line value applied to every expanded run of a suite line
 * ("threads=1,2" with threads 1) gives the same run twice: dedupe leaves
 * one per distinct configuration, the first in its place, and keeps runs
 * that differ in any key. */
static void test_dedupe_after_override(void **state)
{
    (void)state;
    write_suite("dup", "triad threads=1,2 min_time=0.3\nfma threads=1,2\ntriad threads=1 "
                       "min_time=0.3\ntriad threads=1 min_time=0.4\n");
    struct jb_run_spec base, cli;
    jb_spec_defaults(&base);
    jb_spec_defaults(&cli);
    char err[256] = "";
    struct jb_spec_list l = {0};
    assert_int_equal(jb_suite_load("dup", &base, &l, err, sizeof(err)), 0);
    assert_int_equal(l.n, 6);
    /* Without overrides only the third line's run repeats the first's. */
    jb_spec_list_dedupe(&l);
    assert_int_equal(l.n, 5);
    assert_string_equal(l.v[0].origin, "suites/dup:1");
    assert_true(fabs(l.v[4].min_time_s - 0.4) < 1e-12);
    jb_spec_list_free(&l);
    /* --threads 1 on all of them: triad at 0.3 s, fma, triad at 0.4 s. */
    assert_int_equal(jb_suite_load("dup", &base, &l, err, sizeof(err)), 0);
    assert_int_equal(jb_spec_set(&cli, "threads", "1", err, sizeof(err)), 0);
    for (int i = 0; i < l.n; i++)
        jb_spec_override(&l.v[i], &cli);
    jb_spec_list_dedupe(&l);
    assert_int_equal(l.n, 3);
    assert_string_equal(l.v[0].workload, "triad");
    assert_string_equal(l.v[1].workload, "fma");
    assert_string_equal(l.v[2].workload, "triad");
    for (int i = 0; i < l.n; i++)
        assert_int_equal(l.v[i].threads, 1);
    assert_string_equal(l.v[1].origin, "suites/dup:2");
    jb_spec_list_free(&l);
}

static void test_shipped_suites_parse(void **state)
{
    (void)state;
    /* Every suite in the source tree must load (its workloads are checked
     * against the registry by test_cli through `run`). */
    char src[512];
    snprintf(src, sizeof(src), "%s/suites", getenv("JB_SOURCE_DIR") ? getenv("JB_SOURCE_DIR")
                                                                       : JB_SOURCE_DIR);
    setenv("JB_SUITES_DIR", src, 1);
    static const char *const names[] = {"smoke", "default"};
    for (size_t i = 0; i < 2; i++) {
        struct jb_run_spec base;
        jb_spec_defaults(&base);
        struct jb_spec_list l = {0};
        char err[256] = "";
        if (jb_suite_load(names[i], &base, &l, err, sizeof(err)))
            fail_msg("%s", err);
        assert_true(l.n > 0);
        jb_spec_list_free(&l);
    }
    setenv("JB_SUITES_DIR", dir, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_line_keys_and_defaults),
        cmocka_unit_test(test_list_expansion),
        cmocka_unit_test(test_bad_lines),
        cmocka_unit_test(test_files_include_and_errors),
        cmocka_unit_test(test_hostile_suites),
        cmocka_unit_test(test_override),
        cmocka_unit_test(test_dedupe_after_override),
        cmocka_unit_test(test_shipped_suites_parse),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
