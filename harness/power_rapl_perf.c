/* power_rapl_perf.c: RAPL through the perf `power` PMU.
 *
 * /sys/bus/event_source/devices/power lists the PMU's type, its events
 * (energy-pkg, energy-ram, energy-cores, energy-psys, energy-gpu), each with
 * a config ("event=0x02"), a scale (joules per count: 2^-32) and a unit. The
 * counters are system-wide per package, opened on one cpu of each package
 * (the PMU's cpumask). The kernel extends them to 64 bits, so they do not
 * wrap. Opening needs perf_event_paranoid <= 0 or CAP_PERFMON. On VMs the
 * PMU can exist with a psys counter that never moves: energy.c's on-the-spot
 * measurement catches that. Options: root=DIR (a fake sysfs tree: the event
 * parsing is tested on one; perf_event_open itself cannot be faked). */
#include "base/error.h"
#include "harness/power.h"
#include "harness/power_opts.h"

#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PERF_MAX_DOMAINS 32
#define PMU_DIR "/sys/bus/event_source/devices/power"
/* The RAPL energy status unit is 2^-14 J (61 uJ) on most Intel parts and
 * 15.3 uJ for some DRAM domains (Intel SDM vol. 3B, 14.10.1); perf's scale is
 * finer than the hardware, so the resolution stated is the coarser unit. */
#define RAPL_UNIT_J 6.1e-5
#define RAPL_UPDATE_PERIOD_S 0.001

static const struct {
    const char *event, *domain;
} perf_events[] = {
    {"energy-pkg", "package"}, {"energy-ram", "dram"},  {"energy-cores", "cores"},
    {"energy-gpu", "igpu"},    {"energy-psys", "psys"},
};

struct perf_dom {
    int fd;
    double scale_j;
    char name[48];
};

struct rperf {
    struct perf_dom d[PERF_MAX_DOMAINS];
    int n;
};

static const char *const perf_keys[] = {"root", NULL};

int jb_rapl_perf_parse_event(const char *root, const char *name, unsigned long long *config,
                             double *scale_j, char *unit, size_t unitlen, char *err, size_t errlen)
{
    char p[1024], rel[256], buf[128];
    snprintf(rel, sizeof(rel), PMU_DIR "/events/%s", name);
    jb_power_path(p, sizeof(p), root, rel);
    int rc = jb_power_read_line(p, buf, sizeof(buf));
    if (rc)
        return jb_err(err, errlen, rc, "%s: %s", p, jb_strerror(rc));
    const char *ev = strstr(buf, "event=");
    char *end;
    if (!ev)
        return jb_err(err, errlen, JB_EFORMAT, "%s: no event= in '%s'", p, buf);
    *config = strtoull(ev + 6, &end, 0);
    if (end == ev + 6)
        return jb_err(err, errlen, JB_EFORMAT, "%s: bad event in '%s'", p, buf);
    snprintf(rel, sizeof(rel), PMU_DIR "/events/%s.scale", name);
    jb_power_path(p, sizeof(p), root, rel);
    if ((rc = jb_power_read_line(p, buf, sizeof(buf))))
        return jb_err(err, errlen, rc, "%s: %s", p, jb_strerror(rc));
    *scale_j = strtod(buf, &end);
    if (end == buf || !(*scale_j > 0))
        return jb_err(err, errlen, JB_EFORMAT, "%s: bad scale '%s'", p, buf);
    snprintf(rel, sizeof(rel), PMU_DIR "/events/%s.unit", name);
    jb_power_path(p, sizeof(p), root, rel);
    if ((rc = jb_power_read_line(p, buf, sizeof(buf))))
        return jb_err(err, errlen, rc, "%s: %s", p, jb_strerror(rc));
    snprintf(unit, unitlen, "%s", buf);
    if (strcmp(buf, "Joules"))
        return jb_err(err, errlen, JB_EFORMAT, "%s: unit '%s', expected Joules", p, buf);
    return JB_OK;
}

/* Parses a cpumask list ("0", "0,36", "0-1") into cpus; returns the count. */
static int parse_cpulist(const char *s, int *cpus, int max)
{
    int n = 0;
    while (*s && n < max) {
        char *end;
        long a = strtol(s, &end, 10), b = a;
        if (end == s)
            break;
        if (*end == '-')
            b = strtol(end + 1, &end, 10);
        for (long c = a; c <= b && n < max; c++)
            cpus[n++] = (int)c;
        s = *end == ',' ? end + 1 : end;
        if (*end != ',')
            break;
    }
    return n;
}

static void perf_free(struct rperf *s)
{
    for (int i = 0; i < s->n; i++)
        if (s->d[i].fd >= 0)
            close(s->d[i].fd);
    free(s);
}

