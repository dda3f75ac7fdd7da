/* store_postgres.c: the PostgreSQL driver of the results store (store.h),
 * through libpq, for a fleet's nightly runs writing to one shared server.
 * Built only when libpq is found (JB_HAVE_LIBPQ). Parameters travel as text
 * with PQexecParams, never spliced into SQL, since run ids and system names
 * come from record files. */
#ifdef JB_HAVE_LIBPQ
#include "base/error.h"
#include "results/store.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <string.h>

static int pg_accepts(const char *url)
{
    return !strncmp(url, "postgresql://", 13) || !strncmp(url, "postgres://", 11);
}

/* Server NOTICEs ("relation exists, skipping") are not for the user. */
static void pg_quiet(void *arg, const char *msg)
{
    (void)arg;
    (void)msg;
}

static void chomp(char *s)
{
    for (char *p = s; *p; p++)
        if (*p == '\n' || *p == '\t')
            *p = ' ';
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
        s[--n] = '\0';
}

static int pg_open(const char *url, void **conn, char *err, size_t errlen)
{
    PGconn *c = PQconnectdb(url);
    if (!c)
        return jb_err(err, errlen, JB_ENOMEM, "postgresql: out of memory");
    if (PQstatus(c) != CONNECTION_OK) {
        char msg[200];
        snprintf(msg, sizeof(msg), "%s", PQerrorMessage(c));
        chomp(msg);
        PQfinish(c);
        /* The URL may hold a password: name the failure, not the URL. */
        return jb_err(err, errlen, JB_EUNAVAIL, "postgresql: cannot connect: %s", msg);
    }
    PQsetNoticeProcessor(c, pg_quiet, NULL);
    *conn = c;
    return JB_OK;
}

static void pg_close(void *conn)
{
    PQfinish((PGconn *)conn);
}

static int pg_exec(void *conn, const char *sql, int np, const char *const *params,
                   jb_store_row_fn row, void *ctx, char *err, size_t errlen)
{
    PGresult *res = PQexecParams(conn, sql, np, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        char msg[200];
        snprintf(msg, sizeof(msg), "%s", res ? PQresultErrorMessage(res) : PQerrorMessage(conn));
        chomp(msg);
        const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
        int code = JB_EIO;
        if (state && (!strcmp(state, "40P01") || !strcmp(state, "55P03")))
            code = JB_EUNAVAIL; /* deadlock, lock not available */
        PQclear(res);
        return jb_err(err, errlen, code, "postgresql: %s", msg);
    }
    int ncol = PQnfields(res), nrow = PQntuples(res);
    const char *vals[32];
    if (ncol > 32)
        ncol = 32;
    for (int r = 0; row && r < nrow; r++) {
        for (int c = 0; c < ncol; c++)
            vals[c] = PQgetisnull(res, r, c) ? NULL : PQgetvalue(res, r, c);
        int stop = row(ctx, ncol, vals);
        if (stop) {
            PQclear(res);
            return stop;
        }
    }
    PQclear(res);
    return JB_OK;
}

/* Row locks serialize writers of one record; DDL of concurrent migrators
 * needs one lock for the whole database: a transaction-scoped advisory lock
 * (the key is arbitrary, "jb" in ASCII), released at COMMIT or ROLLBACK. */
static const char *const pg_begin_write[] = {"BEGIN", "SELECT pg_advisory_xact_lock(27234)",
                                             NULL};

const struct jb_store_ops jb_store_postgres = {
    .name = "postgresql",
    .accepts = pg_accepts,
    .open = pg_open,
    .close = pg_close,
    .exec = pg_exec,
    .begin_write = pg_begin_write,
};
#else
/* ISO C forbids an empty translation unit. */
typedef int jb_store_postgres_unavailable;
#endif
