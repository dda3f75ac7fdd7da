/* normalize.h: derived figures of a result record: energy per unit, per MAC
 * and per FLOP, units per joule, energy-delay product, average power, the
 * fraction of the machine's measured roofline, and operational and embodied
 * carbon and water per 1000 units with uncertainty carried through. Every
 * figure is labelled measured or estimated after the energy entry it comes
 * from. Formulas and defaults: METHODOLOGY.md section 7. */
#ifndef JB_NORMALIZE_H
#define JB_NORMALIZE_H

#include <jansson.h>
#include <stddef.h>

struct jb_norm_opts {
    double grid_gco2e_per_kwh; /* < 0: from region, else the table's default row */
    const char *region;        /* table code or NULL */
    double pue;                /* < 0: the platform's pue_default, else its class default */
    double wue_l_per_kwh;      /* < 0: the platform's, else its class default */
    const json_t *platform;    /* descriptor (borrowed) or NULL: no embodied figure */
    const json_t *calib_triad; /* calibration records of the same machine and */
    const json_t *calib_fma;   /* thread count (borrowed), or NULL */
};

/* Sets defaults: everything "not given". */
void jb_norm_opts_init(struct jb_norm_opts *o);

/* Replaces record.derived with the figures above. Returns 0, or an error
 * (unknown region, table missing) with nothing changed. */
int jb_normalize_record(json_t *record, const struct jb_norm_opts *o, char *err, size_t errlen);

/* True when a record is a calibration run that can serve as the roofline
 * for others: workload "triad" (bandwidth) or "fma" (FLOP/s). */
int jb_is_calibration(const json_t *record, const char *which);

/* Whether calibration record c matches record r: same topology hash and
 * thread count. */
int jb_calibration_matches(const json_t *c, const json_t *r);

#endif
