/* power_sim.c: the scripted power source, for tests and demonstrations.
 *
 * It behaves like the hardware counters joulebench must handle, on demand:
 *   sim:watts=50,period_ms=100,resolution_uj=15.3,wrap_j=1000,freeze=0,fail_after=0
 * watts     constant power, or stepped "10/50/20" cycling every step_ms;
 * period_ms counter update period (0: continuous), as NVML's ~100 ms steps;
 * resolution_uj counter step (RAPL's energy unit is 15.3 or 61 uJ);
 * wrap_j    range at which the counter wraps to 0 (powercap's max_energy_range);
 * start_j   initial counter value (to put a wrap early in a run);
 * freeze=1  the counter never advances (the VM psys case);
 * freeze_at_ms=N  the counter stops advancing N ms after open (a stall),
 * freeze_for_ms=D  for D ms, then jumps to what it missed (0: for good);
 * fail_after=N  every read after the first N fails (a device lost mid-run);
 * kind=power    report instantaneous watts instead of a counter;
 * name=NAME     the domain's name (default "sim"), to run several side by side.
 * Time is CLOCK_MONOTONIC from open, so real sleeps give exact expectations. */
#include "base/error.h"
#include "harness/power.h"
#include "harness/power_opts.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIM_MAX_STEPS 16

struct sim {
    double watts[SIM_MAX_STEPS];
    int nwatts;
    double step_s, period_s, resolution_j, wrap_j, start_j, freeze_at_s, freeze_for_s;
    int freeze, kind_power;
    long fail_after, nreads;
    double t0_s;
    char name[48];
};

static const char *const sim_keys[] = {
    "watts",        "step_ms",       "period_ms",  "resolution_uj", "wrap_j", "start_j", "freeze",
    "freeze_at_ms", "freeze_for_ms", "fail_after", "kind",          "name",   NULL};

