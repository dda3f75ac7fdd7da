/* topology.c: the machine's topology through hwloc, the placement plan of a
 * run (which PU each worker thread gets, where the sampler thread goes),
 * thread pinning and memory binding, and a stable hash that identifies the
 * machine's layout.
 *
 * Placement is planned here rather than in the thread pool so that the plan
 * is decided once, validated against what the process is allowed to use, and
 * written into the record (config.cpus, config.sampler_cpu) before anything
 * runs. Orders used by the policies (METHODOLOGY.md section 3):
 *   compact: PUs in hwloc's logical order (a depth-first walk of the tree):
 *            both hardware threads of a core, then the next core, then the
 *            next cache domain / package: workers share caches and stay close.
 *   scatter: a recursive round-robin over the tree: one PU of each package,
 *            then of each cache domain, then of each core, before a second
 *            hardware thread of any core is used.
 * The hash is computed over a canonical text built by walking the tree
 * (types, OS indexes, cpusets, cache geometry, CPU identity), not over the XML
 * itself: hwloc's XML carries the process name, host name, hwloc version and
 * kernel release, which say when and by whom the topology was read, not what
 * the machine is. */
#include "harness/topology.h"
#include "base/error.h"

#include <hwloc.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct jb_topo {
    hwloc_topology_t topo;
    int thissystem;  /* 0 for topologies read from XML or a synthetic description */
    char *xml;       /* hwloc_topology_export_xmlbuffer, freed by hwloc */
    char *canonical; /* the text that is hashed */
    char hash[17];   /* FNV-1a 64 of canonical, hex */
};

/* A growable string for the canonical text. */
struct sbuf {
    char *s;
    size_t len, cap;
    int failed;
};

static void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
    if (b->failed)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->failed = 1;
            return;
        }
        if (b->s && b->len + (size_t)n < b->cap) {
            b->len += (size_t)n;
            return;
        }
        size_t ncap = (b->cap ? b->cap * 2 : 1024) + (size_t)n;
        char *ns = realloc(b->s, ncap);
        if (!ns) {
            b->failed = 1;
            return;
        }
        b->s = ns;
        b->cap = ncap;
    }
}

/* Info attributes that describe the hardware, in the order they are hashed.
 * Everything else hwloc records (HostName, ProcessName, hwlocVersion,
 * OSRelease, Backend, LinuxCGroup...) is about the moment, not the machine. */
static const char *const stable_infos[] = {"CPUVendor",   "CPUFamilyNumber", "CPUModelNumber",
                                           "CPUStepping", "CPUModel",        NULL};

static void canon_obj(hwloc_topology_t topo, hwloc_obj_t o, int level, struct sbuf *b)
{
    char *cpus = NULL, *nodes = NULL;
    if (o->cpuset)
        hwloc_bitmap_list_asprintf(&cpus, o->cpuset);
    if (o->nodeset)
        hwloc_bitmap_list_asprintf(&nodes, o->nodeset);
    sb_printf(b, "%*s%s%s%s os=%u cpus=%s nodes=%s", level, "", hwloc_obj_type_string(o->type),
              o->subtype ? ":" : "", o->subtype ? o->subtype : "", o->os_index, cpus ? cpus : "-",
              nodes ? nodes : "-");
    free(cpus);
    free(nodes);
    if (hwloc_obj_type_is_cache(o->type))
        sb_printf(b, " size=%llu line=%u assoc=%d ctype=%d",
                  (unsigned long long)o->attr->cache.size, o->attr->cache.linesize,
                  o->attr->cache.associativity, (int)o->attr->cache.type);
    /* NUMA memory sizes are left out on purpose: MemTotal moves by a few MiB
     * with the kernel version and boot options on the same hardware. */
    for (int i = 0; stable_infos[i]; i++) {
        const char *v = hwloc_obj_get_info_by_name(o, stable_infos[i]);
        if (v)
            sb_printf(b, " %s=%s", stable_infos[i], v);
    }
    sb_printf(b, "\n");
    for (hwloc_obj_t c = o->memory_first_child; c; c = c->next_sibling)
        canon_obj(topo, c, level + 1, b);
    for (unsigned i = 0; i < o->arity; i++)
        canon_obj(topo, o->children[i], level + 1, b);
}

