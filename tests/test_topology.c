/* test_topology.c: placement plans, pinning and the topology hash.
 *
 * Pinning is checked on this machine (a thread pinned to a PU must report
 * that PU from sched_getcpu, for every PU); the policies are checked on
 * synthetic hwloc topologies with two packages and SMT, where compact,
 * scatter and the sampler's placement differ in ways a 2-PU VM cannot show. */
#include "base/error.h"
#include "harness/topology.h"

#include <jansson.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* Two packages, two cores each, two hardware threads per core: PU os
 * indexes 0..7 in that order, cores {0,1} {2,3} {4,5} {6,7}. */
#define SYNTH_2x2x2 "pack:2 core:2 pu:2"

static struct jb_topo *open_synth(const char *desc)
{
    struct jb_topo *t = NULL;
    char err[JB_ERRLEN] = "";
    int rc = jb_topo_open_from(desc, &t, err, sizeof(err));
    if (rc)
        fail_msg("%s", err);
    return t;
}

struct pin_job {
    const struct jb_topo *t;
    int cpu;
    int rc;
    int seen[64];
    int nseen;
};

static void *pin_thread(void *arg)
{
    struct pin_job *j = arg;
    char err[JB_ERRLEN];
    j->rc = jb_topo_pin_self(j->t, j->cpu, err, sizeof(err));
    /* Sample the cpu over a few milliseconds of work: a pinned thread must
     * never be seen elsewhere, not just right after the call. */
    volatile double x = 1.0;
    for (j->nseen = 0; j->nseen < 64; j->nseen++) {
        for (int k = 0; k < 20000; k++)
            x = x * 1.0000001 + 1e-9;
        j->seen[j->nseen] = sched_getcpu();
    }
    return NULL;
}

static void test_pin_each_pu_really_runs_there(void **state)
{
    (void)state;
    struct jb_topo *t = NULL;
    char err[JB_ERRLEN];
    assert_int_equal(jb_topo_open(&t, err, sizeof(err)), JB_OK);
    int n = jb_topo_npus(t);
    assert_true(n >= 1);
    int *cpus = malloc(sizeof(int) * (size_t)n);
    int sampler;
    /* compact with every PU gives every allowed PU once */
    assert_int_equal(jb_topo_plan(t, JB_PIN_COMPACT, NULL, n, cpus, &sampler, err, sizeof(err)),
                     JB_OK);
    for (int i = 0; i < n; i++) {
        struct pin_job j = {.t = t, .cpu = cpus[i]};
        pthread_t th;
        assert_int_equal(pthread_create(&th, NULL, pin_thread, &j), 0);
        pthread_join(th, NULL);
        assert_int_equal(j.rc, JB_OK);
        for (int s = 0; s < j.nseen; s++)
            assert_int_equal(j.seen[s], cpus[i]);
    }
    free(cpus);
    jb_topo_close(t);
}

static void test_pin_refusals(void **state)
{
    (void)state;
    char err[JB_ERRLEN] = "";
    struct jb_topo *t = NULL;
    assert_int_equal(jb_topo_open(&t, err, sizeof(err)), JB_OK);
    assert_int_equal(jb_topo_pin_self(t, 99999, err, sizeof(err)), JB_EINVAL);
    assert_non_null(strstr(err, "99999"));
    int cpu0 = 0;
    int rc = jb_topo_bind_memory_self(t, &cpu0, 1, err, sizeof(err));
    assert_true(rc == JB_OK || rc == JB_ENOTSUP);
    jb_topo_close(t);

    /* a topology read from elsewhere must never bind this process */
    t = open_synth(SYNTH_2x2x2);
    assert_int_equal(jb_topo_pin_self(t, 0, err, sizeof(err)), JB_ENOTSUP);
    assert_non_null(strstr(err, "not this machine"));
    jb_topo_close(t);
}

