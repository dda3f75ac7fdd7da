/* suite.c: parsing suite files into run specifications (see suite.h). */
#include "harness/suite.h"
#include "base/datadir.h"
#include "base/error.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_INCLUDE_DEPTH 8
#define MAX_TOKENS 32

void jb_spec_defaults(struct jb_run_spec *s)
{
    memset(s, 0, sizeof(*s));
    snprintf(s->scenario, sizeof(s->scenario), "single-stream");
    snprintf(s->pin, sizeof(s->pin), "compact");
    s->batch = 1;
    s->threads = 1;
    s->repetitions = 5;
    s->min_time_s = 0.5;
    s->target_qps = 100;
    s->streams = 8;
    s->interval_ms = 50;
    snprintf(s->origin, sizeof(s->origin), "defaults");
}

static int parse_int(const char *key, const char *v, int lo, int hi, int *out, char *err,
                     size_t errlen)
{
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    char ex[JB_EXCERPT_MAX + 1];
    if (errno || end == v || *end || x < lo || x > hi)
        return jb_err(err, errlen, JB_EINVAL, "%s=%s: expected an integer from %d to %d", key,
                      jb_excerpt(v, ex, sizeof(ex)), lo, hi);
    *out = (int)x;
    return JB_OK;
}

static int copy_str(const char *key, const char *v, char *dst, size_t n, char *err,
                    size_t errlen)
{
    char ex[JB_EXCERPT_MAX + 1];
    if (strlen(v) >= n)
        return jb_err(err, errlen, JB_EINVAL, "%s=%s: too long (at most %zu characters)", key,
                      jb_excerpt(v, ex, sizeof(ex)), n - 1);
    memcpy(dst, v, strlen(v) + 1);
    return JB_OK;
}

