/* cmd_submit.c: `joulebench submit` lays a vendor's records out as a
 * submission (see submission.h) with its manifest, and `joulebench check`
 * validates one, printing every problem with its path. */
#include "base/error.h"
#include "app/cmd_util.h"
#include "app/commands_impl.h"
#include "results/plots.h"
#include "results/record_util.h"
#include "results/submission.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Names and paths stay far inside these buffers: components are checked
 * safe (at most 64 characters) and the output folder is limited below. */
#pragma GCC diagnostic ignored "-Wformat-truncation"

/* Prints a problem with control characters replaced, so that a hostile
 * file name cannot drive the terminal. */
static void print_problem(void *ctx, const char *path, const char *msg)
{
    int *count = ctx;
    (*count)++;
    for (const unsigned char *p = (const unsigned char *)path; *p; p++)
        fputc(*p < 0x20 || *p == 0x7f ? '?' : *p, stdout);
    fputs(": ", stdout);
    for (const unsigned char *p = (const unsigned char *)msg; *p; p++)
        fputc(*p < 0x20 || *p == 0x7f ? '?' : *p, stdout);
    fputc('\n', stdout);
}

static const char usage_check[] = "usage: joulebench check DIR\n";

int jb_cmd_check(int argc, char **argv)
{
    if (jb_opts_help(argc, argv, usage_check))
        return 0;
    const char *pos[1];
    int npos, rc;
    char err[JB_ERRLEN];
    const struct jb_opt opts[] = {{NULL, NULL, NULL}};
    if ((rc = jb_opts_parse(argc, argv, opts, pos, 1, &npos, err, sizeof(err))) || npos != 1) {
        fprintf(stderr, "joulebench check: %s\n%s", rc ? err : "one submission folder needed",
                usage_check);
        return 2;
    }
    int printed = 0, nrec = 0;
    int n = jb_submission_check(pos[0], print_problem, &printed, &nrec);
    if (n) {
        printf("check: %d problem(s) in %s (%d record(s))\n", n, pos[0], nrec);
        return 1;
    }
    printf("check: %s: %d record(s), no problem\n", pos[0], nrec);
    return 0;
}

/* Copies a regular file (never a link) byte for byte. */
static int copy_file(const char *from, const char *to, char *err, size_t errlen)
{
    struct stat st;
    if (lstat(from, &st) || !S_ISREG(st.st_mode))
        return jb_err(err, errlen, JB_EINVAL, "%s: not a regular file", from);
    FILE *in = fopen(from, "rb"), *out = in ? fopen(to, "wb") : NULL;
    int rc = 0;
    if (!in || !out)
        rc = jb_err(err, errlen, JB_EIO, "cannot copy %s to %s", from, to);
    char buf[65536];
    size_t n;
    while (!rc && (n = fread(buf, 1, sizeof(buf), in)) > 0)
        if (fwrite(buf, 1, n, out) != n)
            rc = jb_err(err, errlen, JB_EIO, "%s: write failed", to);
    if (in)
        fclose(in);
    if (out && fclose(out) && !rc)
        rc = jb_err(err, errlen, JB_EIO, "%s: write failed", to);
    return rc;
}

/* Companions of a record file BASE.json: BASE.* files beside it (power
 * trace, logs, Google Benchmark output), copied as RUN.suffix. */
static int copy_companions(const char *rec_path, const char *dest_dir, const char *run, char *err,
                           size_t errlen)
{
    char dir[2048], base[512];
    snprintf(dir, sizeof(dir), "%s", rec_path);
    char *slash = strrchr(dir, '/');
    const char *file = slash ? slash + 1 : dir;
    snprintf(base, sizeof(base), "%s", file);
    if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof(dir), ".");
    size_t bl = strlen(base);
    if (bl > 5 && !strcmp(base + bl - 5, ".json"))
        base[bl -= 5] = '\0';
    DIR *d = opendir(dir);
    if (!d)
        return JB_OK;
    struct dirent *e;
    int rc = 0;
    while (!rc && (e = readdir(d))) {
        const char *nm = e->d_name;
        if (strncmp(nm, base, bl) || nm[bl] != '.' || !strcmp(nm + bl, ".json"))
            continue;
        char suffix[128];
        snprintf(suffix, sizeof(suffix), "%s", nm + bl);
        char name[256];
        snprintf(name, sizeof(name), "%s%s", run, suffix);
        if (!jb_safe_component(name))
            continue;
        char from[2400], to[2400];
        snprintf(from, sizeof(from), "%s/%s", dir, nm);
        snprintf(to, sizeof(to), "%s/%s", dest_dir, name);
        rc = copy_file(from, to, err, errlen);
    }
    closedir(d);
    return rc;
}

