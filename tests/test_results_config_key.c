/* test_results_config_key.c: the configuration key (results/config_key.c)
 * as compare, history and the store use it. The two cases of issue 13: a
 * stories110m decode at context 128 and at 1023 are two series and never
 * one comparison; the smoke suite's triad against the same at
 * --options mib=16 gives no verdict. A deliberate --across comparison is
 * made, and labelled in its text and JSON. Old records and old database
 * rows get the key a new record would. */
#include "base/error.h"
#include "results/config_key.h"
#include "results/record_util.h"
#include "results/store.h"
#include "test_results_helpers.h"

#include <math.h>
#include <setjmp.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

static char dir[1024];

static int setup(void **st)
{
    (void)st;
    th_scratch(dir, sizeof(dir), "key");
    return 0;
}

static int teardown(void **st)
{
    (void)st;
    th_rmrf(dir);
    return 0;
}

/* Runs a subcommand with its stdout captured; returns the text (static
 * buffer) and its exit status in *rc. */
static char *capture(int argc, char **argv, int *rc)
{
    static char buf[1 << 16];
    fflush(stdout);
    FILE *tmp = tmpfile();
    assert_non_null(tmp);
    int saved = dup(1);
    dup2(fileno(tmp), 1);
    *rc = th_cmd(argc, argv);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    rewind(tmp);
    size_t n = fread(buf, 1, sizeof(buf) - 1, tmp);
    buf[n] = '\0';
    fclose(tmp);
    return buf;
}

/* An LLM decode record of `name` at `context`, with energy per token
 * `j` (its samples scaled to it) and latency scaled by `lat`. */
static json_t *llm_record(const char *id, const char *name, int context, double j, double lat)
{
    json_t *r = th_load_fixture("llm-decode.json");
    json_object_set_new(r, "run_id", json_string(id));
    json_object_set_new((json_t *)jb_rec_get(r, "workload"), "name", json_string(name));
    json_object_set_new((json_t *)jb_rec_get(r, "config"), "context", json_integer(context));
    json_t *e = json_array_get(jb_rec_get(r, "measurements.energy"), 0);
    double old = jb_rec_num(e, "joules_per_unit", 1);
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(e, "samples_joules_per_unit"), i, v)
        json_real_set(v, json_number_value(v) / old * j);
    json_object_set_new(e, "joules_per_unit", json_real(j));
    json_array_foreach(jb_rec_get(r, "measurements.latency_s.samples"), i, v)
        json_real_set(v, json_number_value(v) * lat);
    return r;
}

static void write_rec(const char *sub, const char *file, const json_t *r)
{
    char p[1400];
    snprintf(p, sizeof(p), "mkdir -p '%s/%s'", dir, sub);
    assert_int_equal(system(p), 0);
    snprintf(p, sizeof(p), "%s/%s/%s", dir, sub, file);
    assert_int_equal(json_dump_file(r, p, JSON_INDENT(1)), 0);
}