int jb_spec_set(struct jb_run_spec *s, const char *key, const char *v, char *err, size_t errlen)
{
    int rc;
    char ex[JB_EXCERPT_MAX + 1], kx[JB_EXCERPT_MAX + 1];
    if (!strcmp(key, "dtype")) {
        rc = copy_str(key, v, s->dtype, sizeof(s->dtype), err, errlen);
        s->set |= JB_SPEC_DTYPE;
    } else if (!strcmp(key, "backend")) {
        rc = copy_str(key, v, s->backend, sizeof(s->backend), err, errlen);
        s->set |= JB_SPEC_BACKEND;
    } else if (!strcmp(key, "scenario")) {
        if (strcmp(v, "single-stream") && strcmp(v, "offline") && strcmp(v, "server") &&
            strcmp(v, "multi-stream"))
            return jb_err(err, errlen, JB_EINVAL,
                          "scenario=%s: expected single-stream, offline, server or multi-stream",
                          jb_excerpt(v, ex, sizeof(ex)));
        rc = copy_str(key, v, s->scenario, sizeof(s->scenario), err, errlen);
        s->set |= JB_SPEC_SCENARIO;
    } else if (!strcmp(key, "batch")) {
        rc = parse_int(key, v, 1, 1 << 20, &s->batch, err, errlen);
        s->set |= JB_SPEC_BATCH;
    } else if (!strcmp(key, "context")) {
        rc = parse_int(key, v, 0, 1 << 24, &s->context, err, errlen);
        s->set |= JB_SPEC_CONTEXT;
    } else if (!strcmp(key, "threads")) {
        rc = parse_int(key, v, 1, 4096, &s->threads, err, errlen);
        s->set |= JB_SPEC_THREADS;
    } else if (!strcmp(key, "pin")) {
        rc = copy_str(key, v, s->pin, sizeof(s->pin), err, errlen);
        s->set |= JB_SPEC_PIN;
    } else if (!strcmp(key, "options")) {
        rc = copy_str(key, v, s->options, sizeof(s->options), err, errlen);
        s->set |= JB_SPEC_OPTIONS;
    } else if (!strcmp(key, "repetitions")) {
        rc = parse_int(key, v, 1, 100000, &s->repetitions, err, errlen);
        s->set |= JB_SPEC_REPETITIONS;
    } else if (!strcmp(key, "min_time")) {
        char *end;
        errno = 0;
        double x = strtod(v, &end);
        /* decimal seconds only: strtod also takes "0x10" (16 s) and "inf" */
        if (errno || end == v || *end || !(x >= 0 && x <= 86400) || strpbrk(v, "xXnNiI"))
            return jb_err(err, errlen, JB_EINVAL, "min_time=%s: expected seconds from 0 to 86400",
                          jb_excerpt(v, ex, sizeof(ex)));
        s->min_time_s = x;
        s->set |= JB_SPEC_MIN_TIME;
        rc = JB_OK;
    } else if (!strcmp(key, "target_qps") || !strcmp(key, "latency_bound_ms") ||
               !strcmp(key, "interval_ms")) {
        char *end;
        errno = 0;
        double x = strtod(v, &end);
        double lo = !strcmp(key, "latency_bound_ms") ? 0 : 1e-3;
        if (errno || end == v || *end || !(x >= lo && x <= 1e7) || strpbrk(v, "xXnNiI"))
            return jb_err(err, errlen, JB_EINVAL, "%s=%s: expected a decimal number from %g to 1e7",
                          key, jb_excerpt(v, ex, sizeof(ex)), lo);
        if (!strcmp(key, "target_qps")) {
            s->target_qps = x;
            s->set |= JB_SPEC_TARGET_QPS;
        } else if (!strcmp(key, "interval_ms")) {
            s->interval_ms = x;
            s->set |= JB_SPEC_INTERVAL;
        } else {
            s->latency_bound_ms = x;
            s->set |= JB_SPEC_LATENCY_BOUND;
        }
        rc = JB_OK;
    } else if (!strcmp(key, "streams")) {
        rc = parse_int(key, v, 1, 1 << 16, &s->streams, err, errlen);
        s->set |= JB_SPEC_STREAMS;
    } else if (!strcmp(key, "find_peak")) {
        rc = parse_int(key, v, 0, 1, &s->find_peak, err, errlen);
        s->set |= JB_SPEC_FIND_PEAK;
    } else {
        return jb_err(err, errlen, JB_EINVAL,
                      "unknown key '%s' (expected dtype, backend, scenario, batch, context, "
                      "threads, pin, options, repetitions, min_time, target_qps, "
                      "latency_bound_ms, streams, interval_ms, find_peak)",
                      jb_excerpt(key, kx, sizeof(kx)));
    }
    return rc;
}

void jb_spec_override(struct jb_run_spec *s, const struct jb_run_spec *o)
{
    if (o->set & JB_SPEC_DTYPE)
        memcpy(s->dtype, o->dtype, sizeof(s->dtype));
    if (o->set & JB_SPEC_BACKEND)
        memcpy(s->backend, o->backend, sizeof(s->backend));
    if (o->set & JB_SPEC_SCENARIO)
        memcpy(s->scenario, o->scenario, sizeof(s->scenario));
    if (o->set & JB_SPEC_BATCH)
        s->batch = o->batch;
    if (o->set & JB_SPEC_CONTEXT)
        s->context = o->context;
    if (o->set & JB_SPEC_THREADS)
        s->threads = o->threads;
    if (o->set & JB_SPEC_PIN)
        memcpy(s->pin, o->pin, sizeof(s->pin));
    if (o->set & JB_SPEC_OPTIONS)
        memcpy(s->options, o->options, sizeof(s->options));
    if (o->set & JB_SPEC_REPETITIONS)
        s->repetitions = o->repetitions;
    if (o->set & JB_SPEC_MIN_TIME)
        s->min_time_s = o->min_time_s;
    if (o->set & JB_SPEC_TARGET_QPS)
        s->target_qps = o->target_qps;
    if (o->set & JB_SPEC_LATENCY_BOUND)
        s->latency_bound_ms = o->latency_bound_ms;
    if (o->set & JB_SPEC_STREAMS)
        s->streams = o->streams;
    if (o->set & JB_SPEC_INTERVAL)
        s->interval_ms = o->interval_ms;
    if (o->set & JB_SPEC_FIND_PEAK)
        s->find_peak = o->find_peak;
    s->set |= o->set;
}

