/* datadir.c: the one lookup of joulebench's run-time files (see datadir.h).
 * Nothing is cached: a lookup is one readlink and a stat or two, done a few
 * times per command, and a cache would be global mutable state. */
#include "base/datadir.h"

#include "base/error.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Set by CMake for this file: the share folder relative to the installed
 * executable's folder (from GNUInstallDirs' BINDIR and DATADIR), and its
 * absolute location under the configured prefix, used only where
 * /proc/self/exe cannot be read. */
#ifndef JB_DATA_FROM_BIN
#define JB_DATA_FROM_BIN "../share/joulebench"
#endif
#ifndef JB_INSTALL_DATADIR
#define JB_INSTALL_DATADIR "/usr/local/share/joulebench"
#endif
#ifndef JB_SOURCE_DIR
#define JB_SOURCE_DIR "."
#endif

struct kind {
    const char *name; /* also the folder under share/joulebench */
    const char *env;  /* the override */
    const char *src;  /* the folder in the source tree */
};

static const struct kind kinds[JB_DATA_NKINDS] = {
    [JB_DATA_SCHEMA] = {"schema", "JB_SCHEMA_DIR", "results/schema"},
    [JB_DATA_TABLES] = {"data", "JB_DATA_DIR", "results/data"},
    [JB_DATA_PLOTS] = {"plots", "JB_PLOTS_DIR", "plots"},
    [JB_DATA_PLATFORMS] = {"platforms", "JB_PLATFORMS_DIR", "platforms/descriptors"},
    [JB_DATA_SUITES] = {"suites", "JB_SUITES_DIR", "suites"},
    [JB_DATA_MODELS] = {"models", "JB_MODELS_DIR", "workloads/tinyml/models"},
};

const char *jb_data_kind_name(enum jb_data_kind kind)
{
    return (unsigned)kind < JB_DATA_NKINDS ? kinds[kind].name : NULL;
}

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The installed share folder of this kind, from the executable's location:
 * "<exe folder>/../share/joulebench/NAME", resolved ("P/share/...", not
 * "P/bin/../share/...") where share/joulebench exists, since the path is
 * written into records and messages. */
static void installed_dir(const struct kind *k, char *dst, size_t n)
{
    char exe[PATH_MAX], share[PATH_MAX + 64], real[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    char *slash = NULL;
    if (len > 0) {
        exe[len] = '\0';
        slash = strrchr(exe, '/');
    }
    if (slash) {
        *slash = '\0';
        snprintf(share, sizeof(share), "%s/%s", exe, JB_DATA_FROM_BIN);
    } else {
        snprintf(share, sizeof(share), "%s", JB_INSTALL_DATADIR);
    }
    snprintf(dst, n, "%s/%s", realpath(share, real) ? real : share, k->name);
}

static int resolve(enum jb_data_kind kind, int use_env, char *dst, size_t n)
{
    if ((unsigned)kind >= JB_DATA_NKINDS || n == 0)
        return JB_EINVAL;
    const struct kind *k = &kinds[kind];
    const char *e = use_env ? getenv(k->env) : NULL;
    if (e && *e) {
        snprintf(dst, n, "%s", e);
        return JB_OK;
    }
    installed_dir(k, dst, n);
    if (is_dir(dst))
        return JB_OK;
    const char *off = getenv("JB_NO_SOURCE_TREE");
    if (!(off && *off)) {
        char src[PATH_MAX];
        snprintf(src, sizeof(src), "%s/%s", JB_SOURCE_DIR, k->src);
        if (is_dir(src)) {
            snprintf(dst, n, "%s", src);
            return JB_OK;
        }
    }
    /* Nothing found: dst keeps the installed location, for the message. */
    return JB_ENOENT;
}

int jb_data_dir(enum jb_data_kind kind, char *dst, size_t n)
{
    return resolve(kind, 1, dst, n);
}

int jb_data_dir_shipped(enum jb_data_kind kind, char *dst, size_t n)
{
    return resolve(kind, 0, dst, n);
}
