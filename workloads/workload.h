/* workload.h: the interface every workload implements, and the registry.
 *
 * A workload is what is computed (a model or a calibration kernel): it
 * prepares deterministic inputs and weights from a seed, runs one iteration
 * (one unit in single-stream, `batch` units in offline), checks its own
 * output against a portable reference, and declares its operation counts so
 * that energy per MAC, bytes per token and arithmetic intensity follow.
 * The computing itself is a back-end's (platforms/backend.h): open() takes
 * the back-end named in the parameters (or the family's default), and
 * check() compares what it computed with the family's one oracle. The
 * harness (runner) drives workloads through this interface only; a workload
 * never calls into the harness. Adding one is one file with a `const struct
 * jb_workload_ops` plus one line in workloads/registry.c; an LLM
 * configuration is one row of workloads/llm/llm_configs.h. */
#ifndef JB_WORKLOAD_H
#define JB_WORKLOAD_H

#include "base/options.h"
#include "platforms/backend.h"

#include <stddef.h>
#include <stdint.h>

/* Operations of one workload. `state` is the workload's private instance,
 * owned by it from open() until close(). All functions except open, close and
 * info return 0 or a negative JB_E... code with a message in err. */
struct jb_workload_ops {
    const char *name;        /* "ic-resnet8", "llama3.2-1b", "triad" */
    const char *version;     /* bumped whenever results stop being comparable */
    const char *family;      /* "calibration", "tinyml", "llm" */
    const char *unit;        /* "inference", "token", "pass" */
    const char *dtypes;      /* comma-separated precisions of the model; each back-end
                              * computes a subset and has its own default */
    const char *description; /* one line for `joulebench list` */
    const struct jb_option_def *options; /* the workload's own options, or NULL */
    /* Old names kept so that old records, suites and rows still resolve:
     * "cuda-llama3.1-8b" is llama3.1-8b on the cuda back-end. NULL for a
     * workload's own name. */
    const char *alias_of;
    const char *alias_backend;
    /* the back-end when none is asked (NULL: the family's first, cpu) */
    const char *default_backend;

    /* Reached through jb_workload_open, which resolves p->backend (the
     * alias's, the one asked, or the default) and checks the options. */
    int (*open)(const struct jb_workload_params *p, void **state, char *err, size_t errlen);
    /* Optional (NULL: nothing more to check): checks what the option table
     * cannot, the files the options name (a model file is read and its
     * graph built), before anything runs (jb_runner_plan), so that bad input
     * is exit 2 up front. backend: the one the run goes to. 0, or JB_EINVAL
     * / JB_ENOENT with err. */
    int (*validate)(const char *dtype, const char *backend, const char *options, char *err,
                    size_t errlen);
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

/* Finds a workload by name or alias; NULL if unknown. */
const struct jb_workload_ops *jb_workload_find(const char *name);

/* The workload an alias stands for (w itself when it is no alias). */
const struct jb_workload_ops *jb_workload_canonical(const struct jb_workload_ops *w);

/* The back-end a run of w with `asked` (NULL or "": none asked) goes to:
 * the alias's, the one asked, or the family's first registered one (cpu):
 * never a guess from what this machine has, so that a suite means the same
 * everywhere. Whether it can run here is its probe's to say. Fails with
 * JB_EINVAL when an alias's back-end and the one asked differ or the name is
 * no back-end of the family, listing those that are. */
int jb_workload_backend(const struct jb_workload_ops *w, const char *asked,
                        const struct jb_backend **out, char *err, size_t errlen);

/* Checks an options spec against w's table and its back-end's. Returns 0 or
 * JB_EINVAL naming the option and listing the valid ones. */
int jb_workload_options_check(const struct jb_workload_ops *w, const struct jb_backend *b,
                              const char *spec, char *err, size_t errlen);

/* Opens w with p (the runner's way, and the tests'). */
int jb_workload_open(const struct jb_workload_ops *w, const struct jb_workload_params *p,
                     void **state, char *err, size_t errlen);


#endif
