/* energy.h: energy accounting for a run, over the selected power sources.
 *
 * The runner opens one jb_energy for a whole invocation with the --power
 * spec, then for each workload run: begin_run, then rep_begin / rep_end
 * around every repetition (outside of nothing: these bracket the timed loop),
 * then finish_run, which turns the kept repetitions into the record's
 * `measurements.energy` list (one entry per domain, measured or labelled
 * estimate, with uncertainty) and warnings. It owns any sampler thread. */
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
};

/* What the runner measured over one repetition. */
struct jb_rep_stats {
    double wall_s; /* duration of the repetition's timed region */
    double cpu_s;  /* process CPU time over it (for the estimate) */
    double units;  /* units (inferences, tokens...) completed in it */
};

/* spec: "auto", or "NAME[:options][,NAME[:options]...]" (see --power). */
int jb_energy_open(const char *spec, const struct jb_energy_opts *o, struct jb_energy **out,
                   char *err, size_t errlen);
void jb_energy_close(struct jb_energy *e);

/* Shortest repetition, in seconds, for which every domain's quantization
 * error stays under 1% (counter update period, resolution); 0 if none. */
double jb_energy_min_duration_s(const struct jb_energy *e);

/* Measures idle power for `seconds` before the runs (--idle S). */
int jb_energy_idle(struct jb_energy *e, double seconds, char *err, size_t errlen);

void jb_energy_begin_run(struct jb_energy *e);
int jb_energy_rep_begin(struct jb_energy *e);
int jb_energy_rep_end(struct jb_energy *e, const struct jb_rep_stats *r);

/* Turns the last `keep_last` repetitions of this run into energy entries
 * appended to energy_list (a JSON array) and warnings (strings) appended to
 * warnings. Earlier repetitions (Google Benchmark's iteration-count probing)
 * are discarded. If trace_path is non-NULL, writes the power trace of the
 * kept repetitions there as CSV (time_s,domain,watts). */
int jb_energy_finish_run(struct jb_energy *e, int keep_last, json_t *energy_list,
                         json_t *warnings, const char *trace_path, char *err, size_t errlen);

/* For `joulebench probe`: appends one object per registered source to `out`
 * (name, state "working"/"absent", reason, domains with resolution and the
 * update period measured on the spot). */
int jb_energy_probe(json_t *out, const char *sysfs_root);

#endif
