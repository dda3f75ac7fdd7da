/* runner_internal.h: the state of one run shared by runner.c (the Google
 * Benchmark loop, the record) and runner_load.c (the server and
 * multi-stream scenarios). Private to those two files. */
#ifndef JB_RUNNER_INTERNAL_H
#define JB_RUNNER_INTERNAL_H

#include "base/error.h"
#include "harness/counters.h"
#include "harness/energy.h"
#include "harness/runner.h"
#include "workloads/workload.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct jb_runner {
    struct jb_runner_opts o;
    struct jb_topo *topo;
    json_t *system;        /* provenance, copied into every record */
    json_t *gbench_runs;   /* Google Benchmark "benchmarks" entries of every run */
    json_t *gbench_context;
    int nruns;
};

/* One call of the benchmark function by Google Benchmark: an iteration-count
 * probe, the warm-up, or a repetition. The last ones are the repetitions.
 *
 * Google Benchmark sizes the first repetition by calls with growing
 * iteration counts (probes) until one lasts the minimum time, and then runs
 * every later repetition at that count without timing it again. So a call
 * asked for as many iterations as the call before it is a repetition after
 * the first, and that call was a repetition too; a probe always asks for
 * more than the call before it. (After a warm-up the count starts again
 * from 1; a warm-up whose last call was one iteration makes the first probe
 * look like a repetition, which costs it a check and the minimum time.) */
struct invocation {
    size_t first_sample, nsamples;
    int64_t gb_iterations; /* what Google Benchmark asked for */
    int64_t iterations;    /* what ran, the runner's own ones included */
    double wall_s, cpu_s, timed_s;
    int repeat;       /* asked for as many iterations as the call before: a repetition */
    int ran;          /* entered the loop and touched energy and counters */
    int failed;       /* run() failed or interrupted */
    int run_error;    /* run() failed in it: a partial repetition, never kept */
    int checked;      /* output checked after it */
    int check_failed;
};

struct bench {
    struct jb_runner *r;
    const struct jb_run_spec *spec;
    const struct jb_workload_ops *ops;
    void *state;
    struct jb_workload_info info;
    struct jb_energy *energy;
    struct jb_counters *counters;
    double min_time_s;
    double *samples;
    size_t nsamples, capsamples;
    int dropped_samples;
    struct invocation *inv;
    int ninv, capinv;
    char run_err[JB_ERRLEN];
    char check_err[JB_ERRLEN];
    int run_failed, check_failed, checks;
    int run_rc; /* what the first failed run() returned (JB_EUNAVAIL: a GPU lost) */
    /* Filled by the report callback. */
    int reported;
    int keep;
    int error_runs;
    char gb_error[JB_ERRLEN];
    json_t *energy_list, *counters_obj, *warnings;
    const char *trace_path;
};

struct invocation *jb_runner_new_invocation(struct bench *b);
/* Keeps one latency sample; 0 when it was dropped (past the cap). */
int jb_runner_push_sample(struct bench *b, double v);
void jb_runner_check_repetition(struct bench *b, struct invocation *iv);

/* runner_load.c: runs the spec's server or multi-stream scenario (warm-up,
 * the optional peak search, then the repetitions, each bracketed by the
 * energy accounting) filling b's invocations and samples as the Google
 * Benchmark loop would, and *scenario with what the record's
 * measurements.scenario holds. 0, or a JB_E code with err. */
int jb_runner_load_run(struct bench *b, json_t **scenario, char *err, size_t errlen);
/* 1 when the spec's scenario is one runner_load.c runs. */
int jb_runner_is_load_scenario(const char *scenario);

#endif
