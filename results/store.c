/* store.c: schema, migrations and queries of the results database, written
 * once over the driver interface (store.h). The SQL is the common subset of
 * SQLite and PostgreSQL: BIGINT, DOUBLE PRECISION and TEXT columns, $n
 * parameters (SQLite accepts them as numbered parameters), and text in and
 * out, so that both back-ends hold byte-identical record JSON. */
#include "results/store.h"

#include "base/error.h"
#include "base/sha256.h"
#include "results/config_key.h"
#include "results/record_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct jb_store {
    const struct jb_store_ops *ops;
    void *conn;
    int version;
    int batch; /* inside jb_store_batch_begin/end: puts are savepoints */
};

/* Each migration takes the schema from version i to i + 1. Never edit a
 * shipped step: add a new one, so that every database can be brought up
 * from any version it was created at. */
static const char *const migration_1[] = {
    "CREATE TABLE jb_schema_version (version BIGINT NOT NULL)",
    "INSERT INTO jb_schema_version (version) VALUES (0)",
    "CREATE TABLE jb_runs ("
    " run_id TEXT PRIMARY KEY, created_utc TEXT NOT NULL, workload TEXT NOT NULL,"
    " family TEXT, unit TEXT, dtype TEXT, scenario TEXT, batch BIGINT, threads BIGINT,"
    " backend TEXT, kernel TEXT, power TEXT, topology_hash TEXT, platform TEXT,"
    " git_commit TEXT, complete BIGINT, output_check TEXT,"
    " latency_median_s DOUBLE PRECISION, throughput_units_per_s DOUBLE PRECISION,"
    " energy_j_per_unit DOUBLE PRECISION, energy_uncertainty_j_per_unit DOUBLE PRECISION,"
    " energy_measured BIGINT, source_file TEXT, record_json TEXT NOT NULL)",
    NULL,
};
static const char *const migration_2[] = {
    "CREATE TABLE jb_energy ("
    " run_id TEXT NOT NULL REFERENCES jb_runs(run_id) ON DELETE CASCADE,"
    " domain TEXT NOT NULL, source TEXT NOT NULL, measured BIGINT NOT NULL,"
    " joules_per_unit DOUBLE PRECISION, uncertainty_joules_per_unit DOUBLE PRECISION,"
    " average_power_w DOUBLE PRECISION)",
    "CREATE INDEX jb_runs_by_workload ON jb_runs (workload, topology_hash, created_utc)",
    "CREATE INDEX jb_energy_by_run ON jb_energy (run_id)",
    "CREATE TABLE jb_traces (run_id TEXT PRIMARY KEY REFERENCES jb_runs(run_id) ON DELETE"
    " CASCADE, csv TEXT NOT NULL)",
    "CREATE TABLE jb_gbench (context_date TEXT NOT NULL, host_name TEXT NOT NULL,"
    " name TEXT NOT NULL, run_type TEXT, iterations BIGINT, real_time DOUBLE PRECISION,"
    " cpu_time DOUBLE PRECISION, time_unit TEXT, source_file TEXT, json TEXT NOT NULL,"
    " PRIMARY KEY (context_date, host_name, name))",
    NULL,
};
/* Google Benchmark entries were keyed by (date, host, name), but the
 * repetitions of one benchmark share its name, and two runs of the same
 * configuration started within the same second share the date too: all but
 * the first were taken for duplicates and dropped. An entry is now known by
 * the SHA-256 of its JSON (entry_key); rows stored before keep 'v2' and are
 * matched by their JSON text instead. */
