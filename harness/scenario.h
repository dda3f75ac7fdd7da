/* scenario.h: the load scenarios after MLPerf's LoadGen: single-stream (the
 * next query is issued when the previous one completes), multi-stream (N
 * queries issued together every interval) and server (queries arrive as a
 * seeded Poisson process at a target rate), and the search for the highest
 * server rate whose tail latency meets a bound (--find-peak).
 *
 * The engine is independent of workloads and clocks: it calls the
 * jb_scenario_io callbacks to read time, wait and run one query, so the
 * runner drives a real workload with CLOCK_MONOTONIC (runner_load.c) and
 * the tests drive a fake server on a virtual clock. One worker serves the
 * queries in arrival order; a query's latency runs from its arrival to its
 * completion, so time spent waiting in the queue behind earlier queries
 * counts (as in MLPerf server mode). */
#ifndef JB_SCENARIO_H
#define JB_SCENARIO_H

#include <stddef.h>
#include <stdint.h>

enum jb_load_kind {
    JB_LOAD_SINGLE_STREAM = 0,
    JB_LOAD_MULTI_STREAM = 1,
    JB_LOAD_SERVER = 2
};

struct jb_scenario_io {
    double (*now_s)(void *ctx);               /* monotonic seconds */
    void (*wait_until_s)(void *ctx, double t); /* idle until t (returns at once if past) */
    /* Runs one query of `units` units; 0 or a negative JB_E code with err. */
    int (*run)(void *ctx, int units, char *err, size_t errlen);
    /* Optional: asked once the duration has passed, with the mean service
     * time so far; 1 to go on issuing queries (the energy accounting waits
     * for a counter update, jb_energy_rep_more), 0 to stop. NULL: stop. */
    int (*more)(void *ctx, double service_s);
    /* Optional: 1 to stop now (an interrupt). */
    int (*stop)(void *ctx);
    void *ctx;
};

struct jb_load_params {
    enum jb_load_kind kind;
    double target_qps;  /* server: mean arrival rate */
    int streams;        /* multi-stream: queries per interval */
    double interval_s;  /* multi-stream: interval between issues */
    double duration_s;  /* issue queries for at least this long */
    uint64_t seed;      /* server: arrival process */
};

/* What one pass of the load did. lat_s holds the latency of every query
 * (arrival to completion), owned by the caller (jb_load_result_free). */
struct jb_load_result {
    double *lat_s;
    size_t n, cap;
    double t0_s, t1_s;   /* start of the pass, completion of its last query */
    double busy_s;       /* time spent running queries (the rest was idle) */
    double max_queue_s;  /* longest a query waited before it started */
};

void jb_load_result_free(struct jb_load_result *r);

/* Runs one pass of the load with p over io, appending to r (zero it first).
 * Returns 0 or what run() failed with (err set). */
int jb_load_run(const struct jb_load_params *p, const struct jb_scenario_io *io,
                struct jb_load_result *r, char *err, size_t errlen);

/* The next inter-arrival gap of a Poisson process of rate qps: exponential,
 * from the 64-bit generator state *s (splitmix64). */
double jb_poisson_gap_s(uint64_t *s, double qps);

/* Latency percentiles of r (p in 0..1, type 7) into out[0..np); lat_s is
 * sorted in place. */
void jb_load_percentiles(struct jb_load_result *r, const double *p, double *out, int np);

/* --find-peak: the highest rate in [lo_qps, hi_qps] for which eval says
 * the bound held, by bisection until the bracket is within resolution_rel
 * of its lower end (MLPerf's server search narrows the same way). eval
 * returns 1 (met), 0 (not met) or a negative JB_E code, which stops the
 * search. On success *peak_qps is the highest rate that met the bound (0
 * when even lo_qps did not), *hi_fail_qps the lowest that failed (0 when
 * hi_qps met it: the peak is at least hi_qps), *steps the evaluations. */
struct jb_peak_search {
    double lo_qps, hi_qps, resolution_rel;
    int max_steps;
};
int jb_find_peak(const struct jb_peak_search *s, int (*eval)(void *ctx, double qps), void *ctx,
                 double *peak_qps, double *hi_fail_qps, int *steps);

/* MLPerf's server latency bound for a workload family, seconds: the bounds
 * MLPerf Inference sets per benchmark (ResNet-50 15 ms, the LLMs' first
 * token 2 s; TinyML has no server scenario, so its bound is taken from the
 * ResNet-50 one scaled to the much smaller models: 10 ms, labelled a
 * joulebench choice in METHODOLOGY.md). */
double jb_scenario_default_bound_s(const char *family);

#endif