int jb_spec_list_push(struct jb_spec_list *l, const struct jb_run_spec *s)
{
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 16;
        struct jb_run_spec *v = realloc(l->v, sizeof(*v) * (size_t)cap);
        if (!v)
            return JB_ENOMEM;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = *s;
    return JB_OK;
}

void jb_spec_list_free(struct jb_spec_list *l)
{
    free(l->v);
    memset(l, 0, sizeof(*l));
}

int jb_spec_same(const struct jb_run_spec *a, const struct jb_run_spec *b)
{
    return !strcmp(a->workload, b->workload) && a->ops == b->ops && !strcmp(a->dtype, b->dtype) &&
           !strcmp(a->backend, b->backend) && !strcmp(a->scenario, b->scenario) &&
           a->batch == b->batch && a->context == b->context && a->threads == b->threads &&
           !strcmp(a->pin, b->pin) && !strcmp(a->options, b->options) &&
           a->repetitions == b->repetitions && a->min_time_s == b->min_time_s &&
           a->target_qps == b->target_qps && a->latency_bound_ms == b->latency_bound_ms &&
           a->streams == b->streams && a->interval_ms == b->interval_ms &&
           a->find_peak == b->find_peak;
}

void jb_spec_list_dedupe(struct jb_spec_list *l)
{
    int n = 0;
    for (int i = 0; i < l->n; i++) {
        int dup = 0;
        for (int j = 0; j < n && !dup; j++)
            dup = jb_spec_same(&l->v[j], &l->v[i]);
        if (!dup)
            l->v[n++] = l->v[i];
    }
    l->n = n;
}

struct kv {
    char key[32];
    char value[256];
};

/* Expands token i onward: values with commas become one run each. */
static int expand(const struct kv *kv, int nkv, int i, struct jb_run_spec *cur,
                  struct jb_spec_list *out, char *err, size_t errlen)
{
    if (i == nkv)
        return jb_spec_list_push(out, cur) ? jb_err(err, errlen, JB_ENOMEM, "out of memory")
                                           : JB_OK;
    int listy = strcmp(kv[i].key, "pin") && strcmp(kv[i].key, "options");
    char buf[256];
    memcpy(buf, kv[i].value, sizeof(buf));
    char *save = NULL;
    char *tok = listy ? strtok_r(buf, ",", &save) : buf;
    if (!tok)
        return jb_err(err, errlen, JB_EINVAL, "%s: empty value", kv[i].key);
    for (; tok; tok = listy ? strtok_r(NULL, ",", &save) : NULL) {
        struct jb_run_spec next = *cur;
        int rc = jb_spec_set(&next, kv[i].key, tok, err, errlen);
        if (rc)
            return rc;
        rc = expand(kv, nkv, i + 1, &next, out, err, errlen);
        if (rc)
            return rc;
    }
    return JB_OK;
}

