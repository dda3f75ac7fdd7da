/* test_provenance.c: the record's `system` object.
 *
 * Parsing is checked against fake /proc and /sys trees in
 * tests/data/sysinfo/ (an Intel server VM with a GPU, RAPL limits and turbo
 * off; an AMD machine with mixed governors, a partial microcode update and
 * the open NVIDIA kernel module), a
 * missing tree must give nulls and never fail, and this machine's own
 * collection must name its CPU and kernel. */
#include "base/error.h"
#include "harness/provenance.h"
#include "harness/topology.h"

#include <jansson.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static const char *fixture(const char *name, char *buf, size_t n)
{
    const char *src = getenv("JB_SOURCE_DIR");
    snprintf(buf, n, "%s/tests/data/sysinfo/%s", src ? src : JB_SOURCE_DIR, name);
    return buf;
}

static const char *str_at(json_t *o, const char *path)
{
    /* "a.b.c" into nested objects */
    char key[128];
    const char *p = path;
    while (o && *p) {
        size_t l = strcspn(p, ".");
        snprintf(key, sizeof(key), "%.*s", (int)l, p);
        o = json_object_get(o, key);
        p += l + (p[l] == '.');
    }
    if (!json_is_string(o))
        fail_msg("%s is not a string", path);
    return json_string_value(o);
}

static void test_fake_tree_is_parsed(void **state)
{
    (void)state;
    char root[1024];
    char *argv[] = {"joulebench", "run", "--suite", "smoke"};
    json_t *s = jb_provenance_collect(NULL, 4, argv, fixture("full", root, sizeof(root)));
    assert_non_null(s);
    json_t *cpu = json_object_get(s, "cpu");
    assert_string_equal(str_at(cpu, "model_name"), "Intel(R) Xeon(R) Platinum 8480+");
    assert_string_equal(str_at(cpu, "vendor"), "GenuineIntel");
    assert_string_equal(str_at(cpu, "microcode"), "0x2b000590");
    assert_int_equal(json_integer_value(json_object_get(cpu, "family")), 6);
    assert_int_equal(json_integer_value(json_object_get(cpu, "model")), 143);
    assert_int_equal(json_integer_value(json_object_get(cpu, "stepping")), 8);
    assert_int_equal(json_integer_value(json_object_get(cpu, "logical_cpus")), 2);
    json_t *isa = json_object_get(cpu, "isa_flags");
    int amx = 0, sve = 0;
    for (size_t i = 0; i < json_array_size(isa); i++) {
        amx |= !strcmp(json_string_value(json_array_get(isa, i)), "amx_tile");
        sve |= !strcmp(json_string_value(json_array_get(isa, i)), "sve");
    }
    assert_true(amx && !sve);

    assert_int_equal(json_integer_value(json_object_get(s, "memory_bytes")), 16384000LL * 1024);
    assert_string_equal(str_at(s, "kernel"), "6.1.0-13-amd64");
    assert_string_equal(str_at(s, "hostname"), "fakehost");
    assert_string_equal(str_at(s, "os.pretty_name"), "Debian GNU/Linux 12 (bookworm)");
    assert_string_equal(str_at(s, "os.version_id"), "12");
    assert_string_equal(str_at(s, "os.id"), "debian");

    json_t *f = json_object_get(s, "frequency");
    assert_string_equal(str_at(f, "governor"), "performance");
    assert_null(json_object_get(f, "governor_per_cpu"));
    assert_string_equal(str_at(f, "driver"), "intel_pstate");
    assert_int_equal(json_integer_value(json_object_get(f, "scaling_max_khz")), 3800000);
    /* no_turbo=1 means turbo is off */
    assert_true(json_is_false(json_object_get(f, "turbo_enabled")));
    assert_non_null(strstr(str_at(f, "turbo_source"), "no_turbo"));

    json_t *pl = json_object_get(s, "power_limits");
    assert_int_equal(json_array_size(pl), 1); /* the "intel-rapl" control type is no zone */
    json_t *z = json_array_get(pl, 0);
    assert_string_equal(str_at(z, "name"), "package-0");
    json_t *c0 = json_array_get(json_object_get(z, "constraints"), 0);
    assert_string_equal(str_at(c0, "name"), "long_term");
    assert_true(fabs(json_real_value(json_object_get(c0, "power_limit_w")) - 350.0) < 1e-9);
    assert_true(fabs(json_real_value(json_object_get(c0, "time_window_s")) - 0.999424) < 1e-9);
    assert_int_equal(json_array_size(json_object_get(z, "constraints")), 2);

    assert_string_equal(str_at(s, "gpu_driver.version"), "535.104.05");
    json_t *g = json_array_get(json_object_get(s, "gpus"), 0);
    assert_string_equal(str_at(g, "model"), "NVIDIA H100 80GB HBM3");
    assert_string_equal(str_at(g, "bus"), "0000:17:00.0");
    assert_string_equal(str_at(g, "uuid"), "GPU-0b1c2d3e-0000-1111-2222-333344445555");
    json_t *pci = json_object_get(s, "pci_display_devices");
    assert_int_equal(json_array_size(pci), 1); /* the ISA bridge is not a display device */
    assert_string_equal(str_at(json_array_get(pci, 0), "vendor"), "0x10de");

    json_t *v = json_object_get(s, "virtualization");
    assert_true(json_is_true(json_object_get(v, "hypervisor")));
    assert_string_equal(str_at(v, "hypervisor_type"), "xen");
    assert_string_equal(str_at(v, "dmi_sys_vendor"), "Amazon EC2");
    assert_true(json_is_true(json_object_get(s, "smt_active")));
    assert_string_equal(str_at(s, "transparent_hugepages"), "madvise");
    assert_string_equal(str_at(s, "clocksource"), "tsc");
    assert_int_equal(json_integer_value(json_object_get(s, "perf_event_paranoid")), 2);

    json_t *cmd = json_object_get(s, "command_line");
    assert_int_equal(json_array_size(cmd), 4);
    assert_string_equal(json_string_value(json_array_get(cmd, 3)), "smoke");
    assert_true(strlen(str_at(s, "joulebench_version")) > 0);
    assert_true(strlen(str_at(s, "git_commit")) > 0);
    assert_true(strlen(str_at(s, "compiler")) > 0);
    json_decref(s);
}

