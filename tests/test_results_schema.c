/* test_results_schema.c: the record validator and loader accept the
 * fixture records and refuse broken ones with the JSON path of the fault. */
#include "base/error.h"
#include "results/schema_validate.h"
#include "test_results_helpers.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

static json_t *schema;

static int setup(void **st)
{
    (void)st;
    char err[JB_ERRLEN];
    return jb_record_schema_load(&schema, err, sizeof(err));
}

static int teardown(void **st)
{
    (void)st;
    json_decref(schema);
    return 0;
}

static void fixtures_validate(void **st)
{
    (void)st;
    const char *names[] = {"triad.json", "fma.json", "ic-resnet8-int8.json", "llm-decode.json"};
    for (size_t i = 0; i < 4; i++) {
        char p[1024], err[JB_ERRLEN] = "";
        json_t *r = NULL;
        th_fixture(p, sizeof(p), names[i]);
        int rc = jb_record_load(p, &r, err, sizeof(err));
        if (rc)
            fail_msg("%s: %s", names[i], err);
        assert_non_null(r);
        json_decref(r);
    }
}

/* Mutates one fixture with a JSON-pointer-ish edit and expects a failure
 * whose message contains `want`. */
static void expect_fail(json_t *rec, const char *want)
{
    char err[JB_ERRLEN] = "";
    int rc = jb_record_check(schema, rec, err, sizeof(err));
    assert_int_not_equal(rc, 0);
    if (!strstr(err, want))
        fail_msg("error '%s' does not contain '%s'", err, want);
}

static void broken_records_name_the_path(void **st)
{
    (void)st;
    json_t *r = th_load_fixture("triad.json");
    json_t *lat = json_object_get(json_object_get(r, "measurements"), "latency_s");
    json_object_set_new(lat, "median", json_real(-1.0));
    expect_fail(r, "$.measurements.latency_s.median: -1 is below the minimum 0");
    json_decref(r);

    r = th_load_fixture("triad.json");
    json_object_del(json_object_get(r, "workload"), "unit");
    expect_fail(r, "$.workload: missing required field \"unit\"");
    json_decref(r);

    r = th_load_fixture("triad.json");
    json_object_set_new(json_object_get(r, "config"), "scenario", json_string("batchy"));
    expect_fail(r, "$.config.scenario: \"batchy\" is not an allowed value");
    json_decref(r);

    r = th_load_fixture("triad.json");
    json_t *e0 = json_array_get(json_object_get(json_object_get(r, "measurements"), "energy"), 0);
    json_object_set_new(e0, "measured", json_string("yes"));
    expect_fail(r, "$.measurements.energy[0].measured: expected boolean, found string");
    json_decref(r);

    r = th_load_fixture("triad.json");
    json_object_set_new(r, "run_id", json_string("short"));
    expect_fail(r, "$.run_id: shorter than 8");
    json_decref(r);

    /* A type list: suite may be a string or null, never a number. */
    r = th_load_fixture("triad.json");
    json_object_set_new(r, "suite", json_integer(3));
    expect_fail(r, "$.suite: integer is not one of the allowed types");
    json_object_set_new(r, "suite", json_null());
    char err[JB_ERRLEN];
    assert_int_equal(jb_record_check(schema, r, err, sizeof(err)), 0);
    json_decref(r);
}

/* Values no run can produce are refused, naming the field: they once
 * imported with exit 0, and compare called negative energy "less energy". */
static json_t *with(const char *obj, const char *key, json_t *v)
{
    json_t *r = th_load_fixture("triad.json");
    json_t *o = r;
    if (!strcmp(obj, "energy0"))
        o = json_array_get(json_object_get(json_object_get(r, "measurements"), "energy"), 0);
    else if (!strcmp(obj, "latency"))
        o = json_object_get(json_object_get(r, "measurements"), "latency_s");
    else if (*obj)
        o = json_object_get(r, obj);
    json_object_set_new(o, key, v);
    return r;
}