int jb_suite_parse_line(const char *line, const struct jb_run_spec *base, const char *origin,
                        struct jb_spec_list *out, char *err, size_t errlen)
{
    char buf[1024], ex[JB_EXCERPT_MAX + 1], ex2[JB_EXCERPT_MAX + 1];
    if (strlen(line) >= sizeof(buf))
        return jb_err(err, errlen, JB_EINVAL, "%s: line too long", origin);
    snprintf(buf, sizeof(buf), "%s", line);
    char *hash = strchr(buf, '#');
    if (hash)
        *hash = 0;
    char *save = NULL;
    char *word = strtok_r(buf, " \t\r\n", &save);
    if (!word)
        return JB_OK;
    char names[256];
    if (strlen(word) >= sizeof(names))
        return jb_err(err, errlen, JB_EINVAL, "%s: '%s' is not a workload name", origin,
                      jb_excerpt(word, ex, sizeof(ex)));
    snprintf(names, sizeof(names), "%s", word);
    struct kv kv[MAX_TOKENS];
    int nkv = 0;
    while ((word = strtok_r(NULL, " \t\r\n", &save))) {
        char *eq = strchr(word, '=');
        if (!eq || eq == word)
            return jb_err(err, errlen, JB_EINVAL, "%s: '%s' is not key=value", origin,
                          jb_excerpt(word, ex, sizeof(ex)));
        if (nkv == MAX_TOKENS)
            return jb_err(err, errlen, JB_EINVAL, "%s: too many keys", origin);
        *eq = 0;
        if (strlen(word) >= sizeof(kv[0].key) || strlen(eq + 1) >= sizeof(kv[0].value) ||
            !eq[1])
            return jb_err(err, errlen, JB_EINVAL, "%s: bad key=value '%s=...'", origin,
                          jb_excerpt(word, ex, sizeof(ex)));
        for (int k = 0; k < nkv; k++)
            if (!strcmp(kv[k].key, word))
                return jb_err(err, errlen, JB_EINVAL,
                              "%s: %s given twice (give one value, or a comma list)", origin,
                              jb_excerpt(word, ex, sizeof(ex)));
        if (strcmp(word, "pin") && strcmp(word, "options") &&
            (eq[1] == ',' || eq[strlen(eq + 1)] == ',' || strstr(eq + 1, ",,")))
            return jb_err(err, errlen, JB_EINVAL, "%s: %s=%s: an empty value in the list", origin,
                          jb_excerpt(word, ex, sizeof(ex)), jb_excerpt(eq + 1, ex2, sizeof(ex2)));
        snprintf(kv[nkv].key, sizeof(kv[nkv].key), "%s", word);
        snprintf(kv[nkv].value, sizeof(kv[nkv].value), "%s", eq + 1);
        nkv++;
    }
    /* A comma list of workloads is one run list per workload. */
    char *wsave = NULL;
    for (char *name = strtok_r(names, ",", &wsave); name; name = strtok_r(NULL, ",", &wsave)) {
        struct jb_run_spec s = *base;
        /* workload names are [A-Za-z0-9._-]: anything else is not one (a
         * line of some other file), and is quoted only as an excerpt */
        if (strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") !=
            strlen(name))
            return jb_err(err, errlen, JB_EINVAL, "%s: '%s' is not a workload name", origin,
                          jb_excerpt(name, ex, sizeof(ex)));
        if (strlen(name) >= sizeof(s.workload))
            return jb_err(err, errlen, JB_EINVAL, "%s: workload name too long", origin);
        snprintf(s.workload, sizeof(s.workload), "%s", name);
        snprintf(s.origin, sizeof(s.origin), "%s", origin);
        char msg[JB_ERRLEN];
        int rc = expand(kv, nkv, 0, &s, out, msg, sizeof(msg));
        if (rc)
            return jb_err(err, errlen, rc, "%s: %s", origin, msg);
    }
    return JB_OK;
}
int jb_suite_path(const char *name, char *path, size_t n)
{
    struct stat st;
    if (strchr(name, '/')) {
        snprintf(path, n, "%s", name);
        return stat(path, &st) == 0 && S_ISREG(st.st_mode) ? JB_OK : JB_ENOENT;
    }
    /* $JB_SUITES_DIR adds to the shipped suites: a name is looked for there
     * first, then among the shipped ones. */
    char given[1024], shipped[1024];
    jb_data_dir(JB_DATA_SUITES, given, sizeof(given));
    jb_data_dir_shipped(JB_DATA_SUITES, shipped, sizeof(shipped));
    const char *dirs[2] = {given, shipped};
    for (int i = 0; i < 2; i++) {
        snprintf(path, n, "%s/%s", dirs[i], name);
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
            return JB_OK;
    }
    return JB_ENOENT;
}

