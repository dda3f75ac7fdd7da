/* power_opts.c: option parsing, clock and sysfs helpers shared by the power
 * sources (see power_opts.h). Kept apart so every source parses --power
 * options the same way and reports a bad one with the same message shape. */
#include "harness/power_opts.h"
#include "base/error.h"
#include "base/options.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

double jb_power_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void jb_power_sleep_s(double s)
{
    if (!(s > 0))
        return;
    struct timespec ts = {(time_t)s, (long)((s - floor(s)) * 1e9)};
    while (nanosleep(&ts, &ts) && errno == EINTR)
        ;
}

/* Finds key in opts; on success *val points at its value and *vlen is its
 * length (up to the next comma). */
static int find_key(const char *opts, const char *key, const char **val, size_t *vlen)
{
    size_t klen = strlen(key);
    const char *p = opts;
    while (p && *p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        size_t nlen = eq ? (size_t)(eq - p) : len;
        if (nlen == klen && !strncmp(p, key, klen)) {
            *val = eq ? eq + 1 : p + len;
            *vlen = eq ? len - nlen - 1 : 0;
            return 1;
        }
        p = end ? end + 1 : NULL;
    }
    return 0;
}

int jb_power_opt_str(const char *opts, const char *key, char *out, size_t n)
{
    const char *v;
    size_t vlen;
    if (!opts || !find_key(opts, key, &v, &vlen))
        return 0;
    if (n) {
        size_t c = vlen < n - 1 ? vlen : n - 1;
        memcpy(out, v, c);
        out[c] = 0;
    }
    return 1;
}

int jb_power_opt_double(const char *src, const char *opts, const char *key, double def, double *out,
                        char *err, size_t errlen)
{
    char buf[JB_OPT_VALUE_MAX];
    *out = def;
    if (!jb_power_opt_str(opts, key, buf, sizeof(buf)))
        return JB_OK;
    char *end;
    errno = 0;
    double v = strtod(buf, &end);
    if (!buf[0] || *end || errno || !isfinite(v))
        return jb_err(err, errlen, JB_EINVAL, "%s: option %s=%s is not a number", src, key, buf);
    *out = v;
    return JB_OK;
}

/* Through base/options.c's strict splitter, the one parser of every
 * key=value a user writes: no empty pair or trailing comma, no key twice, no
 * value too long to keep whole. */
int jb_power_opts_check(const char *src, const char *opts, const char *const *keys, char *err,
                        size_t errlen)
{
    char key[JB_OPT_KEY_MAX], val[JB_OPT_VALUE_MAX], seen[512] = ",";
    const char *cur = opts;
    int rc;
    while ((rc = jb_kv_next(src, &cur, key, sizeof(key), val, sizeof(val), err, errlen)) > 0) {
        int known = 0;
        for (int i = 0; keys[i] && !known; i++)
            known = !strcmp(keys[i], key);
        if (!known) {
            char names[256] = "";
            for (int i = 0; keys[i]; i++)
                snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
                         i ? ", " : "", keys[i]);
            return jb_err(err, errlen, JB_EINVAL, "%s: unknown option '%s' (valid: %s)", src, key,
                          names[0] ? names : "none");
        }
        char mark[JB_OPT_KEY_MAX + 2];
        snprintf(mark, sizeof(mark), ",%s,", key);
        if (strstr(seen, mark))
            return jb_err(err, errlen, JB_EINVAL, "%s: option '%s' given twice", src, key);
        if (strlen(seen) + strlen(key) + 2 < sizeof(seen))
            strcat(strcat(seen, key), ",");
    }
    return rc;
}

int jb_power_read_line(const char *path, char *buf, size_t n)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return errno == ENOENT                       ? JB_ENOENT
               : (errno == EACCES || errno == EPERM) ? JB_EPERM
                                                     : JB_EIO;
    int rc = JB_OK;
    if (!fgets(buf, (int)n, f)) {
        /* sysfs reports a refused read (e.g. energy_uj for non-root) at read time */
        rc = (errno == EACCES || errno == EPERM) ? JB_EPERM : JB_EIO;
        buf[0] = 0;
    }
    fclose(f);
    buf[strcspn(buf, "\n")] = 0;
    return rc;
}

void jb_power_path(char *out, size_t n, const char *root, const char *path)
{
    if (!root || !root[0] || !strcmp(root, "/"))
        snprintf(out, n, "%s", path);
    else
        snprintf(out, n, "%s%s%s", root, root[strlen(root) - 1] == '/' ? "" : "/",
                 path[0] == '/' ? path + 1 : path);
}
