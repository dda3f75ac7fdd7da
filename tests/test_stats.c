/* test_stats.c: latency statistics: percentiles by linear interpolation
 * between closest ranks (numpy's default), sample standard deviation, and
 * stability for long runs of nearly equal values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "harness/stats.h"

#include <math.h>
#include <stdlib.h>

static void test_known_values(void **state)
{
    (void)state;
    /* numpy.percentile([1..10], [50, 90, 99]) = 5.5, 9.1, 9.91 */
    double v[10] = {10, 9, 8, 7, 6, 5, 4, 3, 2, 1};
    struct jb_summary s;
    jb_summarize(v, 10, &s);
    assert_int_equal(s.n, 10);
    assert_float_equal(s.median, 5.5, 1e-12);
    assert_float_equal(s.p90, 9.1, 1e-12);
    assert_float_equal(s.p99, 9.91, 1e-12);
    assert_float_equal(s.mean, 5.5, 1e-12);
    /* sample stddev of 1..10 = sqrt(55/6) */
    assert_float_equal(s.stddev, sqrt(55.0 / 6.0), 1e-12);
    assert_float_equal(s.min, 1, 0);
    assert_float_equal(s.max, 10, 0);
}

static void test_edge_cases(void **state)
{
    (void)state;
    struct jb_summary s;
    jb_summarize(NULL, 0, &s);
    assert_int_equal(s.n, 0);
    double one = 3.5;
    jb_summarize(&one, 1, &s);
    assert_float_equal(s.median, 3.5, 0);
    assert_float_equal(s.p99, 3.5, 0);
    assert_float_equal(s.stddev, 0, 0);
}

static void test_variance_is_stable(void **state)
{
    (void)state;
    /* 1e6 samples of 1 s +- 1 ns: the naive sum-of-squares formula loses
     * every digit here; Welford keeps them. */
    size_t n = 1000000;
    double *v = malloc(n * sizeof(double));
    for (size_t i = 0; i < n; i++)
        v[i] = 1.0 + ((i & 1) ? 1e-9 : -1e-9);
    struct jb_summary s;
    jb_summarize(v, n, &s);
    assert_float_equal(s.stddev, 1e-9, 1e-12);
    free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_values),
        cmocka_unit_test(test_edge_cases),
        cmocka_unit_test(test_variance_is_stable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