static void key_fields_and_defaults(void **st)
{
    (void)st;
    json_t *a = llm_record("k-0001-aaaa", "stories110m", 128, 0.656, 1);
    json_t *b = llm_record("k-0002-bbbb", "stories110m", 1023, 1.144, 1);
    struct jb_config_key ka, kb, kc;
    jb_config_key_of(a, JB_ACROSS_NONE, &ka);
    jb_config_key_of(b, JB_ACROSS_NONE, &kb);
    assert_int_equal(strlen(ka.id), JB_CONFIG_KEY_ID_LEN);
    assert_string_not_equal(ka.id, kb.id);
    assert_non_null(strstr(ka.text, "context=128"));
    assert_non_null(strstr(kb.text, "context=1023"));
    assert_non_null(strstr(ka.text, "workload=stories110m;workload_version=1;backend=cpu;"
                                    "kernel=avx512;dtype=q8_0"));
    assert_non_null(strstr(ka.text, "power_sources=sim"));
    /* the run id, date, commit and measured values are not configuration */
    json_t *c = llm_record("k-0003-cccc", "stories110m", 128, 0.9, 1.3);
    json_object_set_new((json_t *)jb_rec_get(c, "system"), "git_commit", json_string("other"));
    jb_config_key_of(c, JB_ACROSS_NONE, &kc);
    assert_string_equal(ka.id, kc.id);
    /* options are a set: order does not make another configuration */
    json_object_set_new((json_t *)jb_rec_get(a, "config"), "options", json_string("b=2,a=1"));
    json_object_set_new((json_t *)jb_rec_get(c, "config"), "options", json_string("a=1,b=2"));
    jb_config_key_of(a, JB_ACROSS_NONE, &ka);
    jb_config_key_of(c, JB_ACROSS_NONE, &kc);
    assert_string_equal(ka.id, kc.id);
    assert_non_null(strstr(ka.text, "options=a%3D1,b%3D2"));
    /* a value cannot pass for another field */
    json_object_set_new((json_t *)jb_rec_get(c, "config"), "options",
                        json_string("a=1,b=2;threads=9"));
    jb_config_key_of(c, JB_ACROSS_NONE, &kc);
    assert_null(strstr(kc.text, ";threads=9"));
    /* an old record without context, options, kernel and pin keys like a
     * new one with the defaults */
    json_t *old = th_load_fixture("triad.json"), *now = th_load_fixture("triad.json");
    json_object_del((json_t *)jb_rec_get(old, "config"), "context");
    json_object_del((json_t *)jb_rec_get(old, "config"), "options");
    json_object_del((json_t *)jb_rec_get(old, "config"), "pin");
    json_object_set_new((json_t *)jb_rec_get(now, "config"), "context", json_integer(0));
    json_object_set_new((json_t *)jb_rec_get(now, "config"), "options", json_null());
    json_object_set_new((json_t *)jb_rec_get(now, "config"), "pin", json_string("compact"));
    jb_config_key_of(old, JB_ACROSS_NONE, &ka);
    jb_config_key_of(now, JB_ACROSS_NONE, &kb);
    assert_string_equal(ka.id, kb.id);
    /* across backend: the back-end and kernel leave the key */
    json_t *g = llm_record("k-0004-dddd", "stories110m", 128, 0.2, 0.1);
    json_object_set_new((json_t *)jb_rec_get(g, "backend"), "name", json_string("cuda"));
    json_object_set_new((json_t *)jb_rec_get(g, "backend"), "kernel", json_string("mma"));
    json_t *a2 = llm_record("k-0005-eeee", "stories110m", 128, 0.656, 1);
    jb_config_key_of(a2, JB_ACROSS_NONE, &ka);
    jb_config_key_of(g, JB_ACROSS_NONE, &kb);
    assert_string_not_equal(ka.id, kb.id);
    jb_config_key_of(a2, JB_ACROSS_BACKEND, &ka);
    jb_config_key_of(g, JB_ACROSS_BACKEND, &kb);
    assert_string_equal(ka.id, kb.id);
    assert_null(strstr(ka.text, "backend="));
    /* the stored form and the label */
    assert_int_equal(jb_config_key_attach(a2), 0);
    assert_int_equal(jb_rec_num(a2, "config_key.fields.context", -1), 128);
    assert_string_equal(jb_rec_str(a2, "config_key.fields.kernel", ""), "avx512");
    char label[300];
    jb_config_key_label(a2, JB_ACROSS_NONE, label, sizeof(label));
    assert_string_equal(label, "q8_0 single-stream b1 t2 ctx128 cpu/avx512");
    unsigned across;
    assert_int_equal(jb_across_parse("machine", &across), 0);
    assert_int_equal(across, JB_ACROSS_MACHINE);
    assert_int_not_equal(jb_across_parse("cpu", &across), 0);
    json_decref(a);
    json_decref(b);
    json_decref(c);
    json_decref(g);
    json_decref(a2);
    json_decref(old);
    json_decref(now);
}

/* Issue 13, case 1: history --workload stories110m put context 128 and 1023
 * in one series and compare pooled them. */
