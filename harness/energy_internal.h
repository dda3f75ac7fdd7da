/* energy_internal.h: the state shared by energy.c (sources, history,
 * repetitions) and energy_report.c (the per-run arithmetic and the record's
 * energy entries). Private to those two files and their tests. */
#ifndef JB_ENERGY_INTERNAL_H
#define JB_ENERGY_INTERNAL_H

#include "harness/energy.h"
#include "harness/error.h"
#include "harness/power.h"

#include <jansson.h>
#include <pthread.h>
#include <stddef.h>

#define JB_ENERGY_MAX_SRC 8
/* Highest plausible power of a domain whose source does not say, to poll a
 * wrapping counter often enough: above any single CPU package or GPU. */
#define JB_ENERGY_DEFAULT_MAX_W 1000.0
#define JB_ENERGY_TRACE_INTERVAL_S 0.1     /* power trace resolution: 10 Hz */
#define JB_ENERGY_MIN_INTERVAL_S 0.001     /* below 1 ms the sampler would load a core */
#define JB_ENERGY_QUANT_TARGET 0.01        /* quantization error under 1% */
#define JB_ENERGY_MEASURE_WINDOW_S 0.5     /* NVML steps ~ every 100 ms: 4-5 steps fit */
#define JB_ENERGY_ALIGN_MIN_PERIOD_S 0.002 /* below this, waiting for an update buys nothing */
#define JB_ENERGY_ALIGN_POLL_S 0.0002
#define JB_ENERGY_MAX_BACKLOG 1000000 /* readings taken from a source in one poll */

struct jb_epoint {
    double t_s; /* CLOCK_MONOTONIC time of the reading */
    double e_j; /* cumulative energy since open: unwrapped counter or integrated power */
    double w;   /* the sample's watts for power domains, NAN for counters */
};

struct jb_edom {
    int src, idx; /* source index in jb_energy.src, domain index in that source */
    struct jb_power_domain_info info;
    double period_s;     /* update period: stated by the source or measured at open */
    double power_est_w;  /* power seen while measuring the period (0: not measured) */
    int failed, dropped; /* dropped: frozen under auto, left out of records */
    char reason[JB_ERRLEN];
    int started;
    double last_raw, acc_j, last_t, last_w;
    long nchanges; /* reads that moved the counter (or changed the power) */
    struct jb_epoint *pts;
    size_t npts, cap;
    int have_idle;
    double idle_w;
    json_t *state_start;
};

struct jb_esrc {
    const struct jb_power_source_ops *ops;
    void *state;
    char opts[256];
};

struct jb_erep {
    double t0_s, t1_s;
    int aligned; /* the start was aligned to an update of the align domain */
    struct jb_rep_stats st;
};

struct jb_energy {
    struct jb_esrc src[JB_ENERGY_MAX_SRC];
    int nsrc;
    struct jb_edom *dom;
    int ndom;
    struct jb_erep *reps;
    int nreps, capreps;
    double rep_t0_s;
    int rep_aligned;
    int align_dom;      /* domain whose updates repetition starts wait for; -1: none */
    pthread_mutex_t mu; /* guards sources, histories and reps against the sampler */
    struct jb_sampler *sampler;
    double sampler_interval_s;
    int sampler_cpu, sampler_pinned;
    json_t *open_warnings; /* said at open (fallback to the estimate, frozen domains) */
};

void jb_energy_poll_dom_locked(struct jb_energy *e, struct jb_edom *d);
void jb_energy_poll_all_locked(struct jb_energy *e);
/* The cumulative energy at time t, interpolated; -1 if t is outside the history. */
int jb_energy_interp(const struct jb_edom *d, double t, double *e_j);
double jb_energy_quant_period_s(const struct jb_energy *e, int i);
double jb_energy_min_duration_locked(const struct jb_energy *e);

#endif