static json_t *system_description(const char *org, const char *name, const json_t *first,
                                  const char *sys_json, char *err, size_t errlen)
{
    json_t *s = json_object();
    json_object_set_new(s, "name", json_string(name));
    json_object_set_new(s, "organization", json_string(org));
    const char *cpu = jb_rec_str(first, "system.cpu_model", NULL);
    if (!cpu)
        cpu = jb_rec_str(first, "system.cpu.model_name", NULL);
    if (cpu)
        json_object_set_new(s, "processor", json_string(cpu));
    const char *k = jb_rec_str(first, "system.os", NULL);
    if (!k)
        k = jb_rec_str(first, "system.kernel", NULL);
    if (k)
        json_object_set_new(s, "operating_system", json_string(k));
    double mem = jb_rec_num(first, "system.memory_bytes", 0);
    if (mem > 0)
        json_object_set_new(s, "memory_gb", json_real(mem / 1e9));
    const json_t *gpus = jb_rec_get(first, "system.gpus");
    if (!gpus || json_is_null(gpus) || (json_is_array(gpus) && !json_array_size(gpus)))
        json_object_set_new(s, "accelerators", json_string("none"));
    const json_t *pe = jb_rec_primary_energy(first);
    if (pe)
        json_object_set_new(s, "energy_meter", json_string(jb_rec_str(pe, "source", "")));
    json_object_set_new(s, "topology_hash",
                        json_string(jb_rec_str(first, "system.topology_hash", "")));
    if (sys_json) {
        json_error_t je;
        json_t *u = json_load_file(sys_json, JSON_REJECT_DUPLICATES, &je);
        if (!json_is_object(u)) {
            json_decref(u);
            json_decref(s);
            jb_err(err, errlen, JB_EINVAL, "%s: %s", sys_json, u ? "not an object" : je.text);
            return NULL;
        }
        json_object_update(s, u);
        json_decref(u);
        /* the names given on the command line are the ones the layout uses */
        json_object_set_new(s, "name", json_string(name));
        json_object_set_new(s, "organization", json_string(org));
    }
    return s;
}

/* Where a record goes inside the organization folder:
 * results/SYSTEM/WORKLOAD/SCENARIO/RUN.json, less the system part. */
static void submission_dest(const json_t *r, char *out, size_t n)
{
    char wl[200], run[200];
    jb_safe_name(jb_rec_str(r, "workload.name", "unknown"), wl, sizeof(wl));
    jb_safe_name(jb_rec_str(r, "run_id", "run"), run, sizeof(run));
    const char *sc = jb_rec_str(r, "config.scenario", "unknown");
    if (!jb_safe_component(sc))
        sc = "unknown";
    snprintf(out, n, "%s/%s/%s.json", wl, sc, run);
}

static const char usage_submit[] = "usage: joulebench submit --org ORG --system NAME "
                                   "--records DIR --out DIR [--system-json FILE]\n";

