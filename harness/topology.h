/* topology.h: the machine's topology through hwloc, thread pinning and the
 * placement plan of a run.
 *
 * The runner asks for a plan (which OS cpu each worker thread gets, where the
 * sampler thread goes), hands the cpu list to the workload (which pins its own
 * pool, see platforms/cpu/threadpool.h), and records the topology as XML plus
 * a hash in every result so that two results can be told apart by machine. */
#ifndef JB_TOPOLOGY_H
#define JB_TOPOLOGY_H

#include <jansson.h>
#include <stddef.h>

struct jb_topo;

enum jb_pin_policy {
    JB_PIN_NONE = 0,    /* no pinning, no memory binding */
    JB_PIN_COMPACT = 1, /* fill one core's PUs, then the next core, then the next package */
    JB_PIN_SCATTER = 2, /* spread over packages, then cores, before sharing a core */
    JB_PIN_CPUSET = 3   /* an explicit list of OS cpus ("0,2,4-7") */
};

/* Upper bound on the cpus an explicit --pin list may name. */
#define JB_TOPO_MAX_CPUS 4096

int jb_topo_open(struct jb_topo **out, char *err, size_t errlen);
/* Opens a topology that is not this machine's: hwloc XML (as recorded in a
 * result's system.topology_xml) or a synthetic description such as
 * "pack:2 core:4 pu:2". Plans, describe and the hash work on it; pinning and
 * binding are refused. For tests and for reading back a record. */
int jb_topo_open_from(const char *xml_or_synthetic, struct jb_topo **out, char *err, size_t errlen);
void jb_topo_close(struct jb_topo *t);

int jb_topo_npus(const struct jb_topo *t);   /* processing units (hardware threads) allowed */
int jb_topo_ncores(const struct jb_topo *t); /* physical cores */
int jb_topo_nnuma(const struct jb_topo *t);  /* NUMA nodes */

/* Parses "compact", "scatter", "none" or a cpuset list ("0,2-3"). When a
 * cpuset is given, *policy is JB_PIN_CPUSET and cpuset_out holds the list. */
int jb_pin_policy_parse(const char *s, enum jb_pin_policy *policy, char *cpuset_out, size_t n,
                        char *err, size_t errlen);
const char *jb_pin_policy_name(enum jb_pin_policy p);

/* Plans `threads` workers: cpus_out[i] is worker i's OS cpu (-1 for all when
 * policy is NONE). *sampler_cpu is a PU off the workers' cores when the
 * machine has enough, else -1. */
int jb_topo_plan(const struct jb_topo *t, enum jb_pin_policy policy, const char *cpuset,
                 int threads, int *cpus_out, int *sampler_cpu, char *err, size_t errlen);

/* Parses a cpu list ("0,2-3") into cpus[] in the order written (at most
 * max); duplicates, backwards ranges and junk are errors naming the list. */
int jb_cpu_list_parse(const char *s, int *cpus, int max, int *n_out, char *err, size_t errlen);

/* Pins the calling thread to one OS cpu (strictly: hwloc_set_cpubind with
 * HWLOC_CPUBIND_STRICT). */
int jb_topo_pin_self(const struct jb_topo *t, int os_cpu, char *err, size_t errlen);

/* Binds the calling thread's future allocations to the NUMA node(s) of the
 * given cpus. JB_ENOTSUP where the kernel refuses (no NUMA support). */
int jb_topo_bind_memory_self(const struct jb_topo *t, const int *cpus, int n, char *err,
                             size_t errlen);

/* The topology as hwloc XML (owned by t) and its hash (hex, owned by t). */
const char *jb_topo_xml(const struct jb_topo *t);
const char *jb_topo_hash(const struct jb_topo *t);
/* The text the hash is computed over (owned by t): one line per object with
 * type, OS index, cpuset, nodeset, cache geometry and CPU identity; nothing
 * that changes between runs on the same machine. */
const char *jb_topo_canonical(const struct jb_topo *t);

/* Summary for provenance and `probe`: packages, cores, PUs, NUMA nodes,
 * caches, memory per node. Sets keys on obj. */
int jb_topo_describe(const struct jb_topo *t, json_t *obj);

#endif
