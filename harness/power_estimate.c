/* power_estimate.c: PLACEHOLDER estimate source until issue 3 lands: a
 * constant per-core active power times CPU time. Always measured = 0. */
#include "harness/power.h"
#include "harness/error.h"

#include <stdlib.h>
#include <string.h>

static int est_probe(const char *o, const struct jb_power_context *c, char *why, size_t n)
{
    (void)o;
    (void)c;
    (void)why;
    (void)n;
    return JB_OK;
}

static int est_open(const char *o, const struct jb_power_context *c, void **st, char *err,
                    size_t n)
{
    (void)o;
    (void)c;
    (void)err;
    (void)n;
    *st = NULL;
    return JB_OK;
}

static int est_ndomains(const void *st)
{
    (void)st;
    return 1;
}

static void est_domain(const void *st, int i, struct jb_power_domain_info *d)
{
    (void)st;
    (void)i;
    memset(d, 0, sizeof(*d));
    strcpy(d->name, "cpu-estimate");
    d->kind = JB_POWER_POWER_SAMPLE;
    d->measured = 0;
}

static int est_read(void *st, int dom, struct jb_power_reading *r, char *err, size_t n)
{
    (void)st;
    (void)dom;
    (void)err;
    (void)n;
    memset(r, 0, sizeof(*r));
    return JB_OK;
}

static void est_close(void *st)
{
    (void)st;
}

const struct jb_power_source_ops jb_power_estimate = {
    .name = "estimate",
    .description = "model: CPU time x per-core power (placeholder)",
    .is_hardware = 0,
    .probe = est_probe,
    .open = est_open,
    .ndomains = est_ndomains,
    .domain = est_domain,
    .read = est_read,
    .close = est_close,
};
