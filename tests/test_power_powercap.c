/* test_power_powercap.c: rapl-powercap on a fake sysfs tree built in a
 * temp dir: zone discovery and naming, the honest "absent" reasons, and a
 * counter that wraps at max_energy_range_uj during a run, driven by a writer
 * thread that plays the kernel (50 W, atomic renames like sysfs's
 * all-or-nothing reads). */
#include "tests/power_test_util.h"

#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness/power.h"

#define FAKE_W 50.0
#define FAKE_RANGE_UJ 20000000.0 /* 20 J: wraps every 0.4 s at 50 W */

struct fake {
    char root[64];
    char zone0[256]; /* .../intel-rapl:0 */
    pthread_t writer;
    int stop;
    pthread_mutex_t mu;
    double start_uj;
};

static void write_file(const char *dir, const char *name, const char *content)
{
    char p[512];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(content, f);
    fclose(f);
}

static void make_zone(struct fake *fk, const char *dir, const char *name, const char *range,
                      const char *energy, char *out, size_t n)
{
    char p[256];
    snprintf(p, sizeof(p), "%s/sys/class/powercap/%s", fk->root, dir);
    assert_int_equal(mkdir(p, 0755), 0);
    write_file(p, "name", name);
    write_file(p, "max_energy_range_uj", range);
    write_file(p, "energy_uj", energy);
    if (out)
        snprintf(out, n, "%s", p);
}

static void make_tree(struct fake *fk)
{
    memset(fk, 0, sizeof(*fk));
    snprintf(fk->root, sizeof(fk->root), "/tmp/jb_sysfs_XXXXXX");
    assert_non_null(mkdtemp(fk->root));
    char p[256];
    snprintf(p, sizeof(p), "%s/sys", fk->root);
    mkdir(p, 0755);
    snprintf(p, sizeof(p), "%s/sys/class", fk->root);
    mkdir(p, 0755);
    snprintf(p, sizeof(p), "%s/sys/class/powercap", fk->root);
    mkdir(p, 0755);
    make_zone(fk, "intel-rapl:0", "package-0\n", "20000000\n", "19000000\n", fk->zone0,
              sizeof(fk->zone0));
    write_file(fk->zone0, "constraint_0_max_power_uw", "60000000\n");
    make_zone(fk, "intel-rapl:0:0", "core\n", "262143328850\n", "1000\n", NULL, 0);
    make_zone(fk, "intel-rapl:0:1", "dram\n", "262143328850\n", "2000\n", NULL, 0);
    make_zone(fk, "intel-rapl:1", "psys\n", "262143328850\n", "3000\n", NULL, 0);
    /* not a RAPL zone: must be ignored */
    snprintf(p, sizeof(p), "%s/sys/class/powercap/dtpm", fk->root);
    mkdir(p, 0755);
}

static void rm_tree(struct fake *fk)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fk->root);
    assert_int_equal(system(cmd), 0);
}

static void *writer_main(void *arg)
{
    struct fake *fk = arg;
    double t0 = jb_power_now_s();
    char tmp[300], dst[300], buf[64];
    snprintf(tmp, sizeof(tmp), "%s/.energy_uj.tmp", fk->zone0);
    snprintf(dst, sizeof(dst), "%s/energy_uj", fk->zone0);
    for (;;) {
        pthread_mutex_lock(&fk->mu);
        int stop = fk->stop;
        pthread_mutex_unlock(&fk->mu);
        if (stop)
            break;
        double uj = fmod(fk->start_uj + FAKE_W * 1e6 * (jb_power_now_s() - t0), FAKE_RANGE_UJ);
        snprintf(buf, sizeof(buf), "%.0f\n", floor(uj));
        FILE *f = fopen(tmp, "w");
        if (f) {
            fputs(buf, f);
            fclose(f);
            rename(tmp, dst);
        }
        jb_power_sleep_s(0.001); /* RAPL updates about every ms */
    }
    return NULL;
}

static void zones_found_and_named(void **st)
{
    (void)st;
    struct fake fk;
    make_tree(&fk);
    const struct jb_power_source_ops *ops = jb_power_source_find("rapl-powercap");
    assert_non_null(ops);
    assert_true(ops->is_hardware);
    struct jb_power_context ctx = {1, NULL, fk.root, 0};
    void *s = NULL;
    char err[JB_ERRLEN] = "";
    assert_int_equal(ops->open(NULL, &ctx, &s, err, sizeof(err)), 0);
    assert_int_equal(ops->ndomains(s), 4);
    const char *want[] = {"package-0", "cores-0", "dram-0", "psys"};
    for (int i = 0; i < 4; i++) {
        struct jb_power_domain_info d;
        ops->domain(s, i, &d);
        assert_string_equal(d.name, want[i]);
        assert_int_equal(d.kind, JB_POWER_ENERGY_COUNTER);
        assert_true(d.measured);
    }
    struct jb_power_domain_info d0;
    ops->domain(s, 0, &d0);
    assert_true(fabs(d0.wrap_j - 20.0) < 1e-9);
    assert_true(fabs(d0.max_power_w - 60.0) < 1e-9);
    struct jb_power_reading r;
    assert_int_equal(ops->read(s, 2, &r, err, sizeof(err)), 0);
    assert_true(fabs(r.energy_j - 2000e-6) < 1e-12);
    ops->close(s);
    /* root= option overrides the context */
    char opt[128];
    snprintf(opt, sizeof(opt), "root=%s", fk.root);
    struct jb_power_context ctx2 = {1, NULL, "/nonexistent", 0};
    assert_int_equal(ops->probe(opt, &ctx2, err, sizeof(err)), 0);
    rm_tree(&fk);
}

