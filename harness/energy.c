/* energy.c: PLACEHOLDER energy accounting until issue 3 lands: only the
 * estimate, CPU seconds x 10 W per busy core, +-50%, labelled measured=false.
 * Replaced wholesale by the real implementation. */
#include "harness/energy.h"
#include "harness/error.h"

#include <stdlib.h>
#include <string.h>

#define MAX_REPS 4096

struct jb_energy {
    int nreps;
    struct jb_rep_stats reps[MAX_REPS];
};

int jb_energy_open(const char *spec, const struct jb_energy_opts *o, struct jb_energy **out,
                   char *err, size_t errlen)
{
    (void)o;
    if (strcmp(spec, "auto") && strcmp(spec, "estimate"))
        return jb_err(err, errlen, JB_ENOTSUP, "--power: source '%s' is not in this build", spec);
    *out = calloc(1, sizeof(**out));
    return *out ? JB_OK : jb_err(err, errlen, JB_ENOMEM, "energy: out of memory");
}

void jb_energy_close(struct jb_energy *e)
{
    free(e);
}

double jb_energy_min_duration_s(const struct jb_energy *e)
{
    (void)e;
    return 0;
}

int jb_energy_idle(struct jb_energy *e, double seconds, char *err, size_t errlen)
{
    (void)e;
    (void)seconds;
    (void)err;
    (void)errlen;
    return JB_OK;
}

void jb_energy_begin_run(struct jb_energy *e)
{
    e->nreps = 0;
}

int jb_energy_rep_begin(struct jb_energy *e)
{
    (void)e;
    return JB_OK;
}

int jb_energy_rep_end(struct jb_energy *e, const struct jb_rep_stats *r)
{
    if (e->nreps == MAX_REPS) {
        memmove(e->reps, e->reps + 1, sizeof(e->reps[0]) * (MAX_REPS - 1));
        e->nreps--;
    }
    e->reps[e->nreps++] = *r;
    return JB_OK;
}

int jb_energy_finish_run(struct jb_energy *e, int keep_last, json_t *energy_list,
                         json_t *warnings, const char *trace_path, char *err, size_t errlen)
{
    (void)trace_path;
    (void)err;
    (void)errlen;
    int first = e->nreps > keep_last ? e->nreps - keep_last : 0;
    double j = 0, u = 0, t = 0;
    for (int i = first; i < e->nreps; i++) {
        j += e->reps[i].cpu_s * 10.0;
        u += e->reps[i].units;
        t += e->reps[i].wall_s;
    }
    if (u <= 0 || t <= 0)
        return JB_OK;
    json_t *d = json_object();
    json_object_set_new(d, "domain", json_string("cpu-estimate"));
    json_object_set_new(d, "source", json_string("estimate"));
    json_object_set_new(d, "measured", json_false());
    json_object_set_new(d, "joules_per_unit", json_real(j / u));
    json_object_set_new(d, "uncertainty_joules_per_unit", json_real(0.5 * j / u));
    json_object_set_new(d, "average_power_w", json_real(j / t));
    json_array_append_new(energy_list, d);
    json_array_append_new(warnings,
                          json_string("energy is estimated (placeholder model), not measured"));
    return JB_OK;
}

int jb_energy_probe(json_t *out, const char *sysfs_root)
{
    (void)sysfs_root;
    json_t *s = json_object();
    json_object_set_new(s, "name", json_string("estimate"));
    json_object_set_new(s, "state", json_string("working"));
    json_array_append_new(out, s);
    return JB_OK;
}
