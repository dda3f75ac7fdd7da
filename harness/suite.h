/* suite.h: suite files and the run specifications they (and the command
 * line) produce.
 *
 * A suite is a text file, `suites/NAME`, with one run per line:
 *     workload [key=value ...]
 * keys: dtype backend scenario batch context threads pin options repetitions
 * min_time, and for the load scenarios (harness/scenario.h) target_qps
 * latency_bound_ms streams interval_ms find_peak. A value with commas (except pin and options) expands into one run
 * per value ("context=128,2048" is two runs). `#` starts a comment;
 * `@include NAME` includes another suite. */
#ifndef JB_SUITE_H
#define JB_SUITE_H

#include <stddef.h>

enum {
    JB_SPEC_DTYPE = 1u << 0,
    JB_SPEC_BACKEND = 1u << 1,
    JB_SPEC_SCENARIO = 1u << 2,
    JB_SPEC_BATCH = 1u << 3,
    JB_SPEC_CONTEXT = 1u << 4,
    JB_SPEC_THREADS = 1u << 5,
    JB_SPEC_PIN = 1u << 6,
    JB_SPEC_OPTIONS = 1u << 7,
    JB_SPEC_REPETITIONS = 1u << 8,
    JB_SPEC_MIN_TIME = 1u << 9,
    JB_SPEC_TARGET_QPS = 1u << 10,
    JB_SPEC_LATENCY_BOUND = 1u << 11,
    JB_SPEC_STREAMS = 1u << 12,
    JB_SPEC_INTERVAL = 1u << 13,
    JB_SPEC_FIND_PEAK = 1u << 14
};

struct jb_workload_ops;

struct jb_run_spec {
    char workload[64];
    const struct jb_workload_ops *ops; /* NULL: looked up by name in the registry */
    char dtype[16];     /* "" = the workload's default */
    char backend[16];   /* "" = cpu */
    char scenario[16];  /* "single-stream", "offline", "server" or "multi-stream" */
    int batch;          /* units per iteration in offline */
    int context;        /* 0 = workload default */
    int threads;
    char pin[128];      /* compact, scatter, none, or a cpu list */
    char options[256];
    int repetitions;
    double min_time_s;
    double target_qps;       /* server: mean Poisson arrival rate (default 100) */
    double latency_bound_ms; /* server, multi-stream: p99 bound; 0: the family's default */
    int streams;             /* multi-stream: units per query (default 8) */
    double interval_ms;      /* multi-stream: time between queries (default 50) */
    int find_peak;           /* server: search the highest rate meeting the bound */
    unsigned set;       /* JB_SPEC_* bits of the fields given explicitly */
    char origin[160];   /* "suites/tinyml:12" or "command line", for messages */
};

/* Defaults for a spec: single-stream, batch 1, 1 thread, compact pinning,
 * 5 repetitions of at least 0.5 s. */
void jb_spec_defaults(struct jb_run_spec *s);

/* Sets one key from its string value (no list expansion). */
int jb_spec_set(struct jb_run_spec *s, const char *key, const char *value, char *err,
                size_t errlen);

/* Applies every field of `over` whose bit is set in over->set onto s. */
void jb_spec_override(struct jb_run_spec *s, const struct jb_run_spec *over);

/* A growable list of specs. */
struct jb_spec_list {
    struct jb_run_spec *v;
    int n, cap;
};
int jb_spec_list_push(struct jb_spec_list *l, const struct jb_run_spec *s);
void jb_spec_list_free(struct jb_spec_list *l);

/* 1 when a and b describe the same run: the same workload and the same
 * value of every key. Where a spec came from (origin) and which keys were
 * given explicitly (set) do not count. */
int jb_spec_same(const struct jb_run_spec *a, const struct jb_run_spec *b);

/* Drops every spec that is the same run (jb_spec_same) as an earlier one,
 * keeping the first in its place: a command-line value applied to a suite
 * line's list ("threads=1,2" run with --threads 1), or a line reached twice
 * through @include, gives one run, not several identical ones. */
void jb_spec_list_dedupe(struct jb_spec_list *l);

/* Parses one line ("workload k=v ...") relative to `base`, expanding comma
 * lists, and appends the runs to out. Blank and comment lines add nothing. */
int jb_suite_parse_line(const char *line, const struct jb_run_spec *base, const char *origin,
                        struct jb_spec_list *out, char *err, size_t errlen);

/* Finds and parses a suite by name (NAME in $JB_SUITES_DIR, else among the
 * shipped suites: installed share/joulebench/suites or the source tree's
 * suites/, see base/datadir.h) or by path (contains '/'). */
int jb_suite_load(const char *name, const struct jb_run_spec *base, struct jb_spec_list *out,
                  char *err, size_t errlen);

/* Resolves a suite name to its file path. */
int jb_suite_path(const char *name, char *path, size_t n);

#endif