static void absent_reasons(void **st)
{
    (void)st;
    const struct jb_power_source_ops *ops = jb_power_source_find("rapl-powercap");
    struct jb_power_context ctx = {1, NULL, "/nonexistent-root", 0};
    char why[JB_ERRLEN] = "";
    assert_int_equal(ops->probe(NULL, &ctx, why, sizeof(why)), JB_ENOTSUP);
    assert_non_null(strstr(why, "powercap"));
    assert_non_null(strstr(why, "no "));
    /* a zone whose energy_uj cannot be read (root-only since Linux 5.10);
     * root reads it anyway, so only checkable as a normal user */
    if (geteuid() != 0) {
        struct fake fk;
        make_tree(&fk);
        char cmd[512];
        snprintf(cmd, sizeof(cmd), "chmod 000 %s/sys/class/powercap/intel-rapl:*/energy_uj",
                 fk.root);
        assert_int_equal(system(cmd), 0);
        struct jb_power_context c2 = {1, NULL, fk.root, 0};
        assert_int_equal(ops->probe(NULL, &c2, why, sizeof(why)), JB_EPERM);
        assert_non_null(strstr(why, "permission denied"));
        rm_tree(&fk);
    }
    /* this VM: the real /sys has no powercap at all; say so */
    struct jb_power_context real = {1, NULL, "/", 0};
    if (access("/sys/class/powercap", F_OK)) {
        assert_int_equal(ops->probe(NULL, &real, why, sizeof(why)), JB_ENOTSUP);
        assert_non_null(strstr(why, "no /sys/class/powercap"));
    }
}

/* The package counter wraps (20 J at 50 W: every 0.4 s) during a run of
 * 2 x 0.5 s; the energy reported is the unwrapped 50 W x time. */
static void wrap_during_run(void **st)
{
    (void)st;
    struct fake fk;
    make_tree(&fk);
    fk.start_uj = 19000000; /* 1 J before the first wrap */
    pthread_mutex_init(&fk.mu, NULL);
    assert_int_equal(pthread_create(&fk.writer, NULL, writer_main, &fk), 0);
    jb_power_sleep_s(0.01);
    char spec[128], err[JB_ERRLEN] = "";
    snprintf(spec, sizeof(spec), "rapl-powercap:root=%s", fk.root);
    struct jb_energy_opts o = {1, NULL, -1, NULL, 0};
    struct jb_energy *e = NULL;
    int rc = jb_energy_open(spec, &o, &e, err, sizeof(err));
    if (rc)
        fprintf(stderr, "%s\n", err);
    assert_int_equal(rc, 0);
    struct jb_test_run r;
    jb_test_reps(e, 2, 2, 0.5, 10, 0, NULL, &r);
    pthread_mutex_lock(&fk.mu);
    fk.stop = 1;
    pthread_mutex_unlock(&fk.mu);
    pthread_join(fk.writer, NULL);
    json_t *d = jb_test_entry(&r, "package-0");
    assert_non_null(d);
    if (!json_is_true(json_object_get(d, "available")))
        jb_test_dump(&r);
    assert_true(json_is_true(json_object_get(d, "available")));
    assert_string_equal(json_string_value(json_object_get(d, "source")), "rapl-powercap");
    double jpu = jb_test_num(d, "joules_per_unit");
    double expect = FAKE_W * r.wall_s / r.units;
    /* the writer's own timing jitter on a shared machine: 3% */
    assert_true(fabs(jpu - expect) < 0.03 * expect + jb_test_num(d, "uncertainty_joules_per_unit"));
    /* the static zones never moved: unavailable, not 0 J */
    json_t *dram = jb_test_entry(&r, "dram-0");
    assert_true(json_is_false(json_object_get(dram, "available")));
    jb_test_run_free(&r);
    jb_energy_close(e);
    pthread_mutex_destroy(&fk.mu);
    rm_tree(&fk);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(zones_found_and_named),
        cmocka_unit_test(absent_reasons),
        cmocka_unit_test(wrap_during_run),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
