/* formats.c: the row formats of formats.h. One table of machine columns
 * (name with unit, type, where the value comes from) serves csv, jsonl and
 * sql; one table of people columns serves table and md. */
#include "results/formats.h"

#include "base/error.h"
#include "base/html.h"
#include "results/config_key.h"
#include "results/record_util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int jb_rows_format_parse(const char *s, enum jb_rows_format *f)
{
    static const struct {
        const char *name;
        enum jb_rows_format f;
    } names[] = {{"table", JB_ROWS_TABLE}, {"md", JB_ROWS_MD},   {"csv", JB_ROWS_CSV},
                 {"jsonl", JB_ROWS_JSONL}, {"sql", JB_ROWS_SQL}, {"json", JB_ROWS_JSON}};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (!strcmp(s, names[i].name)) {
            *f = names[i].f;
            return JB_OK;
        }
    return JB_EINVAL;
}

const char *jb_fmt_si(double v, const char *unit, int utf8, char *buf, size_t n)
{
    static const char *const pre[] = {"p", "n", "u", "m", "", "k", "M", "G"};
    if (!isfinite(v)) {
        snprintf(buf, n, "n/a");
        return buf;
    }
    int e = 4; /* index of "" */
    double a = fabs(v), s = v;
    if (a > 0) {
        while (a < 0.99995 && e > 0) {
            a *= 1e3;
            s *= 1e3;
            e--;
        }
        while (a >= 999.95 && e < 7) {
            a /= 1e3;
            s /= 1e3;
            e++;
        }
    }
    const char *p = e == 2 && utf8 ? "\xc2\xb5" : pre[e];
    snprintf(buf, n, "%.4g %s%s", s, p, unit ? unit : "");
    return buf;
}

/* ---- machine columns ------------------------------------------------------ */

enum col_type { C_STR, C_NUM, C_INT, C_BOOL };

struct mcol {
    const char *name; /* with its unit */
    enum col_type type;
    const char *path;   /* dotted path in the record; NULL: key field or energy */
    const char *key;    /* configuration key field */
    const char *energy; /* field of the primary energy entry */
};

/* Every key field, then what was measured. Energy is the primary entry's
 * (record_util.h: measured before estimated), the figure compare and
 * history use. */
static const struct mcol mcols[] = {
    {"run_id", C_STR, "run_id", NULL, NULL},
    {"created_utc", C_STR, "created_utc", NULL, NULL},
    {"config_key", C_STR, NULL, NULL, NULL},
    {"workload", C_STR, NULL, "workload", NULL},
    {"workload_version", C_STR, NULL, "workload_version", NULL},
    {"family", C_STR, "workload.family", NULL, NULL},
    {"unit", C_STR, "workload.unit", NULL, NULL},
    {"backend", C_STR, NULL, "backend", NULL},
    {"kernel", C_STR, NULL, "kernel", NULL},
    {"dtype", C_STR, NULL, "dtype", NULL},
    {"scenario", C_STR, NULL, "scenario", NULL},
    {"batch", C_INT, NULL, "batch", NULL},
    {"context", C_INT, NULL, "context", NULL},
    {"threads", C_INT, NULL, "threads", NULL},
    {"pin", C_STR, NULL, "pin", NULL},
    {"options", C_STR, NULL, "options", NULL},
    {"power_sources", C_STR, NULL, "power_sources", NULL},
    {"topology_hash", C_STR, NULL, "topology_hash", NULL},
    {"cpu_model", C_STR, NULL, "cpu_model", NULL},
    {"gpu_models", C_STR, NULL, "gpu_models", NULL},
    {"platform", C_STR, NULL, NULL, NULL},
    {"git_commit", C_STR, "system.git_commit", NULL, NULL},
    {"complete", C_BOOL, "complete", NULL, NULL},
    {"repetitions", C_INT, "measurements.repetitions_completed", NULL, NULL},
    {"iterations", C_INT, "measurements.iterations", NULL, NULL},
    {"units_per_iteration", C_INT, "measurements.units_per_iteration", NULL, NULL},
    {"min_time_s", C_NUM, "config.min_time_s", NULL, NULL},
    {"duration_s", C_NUM, "measurements.duration_s", NULL, NULL},
    {"latency_median_s", C_NUM, "measurements.latency_s.median", NULL, NULL},
    {"latency_p90_s", C_NUM, "measurements.latency_s.p90", NULL, NULL},
    {"latency_p99_s", C_NUM, "measurements.latency_s.p99", NULL, NULL},
    {"latency_mean_s", C_NUM, "measurements.latency_s.mean", NULL, NULL},
    {"latency_stddev_s", C_NUM, "measurements.latency_s.stddev", NULL, NULL},
    {"throughput_units_per_s", C_NUM, "measurements.throughput_units_per_s", NULL, NULL},
    {"energy_j_per_unit", C_NUM, NULL, NULL, "joules_per_unit"},
    {"energy_uncertainty_j_per_unit", C_NUM, NULL, NULL, "uncertainty_joules_per_unit"},
    {"energy_source", C_STR, NULL, NULL, "source"},
    {"energy_domain", C_STR, NULL, NULL, "domain"},
    {"energy_measured", C_BOOL, NULL, NULL, "measured"},
    {"energy_simulated", C_BOOL, NULL, NULL, "simulated"},
    {"power_w", C_NUM, NULL, NULL, "average_power_w"},
    {"edp_j_s", C_NUM, "derived.energy.edp_j_s", NULL, NULL},
    {"carbon_operational_gco2e_per_1000_units", C_NUM,
     "derived.carbon.operational_gco2e_per_1000_units", NULL, NULL},
    {"carbon_operational_uncertainty_gco2e_per_1000_units", C_NUM,
     "derived.carbon.operational_uncertainty_gco2e_per_1000_units", NULL, NULL},
    {"carbon_embodied_gco2e_per_1000_units", C_NUM, "derived.carbon.embodied_gco2e_per_1000_units",
     NULL, NULL},
    {"water_l_per_1000_units", C_NUM, "derived.water.water_l_per_1000_units", NULL, NULL},
    {"output_check", C_STR, "validity.output_check", NULL, NULL},
};
#define NMCOLS (sizeof(mcols) / sizeof(mcols[0]))