static int perf_setup(const char *o, const struct jb_power_context *c, struct rperf **out,
                      char *err, size_t n)
{
    int rc = jb_power_opts_check("rapl-perf", o, perf_keys, err, n);
    if (rc)
        return rc;
    char root[512], p[1024], buf[256], found[256] = "";
    if (!jb_power_opt_str(o, "root", root, sizeof(root)))
        snprintf(root, sizeof(root), "%s", c && c->sysfs_root ? c->sysfs_root : "/");
    jb_power_path(p, sizeof(p), root, PMU_DIR "/type");
    if (jb_power_read_line(p, buf, sizeof(buf)))
        return jb_err(err, n, JB_ENOTSUP,
                      "no `power` PMU in /sys/bus/event_source/devices (no RAPL perf driver, "
                      "or a VM that hides it)");
    unsigned type = (unsigned)strtoul(buf, NULL, 10);
    int cpus[64], ncpu = 1;
    cpus[0] = 0;
    jb_power_path(p, sizeof(p), root, PMU_DIR "/cpumask");
    if (!jb_power_read_line(p, buf, sizeof(buf)))
        ncpu = parse_cpulist(buf, cpus, 64);
    struct rperf *s = calloc(1, sizeof(*s));
    if (!s)
        return jb_err(err, n, JB_ENOMEM, "rapl-perf: out of memory");
    char last_err[JB_ERRLEN] = "";
    int open_errno = 0;
    for (size_t e = 0; e < sizeof(perf_events) / sizeof(perf_events[0]); e++) {
        unsigned long long config;
        double scale;
        char unit[32], perr[JB_ERRLEN];
        if (jb_rapl_perf_parse_event(root, perf_events[e].event, &config, &scale, unit,
                                     sizeof(unit), perr, sizeof(perr)))
            continue;
        size_t l = strlen(found);
        snprintf(found + l, sizeof(found) - l, "%s%s (scale %.4g %s)", l ? ", " : "",
                 perf_events[e].event, scale, unit);
        for (int k = 0; k < ncpu && s->n < PERF_MAX_DOMAINS; k++) {
            struct perf_event_attr attr;
            memset(&attr, 0, sizeof(attr));
            attr.size = sizeof(attr);
            attr.type = type;
            attr.config = config;
            int fd = (int)syscall(SYS_perf_event_open, &attr, -1, cpus[k], -1, 0);
            if (fd < 0) {
                open_errno = errno;
                snprintf(last_err, sizeof(last_err), "perf_event_open(power/%s/, cpu %d): %s",
                         perf_events[e].event, cpus[k], strerror(errno));
                continue;
            }
            struct perf_dom *d = &s->d[s->n++];
            d->fd = fd;
            d->scale_j = scale;
            snprintf(d->name, sizeof(d->name), "%s-%d", perf_events[e].domain, k);
        }
    }
    if (!s->n) {
        perf_free(s);
        if (!found[0])
            return jb_err(err, n, JB_ENOTSUP, "the `power` PMU lists no energy events");
        if (open_errno == EACCES || open_errno == EPERM) {
            char par[32] = "?";
            jb_power_read_line("/proc/sys/kernel/perf_event_paranoid", par, sizeof(par));
            return jb_err(err, n, JB_EPERM,
                          "permission denied: %s (perf_event_paranoid=%s; needs <= 0 or "
                          "CAP_PERFMON)",
                          last_err, par);
        }
        return jb_err(err, n, JB_ENOTSUP, "power PMU lists %s but %s", found, last_err);
    }
    *out = s;
    return JB_OK;
}

static int perf_probe(const char *o, const struct jb_power_context *c, char *why, size_t n)
{
    struct rperf *s = NULL;
    int rc = perf_setup(o, c, &s, why, n);
    if (!rc)
        perf_free(s);
    return rc;
}

static int perf_open(const char *o, const struct jb_power_context *c, void **st, char *err,
                     size_t n)
{
    struct rperf *s = NULL;
    int rc = perf_setup(o, c, &s, err, n);
    *st = s;
    return rc;
}

static int perf_ndomains(const void *st)
{
    return ((const struct rperf *)st)->n;
}

static void perf_domain(const void *st, int i, struct jb_power_domain_info *d)
{
    const struct perf_dom *p = &((const struct rperf *)st)->d[i];
    memset(d, 0, sizeof(*d));
    snprintf(d->name, sizeof(d->name), "%s", p->name);
    d->kind = JB_POWER_ENERGY_COUNTER;
    d->measured = 1;
    d->resolution_j = p->scale_j > RAPL_UNIT_J ? p->scale_j : RAPL_UNIT_J;
    d->update_period_s = RAPL_UPDATE_PERIOD_S;
}

static int perf_read(void *st, int dom, struct jb_power_reading *r, char *err, size_t n)
{
    const struct perf_dom *p = &((const struct rperf *)st)->d[dom];
    unsigned long long v;
    memset(r, 0, sizeof(*r));
    if (read(p->fd, &v, sizeof(v)) != (ssize_t)sizeof(v))
        return jb_err(err, n, JB_EIO, "rapl-perf: read %s: %s", p->name, strerror(errno));
    r->t_s = jb_power_now_s();
    r->energy_j = (double)v * p->scale_j;
    return JB_OK;
}

static void perf_close(void *st)
{
    perf_free(st);
}

const struct jb_power_source_ops jb_power_rapl_perf = {
    .name = "rapl-perf",
    .description = "RAPL energy counters through the perf `power` PMU (pkg, ram, cores, psys)",
    .is_hardware = 1,
    .probe = perf_probe,
    .open = perf_open,
    .ndomains = perf_ndomains,
    .domain = perf_domain,
    .read = perf_read,
    .close = perf_close,
};