static int finish_open(struct jb_topo *t, char *err, size_t errlen)
{
    int len = 0;
    if (hwloc_topology_export_xmlbuffer(t->topo, &t->xml, &len, 0) != 0)
        return jb_err(err, errlen, JB_EIO, "topology: hwloc could not export the topology as XML");
    struct sbuf b = {0};
    canon_obj(t->topo, hwloc_get_root_obj(t->topo), 0, &b);
    if (b.failed || !b.s) {
        free(b.s);
        return jb_err(err, errlen, JB_ENOMEM, "topology: out of memory");
    }
    t->canonical = b.s;
    /* FNV-1a, 64 bit (Fowler, Noll, Vo; offset basis and prime from the
     * published parameters): tiny, stable, plenty to tell machines apart. */
    uint64_t h = 14695981039346656037ULL;
    for (size_t i = 0; i < b.len; i++)
        h = (h ^ (unsigned char)b.s[i]) * 1099511628211ULL;
    snprintf(t->hash, sizeof(t->hash), "%016llx", (unsigned long long)h);
    return JB_OK;
}

static int open_common(const char *xml, const char *synthetic, struct jb_topo **out, char *err,
                       size_t errlen)
{
    *out = NULL;
    struct jb_topo *t = calloc(1, sizeof(*t));
    if (!t)
        return jb_err(err, errlen, JB_ENOMEM, "topology: out of memory");
    int rc = JB_OK;
    if (hwloc_topology_init(&t->topo) != 0) {
        free(t);
        return jb_err(err, errlen, JB_EIO, "topology: hwloc_topology_init failed");
    }
    if (xml && hwloc_topology_set_xmlbuffer(t->topo, xml, (int)strlen(xml) + 1) != 0) {
        rc = jb_err(err, errlen, JB_EFORMAT, "topology: hwloc cannot use this XML buffer");
        goto fail;
    }
    if (synthetic && hwloc_topology_set_synthetic(t->topo, synthetic) != 0) {
        rc = jb_err(err, errlen, JB_EINVAL,
                    "topology: '%s' is neither hwloc XML nor a synthetic description", synthetic);
        goto fail;
    }
    if (hwloc_topology_load(t->topo) != 0) {
        rc = jb_err(err, errlen, xml ? JB_EFORMAT : JB_EIO,
                    "topology: hwloc could not load the topology%s", xml ? " from XML" : "");
        goto fail;
    }
    t->thissystem = hwloc_topology_is_thissystem(t->topo);
    rc = finish_open(t, err, errlen);
    if (rc)
        goto fail;
    *out = t;
    return JB_OK;
fail:
    jb_topo_close(t);
    return rc;
}

int jb_topo_open(struct jb_topo **out, char *err, size_t errlen)
{
    return open_common(NULL, NULL, out, err, errlen);
}

int jb_topo_open_from(const char *desc, struct jb_topo **out, char *err, size_t errlen)
{
    if (!desc || !*desc)
        return jb_err(err, errlen, JB_EINVAL, "topology: empty topology description");
    const char *p = desc + strspn(desc, " \t\r\n");
    if (*p == '<')
        return open_common(desc, NULL, out, err, errlen);
    return open_common(NULL, desc, out, err, errlen);
}

void jb_topo_close(struct jb_topo *t)
{
    if (!t)
        return;
    if (t->xml)
        hwloc_free_xmlbuffer(t->topo, t->xml);
    free(t->canonical);
    hwloc_topology_destroy(t->topo);
    free(t);
}

int jb_topo_npus(const struct jb_topo *t)
{
    return hwloc_get_nbobjs_by_type(t->topo, HWLOC_OBJ_PU);
}

int jb_topo_ncores(const struct jb_topo *t)
{
    int n = hwloc_get_nbobjs_by_type(t->topo, HWLOC_OBJ_CORE);
    return n > 0 ? n : jb_topo_npus(t); /* some platforms report PUs only */
}

