/* test_results_submission.c: submit lays records out with a manifest that
 * check accepts; check then catches every kind of tampering and rule
 * breach a reviewer relies on it for, naming the file: a changed or
 * missing file, an unlisted one, a symbolic link, a manifest path escaping
 * the folder, an estimated or simulated energy source, energy that
 * disagrees with power x time, a missing system field. (SHA-256 itself:
 * tests/test_sha256.c.) */
#include "base/error.h"
#include "results/record_util.h"
#include "results/submission.h"
#include "test_results_helpers.h"

#include <setjmp.h>
#include <sys/stat.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

static char dir[1024], recs[1200], sub[1200], sysjson[1200];

static void put(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int setup(void **st)
{
    (void)st;
    char p[1600];
    th_scratch(dir, sizeof(dir), "submit");
    snprintf(recs, sizeof(recs), "%s/recs", dir);
    snprintf(sub, sizeof(sub), "%s/sub", dir);
    snprintf(sysjson, sizeof(sysjson), "%s/system.json", dir);
    snprintf(p, sizeof(p), "mkdir -p '%s'", recs);
    if (system(p))
        return -1;
    const char *names[] = {"triad", "fma"};
    for (int i = 0; i < 2; i++) {
        json_t *r = th_load_fixture(i ? "fma.json" : "triad.json");
        snprintf(p, sizeof(p), "%s/%s.json", recs, names[i]);
        json_dump_file(r, p, JSON_INDENT(1));
        json_decref(r);
        snprintf(p, sizeof(p), "%s/%s.log", recs, names[i]);
        put(p, "run log\n");
        snprintf(p, sizeof(p), "%s/%s.power.csv", recs, names[i]);
        put(p, "time_s,domain,watts\n0,package-0,36\n");
    }
    put(sysjson, "{\"system_type\": \"datacenter\", \"accelerators\": \"none\","
                 " \"memory_gb\": 8, \"processor\": \"AMD EPYC 9R14 (2 vCPU)\"}");
    return 0;
}

static int teardown(void **st)
{
    (void)st;
    th_rmrf(dir);
    return 0;
}

struct seen {
    char text[16384];
    int n;
};

static void collect(void *ctx, const char *path, const char *msg)
{
    struct seen *s = ctx;
    s->n++;
    size_t l = strlen(s->text);
    snprintf(s->text + l, sizeof(s->text) - l, "%s: %s\n", path, msg);
}

static void expect_problem(const char *want)
{
    struct seen s = {"", 0};
    int nrec;
    int n = jb_submission_check(sub, collect, &s, &nrec);
    if (n == 0 || !strstr(s.text, want))
        fail_msg("expected a problem containing '%s', got %d:\n%s", want, n, s.text);
}

static void expect_clean(void)
{
    struct seen s = {"", 0};
    int nrec;
    if (jb_submission_check(sub, collect, &s, &nrec))
        fail_msg("unexpected problems:\n%s", s.text);
    assert_int_equal(nrec, 2);
}

static void submit(void)
{
    char cmd[1600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", sub);
    assert_int_equal(system(cmd), 0);
    char *argv[] = {"submit", "--org", "AcmeLabs", "--system",      "epyc-vm", "--records",
                    recs,     "--out", sub,        "--system-json", sysjson,   NULL};
    assert_int_equal(th_cmd(11, argv), 0);
}

static void submit_then_check_clean(void **st)
{
    (void)st;
    submit();
    char p[1800];
    snprintf(p, sizeof(p),
             "%s/AcmeLabs/results/epyc-vm/triad/single-stream/a1b2c3d4-0001-triad.power.csv", sub);
    assert_int_equal(access(p, R_OK), 0);
    snprintf(p, sizeof(p), "%s/AcmeLabs/results/epyc-vm/fma/single-stream/a1b2c3d4-0002-fma.log",
             sub);
    assert_int_equal(access(p, R_OK), 0);
    snprintf(p, sizeof(p), "%s/AcmeLabs/systems/epyc-vm.json", sub);
    assert_int_equal(access(p, R_OK), 0);
    expect_clean();
    char *argv[] = {"check", sub, NULL};
    assert_int_equal(th_cmd(2, argv), 0);
}

static void tampering_is_caught(void **st)
{
    (void)st;
    char p[1800], q[1800];
    const char *base = "AcmeLabs/results/epyc-vm/triad/single-stream/a1b2c3d4-0001-triad";
    submit();
    snprintf(p, sizeof(p), "%s/%s.log", sub, base);
    put(p, "run log, edited\n");
    expect_problem("SHA-256 differs");
    char *argv[] = {"check", sub, NULL};
    assert_int_equal(th_cmd(2, argv), 1);

    submit();
    snprintf(p, sizeof(p), "%s/%s.log", sub, base);
    unlink(p);
    expect_problem("listed file is missing");

    submit();
    snprintf(p, sizeof(p), "%s/%s.extra", sub, base);
    put(p, "x");
    expect_problem("file not listed");

    submit();
    snprintf(p, sizeof(p), "%s/AcmeLabs/results/epyc-vm/triad/single-stream/link.json", sub);
    assert_int_equal(symlink("/etc/passwd", p), 0);
    expect_problem("symbolic link");

    submit();
    snprintf(p, sizeof(p), "%s/AcmeLabs/MANIFEST.sha256", sub);
    FILE *f = fopen(p, "a");
    fputs("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  ../../etc/passwd\n",
          f);
    fclose(f);
    expect_problem("unsafe path");

    submit();
    snprintf(p, sizeof(p), "%s/AcmeLabs/MANIFEST.sha256", sub);
    unlink(p);
    expect_problem("manifest: missing");
    (void)q;
}

/* Rewrites the triad record of the submission through fn, re-hashes, and
 * expects `want` among the problems. */
static void breach(void (*fn)(json_t *), const char *want)
{
    char p[1800], err[JB_ERRLEN], org[1400];
    submit();
    snprintf(p, sizeof(p),
             "%s/AcmeLabs/results/epyc-vm/triad/single-stream/a1b2c3d4-0001-triad.json", sub);
    json_error_t je;
    json_t *r = json_load_file(p, 0, &je);
    assert_non_null(r);
    fn(r);
    json_dump_file(r, p, JSON_INDENT(1));
    json_decref(r);
    snprintf(org, sizeof(org), "%s/AcmeLabs", sub);
    assert_int_equal(jb_manifest_write(org, err, sizeof(err)), 0);
    expect_problem(want);
}

static void estimated(json_t *r)
{
    json_t *e = json_array_get(jb_rec_get(r, "measurements.energy"), 0);
    json_object_set_new(e, "measured", json_false());
    json_object_set_new(e, "source", json_string("estimate"));
}
static void simulated(json_t *r)
{
    json_object_set_new(json_array_get(jb_rec_get(r, "measurements.energy"), 0), "source",
                        json_string("sim"));
}
static void power_mismatch(json_t *r)
{
    json_object_set_new(json_array_get(jb_rec_get(r, "measurements.energy"), 0), "average_power_w",
                        json_real(72.0));
}
static void few_reps(json_t *r)
{
    json_object_set_new((json_t *)jb_rec_get(r, "config"), "repetitions", json_integer(2));
}
static void failed_check(json_t *r)
{
    json_object_set_new((json_t *)jb_rec_get(r, "validity"), "output_check", json_string("fail"));
}
static void wrong_units(json_t *r)
{
    json_object_set_new((json_t *)jb_rec_get(r, "measurements"), "throughput_units_per_s",
                        json_real(500.0));
}
static void newer_schema(json_t *r)
{
    json_object_set_new(r, "schema_version", json_integer(2));
}

static void rule_breaches(void **st)
{
    (void)st;
    breach(estimated, "energy source class: 'estimate' (estimated)");
    breach(simulated, "energy source class: 'sim'");
    breach(power_mismatch, "consistency: energy[0]");
    breach(few_reps, "2 repetitions, at least 3 required");
    breach(failed_check, "output check is 'fail'");
    breach(wrong_units, "units: throughput 500");
    breach(newer_schema, "newer than this joulebench reads");
}

/* Two records sharing a run_id would be one file of the submission: submit
 * refuses, writing nothing (it once printed "0 problem(s)" with one record
 * lost). */
static void shared_run_id_refused(void **st)
{
    (void)st;
    char p[1800], d2[1400], cmd[4000];
    snprintf(d2, sizeof(d2), "%s/recs2", dir);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s' && mkdir -p '%s' && cp '%s'/triad.json '%s'/a.json && "
             "cp '%s'/triad.json '%s'/b.json", d2, sub, d2, recs, d2, recs, d2);
    assert_int_equal(system(cmd), 0);
    /* b differs (another measurement) but keeps a's run_id */
    snprintf(p, sizeof(p), "%s/b.json", d2);
    json_error_t je;
    json_t *r = json_load_file(p, 0, &je);
    assert_non_null(r);
    json_object_set_new(r, "created_utc", json_string("2026-01-02T03:04:05Z"));
    json_dump_file(r, p, JSON_INDENT(1));
    json_decref(r);
    char *argv[] = {"submit", "--org",  "AcmeLabs", "--system",      "epyc-vm", "--records",
                    d2,       "--out", sub,        "--system-json", sysjson,   NULL};
    assert_int_equal(th_cmd(11, argv), 1);
    snprintf(p, sizeof(p), "%s/AcmeLabs/results", sub);
    assert_int_not_equal(access(p, F_OK), 0);
}

/* A file too large to be a record is reported, not read into memory
 * (a 200 MB one once took 4 GB of RAM). */
static void huge_file_refused(void **st)
{
    (void)st;
    char p[1800], org[1400], err[JB_ERRLEN];
    submit();
    snprintf(p, sizeof(p), "%s/AcmeLabs/results/epyc-vm/triad/single-stream/huge.json", sub);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs("{\"a\": \"", f);
    fclose(f);
    assert_int_equal(truncate(p, (off_t)JB_RECORD_MAX_BYTES + 1), 0);
    snprintf(org, sizeof(org), "%s/AcmeLabs", sub);
    assert_int_equal(jb_manifest_write(org, err, sizeof(err)), 0);
    expect_problem("huge.json: larger than 64 MiB, not read");
}

static void system_and_names(void **st)
{
    (void)st;
    char p[1800], org[1400], err[JB_ERRLEN];
    submit();
    snprintf(p, sizeof(p), "%s/AcmeLabs/systems/epyc-vm.json", sub);
    put(p, "{\"name\": \"epyc-vm\", \"organization\": \"AcmeLabs\"}");
    snprintf(org, sizeof(org), "%s/AcmeLabs", sub);
    assert_int_equal(jb_manifest_write(org, err, sizeof(err)), 0);
    expect_problem("required field 'memory_gb'");
    expect_problem("required field 'energy_meter'");
    /* hostile names are refused before anything is written */
    char *argv[] = {"submit",    "--org", "../evil", "--system", "x",
                    "--records", recs,    "--out",   sub,        NULL};
    assert_int_equal(th_cmd(9, argv), 2);
    char *argv2[] = {"submit",    "--org", "ok",    "--system", "<script>",
                     "--records", recs,    "--out", sub,        NULL};
    assert_int_equal(th_cmd(9, argv2), 2);
    assert_int_equal(jb_safe_component(".."), 0);
    assert_int_equal(jb_safe_component("a/b"), 0);
    assert_int_equal(jb_safe_component("epyc-vm_2.0"), 1);
    /* an empty folder is not a submission */
    snprintf(p, sizeof(p), "%s/empty", dir);
    mkdir(p, 0755);
    char *argv3[] = {"check", p, NULL};
    assert_int_equal(th_cmd(2, argv3), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(submit_then_check_clean),
        cmocka_unit_test(tampering_is_caught),
        cmocka_unit_test(rule_breaches),
        cmocka_unit_test(system_and_names),
        cmocka_unit_test(huge_file_refused),
        cmocka_unit_test(shared_run_id_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
