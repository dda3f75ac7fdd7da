/* tinyml_bench.c: the TinyML benchmark table of README.md.
 *
 * For each model and precision: median thread CPU time of one inference
 * with the portable reference kernels and with the optimized kernels at each ISA
 * this CPU has (AVX2, AVX-512), the optimized path's MAC rate and its
 * speed-up over the reference; and the per-inference overhead of going
 * through the workload interface (ops->run in single-stream) against a bare
 * loop of model runs (wall clock, paired samples); and the harness's overhead: the runner's median
 * per-iteration latency against the bare loop's. Single thread. Not a
 * test: numbers for the README.
 * The models are the workloads' defaults (the official MLPerf Tiny files);
 * a second argument gives workload options instead ("weights=synthetic").
 * Usage: tinyml_bench [min_seconds_per_cell (default 0.3)] [options] */
#include "harness/runner.h"
#include "harness/suite.h"
#include "platforms/cpu/cpu_features.h"
#include "platforms/tinyml/tinyml_model.h"
#include "workloads/tinyml/tinyml_official.h"
#include "workloads/workload.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* CPU time of this thread: the kernel comparison uses it, because on a
 * shared machine a long call (the reference, milliseconds) is preempted by
 * other processes far more often than a short one, which would inflate the
 * speed-ups under wall-clock timing. */
static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

#define MAX_SAMPLES 4096

/* Median of per-call times on `clock`, calls batched so each sample is
 * >= 20 us; at least min_s of wall time. */
static double median_model(const struct jb_tm_model *m, int ref, const void *in, void *out,
                           void *arena, double min_s, double (*clock)(void), double *fastest)
{
    static double t[MAX_SAMPLES];
    int inner = 1;
    double t0 = clock();
    jb_tm_model_run(m, ref, in, out, arena);
    double one = clock() - t0;
    if (one < 20e-6)
        inner = (int)(20e-6 / (one > 1e-9 ? one : 1e-9)) + 1;
    int n = 0;
    double start = now_s();
    while (n < MAX_SAMPLES && (n < 5 || now_s() - start < min_s)) {
        t0 = clock();
        for (int i = 0; i < inner; i++)
            jb_tm_model_run(m, ref, in, out, arena);
        t[n++] = (clock() - t0) / inner;
    }
    qsort(t, (size_t)n, sizeof(double), cmp_d);
    if (fastest)
        *fastest = t[0];
    return t[n / 2];
}

/* Overhead of the workload interface: a sample of a bare loop of model
 * runs and one of ops->run() alternate, so that drift and neighbours' load
 * hit both alike; the median of the paired ratios is reported. */
static double overhead_pct(const struct jb_tm_model *m, const void *in, void *out, void *arena,
                           const struct jb_workload_ops *ops, void *st, double per_call_s,
                           double min_s)
{
    static double ratio[MAX_SAMPLES];
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
        ratio[n++] = (now_s() - t1) / (t1 - t0);
    }
    qsort(ratio, (size_t)n, sizeof(double), cmp_d);
    return 100.0 * (ratio[n / 2] - 1.0);
}

#define HARNESS_ROUNDS 5

/* Harness overhead: the runner's median per-iteration latency (single
 * stream, its per-iteration timer included) against a bare loop's median,
 * measured alternately HARNESS_ROUNDS times; the median of the paired
 * ratios, and their spread in *lo_pct..*hi_pct (the machine's noise); and
 * in *min_pct the same for the fastest iteration against the fastest bare
 * call (least disturbed by other processes on a shared machine). */
static const char *bench_options; /* argv[2]: workload options, NULL for the defaults */

static int bench_open(const struct jb_tm_model_def *def, enum jb_tm_dtype dt, enum jb_isa isa,
                      struct jb_tm_model **m, char *err, size_t errlen)
{
    struct jb_tm_model_source src;
    return jb_tm_workload_model_open(def, dt, bench_options, 1, isa, m, &src, err, errlen);
}

static double harness_pct(struct jb_runner *r, const char *name, const char *dtype,
                          const struct jb_tm_model *m, const void *in, void *out, void *arena,
                          double min_s, double *lo_pct, double *hi_pct, double *min_pct)
{
    double ratio[HARNESS_ROUNDS], rmin[HARNESS_ROUNDS];
    char err[256], path[512];
    for (int k = 0; k < HARNESS_ROUNDS; k++) {
        double bare = median_model(m, 0, in, out, arena, min_s / HARNESS_ROUNDS, now_s, NULL);
        /* fastest single call, timed one by one as the runner times each
         * iteration (one clock pair per call on both sides) */
        double bare_min = INFINITY, start = now_s();
        while (now_s() - start < min_s / HARNESS_ROUNDS / 2) {
            double t0 = now_s();
            jb_tm_model_run(m, 0, in, out, arena);
            double dt = now_s() - t0;
            bare_min = dt < bare_min ? dt : bare_min;
        }
        struct jb_run_spec s;
        jb_spec_defaults(&s);
        snprintf(s.workload, sizeof(s.workload), "%s", name);
        snprintf(s.dtype, sizeof(s.dtype), "%s", dtype);
        snprintf(s.origin, sizeof(s.origin), "tinyml_bench");
        snprintf(s.options, sizeof(s.options), "%s", bench_options ? bench_options : "");
        s.repetitions = 2;
        s.min_time_s = min_s / HARNESS_ROUNDS / 2;
        json_t *rec = NULL;
        if (jb_runner_run(r, &s, &rec, path, sizeof(path), err, sizeof(err))) {
            fprintf(stderr, "runner: %s\n", err);
            *lo_pct = *hi_pct = *min_pct = NAN;
            return NAN;
        }
        json_t *lat = json_object_get(json_object_get(rec, "measurements"), "latency_s");
        double run = json_number_value(json_object_get(lat, "median"));
        double run_min = json_number_value(json_object_get(lat, "min"));
        json_decref(rec);
        ratio[k] = run / bare;
        rmin[k] = run_min / bare_min;
    }
    qsort(ratio, HARNESS_ROUNDS, sizeof(double), cmp_d);
    qsort(rmin, HARNESS_ROUNDS, sizeof(double), cmp_d);
    *min_pct = 100.0 * (rmin[HARNESS_ROUNDS / 2] - 1.0);
    *lo_pct = 100.0 * (ratio[0] - 1.0);
    *hi_pct = 100.0 * (ratio[HARNESS_ROUNDS - 1] - 1.0);
    return 100.0 * (ratio[HARNESS_ROUNDS / 2] - 1.0);
}