/* A cell's value: *s for text (NULL: missing), *v for numbers (NAN:
 * missing), *b for booleans (-1: missing). */
struct cellv {
    const char *s;
    double v;
    int b;
    char buf[1024];
};

static void get_cell(const json_t *r, const struct mcol *c, struct cellv *o)
{
    o->s = NULL;
    o->v = NAN;
    o->b = -1;
    const json_t *j = NULL;
    if (!strcmp(c->name, "config_key")) {
        struct jb_config_key k;
        jb_config_key_of(r, JB_ACROSS_NONE, &k);
        snprintf(o->buf, sizeof(o->buf), "%s", k.id);
        o->s = o->buf;
        return;
    }
    if (!strcmp(c->name, "platform")) {
        o->s = jb_rec_platform(r, o->buf, sizeof(o->buf));
        return;
    }
    if (c->key) {
        jb_config_key_field(r, c->key, o->buf, sizeof(o->buf));
        if (c->type == C_INT)
            o->v = atof(o->buf);
        else
            o->s = o->buf;
        return;
    }
    if (c->energy) {
        const json_t *e = jb_rec_primary_energy(r);
        j = e ? json_object_get(e, c->energy) : NULL;
        /* an entry without the flag is not simulated */
        if (e && !j && c->type == C_BOOL)
            o->b = 0;
    } else {
        j = jb_rec_get(r, c->path);
    }
    switch (c->type) {
    case C_STR:
        o->s = json_is_string(j) ? json_string_value(j) : NULL;
        break;
    case C_NUM:
    case C_INT:
        o->v = json_is_number(j) ? json_number_value(j) : NAN;
        if (!isfinite(o->v))
            o->v = NAN;
        break;
    case C_BOOL:
        if (json_is_boolean(j))
            o->b = json_is_true(j);
        break;
    }
}

/* CSV text cell: always quoted (so that a reader told "quoted is text"
 * gets numbers from the rest); a text starting like a spreadsheet formula
 * gets a leading ' so that opening the file cannot run one. */
static void csv_text(FILE *f, const char *s)
{
    fputc('"', f);
    if (s && *s && strchr("=+-@\t", s[0]))
        fputc('\'', f);
    for (const char *p = s ? s : ""; *p; p++) {
        if (*p == '"')
            fputc('"', f);
        fputc(*p, f);
    }
    fputc('"', f);
}

static void sql_text(FILE *f, const char *s)
{
    fputc('\'', f);
    for (const char *p = s; *p; p++) {
        if (*p == '\'')
            fputc('\'', f);
        fputc(*p, f);
    }
    fputc('\'', f);
}

static void write_csv(FILE *f, const json_t *records)
{
    for (size_t c = 0; c < NMCOLS; c++) {
        if (c)
            fputc(',', f);
        csv_text(f, mcols[c].name);
    }
    fputc('\n', f);
    size_t i;
    const json_t *r;
    json_array_foreach(records, i, r)
    {
        for (size_t c = 0; c < NMCOLS; c++) {
            struct cellv v;
            get_cell(r, &mcols[c], &v);
            if (c)
                fputc(',', f);
            if (mcols[c].type == C_STR)
                csv_text(f, v.s);
            else if (mcols[c].type == C_BOOL)
                v.b < 0 ? csv_text(f, NULL) : (void)fprintf(f, "%d", v.b);
            else if (isnan(v.v))
                csv_text(f, NULL);
            else
                fprintf(f, mcols[c].type == C_INT ? "%.0f" : "%.9g", v.v);
        }
        fputc('\n', f);
    }
}

