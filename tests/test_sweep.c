/* test_sweep.c: power-limit and clock sweeps through a fake NVML
 * (tests/fake_nvml.c, loaded by the production dlopen path).
 *
 * What a user relies on: every setting is applied and measured; the Pareto
 * front and the energy-optimal setting are right; the original setting is
 * back afterwards whether the sweep ends, a measurement fails or SIGINT
 * arrives; refused settings are listed with the reason and nothing is
 * changed; a dry run reads the GPU's limits, says which settings are within
 * them and what would be restored, and changes nothing (the fake counts
 * every set and reset call); bad ranges are refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dlfcn.h>
#include <math.h>
#include <time.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/error.h"
#include "harness/sweep.h"
#include "harness/nvml.h"
#include "workloads/workload.h"

struct fake {
    void *lib;
    unsigned (*limit_mw)(void);
    unsigned (*locked_max)(void);
    unsigned (*sets)(void);
    unsigned (*resets)(void);
    void (*deny)(int);
    void (*reset)(void);
    struct jb_nvml *nv;
};

static int setup(void **state)
{
    const char *path = getenv("JB_FAKE_NVML");
    static struct fake f;
    char err[JB_ERRLEN];
    memset(&f, 0, sizeof(f));
    if (!path)
        return -1;
    /* The fake GPU draws min(limit, 400 W). */
    setenv("FAKE_NVML_WATTS", "400", 1);
    f.lib = dlopen(path, RTLD_NOW);
    if (!f.lib)
        return -1;
    *(void **)(&f.limit_mw) = dlsym(f.lib, "fake_nvml_limit_mw");
    *(void **)(&f.locked_max) = dlsym(f.lib, "fake_nvml_locked_mhz");
    *(void **)(&f.sets) = dlsym(f.lib, "fake_nvml_sets");
    *(void **)(&f.resets) = dlsym(f.lib, "fake_nvml_resets");
    *(void **)(&f.deny) = dlsym(f.lib, "fake_nvml_deny");
    *(void **)(&f.reset) = dlsym(f.lib, "fake_nvml_reset");
    if (jb_nvml_open(path, &f.nv, err, sizeof(err)))
        return -1;
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fake *f = *state;
    jb_nvml_close(f->nv);
    dlclose(f->lib);
    return 0;
}

/* A workload model: latency falls with the limit up to 400 W and not past
 * it; power drawn is min(limit, 400 W) plus 60 W idle. Energy per unit is
 * then lowest at a middle limit. */
struct model {
    struct fake *f;
    int calls, fail_at, sigint_at, sig; /* sig: raised at call sigint_at (0: SIGINT) */
    double seen_limit_w[64];
};

static int measure(void *ctx, struct jb_sweep_point *pt, char *err, size_t errlen)
{
    struct model *m = ctx;
    double w = m->f->limit_mw() / 1000.0;
    m->seen_limit_w[m->calls++] = w;
    if (m->calls == m->fail_at)
        return jb_err(err, errlen, JB_EIO, "workload failed on purpose");
    if (m->calls == m->sigint_at)
        raise(m->sig ? m->sig : SIGINT);
    double p = (w < 400 ? w : 400) + 60;
    pt->latency_s = 0.010 * 400.0 / (w < 400 ? w : 400) + 0.001;
    pt->energy_j = p * pt->latency_s;
    pt->energy_unc_j = 0.01 * pt->energy_j;
    return 0;
}

