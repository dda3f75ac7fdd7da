/* test_child.c: the measured child process (harness/child.c): its exit
 * status and signal are reported, a hang is killed at the timeout and said
 * so, a command that cannot be executed exits 127, the variables added
 * replace the environment's, it is pinned to the cpus asked for, and what
 * it writes to the watched descriptor is served while it runs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/error.h"
#include "harness/child.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static struct jb_child_exit run(char *const *argv, char *const *env, double timeout_s)
{
    struct jb_child_spec s = {.argv = argv, .env_add = env, .keep_fd = -1, .timeout_s = timeout_s};
    struct jb_child_exit x;
    char err[JB_ERRLEN];
    assert_int_equal(jb_child_run(&s, -1, NULL, NULL, &x, err, sizeof(err)), 0);
    return x;
}

static void status_and_signal(void **state)
{
    (void)state;
    struct jb_child_exit x = run((char *[]){"sh", "-c", "exit 5", NULL}, NULL, 0);
    assert_int_equal(x.status, 5);
    assert_int_equal(x.signal, 0);
    x = run((char *[]){"sh", "-c", "kill -TERM $$", NULL}, NULL, 0);
    assert_int_equal(x.status, -1);
    assert_int_equal(x.signal, SIGTERM);
    x = run((char *[]){"/nonexistent/cmd", NULL}, NULL, 0);
    assert_int_equal(x.status, 127);
    assert_false(jb_child_find("/nonexistent/cmd"));
    assert_true(jb_child_find("sh"));
}

static void timeout_kills(void **state)
{
    (void)state;
    struct jb_child_exit x = run((char *[]){"sleep", "10", NULL}, NULL, 0.2);
    assert_true(x.timed_out);
    assert_int_equal(x.signal, SIGKILL);
    assert_true(x.wall_s >= 0.2 && x.wall_s < 5);
}

static void environment_added(void **state)
{
    (void)state;
    setenv("JB_CHILD_TEST", "old", 1);
    struct jb_child_exit x =
        run((char *[]){"sh", "-c", "[ \"$JB_CHILD_TEST\" = new ] && [ \"$JB_OTHER\" = 2 ]", NULL},
            (char *[]){"JB_CHILD_TEST=new", "JB_OTHER=2", NULL}, 0);
    assert_int_equal(x.status, 0);
}

static void pinned(void **state)
{
    (void)state;
    int cpu = 0;
    struct jb_child_spec s = {.argv = (char *[]){"sh", "-c",
                                                 "grep -q '^Cpus_allowed_list:[[:space:]]*0$' "
                                                 "/proc/self/status",
                                                 NULL},
                              .cpus = &cpu,
                              .ncpus = 1,
                              .keep_fd = -1};
    struct jb_child_exit x;
    char err[JB_ERRLEN];
    assert_int_equal(jb_child_run(&s, -1, NULL, NULL, &x, err, sizeof(err)), 0);
    assert_int_equal(x.status, 0);
}

struct served {
    int fd, n;
};

static void on_fd(void *ctx)
{
    struct served *sv = ctx;
    char buf[64];
    while (recv(sv->fd, buf, sizeof(buf), MSG_DONTWAIT) > 0) {
        sv->n++;
        if (send(sv->fd, "k", 1, MSG_NOSIGNAL) != 1)
            fail();
    }
}

/* The command sends on its inherited end and waits for each answer. */
static void watched_descriptor_is_served(void **state)
{
    (void)state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
    char script[200], var[32];
    snprintf(script, sizeof(script),
             "for i in 1 2 3; do printf x >&%d; dd bs=1 count=1 <&%d 2>/dev/null >/dev/null; done",
             sv[1], sv[1]);
    snprintf(var, sizeof(var), "FD=%d", sv[1]);
    struct jb_child_spec s = {.argv = (char *[]){"sh", "-c", script, NULL},
                              .env_add = (char *[]){var, NULL},
                              .keep_fd = sv[1]};
    struct served ctx = {sv[0], 0};
    struct jb_child_exit x;
    char err[JB_ERRLEN];
    assert_int_equal(jb_child_run(&s, sv[0], on_fd, &ctx, &x, err, sizeof(err)), 0);
    assert_int_equal(x.status, 0);
    assert_int_equal(ctx.n, 3);
    close(sv[0]);
    close(sv[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(status_and_signal),
        cmocka_unit_test(timeout_kills),
        cmocka_unit_test(environment_added),
        cmocka_unit_test(pinned),
        cmocka_unit_test(watched_descriptor_is_served),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