static void write_jsonl(FILE *f, const json_t *records)
{
    size_t i;
    const json_t *r;
    json_array_foreach(records, i, r)
    {
        json_t *o = json_object();
        for (size_t c = 0; c < NMCOLS; c++) {
            struct cellv v;
            get_cell(r, &mcols[c], &v);
            json_t *j;
            if (mcols[c].type == C_STR)
                j = v.s ? json_string(v.s) : json_null();
            else if (mcols[c].type == C_BOOL)
                j = v.b < 0 ? json_null() : json_boolean(v.b);
            else if (isnan(v.v))
                j = json_null();
            else
                j = mcols[c].type == C_INT ? json_integer((json_int_t)v.v) : json_real(v.v);
            json_object_set_new(o, mcols[c].name, j ? j : json_null());
        }
        /* keys in column order, as the CSV has them */
        json_dumpf(o, f, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
        fputc('\n', f);
        json_decref(o);
    }
}

static void write_sql(FILE *f, const json_t *records)
{
    fputs("-- joulebench runs; load with: sqlite3 runs.db < this.sql\n"
          "BEGIN TRANSACTION;\nCREATE TABLE IF NOT EXISTS " JB_ROWS_SQL_TABLE " (",
          f);
    for (size_t c = 0; c < NMCOLS; c++)
        fprintf(f, "%s%s %s", c ? ", " : "", mcols[c].name,
                mcols[c].type == C_STR   ? "TEXT"
                : mcols[c].type == C_NUM ? "REAL"
                                         : "INTEGER");
    fputs(");\n", f);
    size_t i;
    const json_t *r;
    json_array_foreach(records, i, r)
    {
        fputs("INSERT INTO " JB_ROWS_SQL_TABLE " (", f);
        for (size_t c = 0; c < NMCOLS; c++)
            fprintf(f, "%s%s", c ? ", " : "", mcols[c].name);
        fputs(") VALUES (", f);
        for (size_t c = 0; c < NMCOLS; c++) {
            struct cellv v;
            get_cell(r, &mcols[c], &v);
            if (c)
                fputs(", ", f);
            if (mcols[c].type == C_STR)
                v.s ? sql_text(f, v.s) : (void)fputs("NULL", f);
            else if (mcols[c].type == C_BOOL)
                v.b < 0 ? (void)fputs("NULL", f) : (void)fprintf(f, "%d", v.b);
            else if (isnan(v.v))
                fputs("NULL", f);
            else
                fprintf(f, mcols[c].type == C_INT ? "%.0f" : "%.17g", v.v);
        }
        fputs(");\n", f);
    }
    fputs("COMMIT;\n", f);
}

/* ---- people columns ------------------------------------------------------ */

#define NPCOLS 17
static const char *const phdr[NPCOLS] = {"workload",   "backend", "dtype",   "scenario", "batch",
                                         "threads",    "context", "options", "latency",  "p99",
                                         "throughput", "energy",  "+-",      "source",   "power",
                                         "check",      "platform"};
/* right-aligned (numbers) */
static const int pright[NPCOLS] = {0, 0, 0, 0, 1, 1, 1, 0, 1, 1, 1, 1, 1, 0, 1, 0, 0};

static void people_row(const json_t *r, char cells[NPCOLS][160])
{
    char k[160], unit[64], u2[80];
    jb_config_key_field(r, "workload", cells[0], 160);
    jb_config_key_field(r, "backend", cells[1], 160);
    jb_config_key_field(r, "kernel", k, sizeof(k));
    if (k[0]) {
        size_t l = strlen(cells[1]);
        snprintf(cells[1] + l, 160 - l, "/%s", k);
    }
    jb_config_key_field(r, "dtype", cells[2], 160);
    jb_config_key_field(r, "scenario", cells[3], 160);
    jb_config_key_field(r, "batch", cells[4], 160);
    jb_config_key_field(r, "threads", cells[5], 160);
    jb_config_key_field(r, "context", cells[6], 160);
    if (!strcmp(cells[6], "0"))
        snprintf(cells[6], 160, "-");
    jb_config_key_field(r, "options", cells[7], 160);
    if (!cells[7][0])
        snprintf(cells[7], 160, "-");
    jb_fmt_si(jb_rec_num(r, "measurements.latency_s.median", NAN), "s", 0, cells[8], 160);
    jb_fmt_si(jb_rec_num(r, "measurements.latency_s.p99", NAN), "s", 0, cells[9], 160);
    snprintf(unit, sizeof(unit), "%s", jb_rec_str(r, "workload.unit", "unit"));
    snprintf(u2, sizeof(u2), "%s/s", unit);
    jb_fmt_si(jb_rec_num(r, "measurements.throughput_units_per_s", NAN), u2, 0, cells[10], 160);
    const json_t *e = jb_rec_primary_energy(r);
    snprintf(u2, sizeof(u2), "J/%s", unit);
    jb_fmt_si(e ? jb_rec_num(e, "joules_per_unit", NAN) : NAN, u2, 0, cells[11], 160);
    jb_fmt_si(e ? jb_rec_num(e, "uncertainty_joules_per_unit", NAN) : NAN, "J", 0, cells[12], 160);
    if (e)
        snprintf(cells[13], 160, "%s%s", jb_rec_str(e, "source", "?"),
                 json_is_true(json_object_get(e, "simulated"))  ? " SIMULATED"
                 : json_is_true(json_object_get(e, "measured")) ? ""
                                                                : " ESTIMATED");
    else
        snprintf(cells[13], 160, "none");
    jb_fmt_si(e ? jb_rec_num(e, "average_power_w", NAN) : NAN, "W", 0, cells[14], 160);
    snprintf(cells[15], 160, "%s", jb_rec_str(r, "validity.output_check", "-"));
    jb_rec_platform(r, cells[16], 160);
    /* record strings reach a terminal: no control characters */
    for (int c = 0; c < NPCOLS; c++)
        for (char *p = cells[c]; *p; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f)
                *p = '?';
}

/* Markdown cell: pipes escaped, HTML neutralized by the one HTML escaper
 * (Markdown renderers pass HTML through). */
static void md_text(FILE *f, const char *s)
{
    for (const char *p = s; *p; p++) {
        if (*p == '|')
            fputs("\\|", f);
        else
            jb_html_putc(f, *p);
    }
}

static void write_people(FILE *f, const json_t *records, int md)
{
    size_t nr = json_array_size(records), w[NPCOLS];
    char(*cells)[NPCOLS][160] = calloc(nr + 1, sizeof(*cells));
    if (!cells)
        return;
    for (int c = 0; c < NPCOLS; c++)
        w[c] = strlen(phdr[c]);
    for (size_t i = 0; i < nr; i++) {
        people_row(json_array_get(records, i), cells[i]);
        for (int c = 0; c < NPCOLS; c++)
            if (strlen(cells[i][c]) > w[c])
                w[c] = strlen(cells[i][c]);
    }
    if (md) {
        for (int c = 0; c < NPCOLS; c++)
            fprintf(f, "| %s ", phdr[c]);
        fputs("|\n", f);
        for (int c = 0; c < NPCOLS; c++)
            fputs(pright[c] ? "| ---: " : "| --- ", f);
        fputs("|\n", f);
        for (size_t i = 0; i < nr; i++) {
            for (int c = 0; c < NPCOLS; c++) {
                fputs("| ", f);
                md_text(f, cells[i][c]);
                fputc(' ', f);
            }
            fputs("|\n", f);
        }
    } else {
        for (int c = 0; c < NPCOLS; c++)
            fprintf(f, "%s%*s", c ? "  " : "",
                    pright[c]         ? (int)w[c]
                    : c == NPCOLS - 1 ? 0
                                      : -(int)w[c],
                    phdr[c]);
        fputc('\n', f);
        for (size_t i = 0; i < nr; i++) {
            for (int c = 0; c < NPCOLS; c++)
                fprintf(f, "%s%*s", c ? "  " : "",
                        pright[c]         ? (int)w[c]
                        : c == NPCOLS - 1 ? 0
                                          : -(int)w[c],
                        cells[i][c]);
            fputc('\n', f);
        }
    }
    free(cells);
}

int jb_rows_write(FILE *f, enum jb_rows_format fmt, const json_t *records)
{
    switch (fmt) {
    case JB_ROWS_TABLE:
        write_people(f, records, 0);
        break;
    case JB_ROWS_MD:
        write_people(f, records, 1);
        break;
    case JB_ROWS_CSV:
        write_csv(f, records);
        break;
    case JB_ROWS_JSONL:
        write_jsonl(f, records);
        break;
    case JB_ROWS_SQL:
        write_sql(f, records);
        break;
    case JB_ROWS_JSON:
        json_dumpf(records, f, JSON_INDENT(2));
        fputc('\n', f);
        break;
    }
    return fflush(f) || ferror(f) ? JB_EIO : JB_OK;
}
