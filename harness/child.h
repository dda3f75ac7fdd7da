/* child.h: running an outside command as a measured child process: found
 * in PATH, started pinned to planned cpus with a descriptor it inherits and
 * variables added to its environment, and waited for with a timeout while
 * messages it sends on that descriptor are served. `joulebench exec` runs
 * whole commands with it; an out-of-process back-end speaking a protocol
 * over the inherited descriptor can start and watch its child the same way.
 *
 * The exit is seen through a pidfd (Linux 5.3); without one, polled every
 * JB_CHILD_EXIT_POLL_S, which then bounds how late it is seen. */
#ifndef JB_CHILD_H
#define JB_CHILD_H

#include <stddef.h>

#define JB_CHILD_EXIT_POLL_S 0.001

struct jb_child_spec {
    char *const *argv;    /* NULL-terminated; argv[0] looked up in PATH */
    char *const *env_add; /* "NAME=VALUE" strings that replace or add to the environment,
                           * NULL-terminated, or NULL */
    const int *cpus;      /* OS cpus the command (all its threads) is pinned to */
    int ncpus;            /* 0: not pinned */
    int stdout_null;      /* 1: its stdout to /dev/null */
    int keep_fd;          /* a descriptor that survives its exec, or -1 */
    double timeout_s;     /* killed (SIGKILL) and reported timed out past this; 0: none */
};

struct jb_child_exit {
    int status;           /* exit status, or -1 when killed by a signal */
    int signal;           /* the signal that ended it, or 0 */
    int timed_out;        /* killed for outlasting timeout_s */
    double wall_s;        /* from just before fork to the exit seen */
    double user_s, sys_s; /* its CPU time and its reaped children's (wait4) */
    long max_rss_kb;
};

/* Whether argv0 names an executable file, directly or through PATH. */
int jb_child_find(const char *argv0);

/* Runs the command to its end. While it runs, whenever watch_fd (>= 0) is
 * readable, on_watch(ctx) is called (to read and answer what the command
 * sent), and once more after its exit for anything sent just before. The
 * exit status is reported in *out, not as an error: returns 0, or JB_EIO /
 * JB_ENOMEM with err set when the command could not be started or waited
 * for. A command that cannot be executed exits with status 127. */
int jb_child_run(const struct jb_child_spec *s, int watch_fd, void (*on_watch)(void *ctx),
                 void *ctx, struct jb_child_exit *out, char *err, size_t errlen);

#endif
