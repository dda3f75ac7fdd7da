/* test_threadpool.c: the persistent pool: every worker runs every job once,
 * ranges partition the work exactly, workers are pinned where asked, and
 * many small jobs in a row (the decode-step pattern) neither lose nor
 * duplicate work. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "platforms/cpu/threadpool.h"

#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct job {
    _Atomic long sum;
    int cpu_of[8];
    long *cells;
    size_t n;
};

static void add_range(void *arg, int tid, int nt)
{
    struct job *j = arg;
    size_t lo, hi;
    jb_pool_range(j->n, 16, tid, nt, &lo, &hi);
    for (size_t i = lo; i < hi; i++)
        j->cells[i]++;
    atomic_fetch_add(&j->sum, (long)(hi - lo));
    j->cpu_of[tid] = sched_getcpu();
}

static void test_partition_and_repeat(void **state)
{
    (void)state;
    struct jb_pool *p;
    char err[128];
    assert_int_equal(jb_pool_create(3, NULL, 0, &p, err, sizeof(err)), 0);
    struct job j = {.n = 1000};
    j.cells = calloc(j.n, sizeof(long));
    for (int rep = 0; rep < 1000; rep++)
        jb_pool_run(p, add_range, &j);
    for (size_t i = 0; i < j.n; i++)
        assert_int_equal(j.cells[i], 1000);
    assert_int_equal(atomic_load(&j.sum), 1000L * 1000);
    free(j.cells);
    jb_pool_destroy(p);
}

static void test_range_alignment(void **state)
{
    (void)state;
    size_t covered = 0, prev_end = 0;
    for (int t = 0; t < 7; t++) {
        size_t lo, hi;
        jb_pool_range(1000, 32, t, 7, &lo, &hi);
        assert_int_equal(lo, prev_end);
        assert_true(lo % 32 == 0 || lo == 1000);
        covered += hi - lo;
        prev_end = hi;
    }
    assert_int_equal(covered, 1000);
}

static void test_pinning(void **state)
{
    (void)state;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int n = ncpu >= 2 ? 2 : 1;
    int cpus[2] = {n - 1, 0};
    struct jb_pool *p;
    char err[128];
    assert_int_equal(jb_pool_create(n, cpus, 1, &p, err, sizeof(err)), 0);
    struct job j = {.n = 64};
    j.cells = calloc(j.n, sizeof(long));
    jb_pool_run(p, add_range, &j);
    for (int t = 0; t < n; t++)
        assert_int_equal(j.cpu_of[t], cpus[t]);
    void *m = jb_pool_alloc(p, 1 << 20);
    assert_non_null(m);
    memset(m, 1, 1 << 20);
    jb_pool_free(p, m, 1 << 20);
    free(j.cells);
    jb_pool_destroy(p);
}

static void test_bad_size(void **state)
{
    (void)state;
    struct jb_pool *p = NULL;
    char err[128] = "";
    assert_true(jb_pool_create(0, NULL, 0, &p, err, sizeof(err)) < 0);
    assert_non_null(strstr(err, "0 threads"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_partition_and_repeat),
        cmocka_unit_test(test_range_alignment),
        cmocka_unit_test(test_pinning),
        cmocka_unit_test(test_bad_size),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