static int sim_parse(const char *o, struct sim *s, char *err, size_t n)
{
    int rc = jb_power_opts_check("sim", o, sim_keys, err, n);
    if (rc)
        return rc;
    char w[256] = "50";
    jb_power_opt_str(o, "watts", w, sizeof(w));
    s->nwatts = 0;
    char *save = NULL;
    for (char *tok = strtok_r(w, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
        char *end;
        double v = strtod(tok, &end);
        if (*end || !isfinite(v) || v < 0 || s->nwatts == SIM_MAX_STEPS)
            return jb_err(err, n, JB_EINVAL, "sim: watts '%s' is not a list of up to %d values",
                          tok, SIM_MAX_STEPS);
        s->watts[s->nwatts++] = v;
    }
    if (!s->nwatts)
        return jb_err(err, n, JB_EINVAL, "sim: watts is empty");
    double step_ms, period_ms, res_uj, freeze, fail, freeze_at_ms, freeze_for_ms;
    if ((rc = jb_power_opt_double("sim", o, "step_ms", 100, &step_ms, err, n)) ||
        (rc = jb_power_opt_double("sim", o, "period_ms", 0, &period_ms, err, n)) ||
        (rc = jb_power_opt_double("sim", o, "resolution_uj", 0, &res_uj, err, n)) ||
        (rc = jb_power_opt_double("sim", o, "wrap_j", 0, &s->wrap_j, err, n)) ||
        (rc = jb_power_opt_double("sim", o, "start_j", 0, &s->start_j, err, n)) ||
        (rc = jb_power_opt_double("sim", o, "freeze", 0, &freeze, err, n)) ||
        (rc = jb_power_opt_double("sim", o, "freeze_at_ms", 0, &freeze_at_ms, err, n)) ||
        (rc = jb_power_opt_double("sim", o, "freeze_for_ms", 0, &freeze_for_ms, err, n)) ||
        (rc = jb_power_opt_double("sim", o, "fail_after", 0, &fail, err, n)))
        return rc;
    if (step_ms <= 0 || period_ms < 0 || res_uj < 0 || s->wrap_j < 0 || s->start_j < 0 ||
        fail < 0 || freeze_at_ms < 0 || freeze_for_ms < 0)
        return jb_err(err, n, JB_EINVAL, "sim: negative or zero option value");
    s->freeze_at_s = freeze_at_ms * 1e-3;
    s->freeze_for_s = freeze_for_ms * 1e-3;
    s->step_s = step_ms * 1e-3;
    s->period_s = period_ms * 1e-3;
    s->resolution_j = res_uj * 1e-6;
    s->freeze = freeze != 0;
    s->fail_after = (long)fail;
    char kind[16] = "energy";
    jb_power_opt_str(o, "kind", kind, sizeof(kind));
    if (strcmp(kind, "energy") && strcmp(kind, "power"))
        return jb_err(err, n, JB_EINVAL, "sim: kind=%s, expected energy or power", kind);
    s->kind_power = !strcmp(kind, "power");
    snprintf(s->name, sizeof(s->name), "sim");
    jb_power_opt_str(o, "name", s->name, sizeof(s->name));
    return JB_OK;
}

/* Energy of the scripted power profile from open to `elapsed` seconds. */
static double sim_energy(const struct sim *s, double elapsed)
{
    if (s->nwatts == 1)
        return s->watts[0] * elapsed;
    double cycle_s = s->step_s * s->nwatts, cycle_j = 0;
    for (int i = 0; i < s->nwatts; i++)
        cycle_j += s->watts[i] * s->step_s;
    double full = floor(elapsed / cycle_s);
    double e = full * cycle_j, rem = elapsed - full * cycle_s;
    for (int i = 0; i < s->nwatts && rem > 0; i++) {
        double seg = rem < s->step_s ? rem : s->step_s;
        e += s->watts[i] * seg;
        rem -= seg;
    }
    return e;
}

static double sim_watts_at(const struct sim *s, double elapsed)
{
    if (s->nwatts == 1)
        return s->watts[0];
    long k = (long)floor(elapsed / s->step_s);
    return s->watts[k % s->nwatts];
}

static int sim_probe(const char *o, const struct jb_power_context *c, char *why, size_t n)
{
    (void)c;
    struct sim s;
    memset(&s, 0, sizeof(s));
    return sim_parse(o, &s, why, n);
}

static int sim_open(const char *o, const struct jb_power_context *c, void **st, char *err, size_t n)
{
    (void)c;
    struct sim *s = calloc(1, sizeof(*s));
    if (!s)
        return jb_err(err, n, JB_ENOMEM, "sim: out of memory");
    int rc = sim_parse(o, s, err, n);
    if (rc) {
        free(s);
        return rc;
    }
    s->t0_s = jb_power_now_s();
    *st = s;
    return JB_OK;
}

static int sim_ndomains(const void *st)
{
    (void)st;
    return 1;
}

static void sim_domain(const void *st, int i, struct jb_power_domain_info *d)
{
    const struct sim *s = st;
    (void)i;
    memset(d, 0, sizeof(*d));
    snprintf(d->name, sizeof(d->name), "%s", s->name);
    d->kind = s->kind_power ? JB_POWER_POWER_SAMPLE : JB_POWER_ENERGY_COUNTER;
    d->measured = 1; /* it plays a physical counter, so energy.c treats it as one */
    d->simulated = 1;
    d->resolution_j = s->kind_power ? 0 : s->resolution_j;
    d->update_period_s = s->period_s;
    d->wrap_j = s->kind_power ? 0 : s->wrap_j;
    for (int k = 0; k < s->nwatts; k++)
        if (s->watts[k] > d->max_power_w)
            d->max_power_w = s->watts[k];
}

static int sim_read(void *st, int dom, struct jb_power_reading *r, char *err, size_t n)
{
    struct sim *s = st;
    (void)dom;
    memset(r, 0, sizeof(*r));
    if (s->fail_after > 0 && s->nreads >= s->fail_after)
        return jb_err(err, n, JB_EUNAVAIL, "sim: scripted failure after %ld reads", s->fail_after);
    s->nreads++;
    double now = jb_power_now_s(), el = now - s->t0_s;
    r->t_s = now;
    if (s->freeze_at_s > 0 && el >= s->freeze_at_s &&
        (s->freeze_for_s <= 0 || el < s->freeze_at_s + s->freeze_for_s))
        el = s->freeze_at_s; /* stalled; after the stall, time catches up */
    if (s->period_s > 0)
        el = floor(el / s->period_s) * s->period_s;
    if (s->kind_power) {
        r->power_w = s->freeze ? s->watts[0] : sim_watts_at(s, el);
        return JB_OK;
    }
    double e = s->start_j + (s->freeze ? 0 : sim_energy(s, el));
    if (s->resolution_j > 0)
        e = floor(e / s->resolution_j) * s->resolution_j;
    if (s->wrap_j > 0)
        e = fmod(e, s->wrap_j);
    r->energy_j = e;
    return JB_OK;
}

static void sim_close(void *st)
{
    free(st);
}

const struct jb_power_source_ops jb_power_sim = {
    .name = "sim",
    .description = "scripted source for tests: constant or stepped watts, period, resolution, "
                   "wrap, freeze, failure",
    .is_hardware = 0,
    .probe = sim_probe,
    .open = sim_open,
    .ndomains = sim_ndomains,
    .domain = sim_domain,
    .read = sim_read,
    .close = sim_close,
};
