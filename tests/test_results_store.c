/* test_results_store.c: the results database keeps every record whole:
 * put/query round trip, idempotent imports, a failed write leaves nothing,
 * every Google Benchmark entry kept (repetitions sharing a name, runs
 * sharing a second), databases of older schema versions migrated,
 * and a locked, corrupt or newer database is refused with a clear error
 * and its contents untouched. Runs on SQLite by default; with
 * JB_TEST_DB_URL=postgresql://... (tests/results.cmake starts a throw-away
 * server) the same tests run on PostgreSQL. */
#include "base/error.h"
#include "results/record_util.h"
#include "results/config_key.h"
#include "results/store.h"
#include "test_results_helpers.h"

#include <setjmp.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

static char dir[1024], url[1100];
static int is_pg;

static int setup(void **st)
{
    (void)st;
    const char *u = getenv("JB_TEST_DB_URL");
    th_scratch(dir, sizeof(dir), "store");
    if (u && *u) {
        snprintf(url, sizeof(url), "%s", u);
        is_pg = 1;
    } else {
        snprintf(url, sizeof(url), "%s/t.db", dir);
    }
    return 0;
}

static int teardown(void **st)
{
    (void)st;
    th_rmrf(dir);
    return 0;
}

static void open_s(jb_store **s)
{
    char err[JB_ERRLEN] = "";
    if (jb_store_open(url, s, err, sizeof(err)))
        fail_msg("open %s: %s", url, err);
}

static void roundtrip_and_idempotent(void **st)
{
    (void)st;
    char err[JB_ERRLEN] = "";
    jb_store *s;
    open_s(&s);
    assert_int_equal(jb_store_version(s), JB_STORE_SCHEMA_VERSION);
    long before = 0;
    assert_int_equal(jb_store_count(s, &before, err, sizeof(err)), 0);
    const char *names[] = {"triad.json", "fma.json", "ic-resnet8-int8.json", "llm-decode.json"};
    for (int i = 0; i < 4; i++) {
        json_t *r = th_load_fixture(names[i]);
        int ins = -1;
        if (jb_store_put(s, r, names[i], NULL, &ins, err, sizeof(err)))
            fail_msg("%s", err);
        assert_int_equal(ins, 1);
        /* the same record again changes nothing */
        assert_int_equal(jb_store_put(s, r, names[i], NULL, &ins, err, sizeof(err)), 0);
        assert_int_equal(ins, 0);
        json_decref(r);
    }
    long n = 0;
    assert_int_equal(jb_store_count(s, &n, err, sizeof(err)), 0);
    assert_int_equal(n - before, 4);

    json_t *out = json_array();
    struct jb_store_filter f = {0};
    f.workload = "llm-decode";
    assert_int_equal(jb_store_query(s, &f, out, err, sizeof(err)), 0);
    assert_int_equal(json_array_size(out), 1);
    /* stored as given, with its configuration key */
    json_t *orig = th_load_fixture("llm-decode.json");
    assert_int_equal(jb_config_key_attach(orig), 0);
    assert_true(json_equal(orig, json_array_get(out, 0)));
    json_decref(orig);
    json_decref(out);

    /* A hostile string is data, not SQL. */
    out = json_array();
    f.workload = "x' OR '1'='1";
    assert_int_equal(jb_store_query(s, &f, out, err, sizeof(err)), 0);
    assert_int_equal(json_array_size(out), 0);
    json_decref(out);

    json_t *like = th_load_fixture("llm-decode.json"), *cal = NULL;
    assert_int_equal(jb_store_find_calibration(s, "triad", like, &cal, err, sizeof(err)), 0);
    assert_non_null(cal);
    assert_string_equal(jb_rec_str(cal, "run_id", ""), "a1b2c3d4-0001-triad");
    json_decref(cal);
    json_object_set_new((json_t *)jb_rec_get(like, "config"), "threads", json_integer(64));
    assert_int_equal(jb_store_find_calibration(s, "triad", like, &cal, err, sizeof(err)), 0);
    assert_null(cal);
    json_decref(like);
    jb_store_close(s);
}