static void context_128_and_1023_are_two_series(void **st)
{
    (void)st;
    char db[1400], js[1400], recs[1400];
    snprintf(db, sizeof(db), "%s/ctx.db", dir);
    snprintf(js, sizeof(js), "%s/ctx.json", dir);
    snprintf(recs, sizeof(recs), "%s/ctx", dir);
    for (int i = 0; i < 6; i++) {
        char id[64], ts[64], f[64];
        snprintf(ts, sizeof(ts), "2026-11-%02dT02:00:00Z", i + 1);
        int ctx = i % 2 ? 1023 : 128;
        snprintf(id, sizeof(id), "ctx%d-run-%04d", ctx, i);
        json_t *r = llm_record(id, "stories110m", ctx, ctx == 128 ? 0.656 : 1.144, 1);
        json_object_set_new(r, "created_utc", json_string(ts));
        snprintf(f, sizeof(f), "%s.json", id);
        write_rec("ctx", f, r);
        json_decref(r);
    }
    char *imp[] = {"import", "--db", db, recs, NULL};
    assert_int_equal(th_cmd(4, imp), 0);
    char *h[] = {"history", "--db", db, "--workload", "stories110m", "--json", js, NULL};
    assert_int_equal(th_cmd(7, h), 0);
    json_error_t je;
    json_t *doc = json_load_file(js, 0, &je);
    assert_int_equal(json_array_size(doc), 2);
    for (size_t i = 0; i < 2; i++) {
        json_t *s = json_array_get(doc, i);
        json_t *pts = json_object_get(s, "points");
        assert_int_equal(json_array_size(pts), 3);
        int ctx = (int)jb_rec_num(s, "key.context", -1);
        assert_true(ctx == 128 || ctx == 1023);
        for (size_t k = 0; k < 3; k++)
            assert_true(fabs(jb_rec_num(json_array_get(pts, k), "value", 0) -
                             (ctx == 128 ? 0.656 : 1.144)) < 1e-9);
        assert_int_equal(json_array_size(json_object_get(s, "change_points")), 0);
        assert_non_null(strstr(jb_rec_str(s, "config", ""), ctx == 128 ? "ctx128" : "ctx1023"));
    }
    json_decref(doc);
    /* context 128 against context 1023: nothing to compare, both listed */
    int rc;
    char *c1[] = {"compare",
                  "--db",
                  db,
                  "--json",
                  js,
                  "workload=stories110m,context=128",
                  "workload=stories110m,context=1023",
                  NULL};
    char *out = capture(7, c1, &rc);
    assert_int_equal(rc, 2);
    assert_null(strstr(out, "slower"));
    assert_null(strstr(out, "more energy"));
    assert_non_null(strstr(out, "only in base"));
    assert_non_null(strstr(out, "ctx128"));
    assert_non_null(strstr(out, "only in contender"));
    assert_non_null(strstr(out, "ctx1023"));
    doc = json_load_file(js, 0, &je);
    assert_int_equal(json_array_size(json_object_get(doc, "comparisons")), 0);
    assert_int_equal(json_array_size(json_object_get(doc, "unmatched")), 2);
    json_decref(doc);
    /* all against all: each key with itself, never pooled */
    char *c2[] = {
        "compare", "--db", db, "--json", js, "workload=stories110m", "workload=stories110m", NULL};
    capture(7, c2, &rc);
    assert_int_equal(rc, 0);
    doc = json_load_file(js, 0, &je);
    json_t *rows = json_object_get(doc, "comparisons");
    assert_int_equal(json_array_size(rows), 4);
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        assert_string_equal(jb_rec_str(row, "verdict", ""), "same");
        if (!strcmp(jb_rec_str(row, "metric", ""), "energy")) {
            double m = jb_rec_num(row, "median_base", 0);
            assert_true(fabs(m - 0.656) < 0.05 || fabs(m - 1.144) < 0.05);
        }
    }
    json_decref(doc);
}

/* Issue 13, case 2: the smoke suite's triad against --options mib=16 was
 * "faster, less energy, p = 0.0079". */
static void options_change_is_no_verdict(void **st)
{
    (void)st;
    char base[1400], cont[1400], js[1400];
    snprintf(base, sizeof(base), "%s/smoke", dir);
    snprintf(cont, sizeof(cont), "%s/mib16", dir);
    snprintf(js, sizeof(js), "%s/opt.json", dir);
    json_t *r = th_load_fixture("triad.json");
    write_rec("smoke", "triad.json", r);
    json_object_set_new(r, "run_id", json_string("triad-mib16-0001"));
    json_object_set_new((json_t *)jb_rec_get(r, "config"), "options", json_string("mib=16"));
    size_t i;
    json_t *v;
    json_array_foreach(jb_rec_get(r, "measurements.latency_s.samples"), i, v)
        json_real_set(v, json_number_value(v) * 0.5);
    json_t *e = json_array_get(jb_rec_get(r, "measurements.energy"), 0);
    json_array_foreach(json_object_get(e, "samples_joules_per_unit"), i, v)
        json_real_set(v, json_number_value(v) * 0.5);
    write_rec("mib16", "triad.json", r);
    json_decref(r);
    int rc;
    char *c[] = {"compare", "--json", js, base, cont, NULL};
    char *out = capture(5, c, &rc);
    assert_int_equal(rc, 2);
    assert_null(strstr(out, "faster"));
    assert_null(strstr(out, "less energy"));
    assert_non_null(strstr(out, "mib=16"));
    json_error_t je;
    json_t *doc = json_load_file(js, 0, &je);
    assert_int_equal(json_array_size(json_object_get(doc, "comparisons")), 0);
    json_t *un = json_object_get(doc, "unmatched");
    assert_int_equal(json_array_size(un), 2);
    assert_string_equal(jb_rec_str(json_array_get(un, 0), "side", ""), "base");
    assert_string_equal(jb_rec_str(json_array_get(un, 1), "side", ""), "contender");
    json_decref(doc);
}

