/* test_power_rapl_perf.c: rapl-perf's reading of the perf `power` PMU's
 * sysfs description (type, cpumask, events with config, scale and unit) on
 * a fake tree, and its honest reasons for being absent. perf_event_open
 * itself cannot be faked: on the fake tree it fails (the PMU type does not
 * exist), and the test checks that the reason names what was found and what
 * failed. The real counters are exercised only on machines that have them. */
#include "tests/power_test_util.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness/power.h"

static void put(const char *root, const char *rel, const char *content)
{
    char p[512];
    snprintf(p, sizeof(p), "%s/%s", root, rel);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(content, f);
    fclose(f);
}

static void make_pmu(char *root, size_t n)
{
    snprintf(root, n, "/tmp/jb_perf_XXXXXX");
    assert_non_null(mkdtemp(root));
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "mkdir -p %s/sys/bus/event_source/devices/power/events", root);
    assert_int_equal(system(cmd), 0);
    const char *ev = "sys/bus/event_source/devices/power";
    char rel[256];
    /* a PMU type no kernel has, so perf_event_open fails for sure */
    snprintf(rel, sizeof(rel), "%s/type", ev);
    put(root, rel, "4242\n");
    snprintf(rel, sizeof(rel), "%s/cpumask", ev);
    put(root, rel, "0\n");
    snprintf(rel, sizeof(rel), "%s/events/energy-pkg", ev);
    put(root, rel, "event=0x02\n");
    snprintf(rel, sizeof(rel), "%s/events/energy-pkg.scale", ev);
    put(root, rel, "2.3283064365386962890625e-10\n");
    snprintf(rel, sizeof(rel), "%s/events/energy-pkg.unit", ev);
    put(root, rel, "Joules\n");
    snprintf(rel, sizeof(rel), "%s/events/energy-psys", ev);
    put(root, rel, "event=0x05\n");
    snprintf(rel, sizeof(rel), "%s/events/energy-psys.scale", ev);
    put(root, rel, "2.3283064365386962890625e-10\n");
    snprintf(rel, sizeof(rel), "%s/events/energy-psys.unit", ev);
    put(root, rel, "Joules\n");
    /* a malformed one */
    snprintf(rel, sizeof(rel), "%s/events/energy-ram", ev);
    put(root, rel, "event=0x03\n");
    snprintf(rel, sizeof(rel), "%s/events/energy-ram.scale", ev);
    put(root, rel, "2.3283064365386962890625e-10\n");
    snprintf(rel, sizeof(rel), "%s/events/energy-ram.unit", ev);
    put(root, rel, "Watts\n");
}

static void rm_root(const char *root)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    assert_int_equal(system(cmd), 0);
}

static void parses_events(void **st)
{
    (void)st;
    char root[64], unit[32], err[JB_ERRLEN];
    make_pmu(root, sizeof(root));
    unsigned long long config = 0;
    double scale = 0;
    assert_int_equal(jb_rapl_perf_parse_event(root, "energy-pkg", &config, &scale, unit,
                                              sizeof(unit), err, sizeof(err)),
                     0);
    assert_int_equal(config, 2);
    assert_true(fabs(scale - ldexp(1.0, -32)) < 1e-25); /* 2^-32 J per count */
    assert_string_equal(unit, "Joules");
    assert_int_equal(jb_rapl_perf_parse_event(root, "energy-psys", &config, &scale, unit,
                                              sizeof(unit), err, sizeof(err)),
                     0);
    assert_int_equal(config, 5);
    assert_int_equal(jb_rapl_perf_parse_event(root, "energy-ram", &config, &scale, unit,
                                              sizeof(unit), err, sizeof(err)),
                     JB_EFORMAT);
    assert_non_null(strstr(err, "Watts"));
    assert_int_equal(jb_rapl_perf_parse_event(root, "energy-cores", &config, &scale, unit,
                                              sizeof(unit), err, sizeof(err)),
                     JB_ENOENT);
    rm_root(root);
}

static void probe_reasons(void **st)
{
    (void)st;
    const struct jb_power_source_ops *ops = jb_power_source_find("rapl-perf");
    assert_non_null(ops);
    assert_true(ops->is_hardware);
    char root[64], why[JB_ERRLEN] = "";
    make_pmu(root, sizeof(root));
    struct jb_power_context ctx = {1, NULL, root, 0};
    int rc = ops->probe(NULL, &ctx, why, sizeof(why));
    assert_true(rc == JB_ENOTSUP || rc == JB_EPERM);
    /* it names the events it parsed, with their scale, and what failed */
    assert_non_null(strstr(why, "energy-pkg"));
    assert_non_null(strstr(why, "perf_event_open"));
    if (rc == JB_ENOTSUP) {
        assert_non_null(strstr(why, "2.328e-10 Joules"));
        assert_null(strstr(why, "energy-ram")); /* malformed: not listed */
    }
    rm_root(root);
    /* no PMU at all */
    struct jb_power_context none = {1, NULL, "/nonexistent", 0};
    assert_int_equal(ops->probe(NULL, &none, why, sizeof(why)), JB_ENOTSUP);
    assert_non_null(strstr(why, "no `power` PMU"));
    /* this VM has none either: say so */
    if (access("/sys/bus/event_source/devices/power", F_OK)) {
        struct jb_power_context real = {1, NULL, "/", 0};
        assert_int_equal(ops->probe(NULL, &real, why, sizeof(why)), JB_ENOTSUP);
        assert_non_null(strstr(why, "no `power` PMU"));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parses_events),
        cmocka_unit_test(probe_reasons),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