static void test_parse(void **state)
{
    (void)state;
    struct jb_sweep_spec s;
    char err[JB_ERRLEN];
    assert_int_equal(jb_sweep_parse("150:300:50", JB_SWEEP_POWER_LIMIT, &s, err, sizeof(err)), 0);
    assert_true(s.from == 150 && s.to == 300 && s.step == 50);
    assert_int_equal(jb_sweep_parse("300:150:50", JB_SWEEP_POWER_LIMIT, &s, err, sizeof(err)),
                     JB_EINVAL);
    assert_int_equal(jb_sweep_parse("150:300", JB_SWEEP_POWER_LIMIT, &s, err, sizeof(err)),
                     JB_EINVAL);
    assert_non_null(strstr(err, "--power-limit"));
    assert_int_equal(jb_sweep_parse("150:300:0", JB_SWEEP_GPU_CLOCK, &s, err, sizeof(err)),
                     JB_EINVAL);
    assert_non_null(strstr(err, "--gpu-clock"));
    assert_int_equal(jb_sweep_parse("1:100000:1", JB_SWEEP_GPU_CLOCK, &s, err, sizeof(err)),
                     JB_ERANGE);
    assert_int_equal(jb_sweep_parse("a:b:c", JB_SWEEP_GPU_CLOCK, &s, err, sizeof(err)), JB_EINVAL);
}

static void test_power_limit_sweep_and_restore(void **state)
{
    struct fake *f = *state;
    f->reset();
    struct jb_sweep_spec s;
    struct jb_sweep_result r;
    struct model m = {.f = f};
    char err[JB_ERRLEN] = "";
    assert_int_equal(jb_sweep_parse("200:600:100", JB_SWEEP_POWER_LIMIT, &s, err, sizeof(err)), 0);
    assert_int_equal(jb_sweep_run(&s, f->nv, measure, &m, &r, err, sizeof(err)), 0);
    assert_int_equal(r.n, 5);
    assert_int_equal(m.calls, 5);
    for (int i = 0; i < 5; i++) {
        assert_true(r.pts[i].applied);
        assert_true(m.seen_limit_w[i] == 200 + 100 * i); /* measured at the setting */
    }
    /* Energy (p * latency) falls with the limit up to 400 W; 500 and 600 W
     * run as 400 W (the workload never draws more) and tie with it. 200 and
     * 300 W are slower and costlier than 400 W: off the front. */
    assert_int_equal(r.best_energy, 2);
    assert_false(r.pts[0].pareto);
    assert_false(r.pts[1].pareto);
    assert_true(r.pts[2].pareto && r.pts[3].pareto && r.pts[4].pareto);
    assert_true(r.original == 700.0);
    assert_true(r.restored);
    assert_int_equal(f->limit_mw(), 700000); /* back to the original */
    char dat[] = "/tmp/jb_sweep_XXXXXX";
    int fd = mkstemp(dat);
    assert_true(fd >= 0);
    close(fd);
    char gp[64], svg[64];
    snprintf(gp, sizeof(gp), "%s.gp", dat);
    snprintf(svg, sizeof(svg), "%s.svg", dat);
    assert_int_equal(jb_sweep_write_plot(&s, &r, "test", dat, gp, svg, err, sizeof(err)), 0);
    FILE *g = fopen(gp, "r");
    char buf[4096] = "";
    size_t n = fread(buf, 1, sizeof(buf) - 1, g);
    buf[n] = '\0';
    fclose(g);
    assert_non_null(strstr(buf, "Pareto front"));
    assert_non_null(strstr(buf, "energy-optimal"));
    unlink(dat);
    unlink(gp);
    jb_sweep_result_free(&r);
}

static void test_failed_measurement_still_restores(void **state)
{
    struct fake *f = *state;
    f->reset();
    struct jb_sweep_spec s;
    struct jb_sweep_result r;
    struct model m = {.f = f, .fail_at = 2};
    char err[JB_ERRLEN] = "";
    jb_sweep_parse("200:600:100", JB_SWEEP_POWER_LIMIT, &s, err, sizeof(err));
    assert_int_equal(jb_sweep_run(&s, f->nv, measure, &m, &r, err, sizeof(err)), JB_EIO);
    assert_int_equal(m.calls, 2);
    assert_non_null(strstr(r.pts[1].note, "failed on purpose"));
    assert_true(r.restored);
    assert_int_equal(f->limit_mw(), 700000);
    jb_sweep_result_free(&r);
}

