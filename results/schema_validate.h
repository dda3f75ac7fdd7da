/* schema_validate.h: checks a result record against record.schema.json.
 *
 * A small JSON Schema validator for the subset our schema uses (type and
 * type lists, required, properties, items, enum, const, minimum, minLength,
 * maxLength; draft 2020-12 spelling and semantics: enum and const compare
 * numbers by value, so 1 equals 1.0; unknown keywords are ignored; tested
 * against the JSON Schema Test Suite, tests/test_results_schema_suite.c),
 * and the loader that every consumer of record files goes through, so that
 * a record of an unknown or newer schema version, a truncated file or a
 * record that breaks the contract is refused with one clear line before
 * anything is stored or compared. */
#ifndef JB_SCHEMA_VALIDATE_H
#define JB_SCHEMA_VALIDATE_H

#include <jansson.h>
#include <stddef.h>

/* The record schema version this build reads and writes. */
#define JB_RECORD_SCHEMA_VERSION 1

/* Validates instance against schema. Returns 0, or JB_EINVAL with the JSON
 * path of the first failure in err ("$.measurements.latency_s.median: -1 is
 * below the minimum 0"). */
int jb_schema_validate(const json_t *schema, const json_t *instance, char *err, size_t errlen);

/* Loads record.schema.json from the schema folder (base/datadir.h:
 * $JB_SCHEMA_DIR, else the installed share/joulebench/schema, else the
 * source tree's results/schema). Caller owns *out. */
int jb_record_schema_load(json_t **out, char *err, size_t errlen);

/* Checks a parsed record: schema_version (JB_EFORMAT for a newer or unknown
 * one), then the schema. Borrowed schema may be NULL (then loaded here). */
int jb_record_check(const json_t *schema, const json_t *record, char *err, size_t errlen);

/* Parses and checks a record file. On success *out is a new reference the
 * caller owns; on failure *out is NULL and err names the file. */
int jb_record_load(const char *path, json_t **out, char *err, size_t errlen);

/* The same for a record held in memory (len bytes, need not be terminated). */
int jb_record_parse(const char *buf, size_t len, const json_t *schema, json_t **out, char *err,
                    size_t errlen);

#endif