int jb_topo_nnuma(const struct jb_topo *t)
{
    return hwloc_get_nbobjs_by_type(t->topo, HWLOC_OBJ_NUMANODE);
}

/* Parses a cpu list "0,2-3" into cpus[] in the order written. Ranges must be
 * ascending; a cpu listed twice is an error (two workers on one PU is never
 * what a list means). */
int jb_cpu_list_parse(const char *s, int *cpus, int max, int *n_out, char *err, size_t errlen)
{
    int n = 0;
    const char *p = s;
    if (!s || !*s)
        return jb_err(err, errlen, JB_EINVAL, "--pin: empty cpu list");
    while (*p) {
        char *end;
        if (*p < '0' || *p > '9')
            return jb_err(err, errlen, JB_EINVAL, "--pin: '%s' is not a cpu list like 0,2-3", s);
        long a = strtol(p, &end, 10), b = a;
        p = end;
        if (*p == '-') {
            p++;
            if (*p < '0' || *p > '9')
                return jb_err(err, errlen, JB_EINVAL, "--pin: '%s': range without an end", s);
            b = strtol(p, &end, 10);
            p = end;
        }
        if (a > 65535 || b > 65535)
            return jb_err(err, errlen, JB_ERANGE, "--pin: '%s': cpu number too large", s);
        if (b < a)
            return jb_err(err, errlen, JB_EINVAL, "--pin: '%s': range %ld-%ld runs backwards", s, a,
                          b);
        for (long c = a; c <= b; c++) {
            for (int i = 0; i < n; i++)
                if (cpus[i] == (int)c)
                    return jb_err(err, errlen, JB_EINVAL, "--pin: '%s': cpu %ld listed twice", s,
                                  c);
            if (n >= max)
                return jb_err(err, errlen, JB_ERANGE, "--pin: '%s': more than %d cpus", s, max);
            cpus[n++] = (int)c;
        }
        if (*p == ',') {
            p++;
            if (!*p)
                return jb_err(err, errlen, JB_EINVAL, "--pin: '%s': trailing comma", s);
        } else if (*p) {
            return jb_err(err, errlen, JB_EINVAL, "--pin: '%s' is not a cpu list like 0,2-3", s);
        }
    }
    *n_out = n;
    return JB_OK;
}

int jb_pin_policy_parse(const char *s, enum jb_pin_policy *policy, char *cpuset_out, size_t n,
                        char *err, size_t errlen)
{
    if (!s)
        return jb_err(err, errlen, JB_EINVAL, "--pin: missing value");
    if (!strcmp(s, "none"))
        *policy = JB_PIN_NONE;
    else if (!strcmp(s, "compact"))
        *policy = JB_PIN_COMPACT;
    else if (!strcmp(s, "scatter"))
        *policy = JB_PIN_SCATTER;
    else if (*s >= '0' && *s <= '9') {
        int tmp[JB_TOPO_MAX_CPUS], cnt = 0;
        int rc = jb_cpu_list_parse(s, tmp, JB_TOPO_MAX_CPUS, &cnt, err, errlen);
        if (rc)
            return rc;
        if (strlen(s) >= n)
            return jb_err(err, errlen, JB_ERANGE, "--pin: cpu list '%s' too long", s);
        *policy = JB_PIN_CPUSET;
        snprintf(cpuset_out, n, "%s", s);
    } else
        return jb_err(err, errlen, JB_EINVAL,
                      "--pin: '%s' is not compact, scatter, none or a cpu list like 0,2-3", s);
    return JB_OK;
}

const char *jb_pin_policy_name(enum jb_pin_policy p)
{
    static const char *const names[] = {"none", "compact", "scatter", "cpuset"};
    return (unsigned)p < sizeof(names) / sizeof(names[0]) ? names[p] : "unknown";
}

/* Writes the OS indexes of the PUs under o in scatter order; returns how
 * many. Each child's own order is computed first, then the children are
 * dealt out round-robin, so siblings high in the tree (packages) are spread
 * before siblings low in it (hardware threads of one core). */