static void absurd_values_refused(void **st)
{
    (void)st;
    struct {
        json_t *r;
        const char *want;
    } cases[] = {
        {with("energy0", "joules_per_unit", json_real(-3.5)),
         "$.measurements.energy[0].joules_per_unit: -3.5 is below the minimum 0"},
        {with("energy0", "average_power_w", json_real(-40)),
         "$.measurements.energy[0].average_power_w: -40 is below"},
        {with("latency", "median", json_real(0)), "$.measurements.latency_s.median: 0 in a complete"},
        {with("measurements", "throughput_units_per_s", json_real(0)),
         "$.measurements.throughput_units_per_s: 0 in a complete"},
        {with("config", "batch", json_integer((json_int_t)1 << 62)),
         "$.config.batch: 4.61169e+18 is above the maximum"},
        {with("", "created_utc", json_string("9999-99-99T00:00:00Z")),
         "$.created_utc: \"9999-99-99T00:00:00Z\" is not a date"},
        {with("", "created_utc", json_string("2025-02-29T10:00:00Z")), "is not a date"},
        {with("", "created_utc", json_string("2026-11-20 10:01:00 UTC")), "is not a date"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        expect_fail(cases[i].r, cases[i].want);
        json_decref(cases[i].r);
    }
    /* an interrupted run with nothing measured is still a record */
    json_t *r = with("", "complete", json_false());
    json_t *m = json_object_get(r, "measurements");
    json_object_set_new(m, "throughput_units_per_s", json_real(0));
    json_object_set_new(json_object_get(m, "latency_s"), "median", json_real(0));
    char err[JB_ERRLEN] = "";
    if (jb_record_check(schema, r, err, sizeof(err)))
        fail_msg("%s", err);
    json_decref(r);
    r = with("", "created_utc", json_string("2024-02-29T23:59:60.5+01:00"));
    if (jb_record_check(schema, r, err, sizeof(err)))
        fail_msg("%s", err);
    json_decref(r);
}

static void versions_are_checked(void **st)
{
    (void)st;
    char err[JB_ERRLEN] = "";
    json_t *r = th_load_fixture("fma.json");
    json_object_set_new(r, "schema_version", json_integer(7));
    assert_int_equal(jb_record_check(schema, r, err, sizeof(err)), JB_EFORMAT);
    assert_non_null(strstr(err, "newer"));
    json_object_del(r, "schema_version");
    assert_int_equal(jb_record_check(schema, r, err, sizeof(err)), JB_EFORMAT);
    json_decref(r);
}

static void truncated_and_malformed_files(void **st)
{
    (void)st;
    char p[1024], err[JB_ERRLEN] = "";
    th_fixture(p, sizeof(p), "llm-decode.json");
    FILE *f = fopen(p, "rb");
    assert_non_null(f);
    char buf[65536];
    size_t n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    json_t *out = (json_t *)1;
    /* Every truncation point gives an error, never a partial record. */
    for (size_t cut = 0; cut < n - 2; cut += 97) {
        assert_int_not_equal(jb_record_parse(buf, cut, schema, &out, err, sizeof(err)), 0);
        assert_null(out);
    }
    assert_int_equal(jb_record_parse(buf, n, schema, &out, err, sizeof(err)), 0);
    json_decref(out);
    const char dup[] = "{\"schema_version\":1,\"schema_version\":1}";
    assert_int_not_equal(jb_record_parse(dup, sizeof(dup) - 1, schema, &out, err, sizeof(err)), 0);
    assert_int_not_equal(jb_record_load("/nonexistent/x.json", &out, err, sizeof(err)), 0);
    assert_non_null(strstr(err, "/nonexistent/x.json"));
}

static void integer_vs_number(void **st)
{
    (void)st;
    char err[JB_ERRLEN];
    json_t *s = json_pack("{s:s}", "type", "integer");
    json_t *v = json_real(3.0);
    assert_int_equal(jb_schema_validate(s, v, err, sizeof(err)), 0);
    json_decref(v);
    v = json_real(3.5);
    assert_int_not_equal(jb_schema_validate(s, v, err, sizeof(err)), 0);
    json_decref(v);
    json_decref(s);
    /* maxLength counts characters, not UTF-8 bytes. */
    s = json_pack("{s:s,s:i}", "type", "string", "maxLength", 3);
    v = json_string("\xc3\xa9\xc3\xa9\xc3\xa9");
    assert_int_equal(jb_schema_validate(s, v, err, sizeof(err)), 0);
    json_decref(v);
    json_decref(s);
}

/* JSON Schema compares instances by value: 1 and 1.0 are the same number
 * for enum and const, in nested arrays and objects too, while 1 and true,
 * or 0 and false, are not (the later suites' const.json and enum.json
 * cases, which the packaged 2.0.0 suite lacks). */
static void enum_and_const_compare_by_value(void **st)
{
    (void)st;
    char err[JB_ERRLEN];
    struct {
        const char *schema, *data;
        int valid;
    } c[] = {
        {"{\"const\": 1}", "1.0", 1},
        {"{\"const\": 1.0}", "1", 1},
        {"{\"const\": 1}", "true", 0},
        {"{\"const\": 0}", "false", 0},
        {"{\"const\": false}", "0", 0},
        {"{\"const\": 9007199254740992}", "9007199254740992.0", 1},
        {"{\"const\": [1, {\"a\": 2}]}", "[1.0, {\"a\": 2.0}]", 1},
        {"{\"const\": [1, {\"a\": 2}]}", "[1.0, {\"a\": 2.5}]", 0},
        {"{\"const\": {\"a\": 1}}", "{\"a\": 1, \"b\": 1}", 0},
        {"{\"enum\": [0, \"x\"]}", "0.0", 1},
        {"{\"enum\": [[0]]}", "[0.0]", 1},
        {"{\"enum\": [[0]]}", "[false]", 0},
        {"{\"enum\": [1.5]}", "1", 0},
        /* strings compare as their bytes, NUL included */
        {"{\"enum\": [\"a\\u0000b\"]}", "\"a\\u0000b\"", 1},
        {"{\"enum\": [\"a\\u0000b\"]}", "\"a\"", 0},
        /* lengths count every code point, NUL included */
        {"{\"minLength\": 3}", "\"a\\u0000b\"", 1},
        {"{\"maxLength\": 1}", "\"a\\u0000b\"", 0},
    };
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        json_t *s = json_loads(c[i].schema, JSON_ALLOW_NUL, NULL);
        json_t *v = json_loads(c[i].data, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
        assert_non_null(s);
        assert_non_null(v);
        int rc = jb_schema_validate(s, v, err, sizeof(err));
        if ((rc == 0) != c[i].valid)
            fail_msg("schema %s, data %s: want %s, got %s", c[i].schema, c[i].data,
                     c[i].valid ? "valid" : "invalid", rc == 0 ? "valid" : err);
        json_decref(s);
        json_decref(v);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fixtures_validate),    cmocka_unit_test(broken_records_name_the_path),
        cmocka_unit_test(versions_are_checked), cmocka_unit_test(truncated_and_malformed_files),
        cmocka_unit_test(integer_vs_number),    cmocka_unit_test(enum_and_const_compare_by_value),
        cmocka_unit_test(absurd_values_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
