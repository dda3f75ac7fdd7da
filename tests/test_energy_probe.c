/* test_energy_probe.c: `joulebench probe` (jb_energy_probe): one object per
 * registered source; on this VM every hardware source absent with its real
 * reason; a fake powercap tree found working, or absent as frozen when its
 * counters never move; the sim working with its update period measured on
 * the spot. Also the sampler thread: its rate, its pinning, its stop. */
#include "tests/power_test_util.h"

#include "harness/sampler.h"

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

static json_t *find_source(json_t *arr, const char *name)
{
    size_t i;
    json_t *o;
    json_array_foreach(arr, i, o)
    {
        if (!strcmp(json_string_value(json_object_get(o, "name")), name))
            return o;
    }
    return NULL;
}

static const char *str(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static void every_source_listed_honestly(void **st)
{
    (void)st;
    setenv("JB_NVML_LIB", "/nonexistent/libnvidia-ml.so.1", 1);
    json_t *out = json_array();
    assert_int_equal(jb_energy_probe(out, "/nonexistent-root"), 0);
    unsetenv("JB_NVML_LIB");
    const char *names[] = {"rapl-perf", "rapl-powercap", "nvml", "meter", "estimate", "sim"};
    for (size_t i = 0; i < 6; i++)
        assert_non_null(find_source(out, names[i]));
    json_t *pc = find_source(out, "rapl-powercap"), *pf = find_source(out, "rapl-perf");
    json_t *nv = find_source(out, "nvml"), *est = find_source(out, "estimate");
    json_t *sim = find_source(out, "sim"), *m = find_source(out, "meter");
    assert_string_equal(str(pc, "state"), "absent");
    assert_non_null(strstr(str(pc, "reason"), "no "));
    assert_string_equal(str(pf, "state"), "absent");
    assert_non_null(strstr(str(pf, "reason"), "no `power` PMU"));
    assert_string_equal(str(nv, "state"), "absent");
    assert_non_null(strstr(str(nv, "reason"), "no NVIDIA driver"));
    assert_string_equal(str(m, "state"), "absent");
    assert_non_null(strstr(str(m, "reason"), "not configured"));
    assert_string_equal(str(est, "state"), "working");
    assert_true(json_is_false(
        json_object_get(json_array_get(json_object_get(est, "domains"), 0), "measured")));
    assert_string_equal(str(sim, "state"), "working");
    json_t *sd = json_array_get(json_object_get(sim, "domains"), 0);
    assert_true(json_integer_value(json_object_get(sd, "changes_seen")) > 0);
    assert_true(json_number_value(json_object_get(sd, "measured_update_period_s")) > 0);
    json_decref(out);
}

/* This very machine, with the real /sys and the real library path. */
static void this_machine(void **st)
{
    (void)st;
    json_t *out = json_array();
    assert_int_equal(jb_energy_probe(out, NULL), 0);
    if (access("/sys/class/powercap", F_OK))
        assert_non_null(
            strstr(str(find_source(out, "rapl-powercap"), "reason"), "no /sys/class/powercap"));
    if (access("/sys/bus/event_source/devices/power", F_OK))
        assert_non_null(strstr(str(find_source(out, "rapl-perf"), "reason"), "no `power` PMU"));
    char *s = json_dumps(out, JSON_COMPACT);
    fprintf(stderr, "probe here: %.2000s\n", s);
    free(s);
    json_decref(out);
}

static void mk(const char *root, const char *rel, const char *content)
{
    char p[512];
    snprintf(p, sizeof(p), "%s/%s", root, rel);
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\"", p);
    assert_int_equal(system(cmd), 0);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(content, f);
    fclose(f);
}

/* A powercap tree whose counters never move (as a psys counter on a VM):
 * found, but absent as frozen; not silently working. */
static void frozen_counters_absent(void **st)
{
    (void)st;
    char root[] = "/tmp/jb_probe_XXXXXX";
    assert_non_null(mkdtemp(root));
    mk(root, "sys/class/powercap/intel-rapl:0/name", "psys\n");
    mk(root, "sys/class/powercap/intel-rapl:0/energy_uj", "5000\n");
    mk(root, "sys/class/powercap/intel-rapl:0/max_energy_range_uj", "262143328850\n");
    json_t *out = json_array();
    assert_int_equal(jb_energy_probe(out, root), 0);
    json_t *pc = find_source(out, "rapl-powercap");
    assert_string_equal(str(pc, "state"), "absent");
    assert_non_null(strstr(str(pc, "reason"), "frozen"));
    json_t *d = json_array_get(json_object_get(pc, "domains"), 0);
    assert_string_equal(str(d, "name"), "psys");
    assert_true(json_is_true(json_object_get(d, "frozen")));
    json_decref(out);
    /* and --power auto leaves it out, falling back to the estimate */
    struct jb_energy_opts o = {1, NULL, -1, root, 0};
    struct jb_energy *e = NULL;
    char err[JB_ERRLEN];
    setenv("JB_NVML_LIB", "/nonexistent/libnvidia-ml.so.1", 1);
    assert_int_equal(jb_energy_open("auto", &o, &e, err, sizeof(err)), 0);
    unsetenv("JB_NVML_LIB");
    struct jb_test_run r;
    jb_test_reps(e, 1, 1, 0.01, 1, 0, NULL, &r);
    assert_null(jb_test_entry(&r, "psys"));
    assert_non_null(jb_test_entry(&r, "cpu-estimate"));
    assert_true(jb_test_warned(&r, "frozen"));
    jb_test_run_free(&r);
    jb_energy_close(e);
    char cmd[64];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    assert_int_equal(system(cmd), 0);
}

struct tick {
    pthread_mutex_t mu;
    int n;
};

static void on_tick(void *arg)
{
    struct tick *t = arg;
    pthread_mutex_lock(&t->mu);
    t->n++;
    pthread_mutex_unlock(&t->mu);
}

static void sampler_rate_pin_stop(void **st)
{
    (void)st;
    struct tick t = {PTHREAD_MUTEX_INITIALIZER, 0};
    struct jb_sampler *s = NULL;
    int pinned = -1;
    char err[JB_ERRLEN];
    assert_int_equal(jb_sampler_start(0.01, 0, on_tick, &t, &s, &pinned, err, sizeof(err)), 0);
    assert_int_equal(pinned, 1);
    jb_power_sleep_s(0.3);
    jb_sampler_stop(s);
    pthread_mutex_lock(&t.mu);
    int n = t.n;
    pthread_mutex_unlock(&t.mu);
    assert_true(n >= 10 && n <= 31); /* 30 expected; a shared machine may skip some */
    jb_power_sleep_s(0.03);
    assert_int_equal(t.n, n); /* nothing after stop */
    assert_int_equal(jb_sampler_start(0, -1, on_tick, &t, &s, NULL, err, sizeof(err)), JB_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_source_listed_honestly),
        cmocka_unit_test(this_machine),
        cmocka_unit_test(frozen_counters_absent),
        cmocka_unit_test(sampler_rate_pin_stop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
