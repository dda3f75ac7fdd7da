/* threadpool.h: a persistent, pinned pool of worker threads for the CPU
 * back-end.
 *
 * Created once per workload instance, never per token or inference: a decode
 * step issues a few hundred parallel sections, and creating threads for each
 * would cost more than the work. The calling thread is worker 0; workers
 * 1..n-1 are pinned to cpus[i] and spin briefly, then sleep, between jobs.
 * Memory binding: jb_pool_alloc returns memory bound to the NUMA node(s) of
 * the pool's cpus when binding was asked for. */
#ifndef JB_THREADPOOL_H
#define JB_THREADPOOL_H

#include <stddef.h>

struct jb_pool;

/* Work function: called once on each worker with its index and the count. */
typedef void (*jb_pool_fn)(void *arg, int tid, int nthreads);

/* cpus: OS cpu per worker (n entries), or NULL for unpinned. The calling
 * thread is pinned to cpus[0] as well. bind_memory: bind jb_pool_alloc
 * allocations to the cpus' NUMA nodes. */
int jb_pool_create(int n, const int *cpus, int bind_memory, struct jb_pool **out, char *err,
                   size_t errlen);
void jb_pool_destroy(struct jb_pool *p);
int jb_pool_size(const struct jb_pool *p);

/* Runs fn on every worker and returns when all have finished. */
void jb_pool_run(struct jb_pool *p, jb_pool_fn fn, void *arg);

/* Splits [0, n) into nthreads contiguous ranges, aligned to `align` items;
 * worker tid gets [*begin, *end). */
void jb_pool_range(size_t n, size_t align, int tid, int nthreads, size_t *begin, size_t *end);

/* 64-byte aligned allocation, bound to the pool's NUMA node(s) when asked;
 * free with jb_pool_free (size needed for munmap-backed memory). */
void *jb_pool_alloc(struct jb_pool *p, size_t bytes);
void jb_pool_free(struct jb_pool *p, void *ptr, size_t bytes);

#endif
