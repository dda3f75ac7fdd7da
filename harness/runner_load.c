/* runner_load.c: the runner's side of the server and multi-stream
 * scenarios (harness/scenario.h). Google Benchmark runs a closed loop of
 * back-to-back iterations; these scenarios are open loops whose queries
 * arrive on their own clock, with idle gaps between them, so the runner
 * drives them itself: a warm-up, the optional peak search, then the
 * repetitions, each bracketed by the energy accounting exactly like a
 * Google Benchmark repetition (so energy per unit includes the idle gaps,
 * as MLPerf Power and the ML.ENERGY benchmark count it). */
#include "harness/runner_internal.h"
#include "harness/scenario.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* The peak search: from 1/100 of up to the rate the warm-up's service
 * time allows (one worker cannot serve more), bisected to 2%. A trial lasts
 * a repetition's minimum time, but long enough for about TRIAL_QUERIES
 * arrivals (a p99 of a handful says nothing; one of none fails), at most
 * TRIAL_MAX_S. */
#define PEAK_RESOLUTION_REL 0.02
#define PEAK_MAX_STEPS 24
#define TRIAL_QUERIES 20.0
#define TRIAL_MAX_S 10.0

struct load_ctx {
    struct bench *b;
    int measuring; /* a repetition: energy's rep_more is asked at the end */
};

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double lc_now(void *c)
{
    (void)c;
    return mono_s();
}

/* Idle until t: sleeping, so that the gap is idle power, not a spinning
 * core (an arrival is late by the scheduler's wake-up latency, which the
 * latency from arrival then includes, as a real server's would). */
static void lc_wait(void *c, double t)
{
    (void)c;
    struct timespec ts = {.tv_sec = (time_t)floor(t),
                          .tv_nsec = (long)((t - floor(t)) * 1e9)};
    if (ts.tv_nsec >= 1000000000L)
        ts.tv_nsec = 999999999L;
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        if (mono_s() >= t)
            break;
}

static int lc_run(void *c, int units, char *err, size_t errlen)
{
    struct bench *b = ((struct load_ctx *)c)->b;
    for (int i = 0; i < units; i++) {
        int rc = b->ops->run(b->state, err, errlen);
        if (rc)
            return rc;
    }
    return JB_OK;
}

static int lc_more(void *c, double service_s)
{
    struct load_ctx *l = c;
    return l->measuring && jb_energy_rep_more(l->b->energy, service_s);
}

static int lc_stop(void *c)
{
    const volatile sig_atomic_t *intr = ((struct load_ctx *)c)->b->r->o.interrupted;
    return intr && *intr;
}

int jb_runner_is_load_scenario(const char *scenario)
{
    return !strcmp(scenario, "server") || !strcmp(scenario, "multi-stream");
}

static void load_params(const struct bench *b, double qps, double duration_s,
                        struct jb_load_params *p)
{
    const struct jb_run_spec *s = b->spec;
    memset(p, 0, sizeof(*p));
    p->kind = !strcmp(s->scenario, "server") ? JB_LOAD_SERVER : JB_LOAD_MULTI_STREAM;
    p->target_qps = qps;
    p->streams = s->streams;
    p->interval_s = s->interval_ms * 1e-3;
    p->duration_s = duration_s;
    p->seed = b->r->o.seed;
}

struct peak_ctx {
    struct bench *b;
    struct jb_scenario_io *io;
    double bound_s;
    json_t *trials;
    int rc;
    char err[JB_ERRLEN];
};

