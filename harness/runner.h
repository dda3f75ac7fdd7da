/* runner.h: runs one workload specification under controlled conditions and
 * returns its self-describing result record.
 *
 * For each spec: plan the threads' cpus (hwloc), open the counters (before the
 * workload, so its threads inherit them), open the energy sources, open the
 * workload (weights, inputs, thread pool), then let Google Benchmark run
 * warm-up and repetitions while the runner times every iteration, reads
 * energy and counters around every repetition (extending it by whole
 * iterations to the minimum time where Google Benchmark's iteration count,
 * sized by the first repetition, falls short, and until a slow energy
 * counter updates, so that it ends at an update) and checks the output
 * after each, and finally build and write the record atomically. */
#ifndef JB_RUNNER_H
#define JB_RUNNER_H

#include "harness/suite.h"
#include "harness/topology.h"

#include <jansson.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>

struct jb_runner;

struct jb_runner_opts {
    const char *suite;        /* suite name for the record, or NULL */
    const char *power;        /* --power spec ("auto" when NULL) */
    const char *counters;     /* --counters ("auto" when NULL) */
    double idle_s;            /* --idle: seconds of idle power measured before each run */
    double warmup_s;          /* warm-up before the first repetition */
    const char *out_dir;      /* where records go (created if missing) */
    const char *gbench_json;  /* Google Benchmark's own JSON for all runs, or NULL */
    uint64_t seed;
    int progress;             /* progress lines on stderr */
    int argc;                 /* the command line, for provenance */
    char **argv;
    const char *sysfs_root;   /* NULL: "/" */
    const volatile sig_atomic_t *interrupted; /* set by the CLI's SIGINT handler */
    /* Optional hooks, called with every record: before it is written (the
     * CLI adds the normalized `derived` figures there) and after (the CLI
     * stores it in the results database). A failing hook becomes a warning
     * in the record (before) or an error of the run (after); the record file
     * is kept either way. */
    int (*before_write)(json_t *record, void *ctx, char *err, size_t errlen);
    int (*after_write)(const json_t *record, const char *path, void *ctx, char *err,
                       size_t errlen);
    /* Google Benchmark's JSON of the run (modifiable) with its record, before
     * it is written beside the record and merged into gbench_json: the CLI
     * adds the energy as user counters there. */
    void (*gbench_hook)(json_t *gbench_doc, const json_t *record, void *ctx);
    void *hook_ctx;
};

int jb_runner_open(const struct jb_runner_opts *o, struct jb_runner **out, char *err,
                   size_t errlen);

/* Checks one spec on topology t (this machine's, jb_topo_open) without
 * running it: the workload exists and has the dtype and back-end asked for,
 * the pin policy parses, and its threads can be placed (every listed cpu
 * exists and is allowed, no more threads than cpus). Returns 0, or what
 * jb_runner_run would fail with before measuring, err naming the spec's
 * origin: JB_ENOENT, JB_EINVAL or JB_ERANGE for input that cannot run here,
 * JB_ENOMEM or JB_EIO for a fault of joulebench or hwloc. Needs no runner,
 * so the CLI plans every spec before it opens anything or runs the first,
 * and bad input costs no measuring and leaves no files. */
int jb_runner_plan(const struct jb_topo *t, const struct jb_run_spec *s, char *err, size_t errlen);

/* Runs one spec. On success *record is the record (caller owns it) and
 * record_path its file. Returns 0; JB_ECHECK when the output check failed
 * (record written, validity fail); JB_EINTR when interrupted (the record is
 * written, marked incomplete, if any repetition finished); when the
 * workload's run() failed, the code it failed with (JB_EUNAVAIL for a lost
 * GPU; JB_EIO if it gave JB_ECHECK or JB_EINTR, which mean the above), with
 * the record written, marked incomplete, if any repetition finished before;
 * another code with err set when nothing could be measured. */
int jb_runner_run(struct jb_runner *r, const struct jb_run_spec *s, json_t **record,
                  char *record_path, size_t pathlen, char *err, size_t errlen);

/* Writes the merged Google Benchmark JSON (if asked) and frees everything. */
int jb_runner_close(struct jb_runner *r, char *err, size_t errlen);

#endif
