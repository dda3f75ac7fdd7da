/* cmd_util.c: the helpers declared in cmd_util.h. */
#include "app/cmd_util.h"

#include "base/error.h"
#include "base/suggest.h"
#include "platforms/descriptor.h"
#include "results/record_util.h"
#include "results/carbon.h"
#include "results/schema_validate.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int jb_opts_parse(int argc, char **argv, const struct jb_opt *opts, const char **pos, int maxpos,
                  int *npos, char *err, size_t errlen)
{
    *npos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) || !a[2]) {
            if (!strcmp(a, "--")) {
                for (i++; i < argc; i++) {
                    if (*npos >= maxpos)
                        return jb_err(err, errlen, JB_EINVAL, "too many arguments");
                    pos[(*npos)++] = argv[i];
                }
                break;
            }
            if (*npos >= maxpos)
                return jb_err(err, errlen, JB_EINVAL, "unexpected argument '%.80s'", a);
            pos[(*npos)++] = a;
            continue;
        }
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t nl = eq ? (size_t)(eq - name) : strlen(name);
        const struct jb_opt *o = NULL;
        for (int k = 0; opts[k].name; k++)
            if (strlen(opts[k].name) == nl && !strncmp(opts[k].name, name, nl))
                o = &opts[k];
        if (!o) {
            const char *names[64];
            size_t k = 0;
            char typed[96];
            for (; opts[k].name && k < 64; k++)
                names[k] = opts[k].name;
            snprintf(typed, sizeof(typed), "%.*s", (int)(nl < 80 ? nl : 80), name);
            const char *near = jb_suggest(typed, names, k);
            if (near)
                return jb_err(err, errlen, JB_EINVAL, "unknown option '%.80s'; did you mean --%s?",
                              a, near);
            return jb_err(err, errlen, JB_EINVAL, "unknown option '%.80s'", a);
        }
        if (o->flag) {
            if (eq)
                return jb_err(err, errlen, JB_EINVAL, "option --%s takes no value", o->name);
            *o->flag = 1;
        } else if (eq) {
            *o->val = eq + 1;
        } else {
            if (i + 1 >= argc)
                return jb_err(err, errlen, JB_EINVAL, "option --%s needs a value", o->name);
            *o->val = argv[++i];
        }
    }
    return JB_OK;
}

int jb_opts_help(int argc, char **argv, const char *usage)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--"))
            break;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(usage, stdout);
            return 1;
        }
    }
    return 0;
}

int jb_opt_double(const char *name, const char *s, double *out, char *err, size_t errlen)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || *end || errno || !isfinite(v))
        return jb_err(err, errlen, JB_EINVAL, "--%s: '%.40s' is not a number", name, s);
    *out = v;
    return JB_OK;
}

int jb_opt_long(const char *name, const char *s, long long lo, long long hi, long long *out,
                char *err, size_t errlen)
{
    char *end, ex[JB_EXCERPT_MAX + 1];
    errno = 0;
    /* strtoll would take leading blanks and, for an unsigned range, "-1"
     * wrapped; only digits (and a '-' where negatives are allowed) pass */
    int ok = *s && (isdigit((unsigned char)*s) || (*s == '-' && lo < 0 && isdigit((unsigned char)s[1])));
    long long v = ok ? strtoll(s, &end, 10) : 0;
    if (!ok || *end || errno || v < lo || v > hi)
        return jb_err(err, errlen, JB_EINVAL, "%s: '%s' is not an integer from %lld to %lld", name,
                      jb_excerpt(s, ex, sizeof(ex)), lo, hi);
    *out = v;
    return JB_OK;
}

static int has_suffix(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

int jb_record_file_load(const char *path, const json_t *schema, json_t **doc_out, int *bad)
{
    char err[JB_ERRLEN];
    json_error_t je;
    struct stat st;
    *doc_out = NULL;
    if (stat(path, &st) == 0 && st.st_size > (off_t)JB_RECORD_MAX_BYTES) {
        fprintf(stderr, "joulebench: %s: larger than %u MiB, not a record (skipped)\n", path,
                JB_RECORD_MAX_BYTES >> 20);
        (*bad)++;
        return -1;
    }
    json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!doc) {
        fprintf(stderr, "joulebench: %s: line %d column %d: %s (skipped)\n", path, je.line,
                je.column, je.text);
        (*bad)++;
        return -1;
    }
    if (jb_is_gbench(doc)) {
        *doc_out = doc;
        return 1;
    }
    int rc = jb_record_check(schema, doc, err, sizeof(err));
    if (rc) {
        fprintf(stderr, "joulebench: %s: %s (skipped)\n", path, err);
        json_decref(doc);
        (*bad)++;
        return -1;
    }
    *doc_out = doc;
    return 0;
}

