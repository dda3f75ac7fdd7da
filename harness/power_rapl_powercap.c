/* power_rapl_powercap.c: RAPL through the powercap sysfs interface.
 *
 * Every zone under /sys/class/powercap named intel-rapl:N (a package, or
 * psys) and its subzones intel-rapl:N:M (core, uncore, dram) with a readable
 * energy_uj is a domain. energy_uj wraps at max_energy_range_uj (about
 * 262 kJ on recent Intel parts: minutes at package power), so energy.c polls
 * faster than one range and unwraps. Since Linux 5.10 energy_uj is readable
 * only by root (the PLATYPUS side channel, CVE-2020-8694); the probe says so.
 * intel-rapl-mmio zones duplicate the MSR package domain and are skipped.
 * Options: root=DIR, a fake sysfs tree (tests); the context's sysfs_root
 * otherwise. */
#include "base/error.h"
#include "harness/power.h"
#include "harness/power_opts.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PC_MAX_ZONES 32
/* RAPL updates its counters about every millisecond (Intel SDM vol. 3B,
 * 14.10.3); powercap does not say, so this is stated, and probe measures. */
#define RAPL_UPDATE_PERIOD_S 0.001

struct pc_zone {
    char path[1100]; /* .../energy_uj */
    char name[48];   /* package-0, dram-0, psys ... */
    double wrap_j;
    double max_power_w; /* constraint_0_max_power_uw where the zone has it */
};

struct pc {
    struct pc_zone z[PC_MAX_ZONES];
    int n;
};

static const char *const pc_keys[] = {"root", NULL};

static int cmp_zone(const void *a, const void *b)
{
    return strcmp(((const struct pc_zone *)a)->path, ((const struct pc_zone *)b)->path);
}

/* Turns the zone's own name ("package-0", "dram", "core", "psys") into the
 * domain name, numbering subzones by their package. */
static void zone_name(char *out, size_t n, const char *zname, const char *dir)
{
    int pkg = 0, sub = -1;
    if (sscanf(dir, "intel-rapl:%d:%d", &pkg, &sub) < 1)
        pkg = 0;
    if (sub < 0 || strchr(zname, '-'))
        snprintf(out, n, "%s", zname);
    else
        snprintf(out, n, "%s-%d", !strcmp(zname, "core") ? "cores" : zname, pkg);
}

static int pc_scan(const char *o, const struct jb_power_context *c, struct pc *s, char *err,
                   size_t n)
{
    int rc = jb_power_opts_check("rapl-powercap", o, pc_keys, err, n);
    if (rc)
        return rc;
    char root[512], base[600];
    if (!jb_power_opt_str(o, "root", root, sizeof(root)))
        snprintf(root, sizeof(root), "%s", c && c->sysfs_root ? c->sysfs_root : "/");
    jb_power_path(base, sizeof(base), root, "/sys/class/powercap");
    DIR *dir = opendir(base);
    if (!dir)
        return jb_err(err, n, JB_ENOTSUP, "no %s in this kernel (no powercap/RAPL driver)", base);
    struct dirent *de;
    int denied = 0, nzones = 0;
    s->n = 0;
    while ((de = readdir(dir)) && s->n < PC_MAX_ZONES) {
        if (strncmp(de->d_name, "intel-rapl:", 11))
            continue;
        nzones++;
        struct pc_zone *z = &s->z[s->n];
        char p[1100], buf[128], zname[40];
        snprintf(p, sizeof(p), "%s/%s/name", base, de->d_name);
        if (jb_power_read_line(p, zname, sizeof(zname)))
            continue;
        snprintf(p, sizeof(p), "%s/%s/max_energy_range_uj", base, de->d_name);
        z->wrap_j = jb_power_read_line(p, buf, sizeof(buf)) ? 0 : strtod(buf, NULL) * 1e-6;
        snprintf(p, sizeof(p), "%s/%s/constraint_0_max_power_uw", base, de->d_name);
        z->max_power_w = jb_power_read_line(p, buf, sizeof(buf)) ? 0 : strtod(buf, NULL) * 1e-6;
        snprintf(z->path, sizeof(z->path), "%s/%s/energy_uj", base, de->d_name);
        int r = jb_power_read_line(z->path, buf, sizeof(buf));
        if (r == JB_EPERM) {
            denied++;
            continue;
        }
        if (r)
            continue;
        zone_name(z->name, sizeof(z->name), zname, de->d_name);
        s->n++;
    }
    closedir(dir);
    if (!s->n && denied)
        return jb_err(err, n, JB_EPERM,
                      "permission denied reading %s/intel-rapl:*/energy_uj (root only since "
                      "Linux 5.10, CVE-2020-8694)",
                      base);
    if (!s->n)
        return jb_err(err, n, JB_ENOTSUP, "%s has %d intel-rapl zones, none readable", base,
                      nzones);
    qsort(s->z, (size_t)s->n, sizeof(s->z[0]), cmp_zone);
    return JB_OK;
}

static int pc_probe(const char *o, const struct jb_power_context *c, char *why, size_t n)
{
    struct pc *s = malloc(sizeof(*s));
    if (!s)
        return jb_err(why, n, JB_ENOMEM, "rapl-powercap: out of memory");
    int rc = pc_scan(o, c, s, why, n);
    free(s);
    return rc;
}

static int pc_open(const char *o, const struct jb_power_context *c, void **st, char *err, size_t n)
{
    struct pc *s = calloc(1, sizeof(*s));
    if (!s)
        return jb_err(err, n, JB_ENOMEM, "rapl-powercap: out of memory");
    int rc = pc_scan(o, c, s, err, n);
    if (rc) {
        free(s);
        return rc;
    }
    *st = s;
    return JB_OK;
}

static int pc_ndomains(const void *st)
{
    return ((const struct pc *)st)->n;
}

static void pc_domain(const void *st, int i, struct jb_power_domain_info *d)
{
    const struct pc_zone *z = &((const struct pc *)st)->z[i];
    memset(d, 0, sizeof(*d));
    snprintf(d->name, sizeof(d->name), "%s", z->name);
    d->kind = JB_POWER_ENERGY_COUNTER;
    d->measured = 1;
    d->resolution_j = 1e-6; /* energy_uj's unit; the RAPL unit behind it is 15.3-61 uJ */
    d->update_period_s = RAPL_UPDATE_PERIOD_S;
    d->wrap_j = z->wrap_j;
    d->max_power_w = z->max_power_w;
}

static int pc_read(void *st, int dom, struct jb_power_reading *r, char *err, size_t n)
{
    const struct pc_zone *z = &((const struct pc *)st)->z[dom];
    char buf[64], *end;
    memset(r, 0, sizeof(*r));
    int rc = jb_power_read_line(z->path, buf, sizeof(buf));
    if (rc)
        return jb_err(err, n, rc, "rapl-powercap: reading %s: %s", z->path, jb_strerror(rc));
    r->t_s = jb_power_now_s();
    double uj = strtod(buf, &end);
    if (end == buf)
        return jb_err(err, n, JB_EIO, "rapl-powercap: %s holds '%s'", z->path, buf);
    r->energy_j = uj * 1e-6;
    return JB_OK;
}

static void pc_close(void *st)
{
    free(st);
}

const struct jb_power_source_ops jb_power_rapl_powercap = {
    .name = "rapl-powercap",
    .description = "RAPL energy counters through /sys/class/powercap (package, cores, dram, "
                   "psys)",
    .is_hardware = 1,
    .probe = pc_probe,
    .open = pc_open,
    .ndomains = pc_ndomains,
    .domain = pc_domain,
    .read = pc_read,
    .close = pc_close,
};
