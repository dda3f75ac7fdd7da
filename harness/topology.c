/* topology.c: PLACEHOLDER until the hwloc pinning work lands (issue 2,
 * item 3): loads the hwloc topology and plans workers on the first PUs.
 * Replaced wholesale by the real implementation. */
#include "harness/topology.h"
#include "harness/error.h"

#include <hwloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct jb_topo {
    hwloc_topology_t topo;
    char *xml;
    char hash[17];
};

int jb_topo_open(struct jb_topo **out, char *err, size_t errlen)
{
    struct jb_topo *t = calloc(1, sizeof(*t));
    if (!t)
        return jb_err(err, errlen, JB_ENOMEM, "topology: out of memory");
    if (hwloc_topology_init(&t->topo) || hwloc_topology_load(t->topo)) {
        free(t);
        return jb_err(err, errlen, JB_EIO, "topology: hwloc could not load the topology");
    }
    int len = 0;
    hwloc_topology_export_xmlbuffer(t->topo, &t->xml, &len, 0);
    unsigned long long h = 1469598103934665603ULL;
    for (int i = 0; t->xml && i < len; i++)
        h = (h ^ (unsigned char)t->xml[i]) * 1099511628211ULL;
    snprintf(t->hash, sizeof(t->hash), "%016llx", h);
    *out = t;
    return JB_OK;
}

void jb_topo_close(struct jb_topo *t)
{
    if (!t)
        return;
    if (t->xml)
        hwloc_free_xmlbuffer(t->topo, t->xml);
    hwloc_topology_destroy(t->topo);
    free(t);
}

int jb_topo_npus(const struct jb_topo *t)
{
    return hwloc_get_nbobjs_by_type(t->topo, HWLOC_OBJ_PU);
}

int jb_topo_ncores(const struct jb_topo *t)
{
    return hwloc_get_nbobjs_by_type(t->topo, HWLOC_OBJ_CORE);
}

int jb_topo_nnuma(const struct jb_topo *t)
{
    return hwloc_get_nbobjs_by_type(t->topo, HWLOC_OBJ_NUMANODE);
}

int jb_pin_policy_parse(const char *s, enum jb_pin_policy *policy, char *cpuset_out, size_t n,
                        char *err, size_t errlen)
{
    if (!strcmp(s, "none"))
        *policy = JB_PIN_NONE;
    else if (!strcmp(s, "compact"))
        *policy = JB_PIN_COMPACT;
    else if (!strcmp(s, "scatter"))
        *policy = JB_PIN_SCATTER;
    else if (strspn(s, "0123456789,-") == strlen(s) && *s) {
        *policy = JB_PIN_CPUSET;
        snprintf(cpuset_out, n, "%s", s);
    } else
        return jb_err(err, errlen, JB_EINVAL,
                      "--pin: '%s' is not compact, scatter, none or a cpu list", s);
    return JB_OK;
}

const char *jb_pin_policy_name(enum jb_pin_policy p)
{
    static const char *const names[] = {"none", "compact", "scatter", "cpuset"};
    return names[p];
}

int jb_topo_plan(const struct jb_topo *t, enum jb_pin_policy policy, const char *cpuset,
                 int threads, int *cpus_out, int *sampler_cpu, char *err, size_t errlen)
{
    (void)cpuset;
    int npus = jb_topo_npus(t);
    *sampler_cpu = -1;
    for (int i = 0; i < threads; i++) {
        if (policy == JB_PIN_NONE) {
            cpus_out[i] = -1;
            continue;
        }
        hwloc_obj_t pu = hwloc_get_obj_by_type(t->topo, HWLOC_OBJ_PU, (unsigned)(i % npus));
        if (!pu)
            return jb_err(err, errlen, JB_EINVAL, "topology: no PU %d", i);
        cpus_out[i] = (int)pu->os_index;
    }
    return JB_OK;
}

int jb_topo_pin_self(const struct jb_topo *t, int os_cpu, char *err, size_t errlen)
{
    hwloc_bitmap_t set = hwloc_bitmap_alloc();
    hwloc_bitmap_only(set, (unsigned)os_cpu);
    int rc = hwloc_set_cpubind(t->topo, set, HWLOC_CPUBIND_THREAD);
    hwloc_bitmap_free(set);
    if (rc)
        return jb_err(err, errlen, JB_EIO, "topology: cannot pin to cpu %d", os_cpu);
    return JB_OK;
}

const char *jb_topo_xml(const struct jb_topo *t)
{
    return t->xml;
}

const char *jb_topo_hash(const struct jb_topo *t)
{
    return t->hash;
}

int jb_topo_describe(const struct jb_topo *t, json_t *obj)
{
    json_object_set_new(obj, "pus", json_integer(jb_topo_npus(t)));
    json_object_set_new(obj, "cores", json_integer(jb_topo_ncores(t)));
    json_object_set_new(obj, "numa_nodes", json_integer(jb_topo_nnuma(t)));
    return JB_OK;
}
