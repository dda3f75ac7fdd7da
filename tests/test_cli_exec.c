/* test_cli_exec.c: `joulebench exec` end to end, as a user runs it: five runs
 * of sleep 0.2 are printed and recorded with an energy figure naming its
 * source and uncertainty; a command that exits non-zero is reported as a
 * failed run (exit 1); two commands are compared with the ratio of their
 * times and energies, each with its uncertainty; bad input is exit 2 before
 * anything runs. */
#include "cli_util.h"

#include <dirent.h>
#include <string.h>

static void tmpdir(char *d, size_t n)
{
    snprintf(d, n, "/tmp/jb_cli_exec_XXXXXX");
    assert_non_null(mkdtemp(d));
}

static int count_records(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        n += strncmp(e->d_name, "exec_", 5) == 0 && strstr(e->d_name, ".power.csv") == NULL;
    if (d)
        closedir(d);
    return n;
}

static void five_runs_of_sleep(void **state)
{
    (void)state;
    char d[64], out[128], err[128], buf[16384];
    tmpdir(d, sizeof(d));
    snprintf(out, sizeof(out), "%s/out.txt", d);
    snprintf(err, sizeof(err), "%s/err.txt", d);
    const char *args[] = {"exec", "--runs", "5", "--out", d, "--", "sleep", "0.2", NULL};
    assert_int_equal(jb_test_run_cli(args, out, err, 0), 0);
    jb_test_slurp(out, buf, sizeof(buf));
    assert_non_null(strstr(buf, "Command 1: sleep 0.2"));
    assert_non_null(strstr(buf, "5 run(s)"));
    /* the source and whether it is measured, always */
    assert_non_null(strstr(buf, "Energy per run:"));
    assert_true(strstr(buf, "ESTIMATED") || strstr(buf, "measured"));
    assert_non_null(strstr(buf, "+-"));
    assert_int_equal(count_records(d), 1);
}

static void failing_command_exits_1(void **state)
{
    (void)state;
    char d[64], out[128], buf[16384];
    tmpdir(d, sizeof(d));
    snprintf(out, sizeof(out), "%s/out.txt", d);
    const char *args[] = {"exec", "--runs", "2",  "--power", "sim",    "--out",
                          d,      "--",     "sh", "-c",      "exit 4", NULL};
    assert_int_equal(jb_test_run_cli(args, out, "/dev/null", 0), 1);
    jb_test_slurp(out, buf, sizeof(buf));
    assert_non_null(strstr(buf, "FAILED: run 1 of 2 exited with status 4"));
    assert_int_equal(count_records(d), 1);
}

static void two_commands_compared(void **state)
{
    (void)state;
    char d[64], out[128], buf[16384];
    tmpdir(d, sizeof(d));
    snprintf(out, sizeof(out), "%s/out.txt", d);
    const char *args[] = {"exec", "--runs", "3",   "--power", "sim:watts=20", "--out", d,
                          "--",   "sleep",  "0.3", ":::",     "sleep",        "0.1",   NULL};
    assert_int_equal(jb_test_run_cli(args, out, "/dev/null", 0), 0);
    jb_test_slurp(out, buf, sizeof(buf));
    const char *s = strstr(buf, "Command 2 is ");
    assert_non_null(s);
    double r, ur, er, uer;
    assert_int_equal(sscanf(s, "Command 2 is %lf +- %lf x faster and uses %lf +- %lf x the energy",
                            &r, &ur, &er, &uer),
                     4);
    /* 0.3 s against 0.1 s plus the start of a process each */
    assert_true(r > 1.8 && r < 3.3);
    assert_true(ur > 0 && ur < r);
    assert_true(er > 0.3 && er < 0.55);
    assert_true(uer > 0 && uer < er);
    assert_int_equal(count_records(d), 2);
}

static void bad_input_is_exit_2(void **state)
{
    (void)state;
    char d[64];
    tmpdir(d, sizeof(d));
    const char *a1[] = {"exec", "--runs", "0", "--out", d, "--", "true", NULL};
    assert_int_equal(jb_test_run_cli(a1, "/dev/null", "/dev/null", 0), 2);
    const char *a2[] = {"exec", "--out", d, "--", "no-such-command-jb", NULL};
    assert_int_equal(jb_test_run_cli(a2, "/dev/null", "/dev/null", 0), 2);
    const char *a3[] = {"exec", "--out", d, "--", "true", ":::", NULL};
    assert_int_equal(jb_test_run_cli(a3, "/dev/null", "/dev/null", 0), 2);
    assert_int_equal(count_records(d), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(five_runs_of_sleep),
        cmocka_unit_test(failing_command_exits_1),
        cmocka_unit_test(two_commands_compared),
        cmocka_unit_test(bad_input_is_exit_2),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
