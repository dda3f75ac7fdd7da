/* energy_internal.h: the state shared by energy.c (sources, history,
 * repetitions) and energy_report.c (the per-run arithmetic and the record's
 * energy entries). Private to those two files and their tests. */
#ifndef JB_ENERGY_INTERNAL_H
#define JB_ENERGY_INTERNAL_H

#include "harness/energy.h"
#include "base/error.h"
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
/* An aligned counter that has not updated this many periods after the
 * wait for it began is stalled: the repetition falls back (start, end). */
#define JB_ENERGY_ALIGN_DEADLINE_PERIODS 3
/* The end's polls between iterations are spaced so that reading the
 * counter takes at most 1% of the time they cover, so that the iterations
 * of the repetition's tail run about as densely as the others; but at
 * least 10 times a period, or a slow read would make the end's detection
 * latency, and with it the repetition, as long as without end alignment. */
#define JB_ENERGY_END_POLL_COST_MAX 0.01
#define JB_ENERGY_END_POLLS_PER_PERIOD 10
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
    char opts[256]; /* the source's own options (align= taken out) */
    int align_end;  /* align=end (default): align repetition ends too; 0: align=start */
};

/* How a repetition's end relates to the aligning counter's updates. */
enum jb_rep_end {
    JB_REP_END_OPEN = 0,  /* not aligned: jb_energy_rep_more was not asked, or not yet */
    JB_REP_END_POLLING,   /* past its minimum, waiting between iterations for an update */
    JB_REP_END_ALIGNED,   /* ended at the first read that saw an update */
    JB_REP_END_STALLED,   /* no update within the deadline: start-aligned rule instead */
    JB_REP_END_LONG_ITER, /* iterations too long (or the update seen too late) for 1%:
                           * the start-aligned rule instead */
    JB_REP_END_START_ONLY /* align=start, or the start itself could not be aligned */
};

struct jb_erep {
    double t0_s, t1_s;
    int aligned;           /* the start was aligned to an update of the align domain */
    enum jb_rep_end end;   /* and the end (aligned when JB_REP_END_ALIGNED) */
    double lag0_s, lag1_s; /* detection latency of the aligned start, end: time from the last
                            * read that still saw the old value to the one that saw the update */
    double iteration_s;    /* the iteration time the end was planned with */
    struct jb_rep_stats st;
};

struct jb_energy {
    struct jb_esrc src[JB_ENERGY_MAX_SRC];
    int nsrc;
    struct jb_edom *dom;
    int ndom;
    struct jb_erep *reps;
    int nreps, capreps;
    /* the repetition in progress */
    double rep_t0_s, rep_t1_s, rep_lag0_s, rep_lag1_s, rep_iteration_s;
    int rep_aligned;
    enum jb_rep_end rep_end;
    long rep_ref_changes;   /* the align domain's nchanges at the end's first poll */
    double rep_poll0_s;     /* when the end's polling began */
    double rep_last_poll_s; /* the end's latest poll */
    int align_dom;          /* domain whose updates repetitions are aligned to; -1: none */
    int align_end;          /* its source's align=: 1 end (and start), 0 start only */
    double align_read_s;    /* cost of one read of it (fastest seen while waiting at a start) */
    pthread_mutex_t mu;     /* guards sources, histories and reps against the sampler */
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
/* The time by which repetition r's boundaries can lag the energy that
 * domain i's counter reports (METHODOLOGY.md 5.4): the measured detection
 * latency at an aligned boundary, the quantization period at an unaligned
 * one. */
double jb_energy_rep_lag_s(const struct jb_energy *e, int i, const struct jb_erep *r);

#endif
