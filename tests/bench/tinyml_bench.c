/* tinyml_bench.c: the TinyML benchmark table of README.md.
 *
 * For each model and precision: median latency of one inference with the
 * portable reference kernels and with the optimized kernels at each ISA
 * this CPU has (AVX2, AVX-512), the optimized path's MAC rate and its
 * speed-up over the reference; and the per-inference overhead of going
 * through the workload interface (ops->run in single-stream) against a bare
 * loop of model runs (the runner's own overhead needs the runner, which is
 * measured separately). Single thread. Not a test: numbers for the README.
 * Usage: tinyml_bench [min_seconds_per_cell (default 0.3)] */
#include "platforms/cpu/cpu_features.h"
#include "workloads/tinyml/tinyml_model.h"
#include "workloads/workload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

#define MAX_SAMPLES 4096

/* Median of per-call times, calls batched so each sample is >= 20 us. */
static double median_model(const struct jb_tm_model *m, int ref, const void *in, void *out,
                           void *arena, double min_s)
{
    static double t[MAX_SAMPLES];
    int inner = 1;
    double t0 = now_s();
    jb_tm_model_run(m, ref, in, out, arena);
    double one = now_s() - t0;
    if (one < 20e-6)
        inner = (int)(20e-6 / (one > 1e-9 ? one : 1e-9)) + 1;
    int n = 0;
    double start = now_s();
    while (n < MAX_SAMPLES && (n < 5 || now_s() - start < min_s)) {
        t0 = now_s();
        for (int i = 0; i < inner; i++)
            jb_tm_model_run(m, ref, in, out, arena);
        t[n++] = (now_s() - t0) / inner;
    }
    qsort(t, (size_t)n, sizeof(double), cmp_d);
    return t[n / 2];
}

/* Overhead of the workload interface: samples of a bare loop of model runs
 * and of ops->run() alternate, so that drift and neighbours' load hit both
 * alike; the medians are compared. */
static double overhead_pct(const struct jb_tm_model *m, const void *in, void *out, void *arena,
                           const struct jb_workload_ops *ops, void *st, double per_call_s,
                           double min_s)
{
    static double tb[MAX_SAMPLES], tv[MAX_SAMPLES];
    char err[256];
    int inner = (int)(200e-6 / per_call_s) + 1, n = 0;
    double start = now_s();
    while (n < MAX_SAMPLES && (n < 11 || now_s() - start < min_s)) {
        double t0 = now_s();
        for (int i = 0; i < inner; i++)
            jb_tm_model_run(m, 0, in, out, arena);
        double t1 = now_s();
        for (int i = 0; i < inner; i++)
            ops->run(st, err, sizeof(err));
        tb[n] = t1 - t0;
        tv[n++] = now_s() - t1;
    }
    qsort(tb, (size_t)n, sizeof(double), cmp_d);
    qsort(tv, (size_t)n, sizeof(double), cmp_d);
    return 100.0 * (tv[n / 2] - tb[n / 2]) / tb[n / 2];
}

int main(int argc, char **argv)
{
    double min_s = argc > 1 ? atof(argv[1]) : 0.3;
    const struct jb_tm_model_def *defs[] = {&jb_tm_kws_dscnn, &jb_tm_vww_mobilenet,
                                            &jb_tm_ic_resnet8, &jb_tm_ad_autoencoder};
    const char *dts[] = {"int8", "fp32"};
    enum jb_isa best = jb_cpu_isa();
    printf("| model | dtype | MMAC | reference | avx2 | avx512 | GMAC/s (best) | speed-up avx2 "
           "| speed-up avx512 | workload overhead |\n");
    printf("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (int d = 0; d < 4; d++)
        for (int q = 0; q < 2; q++) {
            char err[256];
            double lat[3] = {0, 0, 0};
            double macs = 0, bare = 0;
            for (int isa = JB_ISA_REFERENCE; isa <= JB_ISA_AVX512; isa++) {
                if (isa > (int)best)
                    continue;
                struct jb_tm_model *m;
                if (jb_tm_model_open(defs[d], q ? JB_TM_FP32 : JB_TM_INT8, 1, (enum jb_isa)isa, &m,
                                     err, sizeof(err))) {
                    fprintf(stderr, "%s\n", err);
                    return 1;
                }
                macs = jb_tm_model_counts(m)->macs;
                size_t eb = jb_tm_model_elem_bytes(m);
                void *in = malloc(jb_tm_model_input_elems(m) * eb);
                void *out = malloc(jb_tm_model_output_elems(m) * eb);
                void *arena = aligned_alloc(64, jb_tm_model_arena_bytes(m));
                jb_tm_model_make_input(m, 1, 0, in);
                lat[isa] = median_model(m, isa == JB_ISA_REFERENCE, in, out, arena, min_s);
                if (isa == (int)best)
                    bare = lat[isa];
                free(in);
                free(out);
                free(arena);
                jb_tm_model_close(m);
            }
            /* the same inference through the workload interface */
            const struct jb_workload_ops *ops = jb_workload_find(defs[d]->name);
            struct jb_workload_params p = {.dtype = dts[q],
                                           .scenario = JB_SCENARIO_SINGLE_STREAM,
                                           .batch = 1,
                                           .threads = 1,
                                           .seed = 1};
            void *st;
            struct jb_tm_model *m;
            if (!ops || ops->open(&p, &st, err, sizeof(err)) ||
                jb_tm_model_open(defs[d], q ? JB_TM_FP32 : JB_TM_INT8, 1, best, &m, err,
                                 sizeof(err))) {
                fprintf(stderr, "%s\n", err);
                return 1;
            }
            size_t eb = jb_tm_model_elem_bytes(m);
            void *in = malloc(jb_tm_model_input_elems(m) * eb);
            void *out = malloc(jb_tm_model_output_elems(m) * eb);
            void *arena = aligned_alloc(64, jb_tm_model_arena_bytes(m));
            jb_tm_model_make_input(m, 1, 0, in);
            double ovh = overhead_pct(m, in, out, arena, ops, st, bare, min_s);
            free(in);
            free(out);
            free(arena);
            jb_tm_model_close(m);
            ops->close(st);
            char a2[32] = "-", a5[32] = "-", s2[32] = "-", s5[32] = "-";
            if (lat[1] > 0) {
                snprintf(a2, sizeof(a2), "%.1f us", lat[1] * 1e6);
                snprintf(s2, sizeof(s2), "%.1fx", lat[0] / lat[1]);
            }
            if (lat[2] > 0) {
                snprintf(a5, sizeof(a5), "%.1f us", lat[2] * 1e6);
                snprintf(s5, sizeof(s5), "%.1fx", lat[0] / lat[2]);
            }
            printf("| %s | %s | %.3f | %.1f us | %s | %s | %.2f | %s | %s | %+.2f%% |\n",
                   defs[d]->name, dts[q], macs / 1e6, lat[0] * 1e6, a2, a5, macs / bare / 1e9, s2,
                   s5, ovh);
            fflush(stdout);
        }
    return 0;
}
