/* llm_paired.c: the LLM decode step's bandwidth as a fraction of the triad's,
 * measured in interleaved pairs.
 *
 * On a VM the bandwidth available drifts by a factor of two or more within
 * minutes as neighbours come and go, so a triad measured a minute before an
 * LLM run says little about the roof that run had. This tool keeps both
 * workloads open at the same thread count and alternates them (one triad
 * pass, then enough decode steps to last as long), so that each LLM sample
 * has a triad sample taken within milliseconds of it; it prints the median
 * of the per-pair ratios with its interquartile range, and both medians.
 *
 * usage: llm_paired MODEL DTYPE CONTEXT THREADS [SECONDS [TRIAD_MIB]] */
#include "base/error.h"
#include "workloads/workload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double quantile(double *v, int n, double q)
{
    qsort(v, (size_t)n, sizeof(double), cmp_double);
    return v[(int)(q * (n - 1) + 0.5)];
}

#define MAX_PAIRS 4096

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: llm_paired MODEL DTYPE CONTEXT THREADS [SECONDS [TRIAD_MIB]]\n");
        return 2;
    }
    int threads = atoi(argv[4]), rc = 1;
    double seconds = argc > 5 ? atof(argv[5]) : 20.0;
    char topt[32], err[JB_ERRLEN];
    snprintf(topt, sizeof(topt), "mib=%s", argc > 6 ? argv[6] : "1024");
    int cpus[64];
    for (int i = 0; i < threads && i < 64; i++)
        cpus[i] = i;
    const struct jb_workload_ops *tw = jb_workload_find("triad"), *lw = jb_workload_find(argv[1]);
    if (!lw || threads < 1 || threads > 64) {
        fprintf(stderr, "llm_paired: unknown workload '%s' or bad thread count\n", argv[1]);
        return 2;
    }
    struct jb_workload_params tp = {0}, lp = {0};
    tp.threads = lp.threads = threads;
    tp.cpus = lp.cpus = cpus;
    tp.seed = lp.seed = 1;
    tp.options = topt;
    lp.dtype = argv[2];
    lp.context = atoi(argv[3]);
    void *ts = NULL, *ls = NULL;
    if (jb_workload_open(tw, &tp, &ts, err, sizeof(err)) || jb_workload_open(lw, &lp, &ls, err, sizeof(err))) {
        fprintf(stderr, "llm_paired: %s\n", err);
        goto out;
    }
    struct jb_workload_info ti = {0}, li = {0};
    tw->info(ts, &ti);
    lw->info(ls, &li);
    static double ratio[MAX_PAIRS], tgb[MAX_PAIRS], lgb[MAX_PAIRS];
    int n = 0, steps = 1;
    /* warm both up once (page faults, caches) */
    tw->run(ts, err, sizeof(err));
    lw->run(ls, err, sizeof(err));
    double t_end = now_s() + seconds;
    while (now_s() < t_end && n < MAX_PAIRS) {
        double t0 = now_s();
        if (tw->run(ts, err, sizeof(err)))
            goto fail;
        double t1 = now_s();
        for (int i = 0; i < steps; i++)
            if (lw->run(ls, err, sizeof(err)))
                goto fail;
        double t2 = now_s();
        tgb[n] = ti.per_unit.bytes_moved / (t1 - t0) / 1e9;
        lgb[n] = li.per_unit.bytes_moved * steps / (t2 - t1) / 1e9;
        ratio[n] = lgb[n] / tgb[n];
        n++;
        /* as many steps as a triad pass lasts, so both see the same moment */
        steps = (int)((t1 - t0) / ((t2 - t1) / steps) + 0.5);
        steps = steps < 1 ? 1 : steps > 1000 ? 1000 : steps;
    }
    if (lw->check(ls, err, sizeof(err)))
        goto fail;
    double r50 = quantile(ratio, n, 0.5), r25 = quantile(ratio, n, 0.25),
           r75 = quantile(ratio, n, 0.75);
    printf("%s %s L=%d t=%d: %d pairs; LLM %.1f GB/s, triad %s %.1f GB/s (medians); "
           "LLM/triad %.0f%% (IQR %.0f-%.0f%%); check pass\n",
           argv[1], li.dtype, li.context, threads, n, quantile(lgb, n, 0.5), topt,
           quantile(tgb, n, 0.5), 100 * r50, 100 * r25, 100 * r75);
    rc = 0;
    goto out;
fail:
    fprintf(stderr, "llm_paired: %s\n", err);
out:
    if (ls)
        lw->close(ls);
    if (ts)
        tw->close(ts);
    return rc;
}
