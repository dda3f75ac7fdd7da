/* stats.h: the statistics of joulebench, in one place: summaries of
 * latency samples for the runner (mean, sample standard deviation,
 * percentiles), and what compare and history stand on (medians, a
 * percentile bootstrap confidence interval of a ratio of medians, the
 * Mann-Whitney U test, and E-Divisive means change-point detection with a
 * permutation test: Matteson and James 2014, the method MongoDB's and
 * Hunter's performance CI use). All randomness comes from a seeded
 * generator passed in, so a verdict reproduces run to run. */
#ifndef JB_STATS_H
#define JB_STATS_H

#include <stddef.h>
#include <stdint.h>

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

/* Median of n values (n > 0); x is not modified. NAN when n == 0. */
double jb_median(const double *x, size_t n);

/* Percentile bootstrap (iters resamples of each group) of
 * median(b) / median(a): *lo and *hi bound the 1 - alpha interval.
 * Returns 0, or JB_EINVAL when a group is empty or a median is 0. */
int jb_bootstrap_ratio_ci(const double *a, size_t na, const double *b, size_t nb, int iters,
                          double alpha, uint64_t seed, double *lo, double *hi);

/* Two-sided Mann-Whitney U test of a against b. *u is U of a. Exact
 * distribution when both groups have at most 20 values and there are no
 * ties; normal approximation with tie and continuity corrections
 * otherwise. Returns the p-value (1 when a group is empty). */
double jb_mann_whitney(const double *a, size_t na, const double *b, size_t nb, double *u);

/* One change point found by jb_edivisive. */
struct jb_change_point {
    size_t index;       /* first point of the new segment */
    double q;           /* the divergence statistic at the split */
    double p_value;     /* permutation test */
    double mean_before; /* means of the adjacent segments */
    double mean_after;
};

/* E-Divisive means (alpha = 1) over x[0..n): finds up to max_cp change
 * points, each significant at `sig` by a permutation test of `perms`
 * shuffles, segments at least min_size long. Writes them sorted by index
 * into cp and returns how many (>= 0), or a negative JB_E code. */
int jb_edivisive(const double *x, size_t n, size_t min_size, int perms, double sig, uint64_t seed,
                 struct jb_change_point *cp, int max_cp);

#endif