static void failed_write_leaves_nothing(void **st)
{
    (void)st;
    char err[JB_ERRLEN] = "";
    jb_store *s;
    open_s(&s);
    json_t *r = th_load_fixture("triad.json");
    json_object_set_new(r, "run_id", json_string("halfwritten-0001"));
    /* The run row goes in first; the energy row then violates NOT NULL,
     * and the whole record must be rolled back. */
    json_t *e = json_array_get(jb_rec_get(r, "measurements.energy"), 0);
    json_object_del(e, "domain");
    int ins = -1;
    assert_int_not_equal(jb_store_put(s, r, NULL, NULL, &ins, err, sizeof(err)), 0);
    assert_non_null(strstr(err, "nothing of it was stored"));
    json_t *out = json_array();
    struct jb_store_filter f = {0};
    f.run_id = "halfwritten-0001";
    assert_int_equal(jb_store_query(s, &f, out, err, sizeof(err)), 0);
    assert_int_equal(json_array_size(out), 0);
    /* and the connection is usable afterwards */
    json_object_set_new(e, "domain", json_string("package-0"));
    assert_int_equal(jb_store_put(s, r, NULL, NULL, &ins, err, sizeof(err)), 0);
    assert_int_equal(ins, 1);
    json_decref(out);
    json_decref(r);
    jb_store_close(s);
}

