/* exec.h: measures whole runs of an outside command (`joulebench exec`), with
 * the energy sources, counters, pinning, provenance and record of a built-in
 * workload's run.
 *
 * A run is one execution of the command, from fork to its exit seen by the
 * harness; it is what it is: nothing lengthens it to suit a counter, so a
 * run shorter than a counter resolves carries the wide uncertainty that
 * follows and a warning saying what would resolve it (METHODOLOGY.md,
 * "joulebench exec"). Each run starts at an update of the slowest counter
 * (the wait is before the fork, outside the run). Counters are opened
 * before the fork and inherited by the command and its children. A run that
 * exits non-zero (or is killed by a signal) fails: it ends the measurement
 * of that command, the runs before it are kept, and the record says which
 * run failed and how.
 *
 * The command may mark regions of its own (include/joulebench/marker.h,
 * python/joulebench_marker.py) over a socket inherited as the descriptor
 * named by JB_MARKER_FD. Each message is answered once the harness has read
 * the energy sources and counters, so a region's boundaries are those reads
 * while the program waits. Each region becomes its own entry in the record
 * (measurements.regions), with the energy arithmetic of repetitions. */
#ifndef JB_EXEC_H
#define JB_EXEC_H

#include "harness/record.h"
#include "harness/regions.h"

#include <jansson.h>
#include <signal.h>
#include <stddef.h>

struct jb_exec_opts {
    const char *power;    /* --power spec; NULL: "auto" */
    const char *counters; /* --counters; NULL: "auto" */
    double idle_s;        /* --idle: idle power measured before the runs */
    int runs;             /* measured runs (>= 1) */
    int warmup_runs;      /* runs before them, executed but not measured */
    int units;            /* units one run produces (>= 1): figures are per unit */
    const char *unit;     /* their name ("run" when NULL) */
    const char *pin;      /* pin policy for the command's cpus; NULL: "none" */
    int threads;          /* cpus planned for it under pin (>= 1) */
    double timeout_s;     /* a run still going after this is killed and failed; 0: none */
    int show_output;      /* 1: the command's stdout is the terminal's; 0: /dev/null */
    const char *out_dir;  /* where records go (created if missing) */
    int argc;             /* joulebench's own command line, for provenance */
    char **argv;
    const char *sysfs_root;                   /* NULL: "/" */
    const volatile sig_atomic_t *interrupted; /* set by the CLI's SIGINT handler */
    struct jb_record_hooks hooks;
    int progress; /* progress lines on stderr */
};

struct jb_exec_command {
    char *const *argv;   /* NULL-terminated; argv[0] looked up in PATH */
    const char *display; /* the command line as shown, and the record's key */
    const char *name;    /* the record's workload name instead of display, or NULL */
};

/* Checks the options and the command (found in PATH, pin policy plans on
 * this machine) without running anything: JB_EINVAL, JB_ENOENT or
 * JB_ERANGE with err set, for the CLI's exit 2 before measuring. */
int jb_exec_plan(const struct jb_exec_opts *o, const struct jb_exec_command *c, char *err,
                 size_t errlen);

/* Runs the warm-up and measured runs of one command and writes its record.
 * On return *record (caller owns it) and record_path are set whenever a
 * record was written. Returns 0 when every run exited 0; JB_ECHECK when a
 * run failed (record written, err says which and how); JB_EINTR when
 * interrupted (record written if a run finished); another code with err
 * set when nothing could be measured or written. */
int jb_exec_run(const struct jb_exec_opts *o, const struct jb_exec_command *c, json_t **record,
                char *record_path, size_t pathlen, char *err, size_t errlen);

#endif
