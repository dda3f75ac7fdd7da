/* test_stats.c: harness/stats.c. Latency summaries: percentiles by linear
 * interpolation between closest ranks (numpy's default), sample standard
 * deviation, and stability for long runs of nearly equal values. The
 * statistics compare and history stand on: Mann-Whitney p-values against
 * values worked out by hand (exact distribution), the bootstrap interval of
 * a ratio of medians, and E-Divisive means finding a step and only a step. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/error.h"
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

static void mann_whitney_exact(void **st)
{
    (void)st;
    double a[] = {1, 2, 3, 4, 5}, b[] = {6, 7, 8, 9, 10}, u;
    /* Complete separation of 5 and 5: 2 of C(10,5) = 252 arrangements are
     * as extreme, two-sided. */
    double p = jb_mann_whitney(a, 5, b, 5, &u);
    assert_true(fabs(p - 2.0 / 252) < 1e-12);
    assert_true(u == 0);
    /* 3 vs 3 separated: 2 / C(6,3) = 0.1. */
    assert_true(fabs(jb_mann_whitney(a, 3, b, 3, &u) - 0.1) < 1e-12);
    /* Interleaved: no evidence. */
    double c[] = {1, 3, 5, 7, 9}, d[] = {2, 4, 6, 8, 10};
    assert_true(jb_mann_whitney(c, 5, d, 5, &u) > 0.5);
    /* Symmetric in its arguments. */
    assert_true(fabs(jb_mann_whitney(b, 5, a, 5, &u) - 2.0 / 252) < 1e-12);
    assert_true(u == 25);
}

static void mann_whitney_ties_and_large(void **st)
{
    (void)st;
    double a[30], b[30], u;
    for (int i = 0; i < 30; i++) {
        a[i] = i % 5; /* heavy ties */
        b[i] = i % 5 + 3;
    }
    double p = jb_mann_whitney(a, 30, b, 30, &u);
    assert_true(p < 1e-6);
    assert_true(jb_mann_whitney(a, 30, a, 30, &u) > 0.99);
    assert_true(jb_mann_whitney(a, 0, b, 30, &u) == 1.0);
}

static void bootstrap_ratio(void **st)
{
    (void)st;
    double a[] = {1.0, 1.1, 0.9, 1.05, 0.95}, b[5], lo, hi;
    for (int i = 0; i < 5; i++)
        b[i] = 2 * a[i];
    /* Every resample pair keeps... not the same indices, so the ratio
     * varies; but it must bracket 2 and stay within the data's spread. */
    assert_int_equal(jb_bootstrap_ratio_ci(a, 5, b, 5, 2000, 0.05, 1, &lo, &hi), 0);
    assert_true(lo <= 2.0 && hi >= 2.0);
    assert_true(lo >= 1.8 / 1.1 - 1e-12 && hi <= 2.2 / 0.9 + 1e-12);
    /* Constant samples: a degenerate interval at the exact ratio. */
    double c[] = {3, 3, 3}, d[] = {4.5, 4.5, 4.5};
    assert_int_equal(jb_bootstrap_ratio_ci(c, 3, d, 3, 500, 0.05, 7, &lo, &hi), 0);
    assert_true(fabs(lo - 1.5) < 1e-12 && fabs(hi - 1.5) < 1e-12);
    assert_int_equal(jb_bootstrap_ratio_ci(c, 0, d, 3, 500, 0.05, 7, &lo, &hi), JB_EINVAL);
    assert_true(isnan(jb_median(c, 0)));
    double e[] = {5, 1, 3, 2};
    assert_true(jb_median(e, 4) == 2.5);
}

/* Deterministic pseudo-noise in [-0.025, 0.025): the fractional part of a
 * large multiple of sin, a common shader hash; no structure over i. */
static double noise(int i)
{
    double v = sin(i * 12.9898 + 78.233) * 43758.5453;
    return 0.05 * (v - floor(v) - 0.5);
}

static void edivisive_finds_steps(void **st)
{
    (void)st;
    double x[60];
    /* Deterministic small noise around 10, then 12 from point 25, then
     * back to 10 from point 45. */
    for (int i = 0; i < 60; i++) {
        x[i] = (i >= 25 && i < 45 ? 12.0 : 10.0) + noise(i);
    }
    struct jb_change_point cp[8];
    int n = jb_edivisive(x, 60, 3, 199, 0.05, 42, cp, 8);
    assert_int_equal(n, 2);
    assert_int_equal(cp[0].index, 25);
    assert_int_equal(cp[1].index, 45);
    assert_true(fabs(cp[0].mean_before - 10) < 0.05 && fabs(cp[0].mean_after - 12) < 0.05);
    assert_true(cp[0].p_value <= 0.05);
    /* Noise alone: no change point. */
    for (int i = 0; i < 60; i++)
        x[i] = 10 + noise(i);
    assert_int_equal(jb_edivisive(x, 60, 3, 199, 0.05, 42, cp, 8), 0);
    /* Too short to split. */
    assert_int_equal(jb_edivisive(x, 4, 3, 199, 0.05, 42, cp, 8), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_values),
        cmocka_unit_test(test_edge_cases),
        cmocka_unit_test(test_variance_is_stable),
        cmocka_unit_test(mann_whitney_exact),
        cmocka_unit_test(mann_whitney_ties_and_large),
        cmocka_unit_test(bootstrap_ratio),
        cmocka_unit_test(edivisive_finds_steps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
