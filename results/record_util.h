/* record_util.h: read-only accessors over a result record (a jansson
 * object) shared by normalization, the stores, compare, history, the
 * dashboard and submission checks, so that "which energy figure counts" and
 * "what names this platform" are decided in one place. */
#ifndef JB_RECORD_UTIL_H
#define JB_RECORD_UTIL_H

#include <jansson.h>
#include <stddef.h>

/* A record is tens of kilobytes (the topology XML included); a file far
 * larger is not one, and reading it whole could exhaust memory. Every
 * reader of record files from outside (import, check) refuses larger ones
 * before reading them. */
#define JB_RECORD_MAX_BYTES (64u << 20)

/* Value at a dotted path ("measurements.latency_s.median"), or NULL. */
const json_t *jb_rec_get(const json_t *record, const char *dotted);

/* Number at a dotted path, or `dflt` when absent, null or not a number. */
double jb_rec_num(const json_t *record, const char *dotted, double dflt);

/* String at a dotted path, or `dflt`. */
const char *jb_rec_str(const json_t *record, const char *dotted, const char *dflt);

/* The energy entry that stands for the run: the first available measured
 * entry with a number, else the first available estimated one, else NULL.
 * Borrowed reference. */
const json_t *jb_rec_primary_energy(const json_t *record);

/* A human label for the machine, written into buf and returned: system.name
 * when the record has one (submissions), else the CPU model (system.cpu_model
 * or system.cpu.model_name) with the host name, else the topology hash. */
const char *jb_rec_platform(const json_t *record, char *buf, size_t n);

/* Copies a record's numeric array at `dotted` into a new malloc'd array
 * (caller frees); *n is its length (0 and NULL when absent). */
double *jb_rec_samples(const json_t *record, const char *dotted, size_t *n);

/* The per-repetition energy samples (J per unit) of the primary entry. */
double *jb_rec_energy_samples(const json_t *record, size_t *n);

/* Whether a JSON document is a Google Benchmark output file. */
int jb_is_gbench(const json_t *doc);

#endif
