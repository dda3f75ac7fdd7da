/* carbon.c: reading the grid-intensity and facility tables (see
 * carbon.h). The tables are plain CSV whose last column,
 * the source, may itself hold commas: everything after the last fixed
 * column is the source text. */
#include "results/carbon.h"

#include "base/datadir.h"
#include "base/error.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void jb_carbon_data_dir(char *dst, size_t n)
{
    jb_data_dir(JB_DATA_TABLES, dst, n);
}

/* Splits line into at most nf fields at commas; the last field takes the
 * rest of the line (quotes around it stripped). Returns fields found. */
static int split_csv(char *line, char **f, int nf)
{
    int k = 0;
    char *p = line;
    line[strcspn(line, "\r\n")] = '\0';
    while (k < nf - 1) {
        char *c = strchr(p, ',');
        if (!c)
            break;
        *c = '\0';
        f[k++] = p;
        p = c + 1;
    }
    size_t l = strlen(p);
    if (l >= 2 && p[0] == '"' && p[l - 1] == '"') {
        p[l - 1] = '\0';
        p++;
    }
    f[k++] = p;
    return k;
}

/* A table cell that is a whole number in [lo, hi]; an empty cell, text
 * ("abc") or a value out of range is not one (strtod alone made them 0). */
static int table_number(const char *s, double lo, double hi, double *out)
{
    char *end;
    while (*s == ' ')
        s++;
    if (!*s)
        return 0;
    errno = 0;
    double v = strtod(s, &end);
    while (*end == ' ')
        end++;
    if (*end || errno || !isfinite(v) || v < lo || v > hi || strpbrk(s, "xXnN"))
        return 0;
    *out = v;
    return 1;
}

int jb_grid_lookup(const char *region, struct jb_grid_row *out, char *err, size_t errlen)
{
    char dir[900], path[1024], line[1024];
    jb_carbon_data_dir(dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/grid_intensity.csv", dir);
    if (!region || !*region)
        region = JB_GRID_DEFAULT_REGION;
    FILE *f = fopen(path, "r");
    if (!f)
        return jb_err(err, errlen, JB_ENOENT, "grid intensity table %s: cannot open", path);
    int found = 0, lineno = 0;
    double year = 0;
    while (fgets(line, sizeof(line), f)) {
        char *fl[6];
        lineno++;
        if (split_csv(line, fl, 6) != 6 || !strcmp(fl[0], "region"))
            continue;
        if (strcasecmp(fl[0], region))
            continue;
        memset(out, 0, sizeof(*out));
        snprintf(out->region, sizeof(out->region), "%.47s", fl[0]);
        snprintf(out->name, sizeof(out->name), "%.63s", fl[2]);
        snprintf(out->source, sizeof(out->source), "%.255s", fl[5]);
        found = 1;
        int bad_g = !table_number(fl[3], 0, JB_GRID_MAX_GCO2E_PER_KWH, &out->gco2e_per_kwh);
        int bad_y = !bad_g && !table_number(fl[4], 1990, 2100, &year);
        if (bad_g || bad_y) {
            char ex[JB_EXCERPT_MAX + 1];
            fclose(f);
            return jb_err(err, errlen, JB_EINVAL, "%s:%d: region %s: '%s' is not %s", path, lineno,
                          out->region, jb_excerpt(bad_y ? fl[4] : fl[3], ex, sizeof(ex)),
                          bad_y ? "a year from 1990 to 2100"
                                : "a grid intensity from 0 to 3000 gCO2e/kWh");
        }
        out->year = (int)year;
        break;
    }
    fclose(f);
    if (!found)
        return jb_err(
            err, errlen, JB_ENOENT,
            "region '%.40s' is not in %s (codes: ISO country like FR, or gcp:/aws:/azure: "
            "cloud regions)",
            region, path);
    return JB_OK;
}

int jb_facility_defaults(const char *cls, double *pue, double *wue, char *source, size_t srclen,
                         char *err, size_t errlen)
{
    char dir[900], path[1024], line[1024];
    jb_carbon_data_dir(dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/wue.csv", dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return jb_err(err, errlen, JB_ENOENT, "facility table %s: cannot open", path);
    int found = 0;
    while (fgets(line, sizeof(line), f)) {
        char *fl[4];
        if (split_csv(line, fl, 4) != 4 || strcmp(fl[0], cls ? cls : "desktop"))
            continue;
        if (!table_number(fl[1], 0, 100, wue) || !table_number(fl[2], 1, 10, pue)) {
            fclose(f);
            return jb_err(err, errlen, JB_EINVAL,
                          "%s: class %s: WUE (0 to 100 L/kWh) or PUE (1 to 10) is not a number",
                          path, fl[0]);
        }
        if (source)
            snprintf(source, srclen, "%.255s", fl[3]);
        found = 1;
        break;
    }
    fclose(f);
    if (!found)
        return jb_err(err, errlen, JB_ENOENT, "facility class '%.40s' is not in %s",
                      cls ? cls : "desktop", path);
    return JB_OK;
}