static void test_sigint_stops_and_restores(void **state)
{
    struct fake *f = *state;
    f->reset();
    struct jb_sweep_spec s;
    struct jb_sweep_result r;
    struct model m = {.f = f, .sigint_at = 2};
    char err[JB_ERRLEN] = "";
    jb_sweep_parse("1200:1800:100", JB_SWEEP_GPU_CLOCK, &s, err, sizeof(err));
    assert_int_equal(jb_sweep_run(&s, f->nv, measure, &m, &r, err, sizeof(err)), JB_EINTR);
    assert_int_equal(m.calls, 2); /* the point in progress finishes, no more */
    assert_true(r.interrupted);
    assert_true(r.restored);
    assert_int_equal(f->locked_max(), 0); /* clocks unlocked again */
    assert_non_null(strstr(err, "restored"));
    jb_sweep_result_free(&r);
    /* SIGTERM (a job scheduler) and SIGHUP (a closed terminal) alike: once
     * they killed the sweep with the GPU left at a locked clock */
    const int sigs[] = {SIGTERM, SIGHUP};
    for (int i = 0; i < 2; i++) {
        f->reset();
        struct model m2 = {.f = f, .sigint_at = 2, .sig = sigs[i]};
        assert_int_equal(jb_sweep_run(&s, f->nv, measure, &m2, &r, err, sizeof(err)), JB_EINTR);
        assert_int_equal(m2.calls, 2);
        assert_int_equal(r.interrupted, sigs[i]);
        assert_true(r.restored);
        assert_int_equal(f->locked_max(), 0);
        jb_sweep_result_free(&r);
    }
}

static void test_refused_settings_are_listed(void **state)
{
    struct fake *f = *state;
    f->reset();
    f->deny(1);
    struct jb_sweep_spec s;
    struct jb_sweep_result r;
    struct model m = {.f = f};
    char err[JB_ERRLEN] = "";
    jb_sweep_parse("200:400:100", JB_SWEEP_POWER_LIMIT, &s, err, sizeof(err));
    assert_int_equal(jb_sweep_run(&s, f->nv, measure, &m, &r, err, sizeof(err)), JB_EPERM);
    assert_non_null(strstr(err, "permission"));
    assert_int_equal(m.calls, 0);
    for (int i = 0; i < r.n; i++) {
        assert_false(r.pts[i].applied);
        assert_non_null(strstr(r.pts[i].note, "Insufficient Permissions"));
    }
    assert_int_equal(r.best_energy, -1);
    assert_int_equal(f->limit_mw(), 700000);
    jb_sweep_result_free(&r);
    /* A limit outside the GPU's range is refused for that point only. */
    f->deny(0);
    memset(&m, 0, sizeof(m));
    m.f = f;
    jb_sweep_parse("600:800:100", JB_SWEEP_POWER_LIMIT, &s, err, sizeof(err));
    assert_int_equal(jb_sweep_run(&s, f->nv, measure, &m, &r, err, sizeof(err)), 0);
    assert_true(r.pts[0].applied && r.pts[1].applied && !r.pts[2].applied);
    assert_non_null(strstr(r.pts[2].note, "not applied"));
    assert_int_equal(f->limit_mw(), 700000);
    jb_sweep_result_free(&r);
}

/* A dry run of `range` (kind) on the fake: no measurement, no change. */
static int dry_run(struct fake *f, const char *range, enum jb_sweep_kind kind,
                   struct jb_sweep_result *r, char *err, size_t errlen)
{
    struct jb_sweep_spec s;
    struct model m = {.f = f};
    assert_int_equal(jb_sweep_parse(range, kind, &s, err, errlen), 0);
    s.dry_run = 1;
    int rc = jb_sweep_run(&s, f->nv, measure, &m, r, err, errlen);
    assert_int_equal(m.calls, 0);
    assert_int_equal(f->sets(), 0);
    assert_int_equal(f->resets(), 0);
    assert_int_equal(f->limit_mw(), 650000);
    return rc;
}