static void test_plan_compact(void **state)
{
    (void)state;
    struct jb_topo *t = open_synth(SYNTH_2x2x2);
    char err[JB_ERRLEN];
    int cpus[8], sampler = 99;
    assert_int_equal(jb_topo_npus(t), 8);
    assert_int_equal(jb_topo_ncores(t), 4);
    assert_int_equal(jb_topo_plan(t, JB_PIN_COMPACT, NULL, 3, cpus, &sampler, err, sizeof(err)),
                     JB_OK);
    /* both PUs of core 0, then core 1 */
    assert_int_equal(cpus[0], 0);
    assert_int_equal(cpus[1], 1);
    assert_int_equal(cpus[2], 2);
    /* cores 0 and 1 are busy; the sampler goes to the last free core */
    assert_int_equal(sampler, 7);
    assert_int_equal(jb_topo_plan(t, JB_PIN_COMPACT, NULL, 7, cpus, &sampler, err, sizeof(err)),
                     JB_OK);
    assert_int_equal(sampler, -1); /* PU 7 is free, but its core runs worker 6 */
    jb_topo_close(t);
}

static void test_plan_scatter(void **state)
{
    (void)state;
    struct jb_topo *t = open_synth(SYNTH_2x2x2);
    char err[JB_ERRLEN];
    int cpus[8], sampler = 99;
    static const int want[8] = {0, 4, 2, 6, 1, 5, 3, 7};
    assert_int_equal(jb_topo_plan(t, JB_PIN_SCATTER, NULL, 8, cpus, &sampler, err, sizeof(err)),
                     JB_OK);
    /* packages first, then cores, then the second hardware thread */
    for (int i = 0; i < 8; i++)
        assert_int_equal(cpus[i], want[i]);
    assert_int_equal(sampler, -1);
    assert_int_equal(jb_topo_plan(t, JB_PIN_SCATTER, NULL, 3, cpus, &sampler, err, sizeof(err)),
                     JB_OK);
    assert_int_equal(sampler, 7); /* core {6,7} is the only one without a worker */
    jb_topo_close(t);

    /* unequal branches: the round-robin skips exhausted ones */
    t = open_synth("pack:2 core:3 pu:1");
    assert_int_equal(jb_topo_plan(t, JB_PIN_SCATTER, NULL, 6, cpus, &sampler, err, sizeof(err)),
                     JB_OK);
    static const int want2[6] = {0, 3, 1, 4, 2, 5};
    for (int i = 0; i < 6; i++)
        assert_int_equal(cpus[i], want2[i]);
    jb_topo_close(t);
}

static void test_plan_cpuset_and_none(void **state)
{
    (void)state;
    struct jb_topo *t = open_synth(SYNTH_2x2x2);
    char err[JB_ERRLEN] = "";
    int cpus[8], sampler = 99;
    assert_int_equal(jb_topo_plan(t, JB_PIN_CPUSET, "5,0-1", 3, cpus, &sampler, err, sizeof(err)),
                     JB_OK);
    assert_int_equal(cpus[0], 5);
    assert_int_equal(cpus[1], 0);
    assert_int_equal(cpus[2], 1);
    assert_int_equal(sampler, 7); /* cores {0,1} and {4,5} busy; {6,7} free */
    /* fewer threads than listed cpus: the first ones are used */
    assert_int_equal(jb_topo_plan(t, JB_PIN_CPUSET, "6,2", 1, cpus, &sampler, err, sizeof(err)),
                     JB_OK);
    assert_int_equal(cpus[0], 6);
    assert_int_equal(sampler, 5);

    assert_int_equal(jb_topo_plan(t, JB_PIN_CPUSET, "0,9", 2, cpus, &sampler, err, sizeof(err)),
                     JB_EINVAL);
    assert_non_null(strstr(err, "cpu 9 does not exist"));
    assert_int_equal(jb_topo_plan(t, JB_PIN_CPUSET, "0-1", 3, cpus, &sampler, err, sizeof(err)),
                     JB_ERANGE);
    assert_non_null(strstr(err, "lists only 2 cpus"));

    assert_int_equal(jb_topo_plan(t, JB_PIN_NONE, NULL, 4, cpus, &sampler, err, sizeof(err)),
                     JB_OK);
    for (int i = 0; i < 4; i++)
        assert_int_equal(cpus[i], -1);
    assert_int_equal(sampler, -1);
    jb_topo_close(t);
}

