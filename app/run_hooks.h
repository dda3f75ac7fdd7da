/* run_hooks.h: the results pipeline as the runner's record hooks
 * (jb_runner_opts.before_write / after_write), so that `joulebench run`
 * normalizes every record before it is written and stores it in the results
 * database right after, with its power trace and Google Benchmark output.
 * The CLI opens one sink per invocation and passes it as hook_ctx. */
#ifndef JB_RUN_HOOKS_H
#define JB_RUN_HOOKS_H

#include <jansson.h>
#include <stddef.h>

struct jb_results_sink;

struct jb_results_sink_opts {
    const char *db;     /* --db URL; NULL: results/joulebench.db */
    int no_store;       /* nonzero: normalize only, store nothing */
    const char *region; /* --region, --grid-intensity, --pue, --wue, --platform */
    const char *grid;   /* as text, exactly as given on the command line */
    const char *pue;
    const char *wue;
    const char *platform;
};

/* Checks the options (unknown region, bad number, missing descriptor) and
 * opens the database (created or migrated as needed). Caller closes. */
int jb_results_sink_open(const struct jb_results_sink_opts *o, struct jb_results_sink **out,
                         char *err, size_t errlen);
void jb_results_sink_close(struct jb_results_sink *s);

/* before_write hook: adds `derived` (normalize.h) and the configuration key
 * (config_key.h), taking the roofline from
 * the newest triad/fma run of this machine and thread count, of this
 * invocation or from the database. ctx is the sink. */
int jb_results_before_write(json_t *record, void *ctx, char *err, size_t errlen);

/* after_write hook: stores the record (one transaction) with the power
 * trace NAME.power.csv and the Google Benchmark file NAME.gbench.json
 * written beside it, when present. A record already stored is not an
 * error. */
int jb_results_after_write(const json_t *record, const char *path, void *ctx, char *err,
                           size_t errlen);

/* gbench_hook: Google Benchmark's JSON of the run gets the record's energy
 * as user counters and names that pair across --min-time
 * (results/gbench_json.h). */
void jb_results_gbench(json_t *gbench_doc, const json_t *record, void *ctx);

#endif