static void test_mixed_governors_boost_and_microcode(void **state)
{
    (void)state;
    char root[1024];
    json_t *s = jb_provenance_collect(NULL, 0, NULL, fixture("mixed", root, sizeof(root)));
    json_t *f = json_object_get(s, "frequency");
    assert_string_equal(str_at(f, "governor"), "mixed");
    json_t *per = json_object_get(f, "governor_per_cpu");
    assert_string_equal(str_at(per, "cpu1"), "powersave");
    assert_true(json_is_true(json_object_get(f, "turbo_enabled"))); /* cpufreq/boost=1 */
    assert_string_equal(str_at(s, "cpu.microcode"), "mixed");
    assert_string_equal(str_at(s, "cpu.model_name"), "AMD EPYC 9654 96-Core Processor");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(s, "cpu"), "model")), 17);
    assert_true(json_is_false(json_object_get(json_object_get(s, "virtualization"), "hypervisor")));
    assert_true(json_is_null(json_object_get(s, "power_limits")));
    /* the open kernel module's version line, as an H100 host prints it */
    assert_string_equal(str_at(s, "gpu_driver.version"), "580.159.04");
    json_t *g = json_array_get(json_object_get(s, "gpus"), 0);
    assert_string_equal(str_at(g, "firmware"), "580.159.04");
    assert_string_equal(str_at(g, "bus"), "0000:00:06.0");
    json_decref(s);
}

static void test_missing_tree_gives_nulls(void **state)
{
    (void)state;
    json_t *s = jb_provenance_collect(NULL, 0, NULL, "/nonexistent/joulebench-root");
    assert_non_null(s);
    static const char *const nulls[] = {"kernel", "hostname",   "memory_bytes", "power_limits",
                                        "gpus",   "gpu_driver", "smt_active",   NULL};
    for (int i = 0; nulls[i]; i++) {
        json_t *v = json_object_get(s, nulls[i]);
        assert_non_null(v); /* present, so tools can rely on the key */
        assert_true(json_is_null(v));
    }
    assert_true(json_is_null(json_object_get(json_object_get(s, "cpu"), "model_name")));
    assert_true(json_is_null(json_object_get(json_object_get(s, "frequency"), "turbo_enabled")));
    assert_true(json_is_string(json_object_get(s, "topology_hash")));
    json_decref(s);
}

static void test_this_machine(void **state)
{
    (void)state;
    struct jb_topo *t = NULL;
    char err[JB_ERRLEN];
    assert_int_equal(jb_topo_open(&t, err, sizeof(err)), JB_OK);
    char bad[] = {'x', (char)0xff, 0};
    char *argv[] = {"joulebench", "probe", bad};
    json_t *s = jb_provenance_collect(t, 3, argv, "/");
    assert_true(strlen(str_at(s, "cpu.model_name")) > 0);
    assert_true(strlen(str_at(s, "kernel")) > 0);
    assert_true(json_integer_value(json_object_get(s, "memory_bytes")) > 0);
    assert_string_equal(str_at(s, "topology_hash"), jb_topo_hash(t));
    assert_non_null(strstr(str_at(s, "topology_xml"), "<topology"));
    assert_int_equal(json_integer_value(json_object_get(s, "threads")), jb_topo_npus(t));
    /* a non-UTF-8 argument is kept, not dropped */
    assert_int_equal(json_array_size(json_object_get(s, "command_line")), 3);
    /* the whole object serializes (no invalid strings slipped in) */
    char *dump = json_dumps(s, 0);
    assert_non_null(dump);
    free(dump);
    json_decref(s);
    jb_topo_close(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fake_tree_is_parsed),
        cmocka_unit_test(test_mixed_governors_boost_and_microcode),
        cmocka_unit_test(test_missing_tree_gives_nulls),
        cmocka_unit_test(test_this_machine),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
