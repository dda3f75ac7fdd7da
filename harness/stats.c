/* stats.c: see stats.h. */
#include "harness/stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double jb_quantile_sorted(const double *v, size_t n, double q)
{
    if (n == 0)
        return 0;
    double h = (double)(n - 1) * q;
    size_t lo = (size_t)floor(h);
    size_t hi = lo + 1 < n ? lo + 1 : lo;
    return v[lo] + (h - (double)lo) * (v[hi] - v[lo]);
}

void jb_summarize(double *v, size_t n, struct jb_summary *s)
{
    memset(s, 0, sizeof(*s));
    s->n = n;
    if (n == 0)
        return;
    qsort(v, n, sizeof(double), cmp_double);
    /* Welford's update keeps the variance accurate for long runs of nearly
     * equal latencies, where the naive sum of squares cancels. */
    double mean = 0, m2 = 0;
    for (size_t i = 0; i < n; i++) {
        double d = v[i] - mean;
        mean += d / (double)(i + 1);
        m2 += d * (v[i] - mean);
    }
    s->mean = mean;
    s->stddev = n > 1 ? sqrt(m2 / (double)(n - 1)) : 0;
    s->min = v[0];
    s->max = v[n - 1];
    s->median = jb_quantile_sorted(v, n, 0.5);
    s->p90 = jb_quantile_sorted(v, n, 0.9);
    s->p99 = jb_quantile_sorted(v, n, 0.99);
}