static void test_plan_thread_count_errors(void **state)
{
    (void)state;
    struct jb_topo *t = open_synth(SYNTH_2x2x2);
    char err[JB_ERRLEN] = "";
    int cpus[16], sampler;
    static const enum jb_pin_policy pols[] = {JB_PIN_NONE, JB_PIN_COMPACT, JB_PIN_SCATTER};
    for (int p = 0; p < 3; p++) {
        assert_int_equal(jb_topo_plan(t, pols[p], NULL, 9, cpus, &sampler, err, sizeof(err)),
                         JB_ERANGE);
        assert_non_null(strstr(err, "--threads 9"));
        assert_non_null(strstr(err, "8 PUs"));
    }
    assert_int_equal(jb_topo_plan(t, JB_PIN_COMPACT, NULL, 0, cpus, &sampler, err, sizeof(err)),
                     JB_EINVAL);
    jb_topo_close(t);
}

static void test_policy_parse(void **state)
{
    (void)state;
    enum jb_pin_policy p;
    char set[64] = "", err[JB_ERRLEN] = "";
    assert_int_equal(jb_pin_policy_parse("compact", &p, set, sizeof(set), err, sizeof(err)), 0);
    assert_int_equal(p, JB_PIN_COMPACT);
    assert_int_equal(jb_pin_policy_parse("scatter", &p, set, sizeof(set), err, sizeof(err)), 0);
    assert_int_equal(p, JB_PIN_SCATTER);
    assert_int_equal(jb_pin_policy_parse("none", &p, set, sizeof(set), err, sizeof(err)), 0);
    assert_int_equal(p, JB_PIN_NONE);
    assert_int_equal(jb_pin_policy_parse("0,2-3", &p, set, sizeof(set), err, sizeof(err)), 0);
    assert_int_equal(p, JB_PIN_CPUSET);
    assert_string_equal(set, "0,2-3");
    assert_string_equal(jb_pin_policy_name(JB_PIN_SCATTER), "scatter");

    static const char *const bad[] = {"fast", "3-1", "1,1", "0,", "0-", "1;2", "", "0,2-3x"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = 0;
        assert_int_not_equal(jb_pin_policy_parse(bad[i], &p, set, sizeof(set), err, sizeof(err)),
                             0);
        assert_non_null(strstr(err, "--pin"));
    }
}

static void test_hash_identifies_machine_not_moment(void **state)
{
    (void)state;
    char err[JB_ERRLEN];
    struct jb_topo *a = NULL, *b = NULL, *c = NULL;
    assert_int_equal(jb_topo_open(&a, err, sizeof(err)), JB_OK);
    assert_int_equal(jb_topo_open(&b, err, sizeof(err)), JB_OK);
    assert_int_equal(strlen(jb_topo_hash(a)), 16);
    assert_string_equal(jb_topo_hash(a), jb_topo_hash(b));

    /* The recorded XML, read back, hashes the same even when the volatile
     * attributes (host name, process name) differ. */
    const char *xml = jb_topo_xml(a);
    assert_non_null(strstr(xml, "<topology"));
    char *edited = malloc(strlen(xml) + 64);
    const char *hn = strstr(xml, "name=\"HostName\" value=\"");
    if (hn) {
        size_t pre = (size_t)(hn - xml) + strlen("name=\"HostName\" value=\"");
        memcpy(edited, xml, pre);
        strcpy(edited + pre, "another-host-");
        strcat(edited, xml + pre);
    } else {
        strcpy(edited, xml);
    }
    assert_int_equal(jb_topo_open_from(edited, &c, err, sizeof(err)), JB_OK);
    assert_string_equal(jb_topo_hash(a), jb_topo_hash(c));
    assert_null(strstr(jb_topo_canonical(c), "another-host"));
    free(edited);
    jb_topo_close(c);
    jb_topo_close(b);

    /* different layouts hash differently */
    struct jb_topo *s1 = open_synth(SYNTH_2x2x2), *s2 = open_synth("pack:2 core:2 pu:1");
    assert_string_not_equal(jb_topo_hash(s1), jb_topo_hash(s2));
    assert_string_not_equal(jb_topo_hash(s1), jb_topo_hash(a));
    jb_topo_close(s1);
    jb_topo_close(s2);
    jb_topo_close(a);

    assert_int_equal(jb_topo_open_from("<topology broken", &c, err, sizeof(err)), JB_EFORMAT);
    assert_int_equal(jb_topo_open_from("pack:zz", &c, err, sizeof(err)), JB_EINVAL);
}

