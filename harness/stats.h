/* stats.h: summary statistics of latency samples. */
#ifndef JB_STATS_H
#define JB_STATS_H

#include <stddef.h>

struct jb_summary {
    size_t n;
    double mean, stddev, min, max, median, p90, p99;
};

/* Summarizes v[0..n) (v is sorted in place). Percentiles use linear
 * interpolation between closest ranks (the "type 7" definition that numpy and
 * R use by default). stddev is the sample standard deviation (n - 1). */
void jb_summarize(double *v, size_t n, struct jb_summary *out);

/* The q-quantile (0..1) of sorted v[0..n), type 7. */
double jb_quantile_sorted(const double *v, size_t n, double q);

#endif