static const char *const migration_3[] = {
    "CREATE TABLE jb_gbench_v3 (context_date TEXT NOT NULL, host_name TEXT NOT NULL,"
    " name TEXT NOT NULL, entry_key TEXT NOT NULL, run_type TEXT, iterations BIGINT,"
    " real_time DOUBLE PRECISION, cpu_time DOUBLE PRECISION, time_unit TEXT, source_file TEXT,"
    " json TEXT NOT NULL, PRIMARY KEY (context_date, host_name, name, entry_key))",
    "INSERT INTO jb_gbench_v3 (context_date, host_name, name, entry_key, run_type, iterations,"
    " real_time, cpu_time, time_unit, source_file, json) SELECT context_date, host_name, name,"
    " 'v2', run_type, iterations, real_time, cpu_time, time_unit, source_file, json"
    " FROM jb_gbench",
    "DROP TABLE jb_gbench",
    "ALTER TABLE jb_gbench_v3 RENAME TO jb_gbench",
    NULL,
};
/* Runs are grouped by their configuration key (config_key.h): its id, and
 * the two key fields that had no column (context, options), so that a
 * query can name them. Rows stored before get them from their record JSON
 * when the database is opened (backfill_keys), which SQL cannot compute. */
static const char *const migration_4[] = {
    "ALTER TABLE jb_runs ADD COLUMN config_key TEXT",
    "ALTER TABLE jb_runs ADD COLUMN context BIGINT",
    "ALTER TABLE jb_runs ADD COLUMN options TEXT",
    "CREATE INDEX jb_runs_by_key ON jb_runs (config_key, created_utc)",
    NULL,
};
static const char *const *const migrations[] = {migration_1, migration_2, migration_3, migration_4};

extern const struct jb_store_ops jb_store_sqlite;
#ifdef JB_HAVE_LIBPQ
extern const struct jb_store_ops jb_store_postgres;
#endif

const struct jb_store_ops *const jb_store_drivers[] = {
#ifdef JB_HAVE_LIBPQ
    &jb_store_postgres,
#endif
    &jb_store_sqlite,
    NULL,
};

static int exec0(jb_store *s, const char *sql, char *err, size_t errlen)
{
    return s->ops->exec(s->conn, sql, 0, NULL, NULL, NULL, err, errlen);
}

/* Opens a transaction that will write, holding the write lock already
 * (store.h, begin_write). */
static int begin_write(jb_store *s, char *err, size_t errlen)
{
    for (int i = 0; s->ops->begin_write[i]; i++) {
        int rc = exec0(s, s->ops->begin_write[i], err, errlen);
        if (rc) {
            if (i)
                exec0(s, "ROLLBACK", NULL, 0);
            return rc;
        }
    }
    return JB_OK;
}

/* Ends the transaction a BEGIN opened: COMMIT when all in it succeeded
 * (rc is 0), else ROLLBACK; a COMMIT that fails is rolled back too, so
 * that nothing half-done stays. Returns rc, or the COMMIT's error. */
static int end_tx(jb_store *s, int rc, char *err, size_t errlen)
{
    if (!rc)
        rc = exec0(s, "COMMIT", err, errlen);
    if (rc)
        exec0(s, "ROLLBACK", NULL, 0);
    return rc;
}

/* The transaction of one put: its own, or inside a batch a savepoint, so
 * that a record that fails leaves the batch's others. */
static int put_begin(jb_store *s, char *err, size_t errlen)
{
    return s->batch ? exec0(s, "SAVEPOINT jb_put", err, errlen) : begin_write(s, err, errlen);
}

static int put_end(jb_store *s, int rc, char *err, size_t errlen)
{
    if (!s->batch)
        return end_tx(s, rc, err, errlen);
    if (!rc)
        return exec0(s, "RELEASE SAVEPOINT jb_put", err, errlen);
    exec0(s, "ROLLBACK TO SAVEPOINT jb_put", NULL, 0);
    exec0(s, "RELEASE SAVEPOINT jb_put", NULL, 0);
    return rc;
}

int jb_store_batch_begin(jb_store *s, char *err, size_t errlen)
{
    if (s->batch)
        return jb_err(err, errlen, JB_EINVAL, "store: a batch is already open");
    int rc = begin_write(s, err, errlen);
    s->batch = rc == 0;
    return rc;
}

