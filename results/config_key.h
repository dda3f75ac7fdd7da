/* config_key.h: the configuration key of a result record: what must be the
 * same for two runs to be the same measurement. Compare, history, change
 * points, export and the dashboard group runs by it and never pool runs of
 * different keys (a context of 128 and one of 1023 are two workloads, not a
 * change of performance). Computed from the record by one function, so that
 * a record written before the key existed gets the key a new one would.
 * Definition and reasons: METHODOLOGY.md, "The configuration key". */
#ifndef JB_CONFIG_KEY_H
#define JB_CONFIG_KEY_H

#include <jansson.h>
#include <stddef.h>

/* Bumped when the fields or their canonical form change; a stored key of
 * another version is recomputed. */
#define JB_CONFIG_KEY_VERSION 1

/* Fields a deliberate cross-key comparison leaves out of the key. */
enum jb_across {
    JB_ACROSS_NONE = 0,
    /* the same workload on two implementations: back-end, kernel path and
     * the power sources (which follow the device) are not compared */
    JB_ACROSS_BACKEND = 1,
    /* the same workload on two platforms: topology, CPU and GPU models and
     * the power sources */
    JB_ACROSS_MACHINE = 2,
};

/* Length of the key id: 16 hex digits of the SHA-256 of the key text. */
#define JB_CONFIG_KEY_ID_LEN 16

struct jb_config_key {
    char id[JB_CONFIG_KEY_ID_LEN + 1];
    /* Canonical text, "field=value;field=value..." in a fixed order, values
     * percent-encoded where they hold ';', '=', '%' or control characters. */
    char text[2048];
};

/* The key of record r, leaving out what `across` names. Missing fields of
 * old records take the value a current record has by default (back-end
 * "cpu", context 0, no options...), so that an old record keys like a new
 * one of the same configuration. */
void jb_config_key_of(const json_t *r, unsigned across, struct jb_config_key *k);

/* One key field of r as the key sees it (its canonical value), written into
 * buf and returned; NULL for a name that is not a key field. Names: those of
 * jb_config_key_fields. */
const char *jb_config_key_field(const json_t *r, const char *name, char *buf, size_t n);

/* NULL-terminated list of the key's field names, in key order. */
extern const char *const jb_config_key_fields[];

/* The key as a new JSON object {version, id, fields{name: value}} (caller
 * owns), as stored in a record's "config_key". */
json_t *jb_config_key_json(const json_t *r);

/* Sets r.config_key to jb_config_key_json(r). Returns 0 or JB_ENOMEM. */
int jb_config_key_attach(json_t *r);

/* A short label for people: the fields that tell runs of one workload
 * apart ("q8_0 single-stream b1 t2 ctx512 cpu/avx512 mib=16"), workload and
 * machine left out (they head the table or page). Control characters are
 * replaced. */
void jb_config_key_label(const json_t *r, unsigned across, char *buf, size_t n);

/* Parses "backend" or "machine" (comma list allowed) into *across.
 * Returns 0 or JB_EINVAL. */
int jb_across_parse(const char *s, unsigned *across);

/* "backend", "machine", "backend+machine" or "none". */
const char *jb_across_name(unsigned across);

#endif
