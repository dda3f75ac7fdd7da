/* provenance.h: what machine and software produced a result.
 *
 * Collects CPU model and microcode, cores and threads, memory, GPUs and
 * driver, kernel and OS, compiler and flags, joulebench version and commit,
 * frequency governor and turbo state, power limits where readable, and the
 * exact command line, into the record's `system` object. */
#ifndef JB_PROVENANCE_H
#define JB_PROVENANCE_H

#include <jansson.h>
#include <stddef.h>

struct jb_topo;

/* Returns a new JSON object (caller owns it, json_decref). sysfs_root is "/"
 * normally; tests point it at a fake tree. Never fails for a missing file:
 * what cannot be read is recorded as null with no error. */
json_t *jb_provenance_collect(const struct jb_topo *t, int argc, char **argv,
                              const char *sysfs_root);

/* The record's `system` object: jb_provenance_collect plus the topology's
 * hash and hwloc XML. NULL when out of memory. */
json_t *jb_provenance_system(const struct jb_topo *t, int argc, char **argv,
                             const char *sysfs_root);

#endif