static void test_dry_run_changes_nothing(void **state)
{
    struct fake *f = *state;
    setenv("FAKE_NVML_LIMIT_W", "650", 1); /* not the default: restoring means this */
    f->reset();
    unsetenv("FAKE_NVML_LIMIT_W");
    struct jb_sweep_result r;
    char err[JB_ERRLEN] = "";
    assert_int_equal(dry_run(f, "50:250:100", JB_SWEEP_POWER_LIMIT, &r, err, sizeof(err)), 0);
    const struct jb_sweep_limits *l = &r.limits;
    /* What the GPU allows and is set to, as NVML says. */
    assert_string_equal(l->name, "Fake H100 0");
    assert_true(l->have_power && l->power_w == 650 && l->power_min_w == 100 &&
                l->power_max_w == 700 && l->power_default_w == 700);
    assert_true(l->have_clocks && l->nclocks == 119 && l->clock_min_mhz == 210 &&
                l->clock_max_mhz == 1980 && l->mem_mhz == 2619);
    assert_true(l->app_mhz == 1755 && l->app_default_mhz == 1755);
    assert_int_equal(l->clocks_held, 0); /* the fake's reason is sw_power_cap */
    assert_string_equal(l->unread, "");
    /* Each setting's verdict; the limit now is what would come back. */
    assert_int_equal(r.pts[0].in_range, 0); /* 50 W < 100 W minimum */
    assert_non_null(strstr(r.pts[0].note, "outside the GPU's 100..700 W"));
    assert_int_equal(r.pts[1].in_range, 1);
    assert_non_null(strstr(r.pts[1].note, "would set 150 W"));
    assert_int_equal(r.n_in_range, 2);
    assert_true(r.original == 650);
    assert_false(r.pts[1].applied);
    jb_sweep_result_free(&r);
    /* Nothing in range: said, and an error, still without a change. */
    assert_int_equal(dry_run(f, "750:900:50", JB_SWEEP_POWER_LIMIT, &r, err, sizeof(err)),
                     JB_ERANGE);
    assert_non_null(strstr(err, "no setting of 750..900 W is within GPU 0's 100..700 W"));
    jb_sweep_result_free(&r);
}

static void test_dry_run_of_clocks(void **state)
{
    struct fake *f = *state;
    setenv("FAKE_NVML_LIMIT_W", "650", 1);
    f->reset();
    unsetenv("FAKE_NVML_LIMIT_W");
    struct jb_sweep_result r;
    char err[JB_ERRLEN] = "";
    assert_int_equal(dry_run(f, "1200:2100:300", JB_SWEEP_GPU_CLOCK, &r, err, sizeof(err)), 0);
    assert_int_equal(r.n, 4);
    assert_true(r.pts[0].in_range == 1 && r.pts[1].in_range == 1 && r.pts[2].in_range == 1);
    assert_int_equal(r.pts[3].in_range, 0); /* 2100 MHz > 1980 */
    assert_non_null(strstr(r.pts[3].note, "outside the GPU's 210..1980 MHz"));
    assert_non_null(strstr(r.pts[1].note, "would set 1500 MHz"));
    assert_null(strstr(r.pts[1].note, "nearest")); /* 1500 is a supported clock */
    assert_true(r.original == 0);                  /* clocks end unlocked */
    jb_sweep_result_free(&r);
    /* Between two supported clocks: the nearest is named. */
    assert_int_equal(dry_run(f, "1203:1203:1", JB_SWEEP_GPU_CLOCK, &r, err, sizeof(err)), 0);
    assert_non_null(strstr(r.pts[0].note, "nearest 1200 MHz"));
    jb_sweep_result_free(&r);
    /* Clocks held by a setting now: a reset would drop it, so it is said. */
    setenv("FAKE_NVML_REASONS", "2", 1);
    assert_int_equal(dry_run(f, "1200:1200:100", JB_SWEEP_GPU_CLOCK, &r, err, sizeof(err)), 0);
    unsetenv("FAKE_NVML_REASONS");
    assert_int_equal(r.limits.clocks_held, 1);
    jb_sweep_result_free(&r);
    /* A GPU that does not list its clocks: the plan says the range is
     * unknown rather than guessing, and is not an error (a real clock sweep
     * reads nothing first either). */
    setenv("FAKE_NVML_UNSUPPORTED",
           "nvmlDeviceGetSupportedMemoryClocks,nvmlDeviceGetApplicationsClock", 1);
    assert_int_equal(dry_run(f, "1200:1500:300", JB_SWEEP_GPU_CLOCK, &r, err, sizeof(err)), 0);
    assert_false(r.limits.have_clocks);
    assert_true(r.limits.app_mhz == 0);
    assert_int_equal(r.pts[0].in_range, -1);
    assert_non_null(strstr(r.pts[0].note, "could not be read"));
    assert_non_null(strstr(r.limits.unread, "supported clocks: nvml: "
                                            "nvmlDeviceGetSupportedMemoryClocks: Not Supported"));
    assert_non_null(strstr(r.limits.unread, "application clocks: "));
    jb_sweep_result_free(&r);
    /* A power limit that cannot be read: a real sweep could not start. */
    setenv("FAKE_NVML_UNSUPPORTED", "nvmlDeviceGetPowerManagementLimit", 1);
    assert_int_equal(dry_run(f, "200:300:100", JB_SWEEP_POWER_LIMIT, &r, err, sizeof(err)),
                     JB_ENOTSUP);
    unsetenv("FAKE_NVML_UNSUPPORTED");
    assert_non_null(strstr(err, "power limit cannot be read"));
    jb_sweep_result_free(&r);
}