static void across_backend_is_labelled(void **st)
{
    (void)st;
    char base[1400], cont[1400], js[1400];
    snprintf(base, sizeof(base), "%s/cpu", dir);
    snprintf(cont, sizeof(cont), "%s/cuda", dir);
    snprintf(js, sizeof(js), "%s/across.json", dir);
    json_t *a = llm_record("across-cpu-0001", "stories110m", 128, 0.656, 1);
    json_t *g = llm_record("across-gpu-0001", "stories110m", 128, 0.1, 0.1);
    json_object_set_new((json_t *)jb_rec_get(g, "backend"), "name", json_string("cuda"));
    json_object_set_new((json_t *)jb_rec_get(g, "backend"), "kernel", json_string("mma"));
    write_rec("cpu", "a.json", a);
    write_rec("cuda", "g.json", g);
    json_decref(a);
    json_decref(g);
    int rc;
    /* without --across: two keys, nothing compared */
    char *c0[] = {"compare", base, cont, NULL};
    capture(3, c0, &rc);
    assert_int_equal(rc, 2);
    /* with it: compared, and said so on every line that carries a verdict */
    char *c1[] = {"compare", "--across", "backend", "--json", js, base, cont, NULL};
    char *out = capture(7, c1, &rc);
    assert_int_equal(rc, 0); /* a cross-key comparison reports, it does not gate */
    assert_non_null(strstr(out, "CROSS-BACKEND COMPARISON"));
    assert_non_null(strstr(out, "base cpu/avx512, contender cuda/mma"));
    assert_non_null(strstr(out, "faster (across backend)"));
    assert_non_null(strstr(out, "less energy (across backend)"));
    json_error_t je;
    json_t *doc = json_load_file(js, 0, &je);
    assert_string_equal(jb_rec_str(doc, "across", ""), "backend");
    json_t *rows = json_object_get(doc, "comparisons");
    assert_int_equal(json_array_size(rows), 2);
    assert_string_equal(jb_rec_str(json_array_get(rows, 0), "across", ""), "backend");
    assert_string_equal(jb_rec_str(json_array_get(rows, 1), "contender_values", ""), "cuda/mma");
    json_decref(doc);
    /* across machine: the same configuration on two platforms */
    char m1[1400], m2[1400];
    snprintf(m1, sizeof(m1), "%s/vm", dir);
    snprintf(m2, sizeof(m2), "%s/box", dir);
    json_t *x = llm_record("machine-a-0001", "stories110m", 128, 0.656, 1);
    json_t *y = llm_record("machine-b-0001", "stories110m", 128, 0.5, 0.7);
    json_object_set_new((json_t *)jb_rec_get(y, "system"), "topology_hash",
                        json_string("0123456789abcdef"));
    json_object_set_new((json_t *)jb_rec_get(y, "system"), "cpu_model",
                        json_string("Other CPU 9000"));
    write_rec("vm", "x.json", x);
    write_rec("box", "y.json", y);
    json_decref(x);
    json_decref(y);
    char *c3[] = {"compare", m1, m2, NULL};
    capture(3, c3, &rc);
    assert_int_equal(rc, 2);
    char *c4[] = {"compare", "--across", "machine", m1, m2, NULL};
    out = capture(5, c4, &rc);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "CROSS-MACHINE COMPARISON"));
    assert_non_null(strstr(out, "contender Other CPU 9000"));
    assert_non_null(strstr(out, "(across machine)"));
    char *c2[] = {"compare", "--across", "kernel", base, cont, NULL};
    capture(5, c2, &rc);
    assert_int_equal(rc, 2);
}

static void sqlite_exec(const char *path, const char *sql)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

/* A database of schema version 3 (before the key) with a row: opening it
 * gives the row its key, in the column and in its record JSON. */