int jb_store_batch_end(jb_store *s, int commit, char *err, size_t errlen)
{
    if (!s->batch)
        return JB_OK;
    s->batch = 0;
    if (!commit) {
        exec0(s, "ROLLBACK", NULL, 0);
        return JB_OK;
    }
    return end_tx(s, JB_OK, err, errlen);
}

static int row_int(void *ctx, int ncol, const char *const *v)
{
    if (ncol > 0 && v[0])
        *(long *)ctx = atol(v[0]);
    return 0;
}

static int table_exists(jb_store *s, const char *name, int *exists, char *err, size_t errlen)
{
    long n = 0;
    /* Both engines answer this from their catalogs; sqlite_master is
     * absent on PostgreSQL and information_schema on SQLite. */
    const char *sql = !strcmp(s->ops->name, "sqlite")
                          ? "SELECT count(*) FROM sqlite_master WHERE type='table' AND name=$1"
                          : "SELECT count(*) FROM information_schema.tables WHERE table_name=$1 "
                            "AND table_schema=current_schema()";
    const char *p[1] = {name};
    int rc = s->ops->exec(s->conn, sql, 1, p, row_int, &n, err, errlen);
    *exists = n > 0;
    return rc;
}

/* The schema version stored; 0 for a database without the table. */
static int read_version(jb_store *s, long *v, char *err, size_t errlen)
{
    int exists = 0, rc = table_exists(s, "jb_schema_version", &exists, err, errlen);
    *v = 0;
    if (rc || !exists)
        return rc;
    return s->ops->exec(s->conn, "SELECT max(version) FROM jb_schema_version", 0, NULL, row_int, v,
                        err, errlen);
}

static int newer(long v, int target, char *err, size_t errlen)
{
    return jb_err(err, errlen, JB_EFORMAT,
                  "database schema version %ld is newer than this joulebench understands (%d); "
                  "upgrade joulebench (nothing was changed)",
                  v, target);
}

/* Brings the schema to the target version. Every step runs in one
 * transaction that holds the write lock from its start, and the version is
 * read again inside it: of several processes opening a new database at once,
 * one migrates and the others, once it committed, find nothing left to do. */
static int migrate(jb_store *s, char *err, size_t errlen)
{
    const int target = (int)(sizeof(migrations) / sizeof(migrations[0]));
    long v = 0;
    int rc = read_version(s, &v, err, errlen);
    if (rc)
        return rc;
    if (v > target)
        return newer(v, target, err, errlen);
    if (v < target) {
        char inner[JB_ERRLEN] = "";
        long from = v;
        rc = begin_write(s, inner, sizeof(inner));
        if (rc)
            goto fail;
        rc = read_version(s, &v, inner, sizeof(inner));
        if (!rc && v > target) {
            exec0(s, "ROLLBACK", NULL, 0);
            return newer(v, target, err, errlen);
        }
        from = v;
        for (; !rc && v < target; v++) {
            for (int i = 0; !rc && migrations[v][i]; i++)
                rc = exec0(s, migrations[v][i], inner, sizeof(inner));
            char up[96];
            snprintf(up, sizeof(up), "UPDATE jb_schema_version SET version = %ld", v + 1);
            if (!rc)
                rc = exec0(s, up, inner, sizeof(inner));
            if (rc)
                break;
        }
        rc = end_tx(s, rc, inner, sizeof(inner));
    fail:
        if (rc)
            return jb_err(err, errlen, rc,
                          "migrating the database from schema version %ld to %d (nothing was "
                          "changed): %s",
                          from, target, inner);
        v = target;
    }
    s->version = (int)v;
    return JB_OK;
}

static int row_json(void *ctx, int ncol, const char *const *v);
static char *keyed_json(const json_t *r);

/* Rows stored before schema version 4 have no configuration key: each is
 * given the key of its record (and the record JSON the key object), in one
 * transaction. Runs on every open, and finds nothing to do after the first. */
