/* counters_perf.h: perf_event_open and libpfm4 helpers shared by the
 * counters (counters.c) and their probe (counters_perf.c). Internal to the
 * harness: the rest of joulebench uses harness/counters.h. */
#ifndef JB_COUNTERS_PERF_H
#define JB_COUNTERS_PERF_H

#include <linux/perf_event.h>
#include <stddef.h>

/* perf_event_open on the calling thread, any cpu, close-on-exec. */
long jb_perf_open(struct perf_event_attr *a, int group_fd);

/* kernel.perf_event_paranoid, or -99 when it cannot be read. */
int jb_perf_paranoid(void);

/* Whether the kernel exposes a core PMU (cpu, cpu_core, armv8_pmuv3_0). */
int jb_perf_has_cpu_pmu(void);

/* "ENOENT", "EACCES"... for the errnos perf_event_open gives. */
const char *jb_perf_errno_name(int e);

/* Why perf_event_open failed with errno e, in words a user can act on. */
void jb_perf_open_reason(int e, char *buf, size_t n);

/* libpfm4 encoding of one event name into *a (hardware events user space
 * only, software events user and kernel); fq receives libpfm4's fully
 * qualified name. JB_ENOENT, with a message naming the event, when libpfm4
 * does not know it. */
int jb_perf_encode(const char *name, struct perf_event_attr *a, char *fq, size_t fqlen, char *err,
                   size_t errlen);

#endif