/* out NULL: only lists the path (jb_records_list). */
static void collect_file(const char *path, const json_t *schema, json_t *out, json_t *paths,
                         json_t *gbench, int *bad)
{
    if (!out) {
        json_array_append_new(paths, json_string(path));
        return;
    }
    json_t *doc;
    int kind = jb_record_file_load(path, schema, &doc, bad);
    if (kind < 0)
        return;
    if (kind == 1) {
        if (gbench)
            json_array_append_new(gbench, json_pack("{s:s,s:o}", "path", path, "json", doc));
        else {
            fprintf(stderr, "joulebench: %s: a Google Benchmark file, not a record (skipped)\n",
                    path);
            json_decref(doc);
            (*bad)++;
        }
        return;
    }
    json_array_append_new(out, doc);
    if (paths)
        json_array_append_new(paths, json_string(path));
}

static void collect(const char *path, const json_t *schema, json_t *out, json_t *paths,
                    json_t *gbench, int *bad, int depth)
{
    struct stat st;
    if (lstat(path, &st) != 0) {
        fprintf(stderr, "joulebench: %s: %s\n", path, strerror(errno));
        (*bad)++;
        return;
    }
    if (S_ISLNK(st.st_mode) && depth > 0)
        return; /* inside folders, links are not followed */
    if (stat(path, &st) != 0) {
        fprintf(stderr, "joulebench: %s: %s\n", path, strerror(errno));
        (*bad)++;
        return;
    }
    if (S_ISREG(st.st_mode)) {
        if (depth == 0 || has_suffix(path, ".json"))
            collect_file(path, schema, out, paths, gbench, bad);
        return;
    }
    if (!S_ISDIR(st.st_mode) || depth > 16)
        return;
    struct dirent **names = NULL;
    int n = scandir(path, &names, NULL, alphasort);
    if (n < 0) {
        fprintf(stderr, "joulebench: %s: %s\n", path, strerror(errno));
        (*bad)++;
        return;
    }
    for (int i = 0; i < n; i++) {
        if (names[i]->d_name[0] != '.') {
            char sub[4096];
            snprintf(sub, sizeof(sub), "%s/%s", path, names[i]->d_name);
            collect(sub, schema, out, paths, gbench, bad, depth + 1);
        }
        free(names[i]);
    }
    free(names);
}

int jb_records_collect(const char *path, json_t *out, json_t *paths, json_t *gbench, int *bad)
{
    char err[JB_ERRLEN];
    json_t *schema = NULL;
    int rc = jb_record_schema_load(&schema, err, sizeof(err));
    if (rc) {
        fprintf(stderr, "joulebench: %s\n", err);
        return rc;
    }
    collect(path, schema, out, paths, gbench, bad, 0);
    json_decref(schema);
    return JB_OK;
}

void jb_records_list(const char *path, json_t *paths, int *bad)
{
    collect(path, NULL, NULL, paths, NULL, bad, 0);
}

int jb_norm_opts_from(struct jb_norm_opts *o, const char *region, const char *grid, const char *pue,
                      const char *wue, const char *platform, json_t **platform_out, char *err,
                      size_t errlen)
{
    jb_norm_opts_init(o);
    *platform_out = NULL;
    int rc;
    o->region = region;
    if (grid && (rc = jb_opt_double("grid-intensity", grid, &o->grid_gco2e_per_kwh, err, errlen)))
        return rc;
    if (pue && (rc = jb_opt_double("pue", pue, &o->pue, err, errlen)))
        return rc;
    if (wue && (rc = jb_opt_double("wue", wue, &o->wue_l_per_kwh, err, errlen)))
        return rc;
    if (grid && o->grid_gco2e_per_kwh < 0)
        return jb_err(err, errlen, JB_EINVAL, "--grid-intensity %s: must be >= 0", grid);
    if (pue && o->pue < 1.0)
        return jb_err(err, errlen, JB_EINVAL,
                      "--pue %s: must be >= 1 (it is total over IT energy)", pue);
    if (wue && o->wue_l_per_kwh < 0)
        return jb_err(err, errlen, JB_EINVAL, "--wue %s: must be >= 0", wue);
    if (region && !grid) {
        struct jb_grid_row row;
        if ((rc = jb_grid_lookup(region, &row, err, errlen)))
            return rc;
    }
    if (platform) {
        if ((rc = jb_platform_load(platform, platform_out, err, errlen)))
            return rc;
        o->platform = *platform_out;
    }
    return JB_OK;
}