int jb_cmd_submit(int argc, char **argv)
{
    if (jb_opts_help(argc, argv, usage_submit))
        return 0;
    const char *org = NULL, *sys = NULL, *recs_dir = NULL, *out = NULL, *sys_json = NULL, *pos[1];
    int npos, rc, ret = 1, bad = 0;
    char err[JB_ERRLEN];
    const struct jb_opt opts[] = {
        {"org", &org, NULL}, {"system", &sys, NULL},           {"records", &recs_dir, NULL},
        {"out", &out, NULL}, {"system-json", &sys_json, NULL}, {NULL, NULL, NULL},
    };
    if ((rc = jb_opts_parse(argc, argv, opts, pos, 0, &npos, err, sizeof(err))) || !org || !sys ||
        !recs_dir || !out) {
        fprintf(stderr, "joulebench submit: %s\n%s",
                rc ? err : "--org, --system, --records and --out are required", usage_submit);
        return 2;
    }
    if (!jb_safe_component(org) || !jb_safe_component(sys)) {
        fprintf(stderr, "joulebench submit: --org and --system must be 1-64 characters of "
                        "A-Z a-z 0-9 . _ - (not starting with a dot)\n");
        return 2;
    }
    if (strlen(out) > 900) {
        fprintf(stderr, "joulebench submit: --out path too long\n");
        return 2;
    }
    json_t *recs = json_array(), *paths = json_array(), *gb = json_array(), *sd = NULL;
    if (jb_records_collect(recs_dir, recs, paths, gb, &bad) || bad) {
        fprintf(stderr,
                "joulebench submit: %d file(s) under %s could not be read; fix or remove "
                "them\n",
                bad, recs_dir);
        goto out;
    }
    if (!json_array_size(recs)) {
        fprintf(stderr, "joulebench submit: no records under %s\n", recs_dir);
        goto out;
    }
    char org_dir[1200], d[2400], p[2600];
    snprintf(org_dir, sizeof(org_dir), "%s/%s", out, org);
    /* Two records that land on one file (a run_id shared, or names that
     * become the same once made safe) would silently overwrite each other:
     * refused before anything is written. */
    {
        json_t *dest = json_object();
        size_t i;
        json_t *r;
        int clash = 0;
        json_array_foreach(recs, i, r)
        {
            char key[600];
            submission_dest(r, key, sizeof(key));
            const json_t *was = json_object_get(dest, key);
            if (was) {
                fprintf(stderr,
                        "joulebench submit: %s and %s would both be %s (the same run_id '%s'); "
                        "nothing was written\n",
                        json_string_value(was), json_string_value(json_array_get(paths, i)), key,
                        jb_rec_str(r, "run_id", "run"));
                clash = 1;
                break;
            }
            json_object_set_new(dest, key, json_string(json_string_value(json_array_get(paths, i))));
        }
        json_decref(dest);
        if (clash)
            goto out;
    }
    snprintf(d, sizeof(d), "%s/systems", org_dir);
    if (jb_mkdirs(d)) {
        fprintf(stderr, "joulebench submit: %s: %s\n", d, strerror(errno));
        goto out;
    }
    if (!(sd = system_description(org, sys, json_array_get(recs, 0), sys_json, err, sizeof(err)))) {
        fprintf(stderr, "joulebench submit: %s\n", err);
        goto out;
    }
    snprintf(p, sizeof(p), "%s/%s.json", d, sys);
    if (json_dump_file(sd, p, JSON_INDENT(2) | JSON_SORT_KEYS)) {
        fprintf(stderr, "joulebench submit: %s: cannot write\n", p);
        goto out;
    }
    size_t i;
    json_t *r;
    json_array_foreach(recs, i, r)
    {
        char wl[200], run[200];
        jb_safe_name(jb_rec_str(r, "workload.name", "unknown"), wl, sizeof(wl));
        jb_safe_name(jb_rec_str(r, "run_id", "run"), run, sizeof(run));
        const char *sc = jb_rec_str(r, "config.scenario", "unknown");
        if (!jb_safe_component(sc))
            sc = "unknown";
        snprintf(d, sizeof(d), "%s/results/%s/%s/%s", org_dir, sys, wl, sc);
        snprintf(p, sizeof(p), "%s/%s.json", d, run);
        const char *src = json_string_value(json_array_get(paths, i));
        if (jb_mkdirs(d)) {
            fprintf(stderr, "joulebench submit: %s: %s\n", d, strerror(errno));
            goto out;
        }
        if (copy_file(src, p, err, sizeof(err)) || copy_companions(src, d, run, err, sizeof(err))) {
            fprintf(stderr, "joulebench submit: %s\n", err);
            goto out;
        }
    }
    json_t *g;
    json_array_foreach(gb, i, g)
    {
        const char *src = json_string_value(json_object_get(g, "path"));
        const char *b = strrchr(src, '/');
        char name[200];
        jb_safe_name(b ? b + 1 : src, name, sizeof(name));
        snprintf(d, sizeof(d), "%s/results/%s/benchmark", org_dir, sys);
        snprintf(p, sizeof(p), "%s/%s", d, name);
        if (jb_mkdirs(d) || copy_file(src, p, err, sizeof(err))) {
            fprintf(stderr, "joulebench submit: %s\n", err);
            goto out;
        }
    }
    if ((rc = jb_manifest_write(org_dir, err, sizeof(err)))) {
        fprintf(stderr, "joulebench submit: %s\n", err);
        goto out;
    }
    printf("submit: %zu record(s) laid out under %s; checking it:\n", json_array_size(recs),
           org_dir);
    int printed = 0, nrec = 0;
    int n = jb_submission_check(out, print_problem, &printed, &nrec);
    printf("check: %d problem(s)\n", n);
    ret = n ? 1 : 0;
out:
    json_decref(recs);
    json_decref(paths);
    json_decref(gb);
    json_decref(sd);
    return ret;
}
