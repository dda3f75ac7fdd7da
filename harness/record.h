/* record.h: writing result records and other output files safely.
 *
 * A record is a jansson object following results/schema/record.schema.json.
 * Files are written atomically: to a temporary file in the same directory,
 * flushed, then renamed over the final name, so that a reader (or a run
 * stopped by SIGINT) never sees half a record. */
#ifndef JB_RECORD_H
#define JB_RECORD_H

#include <jansson.h>
#include <stddef.h>

#define JB_RECORD_SCHEMA_VERSION 1

/* Writes `data` (len bytes) to path atomically. */
int jb_write_file_atomic(const char *path, const char *data, size_t len, char *err,
                         size_t errlen);

/* Serializes a JSON value (indented) and writes it atomically. */
int jb_json_write_atomic(const char *path, const json_t *value, char *err, size_t errlen);

/* Creates dir (and parents) if needed and checks it is writable. */
int jb_mkdir_p(const char *dir, char *err, size_t errlen);

/* What happens to every record around its writing: before_write may add
 * to it (the CLI's normalized `derived` figures), after_write may take it
 * further (the CLI's results database). Either may be NULL. */
struct jb_record_hooks {
    int (*before_write)(json_t *record, void *ctx, char *err, size_t errlen);
    int (*after_write)(const json_t *record, const char *path, void *ctx, char *err,
                       size_t errlen);
    void *ctx;
};

/* Publishes a record: before_write (a failure becomes a line of the
 * record's validity.warnings), the atomic write to path, after_write.
 * Returns 0; the write's error when nothing was written (*written 0); or
 * JB_EIO when after_write failed, with the record on disk (*written 1) and
 * err saying what could not be done with it. */
int jb_record_publish(json_t *rec, const char *path, const struct jb_record_hooks *h,
                      int *written, char *err, size_t errlen);

/* A new run id: 32 hex characters from /dev/urandom (time and pid if that
 * fails). */
void jb_run_id_new(char out[33]);

/* Current UTC time as RFC 3339 ("2026-11-23T01:02:03Z"). */
void jb_utc_now(char out[32]);

#endif