static int scatter_order(hwloc_obj_t o, int *out, int cap)
{
    if (o->type == HWLOC_OBJ_PU) {
        if (cap < 1)
            return 0;
        out[0] = (int)o->os_index;
        return 1;
    }
    if (o->arity == 0 || cap < 1)
        return 0;
    if (o->arity == 1)
        return scatter_order(o->children[0], out, cap);
    int *buf = malloc(sizeof(int) * (size_t)cap);
    int *cnt = calloc(o->arity, sizeof(int));
    int *off = calloc(o->arity, sizeof(int));
    int n = 0;
    if (!buf || !cnt || !off)
        goto out;
    int used = 0;
    for (unsigned i = 0; i < o->arity; i++) {
        off[i] = used;
        cnt[i] = scatter_order(o->children[i], buf + used, cap - used);
        used += cnt[i];
    }
    for (int round = 0; n < used; round++)
        for (unsigned i = 0; i < o->arity; i++)
            if (round < cnt[i])
                out[n++] = buf[off[i] + round];
out:
    free(buf);
    free(cnt);
    free(off);
    return n;
}

/* The core a PU belongs to (the PU itself where the platform reports none). */
static hwloc_obj_t core_of(hwloc_topology_t topo, hwloc_obj_t pu)
{
    hwloc_obj_t c = hwloc_get_ancestor_obj_by_type(topo, HWLOC_OBJ_CORE, pu);
    return c ? c : pu;
}

static int allowed_cpu(const struct jb_topo *t, int cpu)
{
    return cpu >= 0 && hwloc_get_pu_obj_by_os_index(t->topo, (unsigned)cpu) != NULL;
}

static void allowed_list(const struct jb_topo *t, char *buf, size_t n)
{
    hwloc_bitmap_list_snprintf(buf, n, hwloc_topology_get_allowed_cpuset(t->topo));
}

/* A PU whose core runs no worker, taken from the end of the logical order so
 * that it sits as far from worker 0 as the tree allows; -1 if every core has
 * a worker (then the sampler floats and its cost shows in the measurement). */
static int plan_sampler(const struct jb_topo *t, const int *cpus, int threads)
{
    int npus = jb_topo_npus(t);
    for (int i = npus - 1; i >= 0; i--) {
        hwloc_obj_t pu = hwloc_get_obj_by_type(t->topo, HWLOC_OBJ_PU, (unsigned)i);
        hwloc_obj_t core = core_of(t->topo, pu);
        int busy = 0;
        for (int w = 0; w < threads && !busy; w++)
            busy = hwloc_bitmap_isset(core->cpuset, (unsigned)cpus[w]);
        if (!busy)
            return (int)pu->os_index;
    }
    return -1;
}

int jb_topo_plan(const struct jb_topo *t, enum jb_pin_policy policy, const char *cpuset,
                 int threads, int *cpus_out, int *sampler_cpu, char *err, size_t errlen)
{
    int npus = jb_topo_npus(t);
    *sampler_cpu = -1;
    if (threads < 1)
        return jb_err(err, errlen, JB_EINVAL, "--threads: %d, needs at least 1", threads);
    if (threads > npus) {
        char al[128];
        allowed_list(t, al, sizeof(al));
        return jb_err(err, errlen, JB_ERANGE,
                      "--threads %d: this machine lets joulebench use %d PUs (cpus %s)", threads,
                      npus, al);
    }
    switch (policy) {
    case JB_PIN_NONE:
        for (int i = 0; i < threads; i++)
            cpus_out[i] = -1;
        return JB_OK; /* unpinned workers may run anywhere: the sampler floats too */
    case JB_PIN_COMPACT:
        for (int i = 0; i < threads; i++)
            cpus_out[i] = (int)hwloc_get_obj_by_type(t->topo, HWLOC_OBJ_PU, (unsigned)i)->os_index;
        break;
    case JB_PIN_SCATTER: {
        int *order = malloc(sizeof(int) * (size_t)npus);
        if (!order)
            return jb_err(err, errlen, JB_ENOMEM, "topology: out of memory");
        int n = scatter_order(hwloc_get_root_obj(t->topo), order, npus);
        if (n < threads) {
            free(order);
            return jb_err(err, errlen, JB_EIO, "topology: scatter order found %d of %d PUs", n,
                          npus);
        }
        memcpy(cpus_out, order, sizeof(int) * (size_t)threads);
        free(order);
        break;
    }
    case JB_PIN_CPUSET: {
        int list[JB_TOPO_MAX_CPUS], n = 0;
        int rc = jb_cpu_list_parse(cpuset, list, JB_TOPO_MAX_CPUS, &n, err, errlen);
        if (rc)
            return rc;
        for (int i = 0; i < n; i++)
            if (!allowed_cpu(t, list[i])) {
                char al[128];
                allowed_list(t, al, sizeof(al));
                return jb_err(err, errlen, JB_EINVAL,
                              "--pin %s: cpu %d does not exist or is not allowed here (cpus %s)",
                              cpuset, list[i], al);
            }
        if (threads > n)
            return jb_err(err, errlen, JB_ERANGE, "--threads %d: --pin %s lists only %d cpus",
                          threads, cpuset, n);
        memcpy(cpus_out, list, sizeof(int) * (size_t)threads);
        break;
    }
    default:
        return jb_err(err, errlen, JB_EINVAL, "topology: unknown pin policy %d", (int)policy);
    }
    *sampler_cpu = plan_sampler(t, cpus_out, threads);
    return JB_OK;
}

