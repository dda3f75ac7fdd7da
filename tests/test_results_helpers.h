/* test_results_helpers.h: small helpers shared by the results tests: paths
 * of fixtures, a scratch folder per test, and running a results subcommand
 * in-process through the same table the CLI uses. */
#ifndef JB_TEST_RESULTS_HELPERS_H
#define JB_TEST_RESULTS_HELPERS_H

#include "app/commands.h"

/* Test paths are built in fixed buffers far larger than any scratch path;
 * GCC cannot see that, and a truncation would fail the test anyway. */
#pragma GCC diagnostic ignored "-Wformat-truncation"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static inline const char *th_src(void)
{
    const char *s = getenv("JB_SOURCE_DIR");
    return s ? s : JB_SOURCE_DIR;
}

static inline void th_fixture(char *dst, size_t n, const char *name)
{
    snprintf(dst, n, "%s/tests/data/records/%s", th_src(), name);
}

/* A fresh scratch folder under the build tree (or /tmp). */
static inline void th_scratch(char *dst, size_t n, const char *tag)
{
    const char *b = getenv("JB_BUILD_DIR");
    snprintf(dst, n, "%s/scratch-%s-%d", b ? b : "/tmp", tag, (int)getpid());
    char cmd[2200];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mkdir -p '%s'", dst, dst);
    if (system(cmd) != 0)
        abort();
}

static inline void th_rmrf(const char *dir)
{
    char cmd[2200];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        abort();
}

/* Runs results subcommand argv[0] in-process; returns its exit status. */
static inline int th_cmd(int argc, char **argv)
{
    for (int i = 0; jb_results_commands[i].name; i++)
        if (!strcmp(jb_results_commands[i].name, argv[0])) {
            fflush(stdout);
            return jb_results_commands[i].main(argc, argv);
        }
    return -100;
}

static inline json_t *th_load_fixture(const char *name)
{
    char p[1024];
    th_fixture(p, sizeof(p), name);
    json_error_t je;
    json_t *r = json_load_file(p, 0, &je);
    if (!r)
        abort();
    return r;
}

#endif