/* One trial of the search: a pass as long as a repetition, unmeasured. */
static int peak_eval(void *c, double qps)
{
    struct peak_ctx *pc = c;
    struct jb_load_params p;
    struct jb_load_result r;
    memset(&r, 0, sizeof(r));
    double dur = pc->b->min_time_s;
    if (dur < TRIAL_QUERIES / qps)
        dur = TRIAL_QUERIES / qps < TRIAL_MAX_S ? TRIAL_QUERIES / qps : TRIAL_MAX_S;
    load_params(pc->b, qps, dur, &p);
    p.seed += (uint64_t)json_array_size(pc->trials); /* fresh arrivals per trial */
    int rc = jb_load_run(&p, pc->io, &r, pc->err, sizeof(pc->err));
    if (rc) {
        jb_load_result_free(&r);
        pc->rc = rc;
        return rc;
    }
    double q = 0.99, p99;
    jb_load_percentiles(&r, &q, &p99, 1);
    int met = r.n > 0 && p99 <= pc->bound_s;
    json_array_append_new(pc->trials, json_pack("{s:f, s:f, s:I, s:b}", "target_qps", qps,
                                                "p99_s", r.n ? p99 : 0.0, "queries",
                                                (json_int_t)r.n, "bound_met", met));
    jb_load_result_free(&r);
    return met;
}