static void test_describe(void **state)
{
    (void)state;
    struct jb_topo *t = open_synth("pack:2 l3:1(size=8MiB) core:2 l1d:1(size=32KiB) pu:2");
    json_t *o = json_object();
    assert_int_equal(jb_topo_describe(t, o), JB_OK);
    assert_int_equal(json_integer_value(json_object_get(o, "packages")), 2);
    assert_int_equal(json_integer_value(json_object_get(o, "cores")), 4);
    assert_int_equal(json_integer_value(json_object_get(o, "pus")), 8);
    assert_int_equal(json_integer_value(json_object_get(o, "pus_per_core")), 2);
    json_t *caches = json_object_get(o, "caches");
    assert_int_equal(json_array_size(caches), 2);
    json_t *l1 = json_array_get(caches, 0), *l3 = json_array_get(caches, 1);
    assert_int_equal(json_integer_value(json_object_get(l1, "level")), 1);
    assert_int_equal(json_integer_value(json_object_get(l1, "size_bytes")), 32 * 1024);
    assert_int_equal(json_integer_value(json_object_get(l1, "instances")), 4);
    assert_int_equal(json_integer_value(json_object_get(l1, "pus_per_instance")), 2);
    assert_string_equal(json_string_value(json_object_get(l1, "type")), "data");
    assert_int_equal(json_integer_value(json_object_get(l3, "level")), 3);
    assert_int_equal(json_integer_value(json_object_get(l3, "instances")), 2);
    assert_int_equal(json_integer_value(json_object_get(l3, "pus_per_instance")), 4);
    json_decref(o);
    jb_topo_close(t);

    /* this machine: counts agree with the accessors, one entry per NUMA node */
    char err[JB_ERRLEN];
    assert_int_equal(jb_topo_open(&t, err, sizeof(err)), JB_OK);
    o = json_object();
    assert_int_equal(jb_topo_describe(t, o), JB_OK);
    assert_int_equal(json_integer_value(json_object_get(o, "pus")), jb_topo_npus(t));
    assert_int_equal(json_array_size(json_object_get(o, "numa")), (size_t)jb_topo_nnuma(t));
    assert_true(json_integer_value(json_object_get(json_array_get(json_object_get(o, "numa"), 0),
                                                   "memory_bytes")) > 0);
    json_decref(o);
    jb_topo_close(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pin_each_pu_really_runs_there),
        cmocka_unit_test(test_pin_refusals),
        cmocka_unit_test(test_plan_compact),
        cmocka_unit_test(test_plan_scatter),
        cmocka_unit_test(test_plan_cpuset_and_none),
        cmocka_unit_test(test_plan_thread_count_errors),
        cmocka_unit_test(test_policy_parse),
        cmocka_unit_test(test_hash_identifies_machine_not_moment),
        cmocka_unit_test(test_describe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