/* A power trace is written beside its record as NAME.power.csv (the
 * harness's trace_path); larger files are not a trace. */
#define TRACE_MAX_BYTES (16u << 20)

char *jb_read_trace_beside(const char *record_path)
{
    char base[4096], path[4200];
    snprintf(base, sizeof(base), "%s", record_path);
    size_t n = strlen(base);
    if (n > 5 && !strcmp(base + n - 5, ".json"))
        base[n - 5] = '\0';
    const char *suffixes[] = {".power.csv", "-power.csv", ".trace.csv"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof(path), "%s%s", base, suffixes[i]);
        struct stat st;
        if (lstat(path, &st) || !S_ISREG(st.st_mode) || st.st_size > (off_t)TRACE_MAX_BYTES)
            continue;
        FILE *f = fopen(path, "rb");
        if (!f)
            continue;
        char *buf = malloc((size_t)st.st_size + 1);
        size_t got = buf ? fread(buf, 1, (size_t)st.st_size, f) : 0;
        fclose(f);
        if (!buf)
            return NULL;
        buf[got] = '\0';
        if (strncmp(buf, "time_s,domain,watts", 19) || strlen(buf) != got) {
            fprintf(stderr, "joulebench: %s: not a power trace (want header time_s,domain,watts)\n",
                    path);
            free(buf);
            continue;
        }
        return buf;
    }
    return NULL;
}

int jb_mkdirs(const char *dir)
{
    char tmp[2048];
    snprintf(tmp, sizeof(tmp), "%s", dir);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, 0755) && errno != EEXIST)
                return -1;
            *p = '/';
        }
    return (mkdir(tmp, 0755) && errno != EEXIST) ? -1 : 0;
}

int jb_query_parse(char *buf, struct jb_store_filter *f, char *err, size_t errlen)
{
    memset(f, 0, sizeof(*f));
    for (char *save = NULL, *kv = strtok_r(buf, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(kv, '=');
        if (!eq)
            return jb_err(err, errlen, JB_EINVAL, "query term '%.40s' is not key=value", kv);
        *eq = '\0';
        const char *k = kv, *v = eq + 1;
        if (!strcmp(k, "workload"))
            f->workload = v;
        else if (!strcmp(k, "commit"))
            f->git_commit = v;
        else if (!strcmp(k, "topology"))
            f->topology_hash = v;
        else if (!strcmp(k, "since"))
            f->since_utc = v;
        else if (!strcmp(k, "backend"))
            f->backend = v;
        else if (!strcmp(k, "dtype"))
            f->dtype = v;
        else if (!strcmp(k, "run"))
            f->run_id = v;
        else if (!strcmp(k, "threads")) {
            long long t;
            int rc = jb_opt_long("threads", v, 1, 4096, &t, err, errlen);
            if (rc)
                return rc;
            f->threads = (int)t;
        } else if (!strcmp(k, "context")) {
            long long c;
            int rc = jb_opt_long("context", v, 0, 1 << 30, &c, err, errlen);
            if (rc)
                return rc;
            f->context = (int)c;
            f->context_set = 1;
        } else if (!strcmp(k, "options"))
            f->options = v;
        else if (!strcmp(k, "key"))
            f->config_key = v;
        else
            return jb_err(err, errlen, JB_EINVAL,
                          "unknown query key '%.30s' (workload, commit, topology, since, backend, "
                          "dtype, threads, context, options, key, run)",
                          k);
    }
    return JB_OK;
}
