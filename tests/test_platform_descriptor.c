/* test_platform_descriptor.c: platforms/descriptor.c. A descriptor named
 * on the command line is found the same way wherever it is named:
 * `--platform X` (embodied carbon, through the options every results
 * command takes) and `--power estimate:platform=X` (through the energy
 * API, as the runner opens it) load the same file for a bare name, a path
 * relative to the working directory and an absolute path, and refuse the
 * same bad names, missing files and broken descriptors. */
#include "tests/power_test_util.h"

#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "app/cmd_util.h"
#include "platforms/descriptor.h"

/* The descriptor written for the test: figures no shipped one has, so that
 * what was loaded cannot be mistaken for something else. */
#define TEST_IDLE_W 3.25
#define TEST_ACTIVE_W 1.5

struct fixture {
    char dir[64];          /* temporary folder holding x.json, bad.json, sub/ */
    char real_x[PATH_MAX]; /* realpath of dir/x.json */
    char cwd[PATH_MAX];    /* to come back to */
    json_t *want;          /* x.json as parsed by jansson alone */
};

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int setup(void **st)
{
    static struct fixture fx;
    memset(&fx, 0, sizeof(fx));
    snprintf(fx.dir, sizeof(fx.dir), "/tmp/jb_descriptor_XXXXXX");
    if (!mkdtemp(fx.dir) || !getcwd(fx.cwd, sizeof(fx.cwd)))
        return -1;
    char p[PATH_MAX];
    snprintf(p, sizeof(p), "%s/x.json", fx.dir);
    write_file(p,
               "{\"name\": \"test-x\", \"kind\": \"cpu\", \"class\": \"desktop\", \"tdp_w\": 10, "
               "\"idle_w\": 3.25, \"active_w_per_core\": 1.5, \"cores\": 4, "
               "\"embodied_kgco2e\": 50, \"lifetime_years\": 4, \"pue_default\": 1.0, "
               "\"sources\": {}}\n");
    if (!realpath(p, fx.real_x))
        return -1;
    fx.want = json_load_file(p, 0, NULL);
    /* No embodied_kgco2e: fine for the estimate's figures, but not a
     * descriptor, and both options must say so. */
    snprintf(p, sizeof(p), "%s/bad.json", fx.dir);
    write_file(p, "{\"name\": \"bad\", \"kind\": \"cpu\", \"tdp_w\": 10, \"idle_w\": 3, "
                  "\"active_w_per_core\": 1, \"cores\": 4, \"lifetime_years\": 4, "
                  "\"pue_default\": 1.0}\n");
    snprintf(p, sizeof(p), "%s/sub", fx.dir);
    if (mkdir(p, 0755))
        return -1;
    *st = &fx;
    return fx.want ? 0 : -1;
}

static int teardown(void **st)
{
    struct fixture *fx = *st;
    char p[PATH_MAX + 16];
    if (chdir(fx->cwd))
        return -1;
    unsetenv("JB_PLATFORMS_DIR");
    const char *names[] = {"x.json", "bad.json", "sub"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof(p), "%s/%s", fx->dir, names[i]);
        remove(p);
    }
    rmdir(fx->dir);
    json_decref(fx->want);
    return 0;
}

/* --platform NAME_OR_PATH, as `import`, `report` and `run` read it. */
static int load_as_platform_option(const char *arg, json_t **out, char *err, size_t n)
{
    struct jb_norm_opts o;
    return jb_norm_opts_from(&o, NULL, NULL, NULL, NULL, arg, out, err, n);
}

/* --power estimate:platform=NAME_OR_PATH, as the runner opens it: one short
 * measured repetition, then the record's energy entry for the estimate. */
static int open_as_power_option(const char *arg, json_t **entry, char *err, size_t n)
{
    char spec[PATH_MAX + 32];
    snprintf(spec, sizeof(spec), "estimate:platform=%s", arg);
    struct jb_energy_opts o = {1, NULL, -1, NULL};
    struct jb_energy *e = NULL;
    int rc = jb_energy_open(spec, &o, &e, err, n);
    if (rc)
        return rc;
    struct jb_test_run r;
    jb_test_reps(e, 1, 1, 0.005, 1, 0, NULL, &r);
    assert_int_equal(r.rc, 0);
    *entry = json_deep_copy(jb_test_entry(&r, "cpu-estimate"));
    jb_test_run_free(&r);
    jb_energy_close(e);
    return 0;
}