static void old_rows_get_their_key(void **st)
{
    (void)st;
    char path[1400], err[JB_ERRLEN];
    snprintf(path, sizeof(path), "%s/v3.db", dir);
    json_t *r = llm_record("old-row-0001", "stories110m", 1023, 1.144, 1);
    char *js = json_dumps(r, JSON_COMPACT | JSON_SORT_KEYS);
    /* single quotes doubled for SQL */
    char *q = malloc(strlen(js) * 2 + 1), *o = q;
    for (const char *p = js; *p; p++) {
        if (*p == '\'')
            *o++ = '\'';
        *o++ = *p;
    }
    *o = '\0';
    char *sql = malloc(strlen(q) + 4096);
    sprintf(sql,
            "CREATE TABLE jb_schema_version (version BIGINT NOT NULL);"
            "INSERT INTO jb_schema_version VALUES (3);"
            "CREATE TABLE jb_runs (run_id TEXT PRIMARY KEY, created_utc TEXT NOT NULL,"
            " workload TEXT NOT NULL, family TEXT, unit TEXT, dtype TEXT, scenario TEXT,"
            " batch BIGINT, threads BIGINT, backend TEXT, kernel TEXT, power TEXT,"
            " topology_hash TEXT, platform TEXT, git_commit TEXT, complete BIGINT,"
            " output_check TEXT, latency_median_s DOUBLE PRECISION,"
            " throughput_units_per_s DOUBLE PRECISION, energy_j_per_unit DOUBLE PRECISION,"
            " energy_uncertainty_j_per_unit DOUBLE PRECISION, energy_measured BIGINT,"
            " source_file TEXT, record_json TEXT NOT NULL);"
            "CREATE TABLE jb_energy (run_id TEXT NOT NULL, domain TEXT NOT NULL,"
            " source TEXT NOT NULL, measured BIGINT NOT NULL, joules_per_unit DOUBLE PRECISION,"
            " uncertainty_joules_per_unit DOUBLE PRECISION, average_power_w DOUBLE PRECISION);"
            "CREATE TABLE jb_traces (run_id TEXT PRIMARY KEY, csv TEXT NOT NULL);"
            "CREATE TABLE jb_gbench (context_date TEXT NOT NULL, host_name TEXT NOT NULL,"
            " name TEXT NOT NULL, entry_key TEXT NOT NULL, run_type TEXT, iterations BIGINT,"
            " real_time DOUBLE PRECISION, cpu_time DOUBLE PRECISION, time_unit TEXT,"
            " source_file TEXT, json TEXT NOT NULL,"
            " PRIMARY KEY (context_date, host_name, name, entry_key));"
            "INSERT INTO jb_runs (run_id, created_utc, workload, complete, record_json) VALUES"
            " ('old-row-0001', '2026-01-01T00:00:00Z', 'stories110m', 1, '%s');",
            q);
    sqlite_exec(path, sql);
    free(sql);
    free(q);
    free(js);
    jb_store *s;
    if (jb_store_open(path, &s, err, sizeof(err)))
        fail_msg("%s", err);
    assert_int_equal(jb_store_version(s), JB_STORE_SCHEMA_VERSION);
    struct jb_config_key k;
    jb_config_key_of(r, JB_ACROSS_NONE, &k);
    json_t *out = json_array();
    struct jb_store_filter f = {0};
    f.config_key = k.id;
    assert_int_equal(jb_store_query(s, &f, out, err, sizeof(err)), 0);
    assert_int_equal(json_array_size(out), 1);
    json_t *got = json_array_get(out, 0);
    assert_string_equal(jb_rec_str(got, "config_key.id", ""), k.id);
    assert_int_equal(jb_rec_num(got, "config_key.fields.context", 0), 1023);
    json_decref(out);
    /* and by the context column */
    out = json_array();
    memset(&f, 0, sizeof(f));
    f.context = 1023;
    f.context_set = 1;
    assert_int_equal(jb_store_query(s, &f, out, err, sizeof(err)), 0);
    assert_int_equal(json_array_size(out), 1);
    json_decref(out);
    jb_store_close(s);
    json_decref(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(key_fields_and_defaults),
        cmocka_unit_test(context_128_and_1023_are_two_series),
        cmocka_unit_test(options_change_is_no_verdict),
        cmocka_unit_test(across_backend_is_labelled),
        cmocka_unit_test(old_rows_get_their_key),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
