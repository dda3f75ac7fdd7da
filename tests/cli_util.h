/* cli_util.h: running the joulebench binary from a test, as a user would,
 * and reading back what it printed. Shared by the tests that drive the CLI
 * end to end (test_cli, test_tinyml_cli, test_record_schema), so that all of
 * them start it, redirect it and decode its exit status the same way.
 * Test-only: static inline functions, no data. */
#ifndef JB_TESTS_CLI_UTIL_H
#define JB_TESTS_CLI_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Starts the CLI named by $JB_CLI with args (NULL-terminated, without
 * argv[0]; up to 62 are passed). Its stdout is written to out_path and its
 * stderr to err_path (created or truncated; "/dev/null" discards); a NULL
 * path leaves that stream as the test's own. Returns its pid. */
static inline pid_t jb_test_spawn_cli(const char *const *args, const char *out_path,
                                      const char *err_path)
{
    const char *cli = getenv("JB_CLI");
    assert_non_null(cli);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (out_path)
            dup2(open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644), 1);
        if (err_path)
            dup2(open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644), 2);
        char *argv[64];
        int n = 0;
        argv[n++] = (char *)cli;
        for (; args[n - 1] && n < 63; n++)
            argv[n] = (char *)args[n - 1];
        argv[n] = NULL;
        execv(cli, argv);
        _exit(127);
    }
    return pid;
}

static inline void jb_test_sleep_s(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

/* Waits for the CLI; returns its exit status, or 128+signal if killed. */
static inline int jb_test_wait_cli(pid_t pid)
{
    int status;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Runs the CLI to its end (jb_test_spawn_cli, jb_test_wait_cli). If
 * sigint_after_s > 0, sends SIGINT after that many seconds. */
static inline int jb_test_run_cli(const char *const *args, const char *out_path,
                                  const char *err_path, double sigint_after_s)
{
    pid_t pid = jb_test_spawn_cli(args, out_path, err_path);
    if (sigint_after_s > 0) {
        jb_test_sleep_s(sigint_after_s);
        kill(pid, SIGINT);
    }
    return jb_test_wait_cli(pid);
}

/* Reads up to n-1 bytes of the file at path into buf, NUL-terminated;
 * buf is "" when the file cannot be opened. */
static inline void jb_test_slurp(const char *path, char *buf, size_t n)
{
    FILE *f = fopen(path, "r");
    size_t k = f ? fread(buf, 1, n - 1, f) : 0;
    buf[k] = 0;
    if (f)
        fclose(f);
}

#endif
