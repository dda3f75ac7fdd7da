/* formats.h: result records as rows, for machines and for people, written
 * by `joulebench run --format` and `joulebench export --format` alike.
 *
 * Machine formats (csv, jsonl, sql) hold numbers as numbers in one fixed
 * unit per column, the unit in the column's name (latency_median_s,
 * energy_j_per_unit), and every field of the configuration key, so that a
 * spreadsheet, pandas or sqlite3 reads them without parsing strings. CSV
 * quotes every text cell and no number (Python's csv.QUOTE_NONNUMERIC reads
 * it into floats); a missing number is an empty quoted cell, null in JSON
 * Lines, NULL in SQL.
 *
 * People formats (table, md) show SI-prefixed numbers with their units and
 * the key fields that tell runs apart (back-end, context, options). */
#ifndef JB_FORMATS_H
#define JB_FORMATS_H

#include <jansson.h>
#include <stdio.h>

enum jb_rows_format {
    JB_ROWS_TABLE, /* aligned text for a terminal */
    JB_ROWS_MD,    /* a Markdown table */
    JB_ROWS_CSV,
    JB_ROWS_JSONL, /* one JSON object per line, the CSV's columns */
    JB_ROWS_SQL,   /* CREATE TABLE and INSERT statements for sqlite3 */
    JB_ROWS_JSON,  /* the full records, as one JSON array */
};

/* "table", "md", "csv", "jsonl", "sql", "json"; JB_EINVAL otherwise. */
int jb_rows_format_parse(const char *s, enum jb_rows_format *f);

/* The names above, for usage and error messages. */
#define JB_ROWS_FORMAT_NAMES "table, md, csv, jsonl, sql or json"

/* The table name the sql format creates and fills. */
#define JB_ROWS_SQL_TABLE "joulebench_runs"

/* Writes records (a JSON array of records) to f. Returns 0, or JB_EIO when
 * writing failed. */
int jb_rows_write(FILE *f, enum jb_rows_format fmt, const json_t *records);

/* v with an SI prefix (p, n, u, m, none, k, M, G) and four significant
 * digits, then " " and unit: "37.7 ms", "201.6 mJ/token". micro is "u",
 * or "µ" when utf8 is set. "n/a" for a non-finite v. Returns buf. */
const char *jb_fmt_si(double v, const char *unit, int utf8, char *buf, size_t n);

#endif
