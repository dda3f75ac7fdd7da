/* child.c: see child.h. Between fork and exec the child calls only
 * async-signal-safe functions: the harness has threads (the energy
 * sampler), so the environment is built before the fork. */
#include "harness/child.h"
#include "base/error.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int jb_child_find(const char *argv0)
{
    if (strchr(argv0, '/'))
        return access(argv0, X_OK) == 0;
    const char *path = getenv("PATH");
    if (!path)
        path = "/usr/local/bin:/usr/bin:/bin";
    while (*path) {
        const char *end = strchr(path, ':');
        size_t n = end ? (size_t)(end - path) : strlen(path);
        char f[4096];
        snprintf(f, sizeof(f), "%.*s/%s", (int)n, n ? path : ".", argv0);
        if (access(f, X_OK) == 0)
            return 1;
        if (!end)
            break;
        path = end + 1;
    }
    return 0;
}

static int replaced(const char *var, char *const *add)
{
    for (int i = 0; add && add[i]; i++) {
        const char *eq = strchr(add[i], '=');
        size_t n = eq ? (size_t)(eq - add[i]) : strlen(add[i]);
        if (!strncmp(var, add[i], n) && var[n] == '=')
            return 1;
    }
    return 0;
}

/* Our environment with add's variables replacing or added (borrowed
 * strings: free only the array). */
static char **build_env(char *const *add)
{
    size_t n = 0, na = 0;
    while (environ[n])
        n++;
    while (add && add[na])
        na++;
    char **env = calloc(n + na + 1, sizeof(char *));
    if (!env)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!replaced(environ[i], add))
            env[k++] = environ[i];
    for (size_t i = 0; i < na; i++)
        env[k++] = add[i];
    env[k] = NULL;
    return env;
}

static void start_child(const struct jb_child_spec *s, char **envp)
{
    if (s->ncpus > 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        for (int i = 0; i < s->ncpus; i++)
            if (s->cpus[i] >= 0)
                CPU_SET(s->cpus[i], &set);
        if (sched_setaffinity(0, sizeof(set), &set))
            _exit(126);
    }
    if (s->stdout_null) {
        int nul = open("/dev/null", O_WRONLY);
        if (nul >= 0) {
            dup2(nul, 1);
            if (nul != 1)
                close(nul);
        }
    }
    if (s->keep_fd >= 0) {
        int fl = fcntl(s->keep_fd, F_GETFD);
        if (fl >= 0)
            fcntl(s->keep_fd, F_SETFD, fl & ~FD_CLOEXEC);
    }
    execvpe(s->argv[0], s->argv, envp);
    static const char msg[] = "joulebench: cannot execute the command\n";
    if (write(2, msg, sizeof(msg) - 1) < 0)
        _exit(127);
    _exit(127);
}

static int pidfd_open_(pid_t pid)
{
#ifdef SYS_pidfd_open
    return (int)syscall(SYS_pidfd_open, pid, 0);
#else
    (void)pid;
    errno = ENOSYS;
    return -1;
#endif
}

int jb_child_run(const struct jb_child_spec *s, int watch_fd, void (*on_watch)(void *ctx),
                 void *ctx, struct jb_child_exit *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    out->status = -1;
    char **envp = build_env(s->env_add);
    if (!envp)
        return jb_err(err, errlen, JB_ENOMEM, "out of memory");
    double t0 = now_s();
    pid_t pid = fork();
    if (pid < 0) {
        free(envp);
        return jb_err(err, errlen, JB_EIO, "fork: %s", strerror(errno));
    }
    if (pid == 0)
        start_child(s, envp);
    free(envp);
    int pfd = pidfd_open_(pid), wst = 0, rc = JB_OK;
    struct rusage ru;
    memset(&ru, 0, sizeof(ru));
    double t1 = 0;
    for (;;) {
        struct pollfd p[2] = {{pfd, POLLIN, 0}, {watch_fd, POLLIN, 0}};
        int timeout_ms = pfd >= 0 ? -1 : (int)(JB_CHILD_EXIT_POLL_S * 1000);
        if (s->timeout_s > 0 && !out->timed_out) {
            double left = t0 + s->timeout_s - now_s();
            int ms = left > 0 ? (int)(left * 1000) + 1 : 0;
            timeout_ms = timeout_ms < 0 || ms < timeout_ms ? ms : timeout_ms;
        }
        /* without a pidfd, slot 0 is a negative fd, which poll ignores */
        int n = poll(p, watch_fd >= 0 ? 2 : 1, timeout_ms);
        if (n < 0 && errno != EINTR) {
            rc = jb_err(err, errlen, JB_EIO, "poll: %s", strerror(errno));
            kill(pid, SIGKILL);
            waitpid(pid, &wst, 0);
            break;
        }
        if (n > 0 && watch_fd >= 0 && (p[1].revents & POLLIN) && on_watch)
            on_watch(ctx);
        if (s->timeout_s > 0 && !out->timed_out && now_s() - t0 > s->timeout_s) {
            out->timed_out = 1;
            kill(pid, SIGKILL);
        }
        if (pfd >= 0 && !(n > 0 && (p[0].revents & POLLIN)))
            continue;
        pid_t w = wait4(pid, &wst, pfd >= 0 ? 0 : WNOHANG, &ru);
        if (w == pid) {
            t1 = now_s();
            break;
        }
        if (w < 0 && errno != EINTR) {
            rc = jb_err(err, errlen, JB_EIO, "wait: %s", strerror(errno));
            break;
        }
    }
    if (pfd >= 0)
        close(pfd);
    if (rc)
        return rc;
    if (watch_fd >= 0 && on_watch)
        on_watch(ctx);
    out->wall_s = t1 - t0;
    out->user_s = (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec;
    out->sys_s = (double)ru.ru_stime.tv_sec + 1e-6 * (double)ru.ru_stime.tv_usec;
    out->max_rss_kb = ru.ru_maxrss;
    if (WIFEXITED(wst))
        out->status = WEXITSTATUS(wst);
    else if (WIFSIGNALED(wst))
        out->signal = WTERMSIG(wst);
    return JB_OK;
}