/* A workload of 2 ms sleeps: its energy per unit is the fake GPU's power
 * times its latency, whatever the setting. */
static int sleepy_run(void *st, char *err, size_t errlen)
{
    (void)st;
    (void)err;
    (void)errlen;
    struct timespec ts = {0, 2000000};
    nanosleep(&ts, NULL);
    return 0;
}

static void test_measure_workload_with_counter(void **state)
{
    struct fake *f = *state;
    f->reset();
    const struct jb_workload_ops ops = {.name = "sleepy", .run = sleepy_run};
    /* 1 s per point: the end-alignment uncertainty grows with the longest
     * iteration, which a loaded (sanitizer, CI) machine can stretch; over 1 s
     * a 100 ms stall still stays inside the bound below. */
    struct jb_sweep_workload w = {.ops = &ops, .units_per_iteration = 2, .nv = f->nv, .min_s = 1.0};
    struct jb_sweep_spec s;
    struct jb_sweep_result r;
    char err[JB_ERRLEN] = "";
    jb_sweep_parse("200:400:200", JB_SWEEP_POWER_LIMIT, &s, err, sizeof(err));
    assert_int_equal(jb_sweep_run(&s, f->nv, jb_sweep_measure_workload, &w, &r, err, sizeof(err)),
                     0);
    for (int i = 0; i < 2; i++) {
        const struct jb_sweep_point *p = &r.pts[i];
        double watts = p->setting; /* the fake draws the limit (<= 400 W) */
        print_message("%g W: %.3g s/unit, %.4g J/unit +- %.2g\n", p->setting, p->latency_s,
                      p->energy_j, p->energy_unc_j);
        assert_true(p->applied);
        assert_true(p->latency_s > 0.0009 && p->latency_s < 0.01); /* 2 ms / 2 units + overhead */
        /* Counter-aligned energy equals power x time within a few %. */
        assert_true(fabs(p->energy_j - watts * p->latency_s) < 0.05 * watts * p->latency_s);
        assert_true(p->energy_unc_j > 0 &&
                    p->energy_unc_j <
                        0.25 * p->energy_j); /* loose: a loaded CI machine stretches steps */
    }
    assert_int_equal(r.best_energy, 0); /* same speed, half the power */
    assert_int_equal(f->limit_mw(), 700000);
    jb_sweep_result_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_power_limit_sweep_and_restore),
        cmocka_unit_test(test_failed_measurement_still_restores),
        cmocka_unit_test(test_sigint_stops_and_restores),
        cmocka_unit_test(test_refused_settings_are_listed),
        cmocka_unit_test(test_dry_run_changes_nothing),
        cmocka_unit_test(test_dry_run_of_clocks),
        cmocka_unit_test(test_measure_workload_with_counter),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
