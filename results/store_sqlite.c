/* store_sqlite.c: the SQLite driver of the results store (store.h), the
 * embedded default. A writer that finds the database locked waits a short
 * while (busy timeout) and then fails with a message that says so, rather
 * than blocking a CI job forever. */
#include "base/error.h"
#include "results/store.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How long a writer waits for another to finish; $JB_DB_BUSY_MS overrides
 * (tests set it low to see the locked error quickly). */
#define BUSY_MS_DEFAULT 3000

static int sq_accepts(const char *url)
{
    return strstr(url, "://") == NULL || !strncmp(url, "sqlite:", 7);
}

static const char *sq_path(const char *url)
{
    if (!strncmp(url, "sqlite://", 9))
        return url + 9;
    if (!strncmp(url, "sqlite:", 7))
        return url + 7;
    return url;
}

static int sq_code(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return JB_EUNAVAIL;
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
        return JB_EFORMAT;
    case SQLITE_PERM:
    case SQLITE_READONLY:
    case SQLITE_AUTH:
        return JB_EPERM;
    case SQLITE_NOMEM:
        return JB_ENOMEM;
    case SQLITE_CANTOPEN:
        return JB_ENOENT;
    default:
        return JB_EIO;
    }
}

static int sq_fail(sqlite3 *db, int rc, char *err, size_t errlen)
{
    const char *path = sqlite3_db_filename(db, "main");
    const char *hint = "";
    if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED)
        hint = " (another process holds the database; retry when it is done)";
    else if ((rc & 0xff) == SQLITE_NOTADB || (rc & 0xff) == SQLITE_CORRUPT)
        hint = " (the file is damaged or not a joulebench database; it was not modified)";
    return jb_err(err, errlen, sq_code(rc), "sqlite %s: %s%s", path && *path ? path : "?",
                  sqlite3_errmsg(db), hint);
}

/* A connection keeps its prepared statements: store.c runs the same few
 * statements for every record, and preparing one costs about as much as
 * running it. Keyed by the SQL text (store.c's statements are string
 * literals: a comparison of the text finds them again). */
#define SQ_CACHE 24

struct sq_conn {
    sqlite3 *db;
    struct {
        char *sql;
        sqlite3_stmt *st;
    } cache[SQ_CACHE];
    int next; /* the slot a new statement replaces when all are taken */
};

static int sq_open(const char *url, void **conn, char *err, size_t errlen)
{
    sqlite3 *db = NULL;
    const char *path = sq_path(url);
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc != SQLITE_OK) {
        jb_err(err, errlen, sq_code(rc), "sqlite %s: %s", path,
               db ? sqlite3_errmsg(db) : "cannot open");
        sqlite3_close(db);
        return sq_code(rc);
    }
    const char *b = getenv("JB_DB_BUSY_MS");
    sqlite3_busy_timeout(db, b ? atoi(b) : BUSY_MS_DEFAULT);
    sqlite3_extended_result_codes(db, 0);
    char *msg = NULL;
    rc = sqlite3_exec(db, "PRAGMA foreign_keys = ON", NULL, NULL, &msg);
    sqlite3_free(msg);
    if (rc != SQLITE_OK) {
        int code = sq_fail(db, rc, err, errlen);
        sqlite3_close(db);
        return code;
    }
    struct sq_conn *c = calloc(1, sizeof(*c));
    if (!c) {
        sqlite3_close(db);
        return jb_err(err, errlen, JB_ENOMEM, "sqlite %s: out of memory", path);
    }
    c->db = db;
    *conn = c;
    return JB_OK;
}

static void sq_close(void *conn)
{
    struct sq_conn *c = conn;
    for (int i = 0; i < SQ_CACHE; i++) {
        sqlite3_finalize(c->cache[i].st);
        free(c->cache[i].sql);
    }
    sqlite3_close(c->db);
    free(c);
}

/* The prepared statement for sql, from the cache or new (and cached). */
static int sq_prepare(struct sq_conn *c, const char *sql, sqlite3_stmt **st)
{
    for (int i = 0; i < SQ_CACHE; i++)
        if (c->cache[i].sql && (c->cache[i].sql == sql || !strcmp(c->cache[i].sql, sql))) {
            *st = c->cache[i].st;
            return SQLITE_OK;
        }
    int rc = sqlite3_prepare_v2(c->db, sql, -1, st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    char *copy = strdup(sql);
    if (!copy)
        return SQLITE_OK; /* used once, finalized by the caller's reset path */
    int k = c->next;
    c->next = (c->next + 1) % SQ_CACHE;
    sqlite3_finalize(c->cache[k].st);
    free(c->cache[k].sql);
    c->cache[k].sql = copy;
    c->cache[k].st = *st;
    return SQLITE_OK;
}

/* Done with a statement: a cached one is reset for its next use, another
 * finalized. */
static void sq_release(struct sq_conn *c, sqlite3_stmt *st)
{
    for (int i = 0; i < SQ_CACHE; i++)
        if (c->cache[i].st == st) {
            sqlite3_reset(st);
            sqlite3_clear_bindings(st);
            return;
        }
    sqlite3_finalize(st);
}

static int sq_exec(void *conn, const char *sql, int np, const char *const *params,
                   jb_store_row_fn row, void *ctx, char *err, size_t errlen)
{
    struct sq_conn *c = conn;
    sqlite3 *db = c->db;
    sqlite3_stmt *st = NULL;
    int rc = sq_prepare(c, sql, &st);
    if (rc != SQLITE_OK)
        return sq_fail(db, rc, err, errlen);
    for (int i = 0; i < np; i++) {
        char name[16];
        snprintf(name, sizeof(name), "$%d", i + 1);
        int idx = sqlite3_bind_parameter_index(st, name);
        if (idx == 0)
            continue;
        rc = params[i] ? sqlite3_bind_text(st, idx, params[i], -1, SQLITE_TRANSIENT)
                       : sqlite3_bind_null(st, idx);
        if (rc != SQLITE_OK)
            goto fail;
    }
    int ncol = sqlite3_column_count(st);
    const char *vals[32];
    if (ncol > 32)
        ncol = 32;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (!row)
            continue;
        for (int c = 0; c < ncol; c++)
            vals[c] = (const char *)sqlite3_column_text(st, c);
        int stop = row(ctx, ncol, vals);
        if (stop) {
            sq_release(c, st);
            return stop;
        }
    }
    if (rc != SQLITE_DONE)
        goto fail;
    sq_release(c, st);
    return JB_OK;
fail:;
    int code = sq_fail(db, rc, err, errlen);
    sq_release(c, st);
    return code;
}

/* IMMEDIATE: the RESERVED lock now, through the busy handler. */
static const char *const sq_begin_write[] = {"BEGIN IMMEDIATE", NULL};

const struct jb_store_ops jb_store_sqlite = {
    .name = "sqlite",
    .accepts = sq_accepts,
    .open = sq_open,
    .close = sq_close,
    .exec = sq_exec,
    .begin_write = sq_begin_write,
};
