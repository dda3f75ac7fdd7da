/* test_layers.c: the include direction between the top-level folders.
 *
 * The house has layers, each including only those below it (STYLE.md):
 * app -> results -> harness -> workloads -> platforms -> base. This test
 * reads every `#include "folder/..."` of every source and header under those
 * folders and fails on one that points up or sideways, naming the file, the
 * line and the include, so that a dependency the wrong way is caught the
 * day it is written. Includes inside a folder and of generated headers
 * (build_info.h, git_commit.h) are free. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *const layers[] = {"base", "platforms", "workloads", "harness", "results",
                                     "app", NULL};

static int rank_of(const char *folder, size_t n)
{
    for (int i = 0; layers[i]; i++)
        if (strlen(layers[i]) == n && !strncmp(layers[i], folder, n))
            return i;
    return -1;
}

static int has_suffix(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

/* Checks one file of layer `rank`; returns the number of bad includes. */
static int check_file(const char *path, const char *shown, int rank)
{
    FILE *f = fopen(path, "r");
    char line[1024];
    int bad = 0, no = 0;
    assert_non_null(f);
    while (fgets(line, sizeof(line), f)) {
        no++;
        const char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        if (strncmp(p, "#include \"", 10))
            continue;
        p += 10;
        const char *slash = strchr(p, '/'), *quote = strchr(p, '"');
        if (!slash || !quote || slash > quote)
            continue; /* a generated header, or one of the same folder */
        int r = rank_of(p, (size_t)(slash - p));
        if (r < 0 || r == rank)
            continue;
        if (r > rank) {
            print_error("%s:%d includes %.*s: %s may include only the layers below it\n", shown,
                        no, (int)(quote - p), p, layers[rank]);
            bad++;
        }
    }
    fclose(f);
    return bad;
}

static int walk(const char *dir, const char *shown, int rank, int *files)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int bad = 0;
    if (!d)
        return 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[4096], sh[4096];
        struct stat st;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        snprintf(sh, sizeof(sh), "%s/%s", shown, e->d_name);
        if (stat(path, &st))
            continue;
        if (S_ISDIR(st.st_mode))
            bad += walk(path, sh, rank, files);
        else if (has_suffix(e->d_name, ".c") || has_suffix(e->d_name, ".h") ||
                 has_suffix(e->d_name, ".cc") || has_suffix(e->d_name, ".cu") ||
                 has_suffix(e->d_name, ".cuh")) {
            (*files)++;
            bad += check_file(path, sh, rank);
        }
    }
    closedir(d);
    return bad;
}

static void test_includes_point_down(void **state)
{
    (void)state;
    const char *src = getenv("JB_SOURCE_DIR");
    assert_non_null(src);
    int bad = 0, files = 0;
    for (int i = 0; layers[i]; i++) {
        char dir[4096];
        snprintf(dir, sizeof(dir), "%s/%s", src, layers[i]);
        bad += walk(dir, layers[i], i, &files);
    }
    /* the tree is there: the walk saw the sources */
    assert_true(files > 100);
    assert_int_equal(bad, 0);
}

/* The checker itself finds an upward include (a test that could not fail
 * would prove nothing). */
static void test_checker_catches_upward(void **state)
{
    (void)state;
    char path[] = "/tmp/jb_layers_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs("#include \"base/error.h\"\n#include \"harness/runner.h\"\n#include \"x.h\"\n", f);
    fclose(f);
    /* as a file of platforms/: base is below, harness above */
    assert_int_equal(check_file(path, "platforms/fake.c", 1), 1);
    /* as a file of app/: both below */
    assert_int_equal(check_file(path, "app/fake.c", 5), 0);
    remove(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_includes_point_down),
        cmocka_unit_test(test_checker_catches_upward),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