static int backfill_keys(jb_store *s, char *err, size_t errlen)
{
    char inner[JB_ERRLEN] = "";
    json_t *rows = json_array();
    int rc = s->ops->exec(s->conn, "SELECT record_json FROM jb_runs WHERE config_key IS NULL", 0,
                          NULL, row_json, rows, inner, sizeof(inner));
    if (rc || !json_array_size(rows))
        goto out;
    if ((rc = exec0(s, "BEGIN", inner, sizeof(inner))))
        goto out;
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        struct jb_config_key key;
        char ctx[40], opts[1024];
        jb_config_key_of(r, JB_ACROSS_NONE, &key);
        jb_config_key_field(r, "context", ctx, sizeof(ctx));
        jb_config_key_field(r, "options", opts, sizeof(opts));
        char *json = keyed_json(r);
        if (!json) {
            rc = jb_err(inner, sizeof(inner), JB_ENOMEM, "out of memory");
            break;
        }
        const char *p[5] = {key.id, ctx, opts[0] ? opts : NULL, json, jb_rec_str(r, "run_id", "")};
        rc = s->ops->exec(s->conn,
                          "UPDATE jb_runs SET config_key = $1, context = CAST($2 AS BIGINT),"
                          " options = $3, record_json = $4 WHERE run_id = $5",
                          5, p, NULL, NULL, inner, sizeof(inner));
        free(json);
        if (rc)
            break;
    }
    rc = end_tx(s, rc, inner, sizeof(inner));
out:
    json_decref(rows);
    if (rc)
        return jb_err(err, errlen, rc, "giving stored runs their configuration key: %s", inner);
    return JB_OK;
}

int jb_store_open(const char *url, jb_store **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!url || !*url)
        url = JB_STORE_DEFAULT_PATH;
    const struct jb_store_ops *ops = NULL;
    for (int i = 0; jb_store_drivers[i]; i++)
        if (jb_store_drivers[i]->accepts(url)) {
            ops = jb_store_drivers[i];
            break;
        }
    if (!ops) {
        if (!strncmp(url, "postgres", 8))
            return jb_err(err, errlen, JB_ENOTSUP,
                          "%s: this joulebench was built without libpq (PostgreSQL)", url);
        return jb_err(err, errlen, JB_EINVAL, "%s: no database driver for this URL", url);
    }
    jb_store *s = calloc(1, sizeof(*s));
    if (!s)
        return jb_err(err, errlen, JB_ENOMEM, "store: out of memory");
    s->ops = ops;
    int rc = ops->open(url, &s->conn, err, errlen);
    if (rc) {
        free(s);
        return rc;
    }
    rc = migrate(s, err, errlen);
    if (!rc)
        rc = backfill_keys(s, err, errlen);
    if (rc) {
        jb_store_close(s);
        return rc;
    }
    *out = s;
    return JB_OK;
}

void jb_store_close(jb_store *s)
{
    if (!s)
        return;
    if (s->conn)
        s->ops->close(s->conn);
    free(s);
}

int jb_store_version(jb_store *s)
{
    return s->version;
}

/* Formats a number parameter; NULL for a missing or non-finite value. */
static const char *fmt_num(char *buf, size_t n, const json_t *v)
{
    if (!json_is_number(v) || !isfinite(json_number_value(v)))
        return NULL;
    snprintf(buf, n, "%.17g", json_number_value(v));
    return buf;
}

static const char *fmt_bool(const json_t *v)
{
    return json_is_true(v) ? "1" : json_is_false(v) ? "0" : NULL;
}

/* The record's JSON as stored: with its configuration key, which a record
 * written before the key existed (or under another key version) is given
 * here, so that every stored row carries the key its columns hold. */