static void sqlite_exec(const char *path, const char *sql)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static void locked_corrupt_newer(void **st)
{
    (void)st;
    if (is_pg)
        skip();
    char err[JB_ERRLEN] = "", path[1200];
    jb_store *s;
    snprintf(path, sizeof(path), "%s/lock.db", dir);
    assert_int_equal(jb_store_open(path, &s, err, sizeof(err)), 0);
    json_t *r = th_load_fixture("fma.json");
    int ins;
    assert_int_equal(jb_store_put(s, r, NULL, NULL, &ins, err, sizeof(err)), 0);
    jb_store_close(s);

    /* Another writer holds the lock: the put fails, saying so. */
    sqlite3 *other;
    assert_int_equal(sqlite3_open(path, &other), SQLITE_OK);
    assert_int_equal(sqlite3_exec(other, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
    setenv("JB_DB_BUSY_MS", "50", 1);
    int rc = jb_store_open(path, &s, err, sizeof(err));
    if (rc == 0) {
        json_object_set_new(r, "run_id", json_string("locked-run-0002"));
        rc = jb_store_put(s, r, NULL, NULL, &ins, err, sizeof(err));
        jb_store_close(s);
    }
    assert_int_equal(rc, JB_EUNAVAIL);
    assert_non_null(strstr(err, "locked"));
    sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(other);
    unsetenv("JB_DB_BUSY_MS");
    /* What was stored is still there. */
    assert_int_equal(jb_store_open(path, &s, err, sizeof(err)), 0);
    long n;
    assert_int_equal(jb_store_count(s, &n, err, sizeof(err)), 0);
    assert_int_equal(n, 1);
    jb_store_close(s);

    /* Newer schema: refused, file unchanged. */
    sqlite_exec(path, "UPDATE jb_schema_version SET version = 99");
    assert_int_equal(jb_store_open(path, &s, err, sizeof(err)), JB_EFORMAT);
    assert_non_null(strstr(err, "newer"));
    sqlite_exec(path, "UPDATE jb_schema_version SET version = 4");

    /* A file that is not a database. */
    snprintf(path, sizeof(path), "%s/corrupt.db", dir);
    FILE *f = fopen(path, "wb");
    for (int i = 0; i < 4096; i++)
        fputc((i * 7919) & 0xff, f);
    fclose(f);
    assert_int_equal(jb_store_open(path, &s, err, sizeof(err)), JB_EFORMAT);
    assert_non_null(strstr(err, "not a database"));
    json_decref(r);
}

/* Several processes start on a new database at once, as parallel CI jobs
 * do: every one migrates or finds the schema migrated, and stores its
 * record. Once one in five pairs failed ("table jb_energy already
 * exists"), or a writer got "database is locked" without waiting. */
static void concurrent_writers_on_new_database(void **st)
{
    (void)st;
    if (is_pg)
        skip();
    enum { WRITERS = 8, ROUNDS = 6 };
    for (int round = 0; round < ROUNDS; round++) {
        char path[1200];
        snprintf(path, sizeof(path), "%s/concurrent-%d.db", dir, round);
        int go[2];
        assert_int_equal(pipe(go), 0);
        pid_t kids[WRITERS];
        for (int k = 0; k < WRITERS; k++) {
            kids[k] = fork();
            assert_true(kids[k] >= 0);
            if (kids[k] == 0) {
                char c, err[JB_ERRLEN] = "";
                close(go[1]);
                if (read(go[0], &c, 1) < 0) /* all start together, at EOF */
                    _exit(3);
                jb_store *s;
                int rc = jb_store_open(path, &s, err, sizeof(err));
                if (!rc) {
                    json_t *r = th_load_fixture("fma.json");
                    char id[64];
                    snprintf(id, sizeof(id), "concurrent-%d-%d", round, k);
                    json_object_set_new(r, "run_id", json_string(id));
                    int ins = 0;
                    rc = jb_store_put(s, r, NULL, NULL, &ins, err, sizeof(err));
                    json_decref(r);
                    jb_store_close(s);
                }
                if (rc)
                    fprintf(stderr, "writer %d: %s\n", k, err);
                _exit(rc ? 1 : 0);
            }
        }
        close(go[0]);
        close(go[1]);
        int failed = 0;
        for (int k = 0; k < WRITERS; k++) {
            int status;
            assert_int_equal(waitpid(kids[k], &status, 0), kids[k]);
            failed += !WIFEXITED(status) || WEXITSTATUS(status);
        }
        assert_int_equal(failed, 0);
        char err[JB_ERRLEN] = "";
        jb_store *s;
        assert_int_equal(jb_store_open(path, &s, err, sizeof(err)), 0);
        assert_int_equal(jb_store_version(s), JB_STORE_SCHEMA_VERSION);
        long n = 0;
        assert_int_equal(jb_store_count(s, &n, err, sizeof(err)), 0);
        assert_int_equal(n, WRITERS);
        jb_store_close(s);
    }
}

/* A batch (import's 1,000 records per transaction) keeps every put that
 * succeeded when committed, skips duplicates as single puts do, and leaves
 * nothing when rolled back. */
static void batches_commit_or_roll_back(void **st)
{
    (void)st;
    char err[JB_ERRLEN] = "";
    jb_store *s;
    open_s(&s);
    long before = 0, n = 0;
    assert_int_equal(jb_store_count(s, &before, err, sizeof(err)), 0);
    json_t *r = th_load_fixture("fma.json");
    int ins = 0;
    assert_int_equal(jb_store_batch_begin(s, err, sizeof(err)), 0);
    assert_int_not_equal(jb_store_batch_begin(s, err, sizeof(err)), 0); /* not nested */
    for (int i = 0; i < 3; i++) {
        char id[64];
        snprintf(id, sizeof(id), "batch-commit-%d", i % 2); /* the third is a duplicate */
        json_object_set_new(r, "run_id", json_string(id));
        assert_int_equal(jb_store_put(s, r, NULL, "time_s,domain,watts\n", &ins, err, sizeof(err)),
                         0);
        assert_int_equal(ins, i < 2);
    }
    assert_int_equal(jb_store_batch_end(s, 1, err, sizeof(err)), 0);
    assert_int_equal(jb_store_count(s, &n, err, sizeof(err)), 0);
    assert_int_equal(n - before, 2);
    assert_int_equal(jb_store_batch_begin(s, err, sizeof(err)), 0);
    json_object_set_new(r, "run_id", json_string("batch-rolled-back"));
    assert_int_equal(jb_store_put(s, r, NULL, NULL, &ins, err, sizeof(err)), 0);
    assert_int_equal(jb_store_batch_end(s, 0, err, sizeof(err)), 0);
    assert_int_equal(jb_store_count(s, &n, err, sizeof(err)), 0);
    assert_int_equal(n - before, 2);
    json_decref(r);
    jb_store_close(s);
}

static void migrates_from_v1(void **st)
{
    (void)st;
    if (is_pg)
        skip();
    char err[JB_ERRLEN] = "", path[1200];
    snprintf(path, sizeof(path), "%s/v1.db", dir);
    /* A database as version 1 created it. */
    sqlite_exec(path, "CREATE TABLE jb_schema_version (version BIGINT NOT NULL);"
                      "INSERT INTO jb_schema_version VALUES (1);"
                      "CREATE TABLE jb_runs (run_id TEXT PRIMARY KEY, created_utc TEXT NOT NULL,"
                      " workload TEXT NOT NULL, family TEXT, unit TEXT, dtype TEXT, scenario TEXT,"
                      " batch BIGINT, threads BIGINT, backend TEXT, kernel TEXT, power TEXT,"
                      " topology_hash TEXT, platform TEXT, git_commit TEXT, complete BIGINT,"
                      " output_check TEXT, latency_median_s DOUBLE PRECISION,"
                      " throughput_units_per_s DOUBLE PRECISION, energy_j_per_unit DOUBLE"
                      " PRECISION, energy_uncertainty_j_per_unit DOUBLE PRECISION,"
                      " energy_measured BIGINT, source_file TEXT, record_json TEXT NOT NULL)");
    jb_store *s;
    assert_int_equal(jb_store_open(path, &s, err, sizeof(err)), 0);
    assert_int_equal(jb_store_version(s), JB_STORE_SCHEMA_VERSION);
    json_t *r = th_load_fixture("triad.json");
    int ins;
    assert_int_equal(jb_store_put(s, r, NULL, NULL, &ins, err, sizeof(err)), 0);
    json_decref(r);
    jb_store_close(s);
}

/* Groups seen by grouped_query_one_key_at_a_time. */
struct groups_seen {
    int n, records;
    char keys[8][128];
};

static int note_group(void *ctx, const char *key, json_t *recs)
{
    struct groups_seen *g = ctx;
    for (int i = 0; i < g->n; i++)
        assert_string_not_equal(g->keys[i], key); /* each key once */
    assert_true(g->n < 8);
    snprintf(g->keys[g->n++], sizeof(g->keys[0]), "%s", key);
    size_t i;
    json_t *r;
    const char *prev = "";
    json_array_foreach(recs, i, r)
    {
        struct jb_config_key k;
        jb_config_key_of(r, JB_ACROSS_NONE, &k);
        assert_string_equal(k.id, key);
        const char *t = jb_rec_str(r, "created_utc", "");
        assert_true(strcmp(prev, t) <= 0); /* oldest first */
        prev = t;
        g->records++;
    }
    return 0;
}

static int stop_at_first(void *ctx, const char *key, json_t *recs)
{
    (void)key;
    (void)recs;
    ++*(int *)ctx;
    return JB_EIO;
}

/* history's query: runs of two configurations written interleaved come
 * back as two groups, each whole and in time order; a callback's error
 * stops the query and is returned. */
static void grouped_query_one_key_at_a_time(void **st)
{
    (void)st;
    char err[JB_ERRLEN] = "";
    jb_store *s;
    open_s(&s);
    json_t *r = th_load_fixture("fma.json");
    json_object_set_new(json_object_get(r, "workload"), "name", json_string("grouped-fma"));
    for (int i = 0; i < 7; i++) {
        char id[64], when[64];
        int ins = 0;
        snprintf(id, sizeof(id), "grouped-%d", i);
        /* written newest first, so the order is the query's doing */
        snprintf(when, sizeof(when), "2026-11-%02dT10:00:00Z", 20 - i);
        json_object_set_new(r, "run_id", json_string(id));
        json_object_set_new(r, "created_utc", json_string(when));
        json_object_set_new(json_object_get(r, "config"), "context", json_integer(i % 2 ? 512 : 0));
        assert_int_equal(jb_store_put(s, r, NULL, NULL, &ins, err, sizeof(err)), 0);
        assert_int_equal(ins, 1);
    }
    struct jb_store_filter f = {0};
    f.workload = "grouped-fma";
    struct groups_seen g = {0};
    assert_int_equal(jb_store_query_grouped(s, &f, note_group, &g, err, sizeof(err)), 0);
    assert_int_equal(g.n, 2);
    assert_int_equal(g.records, 7);
    int calls = 0;
    assert_int_equal(jb_store_query_grouped(s, &f, stop_at_first, &calls, err, sizeof(err)),
                     JB_EIO);
    assert_int_equal(calls, 1);
    json_decref(r);
    jb_store_close(s);
}

static json_t *gb_doc(const char *date, const char *text)
{
    json_error_t je;
    json_t *d = json_loads(text, 0, &je);
    if (!d)
        fail_msg("%s", je.text);
    json_object_set_new(d, "context",
                        json_pack("{s:s, s:s}", "date", date, "host_name", "store-test"));
    return d;
}

/* The three repetitions of a Google Benchmark entry share its name, and
 * so does another run of the same configuration started in the same second
 * (GB's date has one-second resolution): all are stored, once each. */
static void gbench_repetitions_and_same_second(void **st)
{
    (void)st;
    char err[JB_ERRLEN] = "";
    jb_store *s;
    open_s(&s);
    const char *date = "2026-11-23T05:40:47+00:00";
    json_t *a = gb_doc(date, "{\"benchmarks\": ["
                             "{\"name\": \"fma/t1\", \"run_type\": \"iteration\", "
                             "\"repetition_index\": 0, \"iterations\": 9, \"real_time\": 1.5},"
                             "{\"name\": \"fma/t1\", \"run_type\": \"iteration\", "
                             "\"repetition_index\": 1, \"iterations\": 9, \"real_time\": 1.6},"
                             "{\"name\": \"fma/t1\", \"run_type\": \"iteration\", "
                             "\"repetition_index\": 2, \"iterations\": 9, \"real_time\": 1.4},"
                             "{\"name\": \"fma/t1_mean\", \"run_type\": \"aggregate\", "
                             "\"iterations\": 3, \"real_time\": 1.5}]}");
    json_t *b = gb_doc(date, "{\"benchmarks\": [{\"name\": \"fma/t1\", \"run_type\": "
                             "\"iteration\", \"repetition_index\": 0, \"iterations\": 11, "
                             "\"real_time\": 1.3}]}");
    long before = 0, after = 0;
    assert_int_equal(jb_store_count_gbench(s, &before, err, sizeof(err)), 0);
    int ins = -1;
    if (jb_store_put_gbench(s, a, "a.gbench.json", &ins, err, sizeof(err)))
        fail_msg("%s", err);
    assert_int_equal(ins, 4);
    if (jb_store_put_gbench(s, b, "b.gbench.json", &ins, err, sizeof(err)))
        fail_msg("%s", err);
    assert_int_equal(ins, 1);
    /* imported again: nothing new */
    assert_int_equal(jb_store_put_gbench(s, a, "a.gbench.json", &ins, err, sizeof(err)), 0);
    assert_int_equal(ins, 0);
    assert_int_equal(jb_store_put_gbench(s, b, "gb.json", &ins, err, sizeof(err)), 0);
    assert_int_equal(ins, 0);
    assert_int_equal(jb_store_count_gbench(s, &after, err, sizeof(err)), 0);
    assert_int_equal(after - before, 5);
    json_decref(a);
    json_decref(b);
    jb_store_close(s);
}

/* A version 2 database, whose Google Benchmark table kept one entry per
 * (date, host, name): migrated, the entry it has is not stored twice, and
 * the repetitions it had dropped can now be added. */
static void gbench_migrates_from_v2(void **st)
{
    (void)st;
    if (is_pg)
        skip();
    char err[JB_ERRLEN] = "", path[1200];
    snprintf(path, sizeof(path), "%s/v2.db", dir);
    const char *date = "2026-11-20T10:00:00+00:00";
    json_t *d = gb_doc(date, "{\"benchmarks\": ["
                             "{\"name\": \"triad/t2\", \"repetition_index\": 0, "
                             "\"iterations\": 5, \"real_time\": 2.5},"
                             "{\"name\": \"triad/t2\", \"repetition_index\": 1, "
                             "\"iterations\": 5, \"real_time\": 2.75}]}");
    char *first = json_dumps(json_array_get(json_object_get(d, "benchmarks"), 0),
                             JSON_COMPACT | JSON_SORT_KEYS);
    char sql[2048];
    snprintf(sql, sizeof(sql),
             "CREATE TABLE jb_schema_version (version BIGINT NOT NULL);"
             "INSERT INTO jb_schema_version VALUES (2);"
             "CREATE TABLE jb_runs (run_id TEXT PRIMARY KEY, created_utc TEXT, record_json TEXT);"
             "CREATE TABLE jb_gbench (context_date TEXT NOT NULL, host_name TEXT NOT NULL,"
             " name TEXT NOT NULL, run_type TEXT, iterations BIGINT, real_time DOUBLE PRECISION,"
             " cpu_time DOUBLE PRECISION, time_unit TEXT, source_file TEXT, json TEXT NOT NULL,"
             " PRIMARY KEY (context_date, host_name, name));"
             "INSERT INTO jb_gbench (context_date, host_name, name, iterations, real_time,"
             " source_file, json) VALUES ('%s', 'store-test', 'triad/t2', 5, 2.5, 'old.json',"
             " '%s');",
             date, first);
    free(first);
    sqlite_exec(path, sql);
    jb_store *s;
    if (jb_store_open(path, &s, err, sizeof(err)))
        fail_msg("%s", err);
    assert_int_equal(jb_store_version(s), JB_STORE_SCHEMA_VERSION);
    long n = 0;
    assert_int_equal(jb_store_count_gbench(s, &n, err, sizeof(err)), 0);
    assert_int_equal(n, 1);
    int ins = -1;
    if (jb_store_put_gbench(s, d, "old.json", &ins, err, sizeof(err)))
        fail_msg("%s", err);
    assert_int_equal(ins, 1);
    assert_int_equal(jb_store_count_gbench(s, &n, err, sizeof(err)), 0);
    assert_int_equal(n, 2);
    json_decref(d);
    jb_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(roundtrip_and_idempotent),
        cmocka_unit_test(failed_write_leaves_nothing),
        cmocka_unit_test(locked_corrupt_newer),
        cmocka_unit_test(migrates_from_v1),
        cmocka_unit_test(concurrent_writers_on_new_database),
        cmocka_unit_test(batches_commit_or_roll_back),
        cmocka_unit_test(grouped_query_one_key_at_a_time),
        cmocka_unit_test(gbench_repetitions_and_same_second),
        cmocka_unit_test(gbench_migrates_from_v2),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
