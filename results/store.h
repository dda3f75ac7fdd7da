/* store.h: the results database. One interface over SQLite (the embedded
 * default, results/joulebench.db) and PostgreSQL (a shared server for a
 * fleet's nightly runs, "postgresql://..." or "postgres://..."), with the
 * same schema on both, created and migrated by joulebench through a
 * schema-version table. Each record is written in one transaction, so a
 * record is never half-written; a locked, corrupt or newer database gives
 * one clear error and leaves what is stored untouched.
 *
 * Back-ends are drivers (struct jb_store_ops) listed in one registry; a
 * driver only opens a connection and runs parameterized SQL with text
 * parameters and text results; schema, migrations and queries live in
 * store.c, written once in the SQL both dialects accept. */
#ifndef JB_STORE_H
#define JB_STORE_H

#include <jansson.h>
#include <stddef.h>

/* The database schema version this build creates and understands. */
#define JB_STORE_SCHEMA_VERSION 4

/* Default database path, relative to the working directory. */
#define JB_STORE_DEFAULT_PATH "results/joulebench.db"

/* Called per result row: ncol text values (NULL for SQL NULL). Non-zero
 * return stops the query (and is returned by exec). */
typedef int (*jb_store_row_fn)(void *ctx, int ncol, const char *const *vals);

struct jb_store_ops {
    const char *name;
    /* Whether this driver serves the URL. */
    int (*accepts)(const char *url);
    int (*open)(const char *url, void **conn, char *err, size_t errlen);
    void (*close)(void *conn);
    /* Runs one statement with nparams text parameters ($1..$n; NULL is SQL
     * NULL), calling row for every result row. */
    int (*exec)(void *conn, const char *sql, int nparams, const char *const *params,
                jb_store_row_fn row, void *ctx, char *err, size_t errlen);
    /* The statements that open a transaction which will write, taking the
     * write lock up front (NULL-terminated). A transaction that reads and
     * only then asks for the lock can be refused at once (SQLite returns
     * SQLITE_BUSY without waiting, to avoid a deadlock), where one that
     * asks first waits its turn; concurrent migrators are serialized by it. */
    const char *const *begin_write;
};

/* NULL-terminated registry of drivers. */
extern const struct jb_store_ops *const jb_store_drivers[];

typedef struct jb_store jb_store;

/* Opens (creating or migrating the schema as needed) the database at url:
 * a file path, "sqlite:PATH", or a postgresql:// URL; NULL: the default.
 * Caller closes with jb_store_close. */
int jb_store_open(const char *url, jb_store **out, char *err, size_t errlen);
void jb_store_close(jb_store *s);

/* The schema version found in the database. */
int jb_store_version(jb_store *s);

/* Writes one record (its energy rows, and its power trace CSV
 * "time_s,domain,watts" when trace_csv is non-NULL) in one transaction.
 * *inserted is 1, or 0 when a record with that run_id was already stored
 * (nothing changed: imports are idempotent). source_file may be NULL. */
int jb_store_put(jb_store *s, const json_t *record, const char *source_file, const char *trace_csv,
                 int *inserted, char *err, size_t errlen);

/* A batch: the puts between begin and end share one transaction (one
 * commit, one disk sync, for thousands of records), each put a savepoint in
 * it, so a record that fails leaves nothing of itself and keeps the
 * others. end commits (commit != 0) or rolls the whole batch back. The
 * write lock is held from begin to end: keep batches to a few seconds. */
int jb_store_batch_begin(jb_store *s, char *err, size_t errlen);
int jb_store_batch_end(jb_store *s, int commit, char *err, size_t errlen);

/* The stored power trace of a run: *csv is malloc'd (caller frees) or NULL. */
int jb_store_get_trace(jb_store *s, const char *run_id, char **csv, char *err, size_t errlen);

/* Stores the entries of a Google Benchmark JSON file, in one transaction;
 * entries already stored (same context date, host, name and JSON: the same
 * entry, from this file or another holding it) are skipped. Repetitions of
 * one benchmark, and runs of one configuration started in the same second,
 * are different entries. *inserted counts the new ones. */
int jb_store_put_gbench(jb_store *s, const json_t *doc, const char *source_file, int *inserted,
                        char *err, size_t errlen);
int jb_store_count_gbench(jb_store *s, long *n, char *err, size_t errlen);

/* A query on stored records; NULL/0 fields do not filter. */
struct jb_store_filter {
    const char *run_id;
    const char *workload;
    const char *topology_hash;
    const char *git_commit;
    const char *since_utc; /* created_utc >= since */
    const char *backend;
    const char *dtype;
    const char *config_key; /* a key id (config_key.h) */
    const char *options;    /* canonical options ("mib=16") */
    int threads;            /* 0: any */
    int context;            /* with context_set */
    int context_set;
    int limit;   /* 0: no limit */
};

/* Appends the matching records, oldest first (created_utc, then run_id),
 * to `out` (a JSON array) as full records. */
int jb_store_query(jb_store *s, const struct jb_store_filter *f, json_t *out, char *err,
                   size_t errlen);

/* Called once per configuration key by jb_store_query_grouped with that
 * key's records, oldest first (a JSON array the callee may keep a
 * reference to). Non-zero return stops the query. */
typedef int (*jb_store_group_fn)(void *ctx, const char *config_key, json_t *records);

/* The records matching f, one configuration key at a time, in one query
 * ordered by key: memory holds one key's records, not every record (a
 * fleet's history over years is millions of records), and no record is
 * looked at twice. Keys come in the order of their id, not of time. A
 * non-zero return of fn stops the query and is returned as it is (fn says
 * what failed in its own ctx). */
int jb_store_query_grouped(jb_store *s, const struct jb_store_filter *f, jb_store_group_fn fn,
                           void *ctx, char *err, size_t errlen);

/* Latest stored calibration record (workload "triad" or "fma") on the same
 * topology and thread count as `like`; *out NULL when none. Caller owns. */
int jb_store_find_calibration(jb_store *s, const char *which, const json_t *like, json_t **out,
                              char *err, size_t errlen);

/* Number of stored records. */
int jb_store_count(jb_store *s, long *n, char *err, size_t errlen);

#endif
