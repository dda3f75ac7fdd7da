/* submission.c: the submission rules and checker (see submission.h). */
#include "results/submission.h"

#include "base/error.h"
#include "base/sha256.h"
#include "results/plots.h"
#include "results/record_util.h"
#include "results/schema_validate.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Paths inside a submission are at most MAX_DEPTH safe components of 64
 * characters below the folder given, far inside the buffers used here;
 * longer ones are refused before use, so GCC's truncation guesses do not
 * apply. */
#pragma GCC diagnostic ignored "-Wformat-truncation"

/* Manifests and folders deeper than this are not a submission. */
#define MAX_DEPTH 8
#define MANIFEST_MAX_BYTES (4u << 20)

static int problem(jb_problem_fn fn, void *ctx, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int problem(jb_problem_fn fn, void *ctx, const char *path, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fn(ctx, path, msg);
    return 1;
}

int jb_safe_component(const char *s)
{
    size_t n = 0;
    if (!s || s[0] == '.' || !s[0])
        return 0;
    for (const char *p = s; *p; p++, n++) {
        int ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                 *p == '.' || *p == '_' || *p == '-';
        if (!ok || n >= 64)
            return 0;
    }
    return 1;
}

static int energy_class_ok(const char *src)
{
    /* Models and simulators are not measurements of the submitted system. */
    return strcmp(src, "estimate") && strcmp(src, "sim") && strcmp(src, "model");
}

int jb_submission_check_record(const json_t *schema, const json_t *r, const char *path,
                               const char *want_wl, const char *want_sc, jb_problem_fn fn,
                               void *ctx)
{
    char err[JB_ERRLEN];
    int n = 0;
    if (jb_record_check(schema, r, err, sizeof(err)))
        return problem(fn, ctx, path, "schema: %s", err);
    if (!json_is_true(json_object_get(r, "complete")))
        n += problem(fn, ctx, path, "run rules: the run is incomplete (complete = false)");
    double reps = jb_rec_num(r, "config.repetitions", 0);
    if (reps < JB_RULE_MIN_REPETITIONS)
        n += problem(fn, ctx, path, "run rules: %g repetitions, at least %d required", reps,
                     JB_RULE_MIN_REPETITIONS);
    double dur = jb_rec_num(r, "measurements.duration_s", 0);
    if (dur < JB_RULE_MIN_DURATION_S)
        n += problem(fn, ctx, path, "run rules: measured for %g s, at least %g s required", dur,
                     JB_RULE_MIN_DURATION_S);
    const char *oc = jb_rec_str(r, "validity.output_check", "none");
    int calib = !strcmp(jb_rec_str(r, "workload.family", ""), "calibration");
    if (strcmp(oc, "pass") && !(calib && !strcmp(oc, "none")))
        n += problem(fn, ctx, path, "run rules: output check is '%s', it must pass", oc);
    size_t nl = json_array_size(jb_rec_get(r, "measurements.latency_s.samples"));
    if (nl && (double)nl != reps)
        n +=
            problem(fn, ctx, path, "consistency: %zu latency samples for %g repetitions", nl, reps);

    const json_t *pe = jb_rec_primary_energy(r);
    if (!pe)
        n += problem(fn, ctx, path, "energy: no available energy figure");
    else if (!json_is_true(json_object_get(pe, "measured")) ||
             !energy_class_ok(jb_rec_str(pe, "source", "")))
        n += problem(fn, ctx, path,
                     "energy source class: '%s' (%s) is not accepted; a submission needs a "
                     "measured hardware source",
                     jb_rec_str(pe, "source", "?"),
                     json_is_true(json_object_get(pe, "measured")) ? "measured" : "estimated");

    double tput = jb_rec_num(r, "measurements.throughput_units_per_s", NAN);
    size_t i;
    const json_t *e;
    json_array_foreach(jb_rec_get(r, "measurements.energy"), i, e)
    {
        if (json_is_false(json_object_get(e, "available")))
            continue;
        double j = jb_rec_num(e, "joules_per_unit", NAN),
               u = jb_rec_num(e, "uncertainty_joules_per_unit", 0);
        double p = jb_rec_num(e, "average_power_w", NAN);
        if (isfinite(j) && isfinite(p) && isfinite(tput) && p > 0) {
            /* E per unit = P / throughput, within the stated uncertainty. */
            double diff = fabs(j * tput - p),
                   allow = (isfinite(u) ? u : 0) * tput + JB_RULE_POWER_TOLERANCE * p;
            if (diff > allow)
                n += problem(fn, ctx, path,
                             "consistency: energy[%zu] %g J/unit x %g units/s = %g W, but average "
                             "power is %g W (allowed difference %g W)",
                             i, j, tput, j * tput, p, allow);
        }
        size_t ns = json_array_size(json_object_get(e, "samples_joules_per_unit"));
        if (ns && (double)ns != reps)
            n +=
                problem(fn, ctx, path,
                        "consistency: energy[%zu] has %zu samples for %g repetitions", i, ns, reps);
    }
    double upi = jb_rec_num(r, "measurements.units_per_iteration", 0);
    double batch = jb_rec_num(r, "config.batch", 1);
    int offline = !strcmp(jb_rec_str(r, "config.scenario", ""), "offline");
    if (upi != (offline ? batch : 1))
        n += problem(fn, ctx, path, "units: %g units per iteration in %s with batch %g", upi,
                     offline ? "offline" : "single-stream", batch);
    double iters = jb_rec_num(r, "measurements.iterations", 0);
    if (dur > 0 && iters > 0 && isfinite(tput)) {
        double want = upi * iters / dur;
        if (fabs(tput - want) > 0.02 * want)
            n += problem(fn, ctx, path,
                         "units: throughput %g units/s disagrees with %g units x %g iterations / "
                         "%g s = %g",
                         tput, upi, iters, dur, want);
    }
    if (want_wl) {
        char safe[200];
        jb_safe_name(jb_rec_str(r, "workload.name", ""), safe, sizeof(safe));
        if (strcmp(safe, want_wl))
            n += problem(fn, ctx, path, "layout: a record of workload '%s' in folder '%s'", safe,
                         want_wl);
    }
    if (want_sc && strcmp(jb_rec_str(r, "config.scenario", ""), want_sc))
        n += problem(fn, ctx, path, "layout: a %s record in folder '%s'",
                     jb_rec_str(r, "config.scenario", "?"), want_sc);
    return n;
}

int jb_submission_check_system(const json_t *s, const char *path, const char *want,
                               jb_problem_fn fn, void *ctx)
{
    static const char *const str_fields[] = {"name",        "organization", "system_type",
                                             "processor",   "accelerators", "operating_system",
                                             "energy_meter"};
    int n = 0;
    if (!json_is_object(s))
        return problem(fn, ctx, path, "system description: not a JSON object");
    for (size_t i = 0; i < sizeof(str_fields) / sizeof(str_fields[0]); i++) {
        const json_t *v = json_object_get(s, str_fields[i]);
        if (!json_is_string(v) || !json_string_length(v))
            n += problem(fn, ctx, path, "system description: required field '%s' missing or empty",
                         str_fields[i]);
    }
    const json_t *m = json_object_get(s, "memory_gb");
    if (!json_is_number(m) || json_number_value(m) <= 0)
        n += problem(fn, ctx, path, "system description: required field 'memory_gb' (> 0) missing");
    const char *t = jb_rec_str(s, "system_type", "");
    if (*t && strcmp(t, "datacenter") && strcmp(t, "desktop") && strcmp(t, "edge") &&
        strcmp(t, "embedded"))
        n += problem(fn, ctx, path,
                     "system description: system_type must be datacenter, desktop, "
                     "edge or embedded");
    if (want && json_is_string(json_object_get(s, "name")) &&
        strcmp(json_string_value(json_object_get(s, "name")), want))
        n += problem(fn, ctx, path, "system description: name differs from its file name '%s'",
                     want);
    return n;
}

static int is_hex64(const char *p)
{
    for (int i = 0; i < 64; i++)
        if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
            return 0;
    return 1;
}

/* A relative path of safe components, no "." or ".." parts. */
static int safe_relpath(const char *p)
{
    char buf[1024];
    if (!*p || *p == '/' || strlen(p) >= sizeof(buf))
        return 0;
    snprintf(buf, sizeof(buf), "%s", p);
    int depth = 0;
    for (char *save = NULL, *c = strtok_r(buf, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
        if (!jb_safe_component(c) || ++depth > MAX_DEPTH)
            return 0;
    }
    return depth > 0 && p[strlen(p) - 1] != '/' && !strstr(p, "//");
}

int jb_manifest_parse(const char *buf, size_t len, json_t *out, const char *mpath, jb_problem_fn fn,
                      void *ctx)
{
    int n = 0, lineno = 0;
    size_t i = 0;
    while (i < len) {
        size_t end = i;
        while (end < len && buf[end] != '\n')
            end++;
        lineno++;
        size_t ll = end - i;
        char line[1200];
        char where[1300];
        snprintf(where, sizeof(where), "%s:%d", mpath, lineno);
        if (ll == 0) {
            i = end + 1;
            continue;
        }
        if (ll >= sizeof(line) || memchr(buf + i, '\0', ll)) {
            n += problem(fn, ctx, where, "manifest: malformed line");
            i = end + 1;
            continue;
        }
        memcpy(line, buf + i, ll);
        line[ll] = '\0';
        i = end + 1;
        if (ll < 67 || !is_hex64(line) || line[64] != ' ' || line[65] != ' ') {
            n += problem(fn, ctx, where, "manifest: want 'SHA256HEX  relative/path'");
            continue;
        }
        const char *p = line + 66;
        if (!safe_relpath(p)) {
            n += problem(fn, ctx, where,
                         "manifest: unsafe path (absolute, '..', or odd characters)");
            continue;
        }
        if (json_object_get(out, p)) {
            n += problem(fn, ctx, where, "manifest: %s listed twice", p);
            continue;
        }
        line[64] = '\0';
        json_object_set_new(out, p, json_string(line));
    }
    return n;
}

struct walk {
    const char *root; /* the organization folder */
    json_t *manifest; /* path -> hash */
    json_t *seen;     /* paths found */
    const json_t *schema;
    jb_problem_fn fn;
    void *ctx;
    int problems;
    int records;
};

static void check_file(struct walk *w, const char *rel, const char *full)
{
    /* rel: relative to the organization folder */
    char parts[8][80];
    int np = 0;
    char buf[1024];
    snprintf(buf, sizeof(buf), "%s", rel);
    for (char *save = NULL, *c = strtok_r(buf, "/", &save); c && np < 8;
         c = strtok_r(NULL, "/", &save))
        snprintf(parts[np++], sizeof(parts[0]), "%s", c);
    size_t l = strlen(rel);
    int is_json = l > 5 && !strcmp(rel + l - 5, ".json");
    struct stat st;
    if (is_json && !stat(full, &st) && st.st_size > (off_t)JB_RECORD_MAX_BYTES) {
        /* parsing reads the whole file: a huge one would exhaust memory */
        w->problems += problem(w->fn, w->ctx, full, "larger than %u MiB, not read",
                               JB_RECORD_MAX_BYTES >> 20);
        return;
    }
    if (np == 2 && !strcmp(parts[0], "systems")) {
        if (!is_json) {
            w->problems +=
                problem(w->fn, w->ctx, full, "layout: only NAME.json belongs in systems/");
            return;
        }
        json_error_t je;
        json_t *s = json_load_file(full, JSON_REJECT_DUPLICATES, &je);
        if (!s) {
            w->problems += problem(w->fn, w->ctx, full, "system description: %s", je.text);
            return;
        }
        char name[80];
        snprintf(name, sizeof(name), "%.*s", (int)(strlen(parts[1]) - 5), parts[1]);
        w->problems += jb_submission_check_system(s, full, name, w->fn, w->ctx);
        json_decref(s);
        return;
    }
    if (np >= 3 && !strcmp(parts[0], "results")) {
        char sys[1400];
        snprintf(sys, sizeof(sys), "%s/systems/%s.json", w->root, parts[1]);
        if (lstat(sys, &st) || !S_ISREG(st.st_mode))
            w->problems += problem(w->fn, w->ctx, full,
                                   "layout: no systems/%s.json for these results", parts[1]);
        if (np == 4 && !strcmp(parts[2], "benchmark")) {
            json_error_t je;
            json_t *g = json_load_file(full, 0, &je);
            if (!g || !jb_is_gbench(g))
                w->problems +=
                    problem(w->fn, w->ctx, full, "benchmark: not a Google Benchmark JSON file%s%s",
                            g ? "" : ": ", g ? "" : je.text);
            json_decref(g);
            return;
        }
        if (np != 5) {
            w->problems +=
                problem(w->fn, w->ctx, full, "layout: want results/SYSTEM/WORKLOAD/SCENARIO/FILE");
            return;
        }
        if (!is_json)
            return; /* logs and power traces: hashed, not parsed */
        json_error_t je;
        json_t *r = json_load_file(full, JSON_REJECT_DUPLICATES, &je);
        if (!r) {
            w->problems += problem(w->fn, w->ctx, full, "record: line %d: %s", je.line, je.text);
            return;
        }
        if (jb_is_gbench(r)) {
            json_decref(r);
            return;
        }
        w->records++;
        w->problems +=
            jb_submission_check_record(w->schema, r, full, parts[2], parts[3], w->fn, w->ctx);
        json_decref(r);
        return;
    }
    if (!(np == 1 && !strcmp(parts[0], JB_MANIFEST_NAME)))
        w->problems += problem(w->fn, w->ctx, full, "layout: unexpected file");
}

static void walk_dir(struct walk *w, const char *rel, int depth)
{
    char full[2048];
    snprintf(full, sizeof(full), "%s%s%s", w->root, *rel ? "/" : "", rel);
    if (depth > MAX_DEPTH) {
        w->problems += problem(w->fn, w->ctx, full, "layout: nested too deeply");
        return;
    }
    struct dirent **names = NULL;
    int n = scandir(full, &names, NULL, alphasort);
    if (n < 0) {
        w->problems += problem(w->fn, w->ctx, full, "cannot read: %s", strerror(errno));
        return;
    }
    for (int i = 0; i < n; i++) {
        const char *nm = names[i]->d_name;
        char crel[1200], cfull[2600];
        if (!strcmp(nm, ".") || !strcmp(nm, "..")) {
            free(names[i]);
            continue;
        }
        snprintf(crel, sizeof(crel), "%s%s%s", rel, *rel ? "/" : "", nm);
        snprintf(cfull, sizeof(cfull), "%s/%s", full, nm);
        struct stat st;
        if (!jb_safe_component(nm))
            w->problems += problem(w->fn, w->ctx, cfull, "layout: unsafe file name");
        else if (lstat(cfull, &st))
            w->problems += problem(w->fn, w->ctx, cfull, "cannot stat: %s", strerror(errno));
        else if (S_ISLNK(st.st_mode))
            w->problems += problem(w->fn, w->ctx, cfull, "layout: symbolic link (not followed)");
        else if (S_ISDIR(st.st_mode))
            walk_dir(w, crel, depth + 1);
        else if (!S_ISREG(st.st_mode))
            w->problems += problem(w->fn, w->ctx, cfull, "layout: not a regular file");
        else {
            json_object_set_new(w->seen, crel, json_true());
            if (strcmp(crel, JB_MANIFEST_NAME)) {
                const char *want = json_string_value(json_object_get(w->manifest, crel));
                char hex[JB_SHA256_HEX_LEN], err[JB_ERRLEN];
                if (!want)
                    w->problems += problem(w->fn, w->ctx, cfull, "manifest: file not listed");
                else if (jb_sha256_file(cfull, hex, err, sizeof(err)))
                    w->problems += problem(w->fn, w->ctx, cfull, "%s", err);
                else if (strcmp(hex, want))
                    w->problems += problem(w->fn, w->ctx, cfull,
                                           "manifest: SHA-256 differs: the file changed after "
                                           "submission");
            }
            check_file(w, crel, cfull);
        }
        free(names[i]);
    }
    free(names);
}

static int check_org(const char *org_dir, const json_t *schema, jb_problem_fn fn, void *ctx,
                     int *nrec)
{
    struct walk w = {org_dir, json_object(), json_object(), schema, fn, ctx, 0, 0};
    char mpath[1200];
    snprintf(mpath, sizeof(mpath), "%s/%s", org_dir, JB_MANIFEST_NAME);
    struct stat st;
    if (lstat(mpath, &st) || !S_ISREG(st.st_mode) || st.st_size > (off_t)MANIFEST_MAX_BYTES) {
        w.problems +=
            problem(fn, ctx, mpath, "manifest: missing, not a regular file, or too large");
    } else {
        FILE *f = fopen(mpath, "rb");
        char *buf = malloc((size_t)st.st_size + 1);
        size_t got = f && buf ? fread(buf, 1, (size_t)st.st_size, f) : 0;
        if (f)
            fclose(f);
        if (buf)
            w.problems += jb_manifest_parse(buf, got, w.manifest, mpath, fn, ctx);
        free(buf);
    }
    walk_dir(&w, "", 0);
    /* files listed but absent */
    const char *k;
    json_t *v;
    json_object_foreach(w.manifest, k, v) if (!json_object_get(w.seen, k))
    {
        char p[2400];
        snprintf(p, sizeof(p), "%s/%s", org_dir, k);
        w.problems += problem(fn, ctx, p, "manifest: listed file is missing");
    }
    json_decref(w.manifest);
    json_decref(w.seen);
    *nrec += w.records;
    return w.problems;
}

int jb_submission_check(const char *dir, jb_problem_fn fn, void *ctx, int *nrecords)
{
    char err[JB_ERRLEN];
    json_t *schema = NULL;
    int n = 0;
    *nrecords = 0;
    struct stat st;
    if (strlen(dir) > 900)
        return problem(fn, ctx, "(path)", "submission path longer than 900 characters");
    if (stat(dir, &st) || !S_ISDIR(st.st_mode))
        return problem(fn, ctx, dir, "not a folder");
    if (jb_record_schema_load(&schema, err, sizeof(err)))
        return problem(fn, ctx, dir, "%s", err);
    struct dirent **names = NULL;
    int k = scandir(dir, &names, NULL, alphasort), orgs = 0;
    for (int i = 0; i < k; i++) {
        const char *nm = names[i]->d_name;
        char full[2400];
        snprintf(full, sizeof(full), "%s/%s", dir, nm);
        if (strcmp(nm, ".") && strcmp(nm, "..")) {
            if (!jb_safe_component(nm))
                n += problem(fn, ctx, full, "layout: unsafe organization name");
            else if (lstat(full, &st) || !S_ISDIR(st.st_mode))
                n += problem(fn, ctx, full, "layout: want one folder per organization");
            else {
                orgs++;
                n += check_org(full, schema, fn, ctx, nrecords);
            }
        }
        free(names[i]);
    }
    free(names);
    json_decref(schema);
    if (!orgs)
        n += problem(fn, ctx, dir, "layout: no organization folder");
    else if (!*nrecords)
        n += problem(fn, ctx, dir, "layout: no result record");
    return n;
}

static int list_files(const char *root, const char *rel, FILE *out, int depth, char *err,
                      size_t errlen)
{
    char full[2048];
    snprintf(full, sizeof(full), "%s%s%s", root, *rel ? "/" : "", rel);
    if (depth > MAX_DEPTH)
        return jb_err(err, errlen, JB_EINVAL, "%s: nested too deeply", full);
    struct dirent **names = NULL;
    int n = scandir(full, &names, NULL, alphasort), rc = 0;
    if (n < 0)
        return jb_err(err, errlen, JB_EIO, "%s: %s", full, strerror(errno));
    for (int i = 0; i < n; i++) {
        const char *nm = names[i]->d_name;
        char crel[1200], cfull[2600];
        snprintf(crel, sizeof(crel), "%s%s%s", rel, *rel ? "/" : "", nm);
        snprintf(cfull, sizeof(cfull), "%s/%s", full, nm);
        struct stat st;
        if (rc || !strcmp(nm, ".") || !strcmp(nm, "..") || !strcmp(crel, JB_MANIFEST_NAME) ||
            !strcmp(crel, JB_MANIFEST_NAME ".tmp") || lstat(cfull, &st)) {
        } else if (S_ISDIR(st.st_mode)) {
            rc = list_files(root, crel, out, depth + 1, err, errlen);
        } else if (S_ISREG(st.st_mode)) {
            char hex[JB_SHA256_HEX_LEN];
            rc = jb_sha256_file(cfull, hex, err, errlen);
            if (!rc)
                fprintf(out, "%s  %s\n", hex, crel);
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

int jb_manifest_write(const char *org_dir, char *err, size_t errlen)
{
    char path[1200], tmp[1300];
    snprintf(path, sizeof(path), "%s/%s", org_dir, JB_MANIFEST_NAME);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return jb_err(err, errlen, JB_EIO, "%s: cannot write", tmp);
    int rc = list_files(org_dir, "", f, 0, err, errlen);
    if (fclose(f) && !rc)
        rc = jb_err(err, errlen, JB_EIO, "%s: write failed", tmp);
    /* rename: a reader never sees half a manifest */
    if (!rc && rename(tmp, path))
        rc = jb_err(err, errlen, JB_EIO, "%s: %s", path, strerror(errno));
    if (rc)
        remove(tmp);
    return rc;
}