/* Both options accept arg and load x.json, nothing else. */
static void both_load_x(struct fixture *fx, const char *arg)
{
    char err[JB_ERRLEN] = "", path[PATH_MAX], real[PATH_MAX];
    assert_int_equal(jb_platform_resolve(arg, path, sizeof(path), err, sizeof(err)), 0);
    assert_non_null(realpath(path, real));
    assert_string_equal(real, fx->real_x);

    json_t *plat = NULL;
    if (load_as_platform_option(arg, &plat, err, sizeof(err)))
        fail_msg("--platform %s: %s", arg, err);
    assert_true(json_equal(plat, fx->want));
    json_decref(plat);

    json_t *entry = NULL;
    if (open_as_power_option(arg, &entry, err, sizeof(err)))
        fail_msg("--power estimate:platform=%s: %s", arg, err);
    json_t *end = json_object_get(entry, "device_state_end");
    assert_true(fabs(json_number_value(json_object_get(end, "idle_w")) - TEST_IDLE_W) < 1e-12);
    assert_true(fabs(json_number_value(json_object_get(end, "active_w_per_core")) - TEST_ACTIVE_W) <
                1e-12);
    /* the record names the file the figures came from */
    const char *model = json_string_value(json_object_get(end, "model"));
    assert_non_null(model);
    assert_non_null(strstr(model, "x.json"));
    json_decref(entry);
}

/* Both options refuse arg, and both messages contain `needle`. */
static void both_refuse(const char *arg, const char *needle)
{
    char err[JB_ERRLEN] = "";
    json_t *plat = NULL, *entry = NULL;
    assert_int_not_equal(load_as_platform_option(arg, &plat, err, sizeof(err)), 0);
    assert_null(plat);
    if (!strstr(err, needle))
        fail_msg("--platform %s: \"%s\" does not mention %s", arg, err, needle);
    err[0] = '\0';
    assert_int_not_equal(open_as_power_option(arg, &entry, err, sizeof(err)), 0);
    if (!strstr(err, needle))
        fail_msg("--power estimate:platform=%s: \"%s\" does not mention %s", arg, err, needle);
}

static void bare_name(void **st)
{
    struct fixture *fx = *st;
    setenv("JB_PLATFORMS_DIR", fx->dir, 1);
    both_load_x(fx, "x");
    /* a bare name is looked up in the platforms folder only, never in the
     * working directory */
    assert_int_equal(chdir(fx->dir), 0);
    unsetenv("JB_PLATFORMS_DIR");
    both_refuse("x", "platforms");
    assert_int_equal(chdir(fx->cwd), 0);
}

static void relative_path(void **st)
{
    struct fixture *fx = *st;
    /* A path is taken from the working directory, whatever the platforms
     * folder holds. */
    setenv("JB_PLATFORMS_DIR", "/nonexistent", 1);
    assert_int_equal(chdir(fx->dir), 0);
    both_load_x(fx, "x.json"); /* ends in .json: a path, not the name "x.json" */
    both_load_x(fx, "./x.json");
    assert_int_equal(chdir("sub"), 0);
    both_load_x(fx, "../x.json");
    assert_int_equal(chdir(fx->cwd), 0);
    unsetenv("JB_PLATFORMS_DIR");
}

static void absolute_path(void **st)
{
    struct fixture *fx = *st;
    char p[PATH_MAX];
    snprintf(p, sizeof(p), "%s/x.json", fx->dir);
    setenv("JB_PLATFORMS_DIR", "/nonexistent", 1);
    both_load_x(fx, p);
    both_load_x(fx, fx->real_x);
    unsetenv("JB_PLATFORMS_DIR");
}

static void shipped_descriptor(void **st)
{
    (void)st;
    /* The shipped folder serves both: the figures of this project's VM. */
    char err[JB_ERRLEN] = "";
    json_t *plat = NULL, *entry = NULL;
    assert_int_equal(load_as_platform_option("amd-epyc-vm-2vcpu", &plat, err, sizeof(err)), 0);
    assert_int_equal(open_as_power_option("amd-epyc-vm-2vcpu", &entry, err, sizeof(err)), 0);
    json_t *end = json_object_get(entry, "device_state_end");
    assert_true(json_number_value(json_object_get(end, "idle_w")) ==
                json_number_value(json_object_get(plat, "idle_w")));
    assert_true(json_number_value(json_object_get(end, "active_w_per_core")) ==
                json_number_value(json_object_get(plat, "active_w_per_core")));
    json_decref(plat);
    json_decref(entry);
}

static void refused_alike(void **st)
{
    struct fixture *fx = *st;
    char p[PATH_MAX];
    setenv("JB_PLATFORMS_DIR", fx->dir, 1);
    assert_int_equal(chdir(fx->dir), 0);
    /* missing: the message names the file looked for */
    both_refuse("nosuch", "nosuch.json");
    both_refuse("nosuch.json", "nosuch.json");
    both_refuse("/nonexistent/x.json", "/nonexistent/x.json");
    /* broken: the message names the field, found by name or by path */
    both_refuse("bad", "embodied_kgco2e");
    both_refuse("bad.json", "embodied_kgco2e");
    snprintf(p, sizeof(p), "%s/bad.json", fx->dir);
    both_refuse(p, "embodied_kgco2e");
    /* names that are not names */
    both_refuse(".x", "not valid");
    both_refuse("..", "not valid");
    both_refuse("a b", "not valid");
    assert_int_equal(chdir(fx->cwd), 0);
    unsetenv("JB_PLATFORMS_DIR");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bare_name),     cmocka_unit_test(relative_path),
        cmocka_unit_test(absolute_path), cmocka_unit_test(shipped_descriptor),
        cmocka_unit_test(refused_alike),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