int main(int argc, char **argv)
{
    double min_s = argc > 1 ? atof(argv[1]) : 0.3;
    bench_options = argc > 2 ? argv[2] : NULL;
    const struct jb_tm_model_def *defs[] = {&jb_tm_kws_dscnn, &jb_tm_vww_mobilenet,
                                            &jb_tm_ic_resnet8, &jb_tm_ad_autoencoder};
    const char *dts[] = {"int8", "fp32"};
    enum jb_isa best = jb_cpu_isa();
    char dir[] = "/tmp/jb_tinyml_bench_XXXXXX", err0[256];
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    struct jb_runner_opts ro = {.out_dir = dir, .warmup_s = 0.05, .seed = 1};
    struct jb_runner *runner;
    if (jb_runner_open(&ro, &runner, err0, sizeof(err0))) {
        fprintf(stderr, "runner: %s\n", err0);
        return 1;
    }
    printf("| model | dtype | MMAC | reference | avx2 | avx512 | GMAC/s (best) | speed-up avx2 "
           "| speed-up avx512 | workload overhead | harness overhead: medians [spread] | harness "
           "overhead: fastest |\n");
    printf("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (int d = 0; d < 4; d++)
        for (int q = 0; q < 2; q++) {
            char err[256];
            double lat[3] = {0, 0, 0};
            double macs = 0, bare = 0;
            for (int isa = JB_ISA_REFERENCE; isa <= JB_ISA_AVX512; isa++) {
                if (isa > (int)best)
                    continue;
                struct jb_tm_model *m;
                if (bench_open(defs[d], q ? JB_TM_FP32 : JB_TM_INT8, (enum jb_isa)isa, &m, err,
                               sizeof(err))) {
                    fprintf(stderr, "%s\n", err);
                    return 1;
                }
                macs = jb_tm_model_counts(m)->macs;
                size_t eb = jb_tm_model_elem_bytes(m);
                void *in = malloc(jb_tm_model_input_elems(m) * eb);
                void *out = malloc(jb_tm_model_output_elems(m) * eb);
                void *arena = aligned_alloc(64, jb_tm_model_arena_bytes(m));
                jb_tm_model_make_input(m, 1, 0, in);
                lat[isa] =
                    median_model(m, isa == JB_ISA_REFERENCE, in, out, arena, min_s, cpu_s, NULL);
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
                                           .seed = 1,
                                           .options = bench_options};
            void *st;
            struct jb_tm_model *m;
            if (!ops || jb_workload_open(ops, &p, &st, err, sizeof(err)) ||
                bench_open(defs[d], q ? JB_TM_FP32 : JB_TM_INT8, best, &m, err, sizeof(err))) {
                fprintf(stderr, "%s\n", err);
                return 1;
            }
            size_t eb = jb_tm_model_elem_bytes(m);
            void *in = malloc(jb_tm_model_input_elems(m) * eb);
            void *out = malloc(jb_tm_model_output_elems(m) * eb);
            void *arena = aligned_alloc(64, jb_tm_model_arena_bytes(m));
            jb_tm_model_make_input(m, 1, 0, in);
            double ovh = overhead_pct(m, in, out, arena, ops, st, bare, min_s);
            double hlo = NAN, hhi = NAN, hmin = NAN;
            double hovh = harness_pct(runner, defs[d]->name, dts[q], m, in, out, arena, min_s, &hlo,
                                      &hhi, &hmin);
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
            printf("| %s | %s | %.3f | %.1f us | %s | %s | %.2f | %s | %s | %+.2f%% | %+.2f%% "
                   "[%+.1f, %+.1f] | %+.2f%% |\n",
                   defs[d]->name, dts[q], macs / 1e6, lat[0] * 1e6, a2, a5, macs / bare / 1e9, s2,
                   s5, ovh, hovh, hlo, hhi, hmin);
            fflush(stdout);
        }
    jb_runner_close(runner, err0, sizeof(err0));
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : 1;
}