int jb_topo_pin_self(const struct jb_topo *t, int os_cpu, char *err, size_t errlen)
{
    if (!t->thissystem)
        return jb_err(err, errlen, JB_ENOTSUP,
                      "topology: cannot pin to cpu %d: the topology is not this machine's", os_cpu);
    if (!allowed_cpu(t, os_cpu))
        return jb_err(err, errlen, JB_EINVAL,
                      "topology: cannot pin to cpu %d: it does not exist or is not allowed",
                      os_cpu);
    hwloc_bitmap_t set = hwloc_bitmap_alloc();
    if (!set)
        return jb_err(err, errlen, JB_ENOMEM, "topology: out of memory");
    hwloc_bitmap_only(set, (unsigned)os_cpu);
    int rc = hwloc_set_cpubind(t->topo, set, HWLOC_CPUBIND_THREAD | HWLOC_CPUBIND_STRICT);
    hwloc_bitmap_free(set);
    if (rc)
        return jb_err(err, errlen, JB_EIO,
                      "topology: cannot pin to cpu %d: hwloc_set_cpubind failed", os_cpu);
    return JB_OK;
}

int jb_topo_bind_memory_self(const struct jb_topo *t, const int *cpus, int n, char *err,
                             size_t errlen)
{
    if (!t->thissystem)
        return jb_err(err, errlen, JB_ENOTSUP,
                      "topology: cannot bind memory: the topology is not this machine's");
    int rc = JB_OK;
    hwloc_bitmap_t cs = hwloc_bitmap_alloc(), ns = hwloc_bitmap_alloc();
    if (!cs || !ns) {
        rc = jb_err(err, errlen, JB_ENOMEM, "topology: out of memory");
        goto out;
    }
    for (int i = 0; i < n; i++) {
        if (!allowed_cpu(t, cpus[i])) {
            rc = jb_err(err, errlen, JB_EINVAL,
                        "topology: cannot bind memory near cpu %d: no such cpu", cpus[i]);
            goto out;
        }
        hwloc_bitmap_set(cs, (unsigned)cpus[i]);
    }
    hwloc_cpuset_to_nodeset(t->topo, cs, ns);
    if (hwloc_set_membind(t->topo, ns, HWLOC_MEMBIND_BIND,
                          HWLOC_MEMBIND_THREAD | HWLOC_MEMBIND_BYNODESET) != 0)
        rc = jb_err(err, errlen, JB_ENOTSUP,
                    "topology: the kernel refused to bind memory to NUMA nodes of cpus");
out:
    hwloc_bitmap_free(cs);
    hwloc_bitmap_free(ns);
    return rc;
}

const char *jb_topo_xml(const struct jb_topo *t)
{
    return t->xml;
}

