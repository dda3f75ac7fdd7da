/* carbon.h: the factors that turn joules into carbon and water: the grid
 * carbon-intensity table (results/data/grid_intensity.csv), the facility
 * defaults by platform class (results/data/wue.csv); the platform
 * descriptors, with embodied emissions, load through
 * platforms/descriptor.h.
 * Kept apart from normalize.c so that the tables can be listed and tested
 * on their own and the CLI can say which row a figure came from. */
#ifndef JB_CARBON_H
#define JB_CARBON_H

#include <stddef.h>

/* Used when neither --grid-intensity nor --region is given: the world
 * average row of the table. */
#define JB_GRID_DEFAULT_REGION "WORLD"
/* No grid emits more: lignite, the dirtiest fuel, is about 1,100 gCO2e/kWh
 * over its life cycle (IPCC AR5 WG3 Annex III); a table value above this
 * bound is a typo. */
#define JB_GRID_MAX_GCO2E_PER_KWH 3000

struct jb_grid_row {
    char region[48];
    char name[64];
    double gco2e_per_kwh;
    int year;
    char source[256];
};

/* Folder of the data tables (base/datadir.h: $JB_DATA_DIR, else the
 * installed share/joulebench/data, else the source tree's results/data). */
void jb_carbon_data_dir(char *dst, size_t n);

/* Looks a region code up (case-insensitive: "FR", "gcp:europe-west1",
 * "aws:us-east-1"). NULL region: the default. JB_ENOENT names the code. */
int jb_grid_lookup(const char *region, struct jb_grid_row *out, char *err, size_t errlen);

/* Facility defaults of a class ("desktop", "embedded", "datacenter"). */
int jb_facility_defaults(const char *cls, double *pue, double *wue_l_per_kwh, char *source,
                         size_t srclen, char *err, size_t errlen);

#endif