/* Where `@include NAME` in the suite at from_path points: a bare name is a
 * suite (jb_suite_path), a relative path is relative to the including file's
 * folder; an absolute path, or one climbing out with "..", is refused, so a
 * suite cannot make `run` read (and quote) a file outside the suites. */
static int include_path(const char *from_path, const char *inc, char *path, size_t n,
                        const char *origin, char *err, size_t errlen)
{
    char ex[JB_EXCERPT_MAX + 1];
    if (!strchr(inc, '/'))
        return jb_suite_path(inc, path, n) ? jb_err(err, errlen, JB_ENOENT,
                                                    "%s: @include %s: no such suite", origin,
                                                    jb_excerpt(inc, ex, sizeof(ex)))
                                           : JB_OK;
    if (inc[0] == '/' || !strcmp(inc, "..") || !strncmp(inc, "../", 3) || strstr(inc, "/../") ||
        (strlen(inc) >= 3 && !strcmp(inc + strlen(inc) - 3, "/..")))
        return jb_err(err, errlen, JB_EINVAL,
                      "%s: @include %s: give a suite name or a path relative to this suite, "
                      "inside its folder",
                      origin, jb_excerpt(inc, ex, sizeof(ex)));
    const char *slash = strrchr(from_path, '/');
    int dl = slash ? (int)(slash - from_path) : 1;
    snprintf(path, n, "%.*s/%s", dl, slash ? from_path : ".", inc);
    struct stat st;
    if (stat(path, &st) || !S_ISREG(st.st_mode))
        return jb_err(err, errlen, JB_ENOENT, "%s: @include %s: no such suite file", origin,
                      jb_excerpt(inc, ex, sizeof(ex)));
    return JB_OK;
}

/* Suite lines are short; longer ones are refused rather than cut. */
#define SUITE_LINE_MAX 1024

static int load(const char *path, const struct jb_run_spec *base, struct jb_spec_list *out,
                int depth, char *err, size_t errlen)
{
    if (depth > MAX_INCLUDE_DEPTH)
        return jb_err(err, errlen, JB_EINVAL, "suite %s: @include nested too deeply", path);
    FILE *f = fopen(path, "r");
    if (!f)
        return jb_err(err, errlen, JB_EIO, "suite: cannot read %s", path);
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int lineno = 0, rc = JB_OK;
    const char *shown = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    while ((len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        char origin[160];
        snprintf(origin, sizeof(origin), "suites/%.100s:%d", shown, lineno);
        if (memchr(line, '\0', (size_t)len)) {
            rc = jb_err(err, errlen, JB_EINVAL, "%s: a NUL byte: not a text file", origin);
            break;
        }
        if (len >= SUITE_LINE_MAX) {
            rc = jb_err(err, errlen, JB_EINVAL, "%s: line too long (at most %d characters)",
                        origin, SUITE_LINE_MAX - 1);
            break;
        }
        char *p = line;
        while (isspace((unsigned char)*p))
            p++;
        if (!strncmp(p, "@include", 8)) {
            char inc[256], inc_path[4096];
            if (sscanf(p + 8, " %255s", inc) != 1) {
                rc = jb_err(err, errlen, JB_EINVAL, "%s: @include needs a suite name", origin);
                break;
            }
            rc = include_path(path, inc, inc_path, sizeof(inc_path), origin, err, errlen);
            if (!rc)
                rc = load(inc_path, base, out, depth + 1, err, errlen);
        } else {
            rc = jb_suite_parse_line(p, base, origin, out, err, errlen);
        }
        if (rc)
            break;
    }
    free(line);
    fclose(f);
    return rc;
}

int jb_suite_load(const char *name, const struct jb_run_spec *base, struct jb_spec_list *out,
                  char *err, size_t errlen)
{
    char path[4096], ex[JB_EXCERPT_MAX + 1];
    if (jb_suite_path(name, path, sizeof(path)))
        return jb_err(err, errlen, JB_ENOENT, "unknown suite '%s' (no file %s)",
                      jb_excerpt(name, ex, sizeof(ex)), path);
    return load(path, base, out, 0, err, errlen);
}