const char *jb_topo_hash(const struct jb_topo *t)
{
    return t->hash;
}

const char *jb_topo_canonical(const struct jb_topo *t)
{
    return t->canonical;
}

static const char *cache_type_name(hwloc_obj_cache_type_t c)
{
    switch (c) {
    case HWLOC_OBJ_CACHE_DATA:
        return "data";
    case HWLOC_OBJ_CACHE_INSTRUCTION:
        return "instruction";
    default:
        return "unified";
    }
}

/* One entry per cache level and size (hybrid CPUs have two L2 sizes):
 * level, kind, size, how many instances and how many PUs share each. */
static void describe_caches(const struct jb_topo *t, json_t *arr)
{
    int depth = hwloc_topology_get_depth(t->topo);
    for (int d = depth - 1; d >= 0; d--) {
        if (!hwloc_obj_type_is_cache(hwloc_get_depth_type(t->topo, d)))
            continue;
        int n = hwloc_get_nbobjs_by_depth(t->topo, d);
        json_t *seen = json_object(); /* size -> entry, at this depth */
        for (int i = 0; i < n; i++) {
            hwloc_obj_t o = hwloc_get_obj_by_depth(t->topo, d, (unsigned)i);
            char key[32];
            snprintf(key, sizeof(key), "%llu", (unsigned long long)o->attr->cache.size);
            json_t *e = json_object_get(seen, key);
            if (!e) {
                e = json_object();
                json_object_set_new(e, "level", json_integer(o->attr->cache.depth));
                json_object_set_new(e, "type", json_string(cache_type_name(o->attr->cache.type)));
                json_object_set_new(e, "size_bytes", json_integer((json_int_t)o->attr->cache.size));
                json_object_set_new(e, "line_bytes", json_integer(o->attr->cache.linesize));
                json_object_set_new(e, "instances", json_integer(0));
                json_object_set_new(e, "pus_per_instance",
                                    json_integer(hwloc_bitmap_weight(o->cpuset)));
                json_object_set(seen, key, e);
                json_array_append_new(arr, e);
            }
            json_object_set_new(
                e, "instances",
                json_integer(json_integer_value(json_object_get(e, "instances")) + 1));
        }
        json_decref(seen);
    }
}

int jb_topo_describe(const struct jb_topo *t, json_t *obj)
{
    char buf[256];
    json_object_set_new(obj, "packages",
                        json_integer(hwloc_get_nbobjs_by_type(t->topo, HWLOC_OBJ_PACKAGE)));
    json_object_set_new(obj, "cores", json_integer(jb_topo_ncores(t)));
    json_object_set_new(obj, "pus", json_integer(jb_topo_npus(t)));
    json_object_set_new(obj, "numa_nodes", json_integer(jb_topo_nnuma(t)));
    allowed_list(t, buf, sizeof(buf));
    json_object_set_new(obj, "allowed_cpus", json_string(buf));
    int ncores = jb_topo_ncores(t);
    json_object_set_new(obj, "pus_per_core",
                        json_integer(ncores > 0 ? (jb_topo_npus(t) + ncores - 1) / ncores : 0));
    json_t *numa = json_array();
    for (int i = 0; i < jb_topo_nnuma(t); i++) {
        hwloc_obj_t o = hwloc_get_obj_by_type(t->topo, HWLOC_OBJ_NUMANODE, (unsigned)i);
        json_t *e = json_object();
        json_object_set_new(e, "os_index", json_integer(o->os_index));
        json_object_set_new(e, "memory_bytes",
                            json_integer((json_int_t)o->attr->numanode.local_memory));
        hwloc_bitmap_list_snprintf(buf, sizeof(buf), o->cpuset);
        json_object_set_new(e, "cpus", json_string(buf));
        json_array_append_new(numa, e);
    }
    json_object_set_new(obj, "numa", numa);
    json_t *caches = json_array();
    describe_caches(t, caches);
    json_object_set_new(obj, "caches", caches);
    json_object_set_new(obj, "hash", json_string(t->hash));
    return JB_OK;
}
