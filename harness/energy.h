/* energy.h: energy accounting for a run, over the selected power sources.
 *
 * The runner opens one jb_energy for a whole invocation with the --power
 * spec, then for each workload run: begin_run, then rep_begin / rep_end
 * around every repetition (outside of nothing: these bracket the timed loop;
 * rep_more, asked between iterations once the loop has run its minimum
 * time, can have it run whole iterations more so that it ends right after
 * a counter update), then finish_run, which turns the kept repetitions into
 * the record's `measurements.energy` list (one entry per domain, measured or
 * labelled estimate, with uncertainty) and warnings. It owns any sampler
 * thread. */
#ifndef JB_ENERGY_H
#define JB_ENERGY_H

#include <jansson.h>
#include <stddef.h>

struct jb_energy;

struct jb_energy_opts {
    int threads;          /* workload worker threads */
    const int *cpus;      /* their OS cpus, or NULL when unpinned */
    int sampler_cpu;      /* cpu for the sampler thread, -1: leave unpinned */
    const char *sysfs_root; /* NULL: "/" */
    int with_children;    /* the workload is child processes (joulebench exec): the
                           * estimate counts their CPU time too */
};

/* What the runner measured over one repetition. */
struct jb_rep_stats {
    double wall_s; /* duration of the repetition's timed region */
    double cpu_s;  /* process CPU time over it (for the estimate) */
    double units;  /* units (inferences, tokens...) completed in it */
};

/* spec: "auto", or "NAME[:options][+NAME[:options]...]" (see --power).
 * Besides its own options, every source takes align=end (the default) or
 * align=start: whether repetitions aligned to its counter's updates are
 * aligned at both ends or, as before end alignment existed, at the start
 * only with the minimum repetition raised instead (METHODOLOGY.md 5.3). */
int jb_energy_open(const char *spec, const struct jb_energy_opts *o, struct jb_energy **out,
                   char *err, size_t errlen);
void jb_energy_close(struct jb_energy *e);

/* Shortest repetition, in seconds, for which every domain's quantization
 * error stays under 1% (counter update period, resolution), as far as it is
 * known before the run; 0 if none. A counter whose repetition ends are
 * aligned asks nothing here: what it needs depends on the iteration time
 * and is asked for by jb_energy_rep_more. */
double jb_energy_min_duration_s(const struct jb_energy *e);

/* Measures idle power for `seconds` before the runs (--idle S). */
int jb_energy_idle(struct jb_energy *e, double seconds, char *err, size_t errlen);

void jb_energy_begin_run(struct jb_energy *e);
int jb_energy_rep_begin(struct jb_energy *e);

/* Asked by the runner after each whole iteration once the repetition has
 * run its minimum time: 1 to run one more iteration, 0 to end it now.
 * iteration_s is the iteration time so far (mean). While it says 1 the
 * repetition is too short for the aligned counter's 1% rule, or it is
 * waiting for that counter to update (it reads it between iterations,
 * spaced so that the reads take about 1% of the time), so that the
 * repetition ends right after an update; past a deadline of 3 update
 * periods, or when iterations are too long for that to pay, it asks for the
 * start-aligned rule's length instead and the record says so. Returns 0 at
 * once when no counter is aligned to. */
int jb_energy_rep_more(struct jb_energy *e, double iteration_s);

/* Ends the repetition: at the update jb_energy_rep_more saw, or now. r
 * describes the whole repetition, the iterations asked for by
 * jb_energy_rep_more included. */
int jb_energy_rep_end(struct jb_energy *e, const struct jb_rep_stats *r);

/* Turns the last `keep_last` repetitions of this run into energy entries
 * appended to energy_list (a JSON array) and warnings (strings) appended to
 * warnings. Earlier repetitions (Google Benchmark's iteration-count probing)
 * are discarded. If trace_path is non-NULL, writes the power trace of the
 * kept repetitions there as CSV (time_s,domain,watts). */
int jb_energy_finish_run(struct jb_energy *e, int keep_last, json_t *energy_list,
                         json_t *warnings, const char *trace_path, char *err, size_t errlen);

/* Intervals that the measured program delimits itself (the marker regions
 * of `joulebench exec`): jb_energy_mark reads every domain now and returns
 * the time to use as a boundary; jb_energy_finish_intervals turns n such
 * intervals, taken during the current run, into energy entries as
 * jb_energy_finish_run does for repetitions, with the same arithmetic and
 * uncertainty, both boundaries counted as unaligned. */
struct jb_energy_interval {
    double t0_s, t1_s;       /* from jb_energy_mark */
    struct jb_rep_stats st;  /* wall_s, cpu_s, units of the interval */
};
double jb_energy_mark(struct jb_energy *e);
int jb_energy_finish_intervals(struct jb_energy *e, const struct jb_energy_interval *iv, int n,
                               json_t *energy_list, json_t *warnings, char *err, size_t errlen);

/* For `joulebench probe`: appends one object per registered source to `out`
 * (name, state "working"/"absent", reason, domains with resolution and the
 * update period measured on the spot). */
int jb_energy_probe(json_t *out, const char *sysfs_root);

#endif
