/* power_probe.c: `joulebench probe` (jb_energy_probe) and the on-the-spot
 * measurement of a domain's update period.
 *
 * Sources state what they can (resolution, wrap range); the update period
 * is measured here, because it is what decides how long a run must be, and
 * because a counter that exists but never moves (a perf `power` PMU on a VM
 * whose energy-psys stays at 0) must be told apart from one that works. */
#include "harness/energy.h"
#include "base/error.h"
#include "harness/power.h"
#include "harness/power_opts.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PROBE_WINDOW_S 0.5
#define PROBE_POLL_S 0.0005
#define PROBE_MAX_CHANGES 6

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int jb_power_measure_period(const struct jb_power_source_ops *ops, void *state, int domain,
                            double window_s, double *period_s, int *changes, double *power_w,
                            char *err, size_t errlen)
{
    struct jb_power_domain_info info;
    ops->domain(state, domain, &info);
    int is_power = info.kind == JB_POWER_POWER_SAMPLE;
    struct jb_power_reading r0, r;
    int rc = ops->read(state, domain, &r0, err, errlen);
    if (rc)
        return rc;
    double t_start = jb_power_now_s();
    double last_v = is_power ? r0.power_w : r0.energy_j, t_last_change = -1;
    double gaps[PROBE_MAX_CHANGES], e_sum = 0, first_change_t = -1, last_change_t = -1;
    double e_at_first = 0, e_acc = 0;
    int n = 0, ngaps = 0;
    while (jb_power_now_s() - t_start < window_s && n < PROBE_MAX_CHANGES) {
        jb_power_sleep_s(PROBE_POLL_S);
        if ((rc = ops->read(state, domain, &r, err, errlen)))
            return rc;
        double v = is_power ? r.power_w : r.energy_j, t = jb_power_now_s();
        if (v == last_v)
            continue;
        if (!is_power) {
            double dv = v - last_v;
            if (dv < 0 && info.wrap_j > 0)
                dv += info.wrap_j;
            if (dv > 0)
                e_acc += dv;
        } else {
            e_sum += v;
        }
        if (t_last_change >= 0 && ngaps < PROBE_MAX_CHANGES)
            gaps[ngaps++] = t - t_last_change;
        if (first_change_t < 0) {
            first_change_t = t;
            e_at_first = e_acc;
        }
        last_change_t = t;
        t_last_change = t;
        last_v = v;
        n++;
    }
    *changes = n;
    *period_s = 0;
    if (ngaps) {
        qsort(gaps, (size_t)ngaps, sizeof(gaps[0]), cmp_double);
        *period_s = gaps[ngaps / 2];
    }
    *power_w = 0;
    if (is_power && n)
        *power_w = e_sum / n;
    else if (last_change_t > first_change_t)
        *power_w = (e_acc - e_at_first) / (last_change_t - first_change_t);
    return JB_OK;
}

static json_t *probe_domain(const struct jb_power_source_ops *ops, void *st, int i, int *frozen)
{
    struct jb_power_domain_info d;
    ops->domain(st, i, &d);
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(d.name));
    json_object_set_new(o, "kind",
                        json_string(d.kind == JB_POWER_ENERGY_COUNTER ? "energy" : "power"));
    json_object_set_new(o, "measured", json_boolean(d.measured && !d.simulated));
    if (d.simulated)
        json_object_set_new(o, "simulated", json_true());
    json_object_set_new(o, "resolution_j", json_real(d.resolution_j));
    json_object_set_new(o, "wrap_j", json_real(d.wrap_j));
    json_object_set_new(o, "stated_update_period_s", json_real(d.update_period_s));
    *frozen = 0;
    if (!d.measured)
        return o;
    double period = 0, power = 0;
    int changes = 0;
    char err[JB_ERRLEN] = "";
    if (jb_power_measure_period(ops, st, i, PROBE_WINDOW_S, &period, &changes, &power, err,
                                sizeof(err))) {
        json_object_set_new(o, "error", json_string(err));
        *frozen = 1;
        return o;
    }
    json_object_set_new(o, "measured_update_period_s",
                        period > 0 ? json_real(period) : json_null());
    json_object_set_new(o, "changes_seen", json_integer(changes));
    json_object_set_new(o, "power_w", power > 0 ? json_real(power) : json_null());
    if (!changes && d.kind == JB_POWER_ENERGY_COUNTER) {
        json_object_set_new(o, "frozen", json_true());
        *frozen = 1;
    }
    return o;
}

int jb_energy_probe(json_t *out, const char *sysfs_root)
{
    struct jb_power_context ctx = {1, NULL, sysfs_root ? sysfs_root : "/", 0};
    for (int i = 0; jb_power_sources[i]; i++) {
        const struct jb_power_source_ops *ops = jb_power_sources[i];
        json_t *s = json_object();
        json_object_set_new(s, "name", json_string(ops->name));
        json_object_set_new(s, "description", json_string(ops->description));
        json_object_set_new(s, "hardware", json_boolean(ops->is_hardware));
        char why[JB_ERRLEN] = "";
        void *st = NULL;
        int rc = ops->probe(NULL, &ctx, why, sizeof(why));
        if (!rc)
            rc = ops->open(NULL, &ctx, &st, why, sizeof(why));
        if (rc) {
            json_object_set_new(s, "state", json_string("absent"));
            json_object_set_new(s, "reason", json_string(why));
            json_array_append_new(out, s);
            continue;
        }
        json_t *doms = json_array();
        int n = ops->ndomains(st), nfrozen = 0;
        for (int k = 0; k < n; k++) {
            int frozen;
            json_array_append_new(doms, probe_domain(ops, st, k, &frozen));
            nfrozen += frozen;
        }
        ops->close(st);
        int dead = n == 0 || nfrozen == n;
        json_object_set_new(s, "state", json_string(dead ? "absent" : "working"));
        if (dead)
            json_object_set_new(
                s, "reason",
                json_string(n ? "counter frozen: no domain advanced in 0.5 s" : "no domains"));
        else if (nfrozen)
            json_object_set_new(s, "reason", json_string("some domains are frozen"));
        json_object_set_new(s, "domains", doms);
        json_array_append_new(out, s);
    }
    return JB_OK;
}