int jb_runner_load_run(struct bench *b, json_t **scenario, char *err, size_t errlen)
{
    const struct jb_run_spec *s = b->spec;
    struct load_ctx lc = {.b = b};
    struct jb_scenario_io io = {.now_s = lc_now, .wait_until_s = lc_wait, .run = lc_run,
                                .more = lc_more, .stop = lc_stop, .ctx = &lc};
    const struct jb_workload_ops *canon = jb_workload_canonical(b->ops);
    double bound_s = s->latency_bound_ms > 0 ? s->latency_bound_ms * 1e-3
                                             : jb_scenario_default_bound_s(canon->family);
    int is_server = !strcmp(s->scenario, "server"), rc = JB_OK;
    json_t *peak = NULL;
    *scenario = NULL;

    /* Warm-up, back to back, which also measures the service time. */
    double t_end = mono_s() + b->r->o.warmup_s, svc = 0;
    long nw = 0;
    do {
        double t0 = mono_s();
        rc = b->ops->run(b->state, err, errlen);
        if (rc) {
            snprintf(b->run_err, sizeof(b->run_err), "%s", err);
            b->run_failed = 1;
            b->run_rc = rc;
            return JB_OK; /* the caller reports the failed run */
        }
        svc += mono_s() - t0;
        nw++;
    } while (mono_s() < t_end);
    svc /= (double)nw;

    double qps = s->target_qps;
    if (is_server && s->find_peak) {
        struct peak_ctx pc = {.b = b, .io = &io, .bound_s = bound_s, .trials = json_array()};
        double cap = svc > 0 ? 1.0 / svc : 1e6;
        struct jb_peak_search ps = {.lo_qps = cap / 100 > 0.1 ? cap / 100 : 0.1,
                                    .hi_qps = cap,
                                    .resolution_rel = PEAK_RESOLUTION_REL,
                                    .max_steps = PEAK_MAX_STEPS};
        double found, fail;
        int steps = 0;
        rc = jb_find_peak(&ps, peak_eval, &pc, &found, &fail, &steps);
        if (rc) {
            json_decref(pc.trials);
            return jb_err(err, errlen, rc, "%s: find-peak: %s", s->origin,
                          pc.rc ? pc.err : "bad search range");
        }
        peak = json_pack("{s:f, s:f, s:f, s:f, s:i, s:f, s:s, s:o}", "peak_qps", found,
                         "lowest_failing_qps", fail, "search_lo_qps", ps.lo_qps, "search_hi_qps",
                         ps.hi_qps, "steps", steps, "resolution_rel", PEAK_RESOLUTION_REL,
                         "converged_on",
                         fail == 0 ? "the highest rate tried (one worker's capacity) met the bound"
                         : found == 0 ? "even the lowest rate tried missed the bound"
                                      : "the bracket [peak, lowest failing] within the resolution",
                         "trials", pc.trials);
        if (found > 0)
            qps = found; /* the repetitions measure the peak */
    }

    /* The repetitions. */
    double busy = 0, wall = 0, max_queue = 0;
    size_t queries = 0;
    lc.measuring = 1;
    for (int rep = 0; rep < s->repetitions && !lc_stop(&lc); rep++) {
        struct invocation *iv = jb_runner_new_invocation(b);
        if (!iv) {
            json_decref(peak);
            return jb_err(err, errlen, JB_ENOMEM, "out of memory");
        }
        iv->ran = 1;
        iv->repeat = rep > 0;
        struct jb_load_params p;
        load_params(b, qps, b->min_time_s, &p);
        p.seed += 1000003u * (uint64_t)rep; /* each repetition its own arrivals */
        struct jb_load_result r;
        memset(&r, 0, sizeof(r));
        jb_counters_rep_begin(b->counters);
        jb_energy_rep_begin(b->energy);
        double w0 = mono_s();
        struct timespec c0, c1;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
        rc = jb_load_run(&p, &io, &r, err, errlen);
        double w1 = mono_s();
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
        if (rc) {
            snprintf(b->run_err, sizeof(b->run_err), "%s", err);
            b->run_failed = 1;
            b->run_rc = rc;
            iv->failed = iv->run_error = 1;
            jb_load_result_free(&r);
            rc = JB_OK;
            break;
        }
        int units_per_query = is_server ? 1 : s->streams;
        iv->iterations = (int64_t)r.n * units_per_query;
        iv->gb_iterations = iv->iterations;
        iv->wall_s = w1 - w0;
        iv->timed_s = w1 - w0; /* throughput: achieved units over the whole pass */
        iv->cpu_s = (double)(c1.tv_sec - c0.tv_sec) + 1e-9 * (double)(c1.tv_nsec - c0.tv_nsec);
        for (size_t i = 0; i < r.n; i++)
            if (jb_runner_push_sample(b, r.lat_s[i]))
                iv->nsamples++;
        struct jb_rep_stats rs = {.wall_s = iv->wall_s,
                                  .cpu_s = iv->cpu_s,
                                  .units = (double)iv->iterations};
        jb_energy_rep_end(b->energy, &rs);
        jb_counters_rep_end(b->counters, rs.units);
        busy += r.busy_s;
        wall += iv->wall_s;
        queries += r.n;
        if (r.max_queue_s > max_queue)
            max_queue = r.max_queue_s;
        jb_load_result_free(&r);
        jb_runner_check_repetition(b, iv);
        b->reported++;
    }

    /* Percentiles over every kept query of every repetition. */
    double q[3] = {0.5, 0.9, 0.99}, pv[3] = {NAN, NAN, NAN};
    struct jb_load_result all = {.lat_s = b->samples, .n = b->nsamples};
    double *copy = NULL;
    if (b->nsamples && (copy = malloc(b->nsamples * sizeof(double)))) {
        memcpy(copy, b->samples, b->nsamples * sizeof(double));
        all.lat_s = copy;
        jb_load_percentiles(&all, q, pv, 3);
    }
    free(copy);
    int met = isfinite(pv[2]) && pv[2] <= bound_s;
    json_t *o = json_pack(
        "{s:s, s:f, s:f, s:s, s:b, s:f, s:f, s:f, s:I, s:f, s:f, s:s}", "kind", s->scenario,
        "achieved_qps", wall > 0 ? (double)queries / wall : 0.0, "latency_bound_s", bound_s,
        "latency_bound_source",
        s->latency_bound_ms > 0 ? "latency_bound_ms" : "family default (METHODOLOGY.md)",
        "bound_met", met, "latency_p50_s", isfinite(pv[0]) ? pv[0] : 0.0, "latency_p90_s",
        isfinite(pv[1]) ? pv[1] : 0.0, "latency_p99_s", isfinite(pv[2]) ? pv[2] : 0.0, "queries",
        (json_int_t)queries, "duty_cycle", wall > 0 ? busy / wall : 0.0, "max_queue_s",
        max_queue, "latency_definition",
        "query arrival to completion: time queued behind earlier queries counts");
    if (is_server) {
        json_object_set_new(o, "target_qps", json_real(qps));
        json_object_set_new(o, "arrivals", json_string("Poisson, seeded by --seed"));
    } else {
        json_object_set_new(o, "streams", json_integer(s->streams));
        json_object_set_new(o, "interval_s", json_real(s->interval_ms * 1e-3));
    }
    json_object_set_new(o, "service_time_warmup_s", json_real(svc));
    if (peak)
        json_object_set_new(o, "find_peak", peak);
    *scenario = o;
    return JB_OK;
}
