/* scenario.c: the load scenarios and the peak search (see scenario.h). */
#include "harness/scenario.h"
#include "base/error.h"
#include "harness/stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void jb_load_result_free(struct jb_load_result *r)
{
    free(r->lat_s);
    memset(r, 0, sizeof(*r));
}

static int push_lat(struct jb_load_result *r, double v)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 1024;
        double *l = realloc(r->lat_s, cap * sizeof(double));
        if (!l)
            return JB_ENOMEM;
        r->lat_s = l;
        r->cap = cap;
    }
    r->lat_s[r->n++] = v;
    return JB_OK;
}

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

double jb_poisson_gap_s(uint64_t *s, double qps)
{
    /* u in (0, 1]: 53 random bits, never 0, so the log is finite */
    double u = ((double)(splitmix64(s) >> 11) + 1.0) * 0x1.0p-53;
    return -log(u) / qps;
}

int jb_load_run(const struct jb_load_params *p, const struct jb_scenario_io *io,
                struct jb_load_result *r, char *err, size_t errlen)
{
    if (p->kind == JB_LOAD_SERVER && !(p->target_qps > 0))
        return jb_err(err, errlen, JB_EINVAL, "server scenario: target rate must be > 0");
    if (p->kind == JB_LOAD_MULTI_STREAM && (p->streams < 1 || !(p->interval_s > 0)))
        return jb_err(err, errlen, JB_EINVAL,
                      "multi-stream scenario: streams must be >= 1 and the interval > 0");
    uint64_t rng = p->seed ^ 0x5eed5eed5eed5eedull;
    double t0 = io->now_s(io->ctx), end = t0 + p->duration_s, next = t0, svc_sum = 0;
    long issued = 0, k = 0; /* k: multi-stream intervals issued */
    int units = p->kind == JB_LOAD_MULTI_STREAM ? p->streams : 1;
    r->t0_s = t0;
    if (p->kind == JB_LOAD_SERVER)
        next = t0 + jb_poisson_gap_s(&rng, p->target_qps);
    for (;;) {
        if (io->stop && io->stop(io->ctx))
            break;
        double now = io->now_s(io->ctx);
        double arrival = p->kind == JB_LOAD_SINGLE_STREAM ? now : next;
        /* A query arriving after the duration is issued only while the
         * energy accounting asks for more (to end at a counter update). */
        /* (a nanosecond's slack: interval sums must not add a query) */
        if (arrival >= end - 1e-9 &&
            !(io->more && io->more(io->ctx, issued ? svc_sum / (double)issued : 0)))
            break;
        if (arrival > now)
            io->wait_until_s(io->ctx, arrival);
        double start = io->now_s(io->ctx);
        int rc = io->run(io->ctx, units, err, errlen);
        if (rc)
            return rc;
        double done = io->now_s(io->ctx);
        /* the worker may have been busy past the arrival: queueing counts */
        double queued = start - arrival;
        if (queued > r->max_queue_s)
            r->max_queue_s = queued;
        svc_sum += done - start;
        r->busy_s += done - start;
        if (push_lat(r, done - arrival))
            return jb_err(err, errlen, JB_ENOMEM, "scenario: out of memory");
        issued++;
        r->t1_s = done;
        if (p->kind == JB_LOAD_SERVER)
            next += jb_poisson_gap_s(&rng, p->target_qps);
        else if (p->kind == JB_LOAD_MULTI_STREAM)
            next = t0 + (double)++k * p->interval_s; /* no drift from summing */
    }
    if (!issued)
        r->t1_s = io->now_s(io->ctx);
    return JB_OK;
}

void jb_load_percentiles(struct jb_load_result *r, const double *p, double *out, int np)
{
    struct jb_summary s;
    jb_summarize(r->lat_s, r->n, &s); /* sorts */
    for (int i = 0; i < np; i++)
        out[i] = r->n ? jb_quantile_sorted(r->lat_s, r->n, p[i]) : NAN;
}

int jb_find_peak(const struct jb_peak_search *s, int (*eval)(void *ctx, double qps), void *ctx,
                 double *peak_qps, double *hi_fail_qps, int *steps)
{
    double lo = s->lo_qps, hi = s->hi_qps;
    int n = 0, rc;
    *peak_qps = 0;
    *hi_fail_qps = 0;
    if (!(lo > 0) || !(hi >= lo) || !(s->resolution_rel > 0))
        return JB_EINVAL;
    rc = eval(ctx, lo);
    n++;
    if (rc < 0)
        goto out;
    if (rc == 0) { /* even the lowest rate misses the bound */
        *hi_fail_qps = lo;
        rc = JB_OK;
        goto out;
    }
    rc = eval(ctx, hi);
    n++;
    if (rc < 0)
        goto out;
    if (rc == 1) {
        lo = hi;
        hi = 0;
        rc = JB_OK;
        goto done;
    }
    /* invariant: lo met the bound, hi did not */
    while (hi - lo > s->resolution_rel * lo && (s->max_steps <= 0 || n < s->max_steps)) {
        double mid = 0.5 * (lo + hi);
        rc = eval(ctx, mid);
        n++;
        if (rc < 0)
            goto out;
        if (rc)
            lo = mid;
        else
            hi = mid;
    }
    rc = JB_OK;
done:
    *peak_qps = lo;
    *hi_fail_qps = hi;
out:
    *steps = n;
    return rc;
}

double jb_scenario_default_bound_s(const char *family)
{
    if (family && !strcmp(family, "llm"))
        return 2.0;
    if (family && !strcmp(family, "tinyml"))
        return 0.010;
    return 0.015;
}