static char *keyed_json(const json_t *r)
{
    if (jb_rec_num(r, "config_key.version", 0) == JB_CONFIG_KEY_VERSION)
        return json_dumps(r, JSON_COMPACT | JSON_SORT_KEYS);
    json_t *c = json_copy((json_t *)r); /* shallow: r stays as the caller has it */
    char *out = NULL;
    if (c && !jb_config_key_attach(c))
        out = json_dumps(c, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(c);
    return out;
}

int jb_store_put(jb_store *s, const json_t *r, const char *source_file, const char *trace_csv,
                 int *inserted, char *err, size_t errlen)
{
    char inner[JB_ERRLEN] = "", nb[8][40], platform[160];
    char *json = NULL;
    int rc;
    *inserted = 0;
    const char *run_id = jb_rec_str(r, "run_id", NULL);
    if (!run_id)
        return jb_err(err, errlen, JB_EINVAL, "store: record has no run_id");
    json = keyed_json(r);
    if (!json)
        return jb_err(err, errlen, JB_ENOMEM, "store: cannot serialize record %s", run_id);

    rc = put_begin(s, inner, sizeof(inner));
    if (rc)
        goto out;
    long have = 0;
    const char *p1[1] = {run_id};
    rc = s->ops->exec(s->conn, "SELECT count(*) FROM jb_runs WHERE run_id = $1", 1, p1, row_int,
                      &have, inner, sizeof(inner));
    if (rc)
        goto end;
    if (have) {
        put_end(s, JB_EINVAL /* nothing to keep: roll back */, NULL, 0);
        goto out;
    }
    const json_t *pe = jb_rec_primary_energy(r);
    struct jb_config_key key;
    char ctx[40], opts[1024];
    jb_config_key_of(r, JB_ACROSS_NONE, &key);
    jb_config_key_field(r, "context", ctx, sizeof(ctx));
    jb_config_key_field(r, "options", opts, sizeof(opts));
    const char *params[27] = {
        run_id,
        jb_rec_str(r, "created_utc", ""),
        jb_rec_str(r, "workload.name", ""),
        jb_rec_str(r, "workload.family", NULL),
        jb_rec_str(r, "workload.unit", NULL),
        jb_rec_str(r, "workload.dtype", NULL),
        jb_rec_str(r, "config.scenario", NULL),
        fmt_num(nb[0], 40, jb_rec_get(r, "config.batch")),
        fmt_num(nb[1], 40, jb_rec_get(r, "config.threads")),
        jb_rec_str(r, "backend.name", NULL),
        jb_rec_str(r, "backend.kernel", NULL),
        jb_rec_str(r, "config.power", NULL),
        jb_rec_str(r, "system.topology_hash", NULL),
        jb_rec_platform(r, platform, sizeof(platform)),
        jb_rec_str(r, "system.git_commit", NULL),
        fmt_bool(json_object_get(r, "complete")),
        jb_rec_str(r, "validity.output_check", NULL),
        fmt_num(nb[2], 40, jb_rec_get(r, "measurements.latency_s.median")),
        fmt_num(nb[3], 40, jb_rec_get(r, "measurements.throughput_units_per_s")),
        pe ? fmt_num(nb[4], 40, json_object_get(pe, "joules_per_unit")) : NULL,
        pe ? fmt_num(nb[5], 40, json_object_get(pe, "uncertainty_joules_per_unit")) : NULL,
        pe ? fmt_bool(json_object_get(pe, "measured")) : NULL,
        source_file,
        json,
        key.id,
        ctx,
        opts[0] ? opts : NULL,
    };
    rc = s->ops->exec(s->conn,
                      "INSERT INTO jb_runs (run_id, created_utc, workload, family, unit, dtype,"
                      " scenario, batch, threads, backend, kernel, power, topology_hash, platform,"
                      " git_commit, complete, output_check, latency_median_s,"
                      " throughput_units_per_s, energy_j_per_unit, energy_uncertainty_j_per_unit,"
                      " energy_measured, source_file, record_json, config_key, context, options)"
                      " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15,"
                      " $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27)",
                      27, params, NULL, NULL, inner, sizeof(inner));
    if (rc)
        goto end;
    size_t i;
    const json_t *e;
    json_array_foreach(jb_rec_get(r, "measurements.energy"), i, e)
    {
        const char *ep[7] = {run_id,
                             jb_rec_str(e, "domain", NULL),
                             jb_rec_str(e, "source", NULL),
                             fmt_bool(json_object_get(e, "measured")),
                             fmt_num(nb[5], 40, json_object_get(e, "joules_per_unit")),
                             fmt_num(nb[6], 40, json_object_get(e, "uncertainty_joules_per_unit")),
                             fmt_num(nb[7], 40, json_object_get(e, "average_power_w"))};
        rc = s->ops->exec(s->conn,
                          "INSERT INTO jb_energy (run_id, domain, source, measured,"
                          " joules_per_unit, uncertainty_joules_per_unit, average_power_w)"
                          " VALUES ($1, $2, $3, $4, $5, $6, $7)",
                          7, ep, NULL, NULL, inner, sizeof(inner));
        if (rc)
            goto end;
    }
    if (trace_csv) {
        const char *tp[2] = {run_id, trace_csv};
        rc = s->ops->exec(s->conn, "INSERT INTO jb_traces (run_id, csv) VALUES ($1, $2)", 2, tp,
                          NULL, NULL, inner, sizeof(inner));
        if (rc)
            goto end;
    }
end:
    rc = put_end(s, rc, inner, sizeof(inner));
    *inserted = rc == 0;
out:
    free(json);
    if (rc)
        return jb_err(err, errlen, rc, "storing record %s (nothing of it was stored): %s", run_id,
                      inner);
    return JB_OK;
}

static int row_json(void *ctx, int ncol, const char *const *v)
{
    json_error_t je;
    if (ncol < 1 || !v[0])
        return 0;
    json_t *r = json_loads(v[0], 0, &je);
    if (r)
        json_array_append_new((json_t *)ctx, r);
    return 0;
}

/* The WHERE clause of a filter into sql (after "SELECT cols FROM jb_runs"),
 * with its parameters; returns the length written. */
static int filter_sql(const struct jb_store_filter *f, char *sql, size_t size, int len,
                      const char **params, int *np, char *thr, char *ctxb)
{
    int n = 0;
    len += snprintf(sql + len, size - (size_t)len, " WHERE 1=1");
#define ADD(field, col)                                                                            \
    do {                                                                                           \
        if (f && f->field) {                                                                       \
            params[n++] = f->field;                                                                \
            len += snprintf(sql + len, size - (size_t)len, " AND " col " $%d", n);                 \
        }                                                                                          \
    } while (0)
    ADD(run_id, "run_id =");
    ADD(workload, "workload =");
    ADD(topology_hash, "topology_hash =");
    ADD(git_commit, "git_commit =");
    ADD(since_utc, "created_utc >=");
    ADD(backend, "backend =");
    ADD(dtype, "dtype =");
    ADD(config_key, "config_key =");
    ADD(options, "options =");
#undef ADD
    if (f && f->threads > 0) {
        snprintf(thr, 24, "%d", f->threads);
        params[n++] = thr;
        len += snprintf(sql + len, size - (size_t)len, " AND threads = CAST($%d AS BIGINT)", n);
    }
    if (f && f->context >= 0 && f->context_set) {
        snprintf(ctxb, 24, "%d", f->context);
        params[n++] = ctxb;
        len += snprintf(sql + len, size - (size_t)len, " AND context = CAST($%d AS BIGINT)", n);
    }
    *np = n;
    return len;
}

int jb_store_query(jb_store *s, const struct jb_store_filter *f, json_t *out, char *err,
                   size_t errlen)
{
    char sql[1024], thr[24], ctxb[24], lim[48] = "";
    const char *params[12];
    int n = 0;
    int len = snprintf(sql, sizeof(sql), "SELECT record_json FROM jb_runs");
    len = filter_sql(f, sql, sizeof(sql), len, params, &n, thr, ctxb);
    if (f && f->limit > 0)
        snprintf(lim, sizeof(lim), " LIMIT %d", f->limit);
    snprintf(sql + len, sizeof(sql) - (size_t)len, " ORDER BY created_utc, run_id%s", lim);
    return s->ops->exec(s->conn, sql, n, params, row_json, out, err, errlen);
}

struct group_ctx {
    jb_store_group_fn fn;
    void *ctx;
    char key[128];
    json_t *recs; /* the current key's records */
    int stopped;  /* fn's non-zero return */
};

static int group_flush(struct group_ctx *g)
{
    int rc = 0;
    if (g->recs && json_array_size(g->recs))
        rc = g->fn(g->ctx, g->key, g->recs);
    json_decref(g->recs);
    g->recs = NULL;
    return rc;
}

static int row_group(void *ctx, int ncol, const char *const *v)
{
    struct group_ctx *g = ctx;
    json_error_t je;
    if (ncol < 2 || !v[1])
        return 0;
    const char *key = v[0] ? v[0] : "";
    if (!g->recs || strcmp(key, g->key)) {
        int rc = group_flush(g);
        if (rc)
            return g->stopped = rc;
        snprintf(g->key, sizeof(g->key), "%s", key);
        g->recs = json_array();
        if (!g->recs)
            return JB_ENOMEM;
    }
    json_t *r = json_loads(v[1], 0, &je);
    if (r)
        json_array_append_new(g->recs, r);
    return 0;
}

int jb_store_query_grouped(jb_store *s, const struct jb_store_filter *f, jb_store_group_fn fn,
                           void *ctx, char *err, size_t errlen)
{
    char sql[1024], thr[24], ctxb[24];
    const char *params[12];
    int n = 0;
    int len = snprintf(sql, sizeof(sql), "SELECT config_key, record_json FROM jb_runs");
    len = filter_sql(f, sql, sizeof(sql), len, params, &n, thr, ctxb);
    snprintf(sql + len, sizeof(sql) - (size_t)len, " ORDER BY config_key, created_utc, run_id");
    struct group_ctx g = {.fn = fn, .ctx = ctx};
    int rc = s->ops->exec(s->conn, sql, n, params, row_group, &g, err, errlen);
    if (rc) {
        json_decref(g.recs);
        return rc;
    }
    return group_flush(&g);
}

int jb_store_find_calibration(jb_store *s, const char *which, const json_t *like, json_t **out,
                              char *err, size_t errlen)
{
    char thr[24];
    *out = NULL;
    snprintf(thr, sizeof(thr), "%d", (int)jb_rec_num(like, "config.threads", 1));
    const char *p[3] = {which, jb_rec_str(like, "system.topology_hash", ""), thr};
    json_t *arr = json_array();
    int rc = s->ops->exec(s->conn,
                          "SELECT record_json FROM jb_runs WHERE workload = $1 AND"
                          " topology_hash = $2 AND threads = CAST($3 AS BIGINT) AND complete = 1"
                          " ORDER BY created_utc DESC LIMIT 1",
                          3, p, row_json, arr, err, errlen);
    if (!rc && json_array_size(arr) > 0)
        *out = json_incref(json_array_get(arr, 0));
    json_decref(arr);
    return rc;
}

int jb_store_count(jb_store *s, long *n, char *err, size_t errlen)
{
    *n = 0;
    return s->ops->exec(s->conn, "SELECT count(*) FROM jb_runs", 0, NULL, row_int, n, err, errlen);
}

static int row_str(void *ctx, int ncol, const char *const *v)
{
    char **out = ctx;
    if (ncol > 0 && v[0] && !*out)
        *out = strdup(v[0]);
    return 0;
}

int jb_store_get_trace(jb_store *s, const char *run_id, char **csv, char *err, size_t errlen)
{
    *csv = NULL;
    const char *p[1] = {run_id};
    return s->ops->exec(s->conn, "SELECT csv FROM jb_traces WHERE run_id = $1", 1, p, row_str, csv,
                        err, errlen);
}

int jb_store_put_gbench(jb_store *s, const json_t *doc, const char *source_file, int *inserted,
                        char *err, size_t errlen)
{
    char inner[JB_ERRLEN] = "", nb[3][40];
    int rc;
    *inserted = 0;
    const json_t *ctx = json_object_get(doc, "context");
    const char *date = jb_rec_str(ctx, "date", NULL), *host = jb_rec_str(ctx, "host_name", "");
    if (!date)
        return jb_err(err, errlen, JB_EINVAL, "%s: Google Benchmark context has no date",
                      source_file ? source_file : "input");
    rc = put_begin(s, inner, sizeof(inner));
    if (rc)
        goto out;
    size_t i;
    const json_t *b;
    json_array_foreach(json_object_get(doc, "benchmarks"), i, b)
    {
        const char *name = jb_rec_str(b, "name", NULL);
        if (!name) {
            rc = jb_err(inner, sizeof(inner), JB_EINVAL, "benchmarks[%zu] has no name", i);
            goto end;
        }
        /* The same entry imported again (from its file, or from the
         * merged --gbench-json file that holds it too) is the same text. */
        char *js = json_dumps(b, JSON_COMPACT | JSON_SORT_KEYS);
        if (!js) {
            rc = jb_err(inner, sizeof(inner), JB_ENOMEM, "out of memory");
            goto end;
        }
        char key[JB_SHA256_HEX_LEN];
        if ((rc = jb_sha256_hex(js, strlen(js), key))) {
            free(js);
            jb_err(inner, sizeof(inner), rc, "benchmarks[%zu]: SHA-256 failed", i);
            goto end;
        }
        long have = 0;
        const char *k[5] = {date, host, name, key, js};
        rc = s->ops->exec(s->conn,
                          "SELECT count(*) FROM jb_gbench WHERE context_date = $1 AND"
                          " host_name = $2 AND name = $3 AND (entry_key = $4 OR"
                          " (entry_key = 'v2' AND json = $5))",
                          5, k, row_int, &have, inner, sizeof(inner));
        if (rc || have) {
            free(js);
            if (rc)
                goto end;
            continue;
        }
        const char *p[11] = {date,
                             host,
                             name,
                             key,
                             jb_rec_str(b, "run_type", NULL),
                             fmt_num(nb[0], 40, json_object_get(b, "iterations")),
                             fmt_num(nb[1], 40, json_object_get(b, "real_time")),
                             fmt_num(nb[2], 40, json_object_get(b, "cpu_time")),
                             jb_rec_str(b, "time_unit", NULL),
                             source_file,
                             js};
        rc = s->ops->exec(s->conn,
                          "INSERT INTO jb_gbench (context_date, host_name, name, entry_key,"
                          " run_type, iterations, real_time, cpu_time, time_unit, source_file,"
                          " json) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                          11, p, NULL, NULL, inner, sizeof(inner));
        free(js);
        if (rc)
            goto end;
        (*inserted)++;
    }
end:
    rc = put_end(s, rc, inner, sizeof(inner));
    if (rc)
        *inserted = 0;
out:
    if (rc)
        return jb_err(err, errlen, rc, "storing Google Benchmark file %s (nothing stored): %s",
                      source_file ? source_file : "input", inner);
    return JB_OK;
}

int jb_store_count_gbench(jb_store *s, long *n, char *err, size_t errlen)
{
    *n = 0;
    return s->ops->exec(s->conn, "SELECT count(*) FROM jb_gbench", 0, NULL, row_int, n, err,
                        errlen);
}
