/* normalize.c: computes a record's `derived` object (see normalize.h and
 * METHODOLOGY.md section 7). Carbon follows the Green Software Foundation's
 * SCI: ((E x I) + M) per functional unit, with E multiplied by the
 * facility's PUE and M the time share of the platform's embodied emissions
 * over its lifetime. Uncertainty is carried as the energy entry states it
 * (its coverage is kept), relative uncertainties added in quadrature. */
#include "results/normalize.h"

#include "base/error.h"
#include "results/carbon.h"
#include "results/record_util.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define J_PER_KWH 3.6e6
#define S_PER_YEAR (365.25 * 86400.0)

void jb_norm_opts_init(struct jb_norm_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->grid_gco2e_per_kwh = -1;
    o->pue = -1;
    o->wue_l_per_kwh = -1;
}

int jb_is_calibration(const json_t *r, const char *which)
{
    const char *w = jb_rec_str(r, "workload.name", "");
    return !strcmp(w, which) && json_is_true(json_object_get(r, "complete"));
}

int jb_calibration_matches(const json_t *c, const json_t *r)
{
    return !strcmp(jb_rec_str(c, "system.topology_hash", "?"),
                   jb_rec_str(r, "system.topology_hash", "!")) &&
           jb_rec_num(c, "config.threads", -1) == jb_rec_num(r, "config.threads", -2);
}

