/* gbench.h: a thin C interface to Google Benchmark (harness/gbench.cc is the
 * project's only C++).
 *
 * Google Benchmark decides how many iterations make a repetition long
 * enough, runs warm-up and repetitions, and computes its aggregates; its own
 * JSON output stays available (--gbench-json) so that its compare.py and
 * other tools keep working. The runner registers one benchmark per workload
 * run, drives the keep-running loop from C, and receives every run and
 * aggregate back through a callback. */
#ifndef JB_GBENCH_H
#define JB_GBENCH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct jb_gb_state; /* a benchmark::State, borrowed during a benchmark call */

typedef void (*jb_gb_fn)(struct jb_gb_state *st, void *arg);

struct jb_gb_options {
    double min_time_s;        /* minimum duration of one repetition; 0: library default */
    double min_warmup_s;      /* warm-up before the first repetition; 0: none */
    int repetitions;          /* 0 or 1: one repetition */
    int manual_time;          /* the benchmark reports each iteration's time itself */
    int real_time;            /* wall-clock rather than CPU time decides the iterations */
};

enum jb_gb_counter_flag {
    JB_GB_COUNTER_DEFAULT = 0,
    JB_GB_COUNTER_RATE = 1,           /* value per second */
    JB_GB_COUNTER_AVG_ITERATIONS = 2  /* value per iteration */
};

struct jb_gb_counter {
    const char *name;
    double value;
};

/* One reported run (a repetition) or aggregate (mean, median, stddev, cv).
 * Strings and arrays are valid only during the callback. */
struct jb_gb_run {
    const char *name;           /* the benchmark's name */
    int is_aggregate;
    const char *aggregate_name; /* "mean", "median", "stddev", "cv" or "" */
    int64_t iterations;
    int64_t repetition_index;   /* -1 for aggregates */
    int64_t repetitions;
    double real_time_s;         /* per iteration */
    double cpu_time_s;          /* per iteration */
    int error_occurred;
    const char *error_message;
    int ncounters;
    const struct jb_gb_counter *counters;
};

/* Called once per benchmark with all its runs, then its aggregates, in the
 * order Google Benchmark reports them. */
typedef void (*jb_gb_report_fn)(const struct jb_gb_run *runs, int nruns, void *ctx);

/* Registers fn(arg) as the benchmark `name`. Returns 0 or JB_EINVAL. */
int jb_gb_register(const char *name, jb_gb_fn fn, void *arg, const struct jb_gb_options *o);

/* The C keep-running loop: while (jb_gb_keep_running(st)) { ... } */
int jb_gb_keep_running(struct jb_gb_state *st);
void jb_gb_set_iteration_time(struct jb_gb_state *st, double seconds);
/* Marks the run failed; the loop then ends at its next test. */
void jb_gb_skip_with_error(struct jb_gb_state *st, const char *message);
void jb_gb_set_counter(struct jb_gb_state *st, const char *name, double value,
                       enum jb_gb_counter_flag flag);
int64_t jb_gb_max_iterations(const struct jb_gb_state *st);

/* Adds a key/value to the context block of Google Benchmark's output. */
void jb_gb_add_context(const char *key, const char *value);

/* Runs every registered benchmark; report receives each benchmark's runs.
 * json_path: where Google Benchmark writes its own JSON output, or NULL.
 * Registered benchmarks are cleared afterwards. */
int jb_gb_run_all(const char *json_path, jb_gb_report_fn report, void *ctx, char *err,
                  size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
