/* stats.c: the statistics declared in stats.h. */
#include "harness/stats.h"

#include "base/error.h"

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

static uint64_t rng_next(uint64_t *s)
{
    /* splitmix64: small, seeded, good enough for resampling. */
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static size_t rng_below(uint64_t *s, size_t n)
{
    return (size_t)(rng_next(s) % n);
}

static double median_inplace(double *x, size_t n)
{
    qsort(x, n, sizeof(*x), cmp_double);
    return n % 2 ? x[n / 2] : 0.5 * (x[n / 2 - 1] + x[n / 2]);
}

double jb_median(const double *x, size_t n)
{
    if (n == 0)
        return NAN;
    double *c = malloc(n * sizeof(*c));
    if (!c)
        return NAN;
    memcpy(c, x, n * sizeof(*c));
    double m = median_inplace(c, n);
    free(c);
    return m;
}

int jb_bootstrap_ratio_ci(const double *a, size_t na, const double *b, size_t nb, int iters,
                          double alpha, uint64_t seed, double *lo, double *hi)
{
    if (na == 0 || nb == 0 || iters < 10)
        return JB_EINVAL;
    double *ra = malloc(na * sizeof(double)), *rb = malloc(nb * sizeof(double));
    double *ratios = malloc((size_t)iters * sizeof(double));
    int rc = JB_OK, k = 0;
    if (!ra || !rb || !ratios) {
        rc = JB_ENOMEM;
        goto out;
    }
    uint64_t s = seed;
    for (int it = 0; it < iters; it++) {
        for (size_t i = 0; i < na; i++)
            ra[i] = a[rng_below(&s, na)];
        for (size_t i = 0; i < nb; i++)
            rb[i] = b[rng_below(&s, nb)];
        double ma = median_inplace(ra, na), mb = median_inplace(rb, nb);
        if (ma != 0)
            ratios[k++] = mb / ma;
    }
    if (k < 10) {
        rc = JB_EINVAL;
        goto out;
    }
    qsort(ratios, (size_t)k, sizeof(double), cmp_double);
    size_t il = (size_t)floor(alpha / 2 * (k - 1)), ih = (size_t)ceil((1 - alpha / 2) * (k - 1));
    *lo = ratios[il];
    *hi = ratios[ih];
out:
    free(ra);
    free(rb);
    free(ratios);
    return rc;
}

/* Standard normal upper tail. */
static double norm_sf(double z)
{
    return 0.5 * erfc(z / sqrt(2.0));
}

double jb_mann_whitney(const double *a, size_t na, const double *b, size_t nb, double *u_out)
{
    if (na == 0 || nb == 0) {
        if (u_out)
            *u_out = NAN;
        return 1.0;
    }
    /* U of a: pairs (i, j) with a_i > b_j, ties counting one half. */
    double u = 0;
    int ties = 0;
    for (size_t i = 0; i < na; i++)
        for (size_t j = 0; j < nb; j++) {
            if (a[i] > b[j])
                u += 1;
            else if (a[i] == b[j]) {
                u += 0.5;
                ties = 1;
            }
        }
    if (u_out)
        *u_out = u;
    double m = (double)na, n = (double)nb, mu = m * n / 2;
    if (!ties && na <= 20 && nb <= 20) {
        /* Exact: count arrangements by U with the recurrence
         * c(m, n, u) = c(m - 1, n, u - n) + c(m, n - 1, u). */
        size_t M = na, N = nb, U = M * N;
        size_t stride_n = U + 1, stride_m = (N + 1) * stride_n;
        double *c = calloc((M + 1) * stride_m, sizeof(double));
        if (!c)
            return NAN;
        for (size_t i = 0; i <= M; i++)
            for (size_t j = 0; j <= N; j++)
                for (size_t k = 0; k <= i * j; k++) {
                    double v;
                    if (i == 0 || j == 0)
                        v = (k == 0);
                    else
                        v = (k >= j ? c[(i - 1) * stride_m + j * stride_n + k - j] : 0) +
                            c[i * stride_m + (j - 1) * stride_n + k];
                    c[i * stride_m + j * stride_n + k] = v;
                }
        double total = 0, tail = 0;
        double lo_u = fmin(u, m * n - u);
        for (size_t k = 0; k <= U; k++) {
            double v = c[M * stride_m + N * stride_n + k];
            total += v;
            if ((double)k <= lo_u + 1e-9)
                tail += v;
        }
        free(c);
        double p = 2 * tail / total;
        return p > 1 ? 1 : p;
    }
    /* Normal approximation with tie correction of the variance. */
    size_t tot = na + nb;
    double *all = malloc(tot * sizeof(double));
    if (!all)
        return NAN;
    memcpy(all, a, na * sizeof(double));
    memcpy(all + na, b, nb * sizeof(double));
    qsort(all, tot, sizeof(double), cmp_double);
    double tie_sum = 0;
    for (size_t i = 0; i < tot;) {
        size_t j = i;
        while (j < tot && all[j] == all[i])
            j++;
        double t = (double)(j - i);
        tie_sum += t * t * t - t;
        i = j;
    }
    free(all);
    double N = m + n;
    double var = m * n / 12.0 * ((N + 1) - tie_sum / (N * (N - 1)));
    if (var <= 0)
        return 1.0;
    double z = (fabs(u - mu) - 0.5) / sqrt(var);
    if (z < 0)
        z = 0;
    double p = 2 * norm_sf(z);
    return p > 1 ? 1 : p;
}

/* Best split of x[0..n) by the E-Divisive statistic; *best_q and the split
 * index (first of the right part), or 0 when no split of min_size fits. */
static size_t best_split(const double *x, size_t n, size_t min_size, double *best_q)
{
    *best_q = -INFINITY;
    if (n < 2 * min_size || min_size < 2)
        return 0;
    /* Totals of |x_i - x_j| moved from the right part to the left as the
     * split advances: left_k = sum_{i<k} |x_i - x_k|, right_k = sum_{j>k}. */
    double wl = 0, wr = 0, bsum = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            wr += fabs(x[i] - x[j]);
    size_t best = 0;
    for (size_t k = 0; k + 1 < n; k++) {
        double left_k = 0, right_k = 0;
        for (size_t i = 0; i < k; i++)
            left_k += fabs(x[i] - x[k]);
        for (size_t j = k + 1; j < n; j++)
            right_k += fabs(x[k] - x[j]);
        /* move x_k to the left part */
        wl += left_k;
        wr -= right_k;
        bsum += right_k - left_k;
        size_t t = k + 1; /* left size */
        size_t r = n - t;
        if (t < min_size || r < min_size)
            continue;
        double dt = (double)t, dr = (double)r;
        double q = dt * dr / (dt + dr) *
                   (2 * bsum / (dt * dr) - wl / (dt * (dt - 1) / 2) - wr / (dr * (dr - 1) / 2));
        if (q > *best_q) {
            *best_q = q;
            best = t;
        }
    }
    return best;
}

static double mean_of(const double *x, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += x[i];
    return n ? s / (double)n : NAN;
}

int jb_edivisive(const double *x, size_t n, size_t min_size, int perms, double sig, uint64_t seed,
                 struct jb_change_point *cp, int max_cp)
{
    if (min_size < 2)
        min_size = 2;
    size_t *bounds = malloc((size_t)(max_cp + 2) * sizeof(size_t));
    double *shuf = malloc((n ? n : 1) * sizeof(double));
    int ncp = 0, rc = 0;
    if (!bounds || !shuf) {
        rc = JB_ENOMEM;
        goto out;
    }
    uint64_t s = seed;
    /* bounds holds 0, the change points found so far, and n, sorted. */
    bounds[0] = 0;
    bounds[1] = n;
    int nb = 2;
    while (ncp < max_cp) {
        /* The segment whose best split diverges most is tested next. */
        double q_best = -INFINITY;
        size_t seg_lo = 0, seg_hi = 0, split = 0;
        for (int i = 0; i + 1 < nb; i++) {
            double q;
            size_t sp = best_split(x + bounds[i], bounds[i + 1] - bounds[i], min_size, &q);
            if (sp && q > q_best) {
                q_best = q;
                seg_lo = bounds[i];
                seg_hi = bounds[i + 1];
                split = bounds[i] + sp;
            }
        }
        if (!split)
            break;
        /* Permutation test: how often does a shuffled segment split at
         * least as well? */
        size_t len = seg_hi - seg_lo;
        int ge = 0;
        memcpy(shuf, x + seg_lo, len * sizeof(double));
        for (int p = 0; p < perms; p++) {
            for (size_t i = len - 1; i > 0; i--) {
                size_t j = rng_below(&s, i + 1);
                double t = shuf[i];
                shuf[i] = shuf[j];
                shuf[j] = t;
            }
            double q;
            best_split(shuf, len, min_size, &q);
            if (q >= q_best)
                ge++;
        }
        double pv = (ge + 1.0) / (perms + 1.0);
        if (pv > sig)
            break;
        cp[ncp].index = split;
        cp[ncp].q = q_best;
        cp[ncp].p_value = pv;
        ncp++;
        /* insert split into bounds, keeping order */
        int at = nb;
        while (at > 0 && bounds[at - 1] > split) {
            bounds[at] = bounds[at - 1];
            at--;
        }
        bounds[at] = split;
        nb++;
    }
    /* Sort by index and fill the means of the adjacent final segments. */
    for (int i = 1; i < ncp; i++)
        for (int j = i; j > 0 && cp[j - 1].index > cp[j].index; j--) {
            struct jb_change_point t = cp[j];
            cp[j] = cp[j - 1];
            cp[j - 1] = t;
        }
    for (int i = 0; i < ncp; i++) {
        size_t lo = i ? cp[i - 1].index : 0, hi = i + 1 < ncp ? cp[i + 1].index : n;
        cp[i].mean_before = mean_of(x + lo, cp[i].index - lo);
        cp[i].mean_after = mean_of(x + cp[i].index, hi - cp[i].index);
    }
    rc = ncp;
out:
    free(bounds);
    free(shuf);
    return rc;
}