static json_t *num_or_null(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

/* Relative standard error of the time per unit, from the per-repetition
 * latency samples (0 when fewer than two). */
static double rel_time_uncertainty(const json_t *r)
{
    size_t n;
    double *s = jb_rec_samples(r, "measurements.latency_s.samples", &n);
    double rel = 0;
    if (n >= 2) {
        double m = 0, v = 0;
        for (size_t i = 0; i < n; i++)
            m += s[i];
        m /= (double)n;
        for (size_t i = 0; i < n; i++)
            v += (s[i] - m) * (s[i] - m);
        v /= (double)(n - 1);
        rel = m > 0 ? sqrt(v / (double)n) / m : 0;
    }
    free(s);
    return rel;
}

static json_t *roofline(const json_t *r, const struct jb_norm_opts *o)
{
    double tput = jb_rec_num(r, "measurements.throughput_units_per_s", NAN);
    double bytes = jb_rec_num(r, "workload.counts_per_unit.bytes_moved", 0);
    double flops = jb_rec_num(r, "workload.counts_per_unit.flops", 0);
    json_t *j = json_object();
    double bw = bytes > 0 ? bytes * tput : NAN, fl = flops > 0 ? flops * tput : NAN;
    json_object_set_new(j, "achieved_bytes_per_s", num_or_null(bw));
    json_object_set_new(j, "achieved_flops_per_s", num_or_null(fl));
    double cbw = NAN, cfl = NAN;
    if (o->calib_triad && jb_calibration_matches(o->calib_triad, r)) {
        cbw = jb_rec_num(o->calib_triad, "workload.counts_per_unit.bytes_moved", NAN) *
              jb_rec_num(o->calib_triad, "measurements.throughput_units_per_s", NAN);
        json_object_set_new(j, "bandwidth_calibration_run_id",
                            json_string(jb_rec_str(o->calib_triad, "run_id", "?")));
    }
    if (o->calib_fma && jb_calibration_matches(o->calib_fma, r)) {
        cfl = jb_rec_num(o->calib_fma, "workload.counts_per_unit.flops", NAN) *
              jb_rec_num(o->calib_fma, "measurements.throughput_units_per_s", NAN);
        json_object_set_new(j, "flops_calibration_run_id",
                            json_string(jb_rec_str(o->calib_fma, "run_id", "?")));
    }
    json_object_set_new(j, "calibration_bytes_per_s", num_or_null(cbw));
    json_object_set_new(j, "calibration_flops_per_s", num_or_null(cfl));
    json_object_set_new(j, "fraction_of_bandwidth", num_or_null(cbw > 0 ? bw / cbw : NAN));
    json_object_set_new(j, "fraction_of_flops", num_or_null(cfl > 0 ? fl / cfl : NAN));
    return j;
}

int jb_normalize_record(json_t *r, const struct jb_norm_opts *o, char *err, size_t errlen)
{
    struct jb_grid_row grid;
    memset(&grid, 0, sizeof(grid));
    double intensity = o->grid_gco2e_per_kwh;
    char grid_src[420];
    if (intensity >= 0) {
        snprintf(grid_src, sizeof(grid_src), "given on the command line (--grid-intensity)");
    } else {
        int rc = jb_grid_lookup(o->region, &grid, err, errlen);
        if (rc)
            return rc;
        intensity = grid.gco2e_per_kwh;
        snprintf(grid_src, sizeof(grid_src), "%s (%s, %d): %s", grid.region, grid.name, grid.year,
                 grid.source);
    }

    /* Facility factors: the option, else the platform's own default, else
     * its class default from wue.csv (desktop when nothing is known). */
    double pue = o->pue, wue = o->wue_l_per_kwh, cls_pue = 1.0, cls_wue = 0.0;
    char fac_src[260] = "";
    const char *cls = o->platform ? jb_rec_str(o->platform, "class", "desktop") : "desktop";
    int rc = jb_facility_defaults(cls, &cls_pue, &cls_wue, fac_src, sizeof(fac_src), err, errlen);
    if (rc)
        return rc;
    const char *pue_from = "--pue", *wue_from = "--wue";
    if (pue < 0) {
        pue = o->platform ? jb_rec_num(o->platform, "pue_default", cls_pue) : cls_pue;
        pue_from = o->platform ? "platform descriptor pue_default" : "class default (desktop)";
    }
    if (wue < 0) {
        wue = o->platform ? jb_rec_num(o->platform, "wue_l_per_kwh", cls_wue) : cls_wue;
        wue_from =
            o->platform ? "platform descriptor or its class default" : "class default (desktop)";
    }

    const json_t *e = jb_rec_primary_energy(r);
    double ej = e ? jb_rec_num(e, "joules_per_unit", NAN) : NAN;
    double eu = e ? jb_rec_num(e, "uncertainty_joules_per_unit", NAN) : NAN;
    double pw = e ? jb_rec_num(e, "average_power_w", NAN) : NAN;
    double lat = jb_rec_num(r, "measurements.latency_s.median", NAN);
    double upi = jb_rec_num(r, "measurements.units_per_iteration", 1);
    double tput = jb_rec_num(r, "measurements.throughput_units_per_s", NAN);
    double macs = jb_rec_num(r, "workload.counts_per_unit.macs", 0);
    double flops = jb_rec_num(r, "workload.counts_per_unit.flops", 0);
    const char *label = !e                                             ? "unavailable"
                        : json_is_true(json_object_get(e, "measured")) ? "measured"
                                                                       : "estimated";
    double rel_e = (isfinite(eu) && ej > 0) ? eu / ej : NAN;

    json_t *d = json_object();
    json_t *en = json_object();
    json_object_set_new(en, "label", json_string(label));
    json_object_set_new(en, "domain", e ? json_string(jb_rec_str(e, "domain", "?")) : json_null());
    json_object_set_new(en, "source", e ? json_string(jb_rec_str(e, "source", "?")) : json_null());
    json_object_set_new(en, "joules_per_unit", num_or_null(ej));
    json_object_set_new(en, "uncertainty_joules_per_unit", num_or_null(eu));
    json_object_set_new(en, "pj_per_mac", num_or_null(macs > 0 ? ej / macs * 1e12 : NAN));
    json_object_set_new(en, "pj_per_flop", num_or_null(flops > 0 ? ej / flops * 1e12 : NAN));
    json_object_set_new(en, "units_per_joule", num_or_null(ej > 0 ? 1.0 / ej : NAN));
    /* EDP per unit: energy per unit x time per unit (latency of a query
     * divided by the units it carries), J*s. */
    double t_unit = upi > 0 ? lat / upi : NAN;
    json_object_set_new(en, "edp_j_s", num_or_null(ej * t_unit));
    /* Average power: the entry's own figure when present, else E/t. */
    json_object_set_new(en, "average_power_w",
                        num_or_null(isfinite(pw) ? pw : (isfinite(tput) ? ej * tput : NAN)));
    json_object_set_new(d, "energy", en);
    json_object_set_new(d, "roofline", roofline(r, o));

    /* Operational: E [J] / 3.6e6 [J/kWh] x PUE x I [g/kWh], per 1000 units. */
    double op = ej / J_PER_KWH * pue * intensity * 1000.0;
    json_t *c = json_object();
    json_object_set_new(c, "label", json_string(label));
    json_object_set_new(c, "grid_gco2e_per_kwh", json_real(intensity));
    json_object_set_new(c, "grid_source", json_string(grid_src));
    json_object_set_new(c, "pue", json_real(pue));
    json_object_set_new(c, "pue_source", json_string(pue_from));
    json_object_set_new(c, "operational_gco2e_per_1000_units", num_or_null(op));
    json_object_set_new(c, "operational_uncertainty_gco2e_per_1000_units", num_or_null(op * rel_e));

    /* Embodied: M [kg] x 1000 g/kg x share x (t_unit / lifetime) x 1000.
     * The share of the platform a run holds is threads / cores for a CPU
     * descriptor (the rest could serve others), the whole device otherwise. */
    double emb = NAN, emb_u = NAN;
    if (o->platform) {
        double m_kg = jb_rec_num(o->platform, "embodied_kgco2e", NAN);
        double life_s = jb_rec_num(o->platform, "lifetime_years", NAN) * S_PER_YEAR;
        double cores = jb_rec_num(o->platform, "cores", 0);
        double thr = jb_rec_num(r, "config.threads", 1);
        double share = 1.0;
        if (!strcmp(jb_rec_str(o->platform, "kind", ""), "cpu") && cores > 0)
            share = thr < cores ? thr / cores : 1.0;
        double sec_per_unit = tput > 0 ? 1.0 / tput : NAN;
        emb = m_kg * 1000.0 * share * sec_per_unit / life_s * 1000.0;
        emb_u = emb * rel_time_uncertainty(r);
        json_object_set_new(c, "platform", json_string(jb_rec_str(o->platform, "name", "?")));
        json_object_set_new(c, "embodied_kgco2e", json_real(m_kg));
        json_object_set_new(c, "lifetime_years",
                            json_real(jb_rec_num(o->platform, "lifetime_years", NAN)));
        json_object_set_new(c, "resource_share", json_real(share));
        json_object_set_new(c, "embodied_label", json_string("estimated"));
    } else {
        json_object_set_new(c, "platform", json_null());
    }
    json_object_set_new(c, "embodied_gco2e_per_1000_units", num_or_null(emb));
    json_object_set_new(c, "embodied_uncertainty_gco2e_per_1000_units", num_or_null(emb_u));
    double op_u = op * rel_e;
    json_object_set_new(c, "total_gco2e_per_1000_units",
                        num_or_null(isfinite(emb) ? op + emb : op));
    json_object_set_new(c, "total_uncertainty_gco2e_per_1000_units",
                        num_or_null(isfinite(emb_u) ? sqrt(op_u * op_u + emb_u * emb_u) : op_u));
    json_object_set_new(d, "carbon", c);

    /* Water: E / 3.6e6 x WUE [L/kWh], per 1000 units. On-site WUE applies to
     * the IT energy, so PUE is not multiplied in. */
    json_t *w = json_object();
    double water = ej / J_PER_KWH * wue * 1000.0;
    json_object_set_new(w, "label", json_string(label));
    json_object_set_new(w, "wue_l_per_kwh", json_real(wue));
    json_object_set_new(w, "wue_source", json_string(wue_from));
    json_object_set_new(w, "facility_class_source", json_string(fac_src));
    json_object_set_new(w, "water_l_per_1000_units", num_or_null(water));
    json_object_set_new(w, "water_uncertainty_l_per_1000_units", num_or_null(water * rel_e));
    json_object_set_new(d, "water", w);

    json_object_set_new(r, "derived", d);
    return JB_OK;
}
