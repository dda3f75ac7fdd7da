/* fuzz_submission.c: the submission checker's parsers of outside input.
 * The first byte picks what the rest is: 'M' a manifest (parsed in
 * memory), 'S' a system description, 'T' a manifest placed in a small
 * real submission tree that the whole checker then walks (so hostile
 * manifest paths meet the real file system). */
#include "base/error.h"
#include "results/submission.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void ignore(void *ctx, const char *path, const char *msg)
{
    (void)ctx;
    (void)path;
    (void)msg;
}

static char tree[64];

static void cleanup(void)
{
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tree);
    if (tree[0] && system(cmd) != 0)
        fprintf(stderr, "fuzz_submission: could not remove %s\n", tree);
}

/* A minimal submission: one system and one (invalid) record file. */
static void make_tree(void)
{
    snprintf(tree, sizeof(tree), "/tmp/jb-fuzz-sub-%d", (int)getpid());
    char p[512];
    snprintf(p, sizeof(p), "mkdir -p '%s/Org/systems' '%s/Org/results/sys/w/offline'", tree, tree);
    if (system(p) != 0)
        abort();
    snprintf(p, sizeof(p), "%s/Org/systems/sys.json", tree);
    FILE *f = fopen(p, "w");
    fputs("{\"name\": \"sys\"}", f);
    fclose(f);
    snprintf(p, sizeof(p), "%s/Org/results/sys/w/offline/r.json", tree);
    f = fopen(p, "w");
    fputs("{\"schema_version\": 1}", f);
    fclose(f);
    atexit(cleanup);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *rest = (const char *)data + 1;
    size_t n = size - 1;
    if (data[0] == 'M') {
        json_t *m = json_object();
        jb_manifest_parse(rest, n, m, "fuzz", ignore, NULL);
        json_decref(m);
    } else if (data[0] == 'S') {
        json_error_t je;
        json_t *s = json_loadb(rest, n, 0, &je);
        if (s)
            jb_submission_check_system(s, "fuzz", "sys", ignore, NULL);
        json_decref(s);
    } else if (data[0] == 'T') {
        if (!tree[0])
            make_tree();
        char p[512];
        snprintf(p, sizeof(p), "%s/Org/MANIFEST.sha256", tree);
        FILE *f = fopen(p, "wb");
        if (!f)
            abort();
        fwrite(rest, 1, n, f);
        fclose(f);
        int nrec;
        jb_submission_check(tree, ignore, NULL, &nrec);
    }
    return 0;
}
