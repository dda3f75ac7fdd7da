/* workload.h: the interface every workload implements, and the registry.
 *
 * A workload is what is computed (a model or a calibration kernel): it
 * prepares deterministic inputs and weights from a seed, runs one iteration
 * (one unit in single-stream, `batch` units in offline), checks its own
 * output against a portable reference, and declares its operation counts so
 * that energy per MAC, bytes per token and arithmetic intensity follow.
 * The harness (runner) drives workloads through this interface only; a
 * workload never calls into the harness. Adding one is one file with a
 * `const struct jb_workload_ops` plus one line in workloads/registry.c. */
#ifndef JB_WORKLOAD_H
#define JB_WORKLOAD_H

#include <stddef.h>
#include <stdint.h>

enum jb_scenario {
    JB_SCENARIO_SINGLE_STREAM = 0, /* one unit at a time: latency per unit */
    JB_SCENARIO_OFFLINE = 1        /* `batch` units per iteration, throughput */
};

/* What the runner asks for. Pointers are borrowed for the duration of open(). */
struct jb_workload_params {
    const char *dtype;         /* "fp32", "int8", "bf16", "q8_0", "q4_0"...; NULL: default */
    const char *backend;       /* "cpu" (default when NULL), "cuda" */
    enum jb_scenario scenario;
    int batch;                 /* units per iteration; 1 in single-stream */
    int context;               /* LLM: KV-cache depth L decoded at; 0: workload default */
    int threads;               /* worker threads the workload may use (>= 1) */
    const int *cpus;           /* OS cpu index for each of `threads` workers, or NULL: unpinned */
    int bind_memory;           /* nonzero: bind allocations to the NUMA node(s) of cpus */
    uint64_t seed;             /* weights and inputs are a pure function of this */
    const char *options;       /* workload-specific "key=value,key=value" or NULL */
};

/* Work per unit (one inference, one token, one pass). Zero where unknown. */
struct jb_work_counts {
    double macs;             /* multiply-accumulates */
    double flops;            /* arithmetic operations (2 per MAC plus the rest) */
    double param_bytes;      /* weight bytes read */
    double activation_bytes; /* activation and KV-cache bytes read and written */
    double bytes_moved;      /* the workload's model of memory traffic per unit */
};

/* What an opened workload reports about itself; filled by ops->info(). */
struct jb_workload_info {
    char dtype[16];              /* the precision actually used */
    char backend[16];            /* "cpu", "cuda" */
    char kernel[48];             /* code path, e.g. "avx512", "avx2", "reference" */
    int units_per_iteration;     /* 1 in single-stream, batch in offline */
    int threads;                 /* workers actually used */
    int context;                 /* state L for LLM decode; 0 otherwise */
    struct jb_work_counts per_unit;
    char input_shape[64];        /* e.g. "1x49x10x1" */
    char check[160];             /* how the output is checked, with its tolerance */
    char timing[32];             /* "host-clock" or "cuda-events" */
    double parameters;           /* number of model parameters, 0 if none */
    /* the model file a workload read (TinyML); model_weights "" if none:
     * "official", "file" (model=FILE) or "synthetic" (no file) */
    char model_weights[16];
    char model_file[256];
    char model_sha256[65];
    /* quality on the user's data set (TinyML dataset=DIR); metric "" if
     * not measured: "top-1" (accuracy) or "auc", value and target in 0..1 */
    char quality_metric[16];
    double quality_value, quality_target;
    int quality_items;
};

/* Operations of one workload. `state` is the workload's private instance,
 * owned by it from open() until close(). All functions except open, close and
 * info return 0 or a negative JB_E... code with a message in err. */
struct jb_workload_ops {
    const char *name;        /* "ic-resnet8", "llama3.2-1b", "triad" */
    const char *version;     /* bumped whenever results stop being comparable */
    const char *family;      /* "calibration", "tinyml", "llm" */
    const char *unit;        /* "inference", "token", "pass" */
    const char *dtypes;      /* comma-separated supported precisions; first = default */
    const char *backends;    /* comma-separated: "cpu" or "cpu,cuda" */
    const char *description; /* one line for `joulebench list` */

    int (*open)(const struct jb_workload_params *p, void **state, char *err, size_t errlen);
    /* Optional (NULL: nothing to check): checks dtype and options, and the
     * files they name, before anything runs (jb_runner_plan), so that bad
     * input is exit 2 up front. 0, or JB_EINVAL / JB_ENOENT with err. */
    int (*validate)(const char *dtype, const char *options, char *err, size_t errlen);
    /* One iteration: units_per_iteration units. Called in the timed loop. */
    int (*run)(void *state, char *err, size_t errlen);
    /* Checks the output of the last run() against the reference (outside the
     * timed region). 0: pass; JB_ECHECK: fail with the reason in err. */
    int (*check)(void *state, char *err, size_t errlen);
    void (*info)(const void *state, struct jb_workload_info *out);
    void (*close)(void *state);
};

/* The registry: a NULL-terminated array of every workload, in list order. */
extern const struct jb_workload_ops *const jb_workloads[];

/* Finds a workload by name; NULL if unknown. */
const struct jb_workload_ops *jb_workload_find(const char *name);

/* Nonzero when `item` is one of the comma-separated entries of `list`. */
int jb_list_has(const char *list, const char *item);

/* Reads "key=value" from a comma-separated options string into buf.
 * Returns 1 if found, 0 if not. */
int jb_option_get(const char *options, const char *key, char *buf, size_t buflen);

#endif
