/* threadpool.c: see threadpool.h. Workers wait on a generation counter: a
 * job is published by bumping it; each worker runs the job and decrements the
 * pending count. Spinning first keeps the hand-off in the sub-microsecond
 * range that decode steps need; a condition variable takes over after the
 * spin budget so that idle workers do not burn a core (and energy) between
 * runs. */
#include "platforms/cpu/threadpool.h"
#include "base/error.h"

#include <hwloc.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* Spin iterations before sleeping: about 50-100 us on current x86 cores,
 * longer than the gap between two parallel sections of a decode step. */
#define JB_POOL_SPIN 20000

struct jb_pool_worker {
    struct jb_pool *pool;
    int tid;
    pthread_t thread;
};

struct jb_pool {
    int n;
    int *cpus; /* n entries or NULL */
    int bind_memory;
    hwloc_topology_t topo;     /* loaded only when pinning or binding */
    hwloc_bitmap_t nodeset;    /* NUMA nodes of cpus, for binding */
    struct jb_pool_worker *workers;
    _Atomic unsigned long generation;
    _Atomic int pending;
    _Atomic int quit;
    jb_pool_fn fn;
    void *arg;
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

static void pin_to(struct jb_pool *p, int cpu)
{
    if (!p->topo || cpu < 0)
        return;
    hwloc_bitmap_t set = hwloc_bitmap_alloc();
    hwloc_bitmap_only(set, (unsigned)cpu);
    hwloc_set_cpubind(p->topo, set, HWLOC_CPUBIND_THREAD);
    hwloc_bitmap_free(set);
}

static void *worker_main(void *a)
{
    struct jb_pool_worker *w = a;
    struct jb_pool *p = w->pool;
    unsigned long seen = 0;
    if (p->cpus)
        pin_to(p, p->cpus[w->tid]);
    for (;;) {
        unsigned long g;
        int spins = 0;
        while ((g = atomic_load_explicit(&p->generation, memory_order_acquire)) == seen &&
               !atomic_load(&p->quit)) {
            if (++spins < JB_POOL_SPIN) {
                cpu_relax();
                continue;
            }
            pthread_mutex_lock(&p->mu);
            while (atomic_load(&p->generation) == seen && !atomic_load(&p->quit))
                pthread_cond_wait(&p->cv, &p->mu);
            pthread_mutex_unlock(&p->mu);
        }
        if (atomic_load(&p->quit))
            return NULL;
        seen = g;
        p->fn(p->arg, w->tid, p->n);
        atomic_fetch_sub_explicit(&p->pending, 1, memory_order_acq_rel);
    }
}

int jb_pool_create(int n, const int *cpus, int bind_memory, struct jb_pool **out, char *err,
                   size_t errlen)
{
    int rc = JB_OK;
    if (n < 1)
        return jb_err(err, errlen, JB_EINVAL, "threadpool: %d threads requested", n);
    struct jb_pool *p = calloc(1, sizeof(*p));
    if (!p)
        return jb_err(err, errlen, JB_ENOMEM, "threadpool: out of memory");
    p->n = n;
    p->bind_memory = bind_memory;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    if (cpus || bind_memory) {
        if (hwloc_topology_init(&p->topo) || hwloc_topology_load(p->topo)) {
            rc = jb_err(err, errlen, JB_EIO, "threadpool: hwloc topology load failed");
            goto fail;
        }
    }
    if (cpus) {
        p->cpus = malloc(sizeof(int) * (size_t)n);
        if (!p->cpus) {
            rc = jb_err(err, errlen, JB_ENOMEM, "threadpool: out of memory");
            goto fail;
        }
        memcpy(p->cpus, cpus, sizeof(int) * (size_t)n);
        p->nodeset = hwloc_bitmap_alloc();
        hwloc_bitmap_t cpuset = hwloc_bitmap_alloc();
        for (int i = 0; i < n; i++)
            if (cpus[i] >= 0)
                hwloc_bitmap_set(cpuset, (unsigned)cpus[i]);
        hwloc_cpuset_to_nodeset(p->topo, cpuset, p->nodeset);
        hwloc_bitmap_free(cpuset);
        pin_to(p, cpus[0]);
    }
    p->workers = calloc((size_t)n, sizeof(*p->workers));
    if (!p->workers) {
        rc = jb_err(err, errlen, JB_ENOMEM, "threadpool: out of memory");
        goto fail;
    }
    for (int i = 1; i < n; i++) {
        p->workers[i].pool = p;
        p->workers[i].tid = i;
        if (pthread_create(&p->workers[i].thread, NULL, worker_main, &p->workers[i])) {
            atomic_store(&p->quit, 1);
            for (int j = 1; j < i; j++)
                pthread_join(p->workers[j].thread, NULL);
            p->n = 1;
            rc = jb_err(err, errlen, JB_ENOMEM, "threadpool: cannot create thread %d", i);
            goto fail;
        }
    }
    *out = p;
    return JB_OK;
fail:
    p->n = 1;
    jb_pool_destroy(p);
    return rc;
}

void jb_pool_destroy(struct jb_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->quit, 1);
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (int i = 1; i < p->n && p->workers; i++)
        pthread_join(p->workers[i].thread, NULL);
    free(p->workers);
    free(p->cpus);
    if (p->nodeset)
        hwloc_bitmap_free(p->nodeset);
    if (p->topo)
        hwloc_topology_destroy(p->topo);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p);
}

int jb_pool_size(const struct jb_pool *p)
{
    return p->n;
}

void jb_pool_run(struct jb_pool *p, jb_pool_fn fn, void *arg)
{
    if (p->n == 1) {
        fn(arg, 0, 1);
        return;
    }
    p->fn = fn;
    p->arg = arg;
    atomic_store_explicit(&p->pending, p->n - 1, memory_order_release);
    pthread_mutex_lock(&p->mu);
    atomic_fetch_add_explicit(&p->generation, 1, memory_order_acq_rel);
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    fn(arg, 0, p->n);
    while (atomic_load_explicit(&p->pending, memory_order_acquire) > 0)
        cpu_relax();
}

void jb_pool_range(size_t n, size_t align, int tid, int nthreads, size_t *begin, size_t *end)
{
    if (align == 0)
        align = 1;
    size_t blocks = (n + align - 1) / align;
    size_t per = blocks / (size_t)nthreads, rem = blocks % (size_t)nthreads;
    size_t t = (size_t)tid;
    size_t b0 = t * per + (t < rem ? t : rem);
    size_t b1 = b0 + per + (t < rem ? 1 : 0);
    *begin = b0 * align < n ? b0 * align : n;
    *end = b1 * align < n ? b1 * align : n;
}

void *jb_pool_alloc(struct jb_pool *p, size_t bytes)
{
    if (bytes == 0)
        bytes = 1;
    if (p && p->bind_memory && p->topo && p->nodeset) {
        void *m = hwloc_alloc_membind(p->topo, bytes, p->nodeset, HWLOC_MEMBIND_BIND,
                                      HWLOC_MEMBIND_BYNODESET);
        /* Binding can be refused (no NUMA support in the kernel); hwloc_alloc
         * still gives page-aligned memory that hwloc_free releases. */
        return m ? m : hwloc_alloc(p->topo, bytes);
    }
    void *m = NULL;
    if (posix_memalign(&m, 64, bytes))
        return NULL;
    return m;
}

void jb_pool_free(struct jb_pool *p, void *ptr, size_t bytes)
{
    if (!ptr)
        return;
    if (p && p->bind_memory && p->topo && p->nodeset) {
        hwloc_free(p->topo, ptr, bytes);
        return;
    }
    free(ptr);
}
