/* power_estimate.c: the estimate, used when no hardware counter works.
 *
 * Energy = idle_w x wall time + active_w_per_core x process CPU time, read as
 * a cumulative counter so that energy.c treats it like any other domain.
 * It is always measured = 0 and carries a wide relative uncertainty, so it
 * can never pass for a measurement (CodeCarbon's silent fallback to TDP is
 * the failure this avoids). The figures come from, in order:
 *   estimate:platform=NAME|PATH  a platform descriptor, found and checked as
 *                                --platform's (platforms/descriptor.h):
 *                                its idle_w and active_w_per_core, +-40%
 *   estimate:tdp=W[,idle=W][,cores=N]  active per core = (tdp - idle) / cores,
 *                                idle defaults to 0.3 x tdp: +-50%
 *   nothing                      10 W per busy core, no idle power: +-100%
 * uncertainty_pct=P overrides the stated uncertainty. */
#include "base/datadir.h"
#include "base/error.h"
#include "harness/power.h"
#include "harness/power_opts.h"
#include "platforms/descriptor.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Default: 10 W per fully busy core, the order of a desktop or server core
 * at full load (a 125 W 8-core desktop part gives 15 W, a 280 W 64-core
 * server part 4.4 W); hence the +-100%. */
#define DEFAULT_W_PER_CORE 10.0
#define DEFAULT_IDLE_FRACTION 0.3

struct est {
    double idle_w, active_w_per_core, rel;
    double t0_s;
    char basis[1200];
};

static const char *const est_keys[] = {
    "platform", "tdp", "idle", "cores", "active_w_per_core", "uncertainty_pct", NULL};

static int load_platform(const char *name, struct est *s, char *err, size_t n)
{
    char path[4200], inner[JB_ERRLEN];
    json_t *j = NULL;
    /* The one loader of platforms/descriptor.h, as for --platform: the
     * same name or path finds the same file, checked the same way. */
    int rc = jb_platform_resolve(name, path, sizeof(path), inner, sizeof(inner));
    if (!rc)
        rc = jb_platform_load(name, &j, inner, sizeof(inner));
    if (rc)
        return jb_err(err, n, rc, "estimate: %s", inner);
    const char *kind = json_string_value(json_object_get(j, "kind"));
    if (strcmp(kind, "cpu")) {
        rc = jb_err(err, n, JB_ENOTSUP,
                    "estimate: platform %s is a %s; the estimate models CPUs from CPU time", path,
                    kind);
        goto out;
    }
    s->idle_w = json_number_value(json_object_get(j, "idle_w"));
    s->active_w_per_core = json_number_value(json_object_get(j, "active_w_per_core"));
    s->rel = 0.4;
    snprintf(s->basis, sizeof(s->basis), "platform descriptor %.1100s", path);
out:
    json_decref(j);
    return rc;
}

static int est_parse(const char *o, struct est *s, char *err, size_t n)
{
    int rc = jb_power_opts_check("estimate", o, est_keys, err, n);
    if (rc)
        return rc;
    char plat[512];
    double tdp, idle, cores, per, pct;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    if ((rc = jb_power_opt_double("estimate", o, "tdp", 0, &tdp, err, n)) ||
        (rc = jb_power_opt_double("estimate", o, "idle", -1, &idle, err, n)) ||
        (rc = jb_power_opt_double("estimate", o, "cores", ncpu > 0 ? (double)ncpu : 1, &cores, err,
                                  n)) ||
        (rc = jb_power_opt_double("estimate", o, "active_w_per_core", -1, &per, err, n)) ||
        (rc = jb_power_opt_double("estimate", o, "uncertainty_pct", -1, &pct, err, n)))
        return rc;
    if (jb_power_opt_str(o, "platform", plat, sizeof(plat))) {
        if ((rc = load_platform(plat, s, err, n)))
            return rc;
    } else if (tdp > 0) {
        if (cores < 1)
            return jb_err(err, n, JB_EINVAL, "estimate: cores=%g", cores);
        s->idle_w = idle >= 0 ? idle : DEFAULT_IDLE_FRACTION * tdp;
        if (s->idle_w > tdp)
            return jb_err(err, n, JB_EINVAL, "estimate: idle %g W above tdp %g W", s->idle_w, tdp);
        s->active_w_per_core = (tdp - s->idle_w) / cores;
        s->rel = 0.5;
        snprintf(s->basis, sizeof(s->basis), "tdp %g W, idle %g W, %g cores", tdp, s->idle_w,
                 cores);
    } else {
        s->idle_w = idle >= 0 ? idle : 0;
        s->active_w_per_core = DEFAULT_W_PER_CORE;
        s->rel = 1.0;
        snprintf(s->basis, sizeof(s->basis), "default %g W per busy core", DEFAULT_W_PER_CORE);
    }
    if (per >= 0)
        s->active_w_per_core = per;
    if (pct >= 0)
        s->rel = pct / 100;
    if (s->idle_w < 0 || s->active_w_per_core < 0)
        return jb_err(err, n, JB_EINVAL, "estimate: negative power in %s", s->basis);
    return JB_OK;
}

static int est_probe(const char *o, const struct jb_power_context *c, char *why, size_t n)
{
    (void)c;
    struct est s;
    memset(&s, 0, sizeof(s));
    return est_parse(o, &s, why, n);
}

static int est_open(const char *o, const struct jb_power_context *c, void **st, char *err, size_t n)
{
    (void)c;
    struct est *s = calloc(1, sizeof(*s));
    if (!s)
        return jb_err(err, n, JB_ENOMEM, "estimate: out of memory");
    int rc = est_parse(o, s, err, n);
    if (rc) {
        free(s);
        return rc;
    }
    s->t0_s = jb_power_now_s();
    *st = s;
    return JB_OK;
}

static int est_ndomains(const void *st)
{
    (void)st;
    return 1;
}

static void est_domain(const void *st, int i, struct jb_power_domain_info *d)
{
    const struct est *s = st;
    (void)i;
    memset(d, 0, sizeof(*d));
    snprintf(d->name, sizeof(d->name), "cpu-estimate");
    d->kind = JB_POWER_ENERGY_COUNTER;
    d->measured = 0;
    d->accuracy_rel = s->rel;
}

static int est_read(void *st, int dom, struct jb_power_reading *r, char *err, size_t n)
{
    struct est *s = st;
    (void)dom;
    struct timespec ts;
    if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts))
        return jb_err(err, n, JB_EIO, "estimate: CLOCK_PROCESS_CPUTIME_ID unreadable");
    double cpu_s = (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
    memset(r, 0, sizeof(*r));
    r->t_s = jb_power_now_s();
    r->energy_j = s->idle_w * (r->t_s - s->t0_s) + s->active_w_per_core * cpu_s;
    return JB_OK;
}

static void est_close(void *st)
{
    free(st);
}

static void est_state(void *st, int dom, json_t *out)
{
    const struct est *s = st;
    (void)dom;
    json_object_set_new(out, "model", json_string(s->basis));
    json_object_set_new(out, "idle_w", json_real(s->idle_w));
    json_object_set_new(out, "active_w_per_core", json_real(s->active_w_per_core));
    json_object_set_new(out, "uncertainty_rel", json_real(s->rel));
}

const struct jb_power_source_ops jb_power_estimate = {
    .name = "estimate",
    .description = "model, not a measurement: idle power x time + per-core power x CPU time",
    .is_hardware = 0,
    .probe = est_probe,
    .open = est_open,
    .ndomains = est_ndomains,
    .domain = est_domain,
    .read = est_read,
    .close = est_close,
    .domain_state = est_state,
};
