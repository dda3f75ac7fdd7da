/* test_cli_messages.c: what a person at a terminal or a CI log reads: a
 * mistyped command or option gets the nearest valid one in one line (not
 * the whole usage), piped output gets one line per finished run with run i
 * of n and the time elapsed, and the first estimated energy figure says
 * why no counter measured it. Also base/suggest.c on its own. */
#include "base/suggest.h"
#include "cli_util.h"

#include <string.h>

static char dir[512];

static void suggestions(void **st)
{
    (void)st;
    const char *cmds[] = {"list",    "probe",   "run",    "sweep",  "import", "export",
                          "compare", "history", "report", "submit", "check"};
    size_t n = sizeof(cmds) / sizeof(cmds[0]);
    assert_string_equal(jb_suggest("runn", cmds, n), "run");
    assert_string_equal(jb_suggest("hist", cmds, n), "history");
    assert_string_equal(jb_suggest("exprot", cmds, n), "export"); /* a swap is one edit */
    assert_string_equal(jb_suggest("comapre", cmds, n), "compare");
    assert_null(jb_suggest("frobnicate", cmds, n));
    assert_null(jb_suggest("", cmds, n));
    const char *opts[] = {"min-time", "repetitions", "threads", "format"};
    assert_string_equal(jb_suggest("min_time", opts, 4), "min-time");
    assert_string_equal(jb_suggest("repetition", opts, 4), "repetitions");
}

static void typos_get_one_line(void **st)
{
    (void)st;
    char out[1024], err[1024], buf[8192];
    snprintf(out, sizeof(out), "%s/out", dir);
    snprintf(err, sizeof(err), "%s/err", dir);
    const char *a1[] = {"comapre", NULL};
    assert_int_equal(jb_test_run_cli(a1, out, err, 0), 2);
    jb_test_slurp(err, buf, sizeof(buf));
    assert_non_null(strstr(buf, "did you mean 'compare'?"));
    const char *a2[] = {"run", "--workload", "triad", "--min_time", "0.1", NULL};
    assert_int_equal(jb_test_run_cli(a2, out, err, 0), 2);
    jb_test_slurp(err, buf, sizeof(buf));
    assert_non_null(strstr(buf, "did you mean --min-time?"));
    assert_null(strstr(buf, "usage:")); /* one line, not the usage */
    const char *a3[] = {"export", "--fromat", "csv", NULL};
    assert_int_equal(jb_test_run_cli(a3, out, err, 0), 2);
    jb_test_slurp(err, buf, sizeof(buf));
    assert_non_null(strstr(buf, "did you mean --format?"));
}

static void piped_runs_report_as_they_finish(void **st)
{
    (void)st;
    char out[1024], err[1024], rec[1024], buf[16384];
    snprintf(out, sizeof(out), "%s/out", dir);
    snprintf(err, sizeof(err), "%s/err", dir);
    snprintf(rec, sizeof(rec), "%s/recs", dir);
    /* --power estimate: the model, on any machine */
    const char *a[] = {"run",      "--workload",    "triad", "--threads", "1,2", "--min-time",
                       "0.02",     "--repetitions", "2",     "--warmup",  "0",   "--power",
                       "estimate", "--db",          "none",  "--out",     rec,   NULL};
    assert_int_equal(jb_test_run_cli(a, out, err, 0), 0);
    jb_test_slurp(err, buf, sizeof(buf));
    const char *l1 = strstr(buf, "run 1 of 2 done (");
    const char *l2 = strstr(buf, "run 2 of 2 done (");
    assert_non_null(l1);
    assert_non_null(l2);
    assert_true(l1 < l2);
    assert_non_null(strstr(l1, "elapsed): triad fp64 single-stream b1 t1"));
    /* said once, after the first estimated figure */
    const char *why = strstr(buf, "energy is estimated, not measured");
    assert_non_null(why);
    assert_true(why > l1 && why < l2);
    assert_null(strstr(why + 1, "energy is estimated, not measured:"));
    /* no terminal control sequences in a log */
    assert_null(strchr(buf, '\033'));
}

int main(void)
{
    const char *b = getenv("JB_BUILD_DIR");
    snprintf(dir, sizeof(dir), "%s/scratch-climsg-%d", b ? b : "/tmp", (int)getpid());
    char cmd[1200];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mkdir -p '%s'", dir, dir);
    if (system(cmd))
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(suggestions),
        cmocka_unit_test(typos_get_one_line),
        cmocka_unit_test(piped_runs_report_as_they_finish),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd))
        return 1;
    return rc;
}
