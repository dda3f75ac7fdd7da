/* fuzz_grid.c: the grid-intensity and facility tables (results/data/grid_intensity.csv, wue.csv,
 * replaceable through $JB_DATA_DIR). Each input is written as both tables
 * into a scratch folder and looked up for a few regions and classes; a row
 * the reader accepts must hold its value in range. */
#include "base/error.h"
#include "results/carbon.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int put(const char *dir, const char *name, const uint8_t *data, size_t size)
{
    char p[512];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    if (!f)
        return -1;
    size_t w = fwrite(data, 1, size, f);
    return fclose(f) || w != size ? -1 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* one scratch folder per process, made once: a fuzzer calls this
     * millions of times */
    static char dir[] = "/tmp/jb_fuzz_grid_XXXXXX";
    static int ready;
    if (!ready) {
        if (!mkdtemp(dir) || setenv("JB_DATA_DIR", dir, 1))
            abort();
        ready = 1;
    }
    if (put(dir, "grid_intensity.csv", data, size) || put(dir, "wue.csv", data, size))
        return 0;
    static const char *const regions[] = {"FR", "WORLD", "gcp:europe-west1", "region", ""};
    char err[JB_ERRLEN];
    for (size_t i = 0; i < sizeof(regions) / sizeof(regions[0]); i++) {
        struct jb_grid_row r;
        if (jb_grid_lookup(regions[i], &r, err, sizeof(err)) == 0 &&
            !(r.gco2e_per_kwh >= 0 && r.gco2e_per_kwh <= JB_GRID_MAX_GCO2E_PER_KWH))
            abort();
    }
    static const char *const classes[] = {"desktop", "datacenter", "class"};
    for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++) {
        double pue, wue;
        char src[64];
        if (jb_facility_defaults(classes[i], &pue, &wue, src, sizeof(src), err, sizeof(err)) ==
                0 &&
            !(pue >= 1 && wue >= 0))
            abort();
    }
    return 0;
}
