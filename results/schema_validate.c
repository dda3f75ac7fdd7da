/* schema_validate.c: the JSON Schema subset validator and the record loader
 * declared in schema_validate.h. Written here rather than taken from a
 * library because Debian 12 packages no C JSON Schema validator, and the
 * subset our contract uses is small. The validator recurses with the JSON
 * path of the value under test, so an error names exactly where it failed. */
#include "results/schema_validate.h"

#include "base/datadir.h"
#include "base/error.h"

#include <math.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Depth limit: a record nests about 5 deep; a hostile file nesting 10000
 * deep must not exhaust the stack (jansson limits parse depth too). */
#define MAX_DEPTH 64

static const char *type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "object";
    case JSON_ARRAY:
        return "array";
    case JSON_STRING:
        return "string";
    case JSON_INTEGER:
        return "integer";
    case JSON_REAL:
        return "number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "boolean";
    case JSON_NULL:
        return "null";
    }
    return "?";
}

static int type_matches(const char *want, const json_t *v)
{
    if (!strcmp(want, "number"))
        return json_is_number(v);
    if (!strcmp(want, "integer")) {
        if (json_is_integer(v))
            return 1;
        /* 2020-12: a number with a zero fractional part is an integer. */
        if (json_is_real(v)) {
            double d = json_real_value(v);
            return isfinite(d) && d == floor(d);
        }
        return 0;
    }
    if (!strcmp(want, "boolean"))
        return json_is_boolean(v);
    return !strcmp(want, type_name(v));
}

/* RFC 3339 "YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)" with every field in
 * range (the day within its month, leap years included, a leap second
 * allowed) and a year from 1970 to 9999: a record cannot predate Unix time. */
static int is_date_time(const char *s)
{
    int y, mo, d, h, mi, sec, n = 0;
    if (strlen(s) < 20 || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 ||
        n != 19)
        return 0;
    for (int i = 0; i < 19; i++)
        if ((i == 4 || i == 7) ? s[i] != '-' : i == 10 ? s[i] != 'T' : (i == 13 || i == 16) ? s[i] != ':' : !isdigit((unsigned char)s[i]))
            return 0;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap) ||
        h > 23 || mi > 59 || sec > 60)
        return 0;
    const char *p = s + 19;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p))
            return 0;
        while (isdigit((unsigned char)*p))
            p++;
    }
    if (*p == 'Z')
        return p[1] == 0;
    if ((*p == '+' || *p == '-') && strlen(p) == 6 && isdigit((unsigned char)p[1]) &&
        isdigit((unsigned char)p[2]) && p[3] == ':' && isdigit((unsigned char)p[4]) &&
        isdigit((unsigned char)p[5]))
        return (p[1] - '0') * 10 + (p[2] - '0') <= 23 && (p[4] - '0') * 10 + (p[5] - '0') <= 59;
    return 0;
}

/* An integer and a real are the same number when the real is integral
 * and, converted, the integer exactly (no rounding through double, so
 * 2^53 + 1 is not 2^53). */
static int int_equals_real(json_int_t i, double r)
{
    /* -2^63 <= r < 2^63: the range a json_int_t holds. */
    if (!(r == floor(r) && r >= -9223372036854775808.0 && r < 9223372036854775808.0))
        return 0;
    return (json_int_t)r == i;
}

/* Equality as JSON Schema defines it for enum and const (2020-12 core,
 * 4.2.2): numbers by their mathematical value however written (1 and
 * 1.0), strings by their code points (NUL included), arrays item by item,
 * objects by the same keys with equal values. jansson's json_equal tells
 * an integer from a real, which the spec does not. */
static int values_equal(const json_t *a, const json_t *b, int depth)
{
    if (depth > MAX_DEPTH)
        return 0;
    if (json_is_integer(a) && json_is_integer(b))
        return json_integer_value(a) == json_integer_value(b);
    if (json_is_integer(a) && json_is_real(b))
        return int_equals_real(json_integer_value(a), json_real_value(b));
    if (json_is_real(a) && json_is_integer(b))
        return int_equals_real(json_integer_value(b), json_real_value(a));
    if (json_typeof(a) != json_typeof(b))
        return 0;
    switch (json_typeof(a)) {
    case JSON_REAL:
        return json_real_value(a) == json_real_value(b);
    case JSON_STRING:
        return json_string_length(a) == json_string_length(b) &&
               !memcmp(json_string_value(a), json_string_value(b), json_string_length(a));
    case JSON_ARRAY: {
        size_t n = json_array_size(a);
        if (n != json_array_size(b))
            return 0;
        for (size_t i = 0; i < n; i++)
            if (!values_equal(json_array_get(a, i), json_array_get(b, i), depth + 1))
                return 0;
        return 1;
    }
    case JSON_OBJECT: {
        if (json_object_size(a) != json_object_size(b))
            return 0;
        const char *k;
        const json_t *av;
        json_object_foreach((json_t *)a, k, av)
        {
            const json_t *bv = json_object_get(b, k);
            if (!bv || !values_equal(av, bv, depth + 1))
                return 0;
        }
        return 1;
    }
    default: /* true, false, null: the type is the value */
        return 1;
    }
}

/* Appends ".key" or "[i]" to a path, truncating safely. */
static void path_push(char *dst, size_t n, const char *base, const char *key, long idx)
{
    if (key)
        snprintf(dst, n, "%s.%s", base, key);
    else
        snprintf(dst, n, "%s[%ld]", base, idx);
}

static int validate(const json_t *s, const json_t *v, const char *path, int depth, char *err,
                    size_t errlen)
{
    if (depth > MAX_DEPTH)
        return jb_err(err, errlen, JB_EINVAL, "%s: nested too deeply", path);
    if (json_is_true(s))
        return JB_OK;
    if (json_is_false(s))
        return jb_err(err, errlen, JB_EINVAL, "%s: not allowed here", path);
    if (!json_is_object(s))
        return JB_OK;

    const json_t *t = json_object_get(s, "type");
    if (json_is_string(t) && !type_matches(json_string_value(t), v))
        return jb_err(err, errlen, JB_EINVAL, "%s: expected %s, found %s", path,
                      json_string_value(t), type_name(v));
    if (json_is_array(t)) {
        size_t i;
        const json_t *e;
        int ok = 0;
        json_array_foreach(t, i, e) if (json_is_string(e) && type_matches(json_string_value(e), v))
            ok = 1;
        if (!ok)
            return jb_err(err, errlen, JB_EINVAL, "%s: %s is not one of the allowed types", path,
                          type_name(v));
    }

    const json_t *c = json_object_get(s, "const");
    if (c && !values_equal(c, v, depth))
        return jb_err(err, errlen, JB_EINVAL, "%s: value differs from the required constant", path);

    const json_t *en = json_object_get(s, "enum");
    if (json_is_array(en)) {
        size_t i;
        const json_t *e;
        int ok = 0;
        json_array_foreach(en, i, e) if (values_equal(e, v, depth)) ok = 1;
        if (!ok) {
            if (json_is_string(v))
                return jb_err(err, errlen, JB_EINVAL, "%s: \"%.60s\" is not an allowed value", path,
                              json_string_value(v));
            return jb_err(err, errlen, JB_EINVAL, "%s: not an allowed value", path);
        }
    }

    const json_t *mn = json_object_get(s, "minimum");
    if (json_is_number(mn) && json_is_number(v) && json_number_value(v) < json_number_value(mn))
        return jb_err(err, errlen, JB_EINVAL, "%s: %g is below the minimum %g", path,
                      json_number_value(v), json_number_value(mn));
    const json_t *mx = json_object_get(s, "maximum");
    if (json_is_number(mx) && json_is_number(v) && json_number_value(v) > json_number_value(mx))
        return jb_err(err, errlen, JB_EINVAL, "%s: %g is above the maximum %g", path,
                      json_number_value(v), json_number_value(mx));
    const json_t *xmn = json_object_get(s, "exclusiveMinimum");
    if (json_is_number(xmn) && json_is_number(v) && !(json_number_value(v) > json_number_value(xmn)))
        return jb_err(err, errlen, JB_EINVAL, "%s: %g is not above %g", path,
                      json_number_value(v), json_number_value(xmn));
    const json_t *fmt = json_object_get(s, "format");
    if (json_is_string(fmt) && json_is_string(v) && !strcmp(json_string_value(fmt), "date-time") &&
        !is_date_time(json_string_value(v)))
        return jb_err(err, errlen, JB_EINVAL, "%s: \"%.40s\" is not a date and time "
                      "(YYYY-MM-DDTHH:MM:SSZ)", path, json_string_value(v));

    if (json_is_string(v)) {
        /* Lengths count code points, as the spec says, not bytes. */
        size_t cps = 0, nb = json_string_length(v);
        const unsigned char *p = (const unsigned char *)json_string_value(v);
        /* json_string_length, not the NUL: a string may hold U+0000. */
        for (size_t i = 0; i < nb; i++)
            if ((p[i] & 0xc0) != 0x80)
                cps++;
        const json_t *ml = json_object_get(s, "minLength");
        if (json_is_integer(ml) && (json_int_t)cps < json_integer_value(ml))
            return jb_err(err, errlen, JB_EINVAL, "%s: shorter than %lld characters", path,
                          (long long)json_integer_value(ml));
        const json_t *xl = json_object_get(s, "maxLength");
        if (json_is_integer(xl) && (json_int_t)cps > json_integer_value(xl))
            return jb_err(err, errlen, JB_EINVAL, "%s: longer than %lld characters", path,
                          (long long)json_integer_value(xl));
    }

    char sub[512];
    if (json_is_object(v)) {
        const json_t *req = json_object_get(s, "required");
        size_t i;
        const json_t *e;
        if (json_is_array(req))
            json_array_foreach(
                req, i, e) if (json_is_string(e) &&
                               !json_object_get(
                                   v, json_string_value(
                                          e))) return jb_err(err, errlen, JB_EINVAL,
                                                             "%s: missing required field \"%s\"",
                                                             path, json_string_value(e));
        const json_t *props = json_object_get(s, "properties");
        if (json_is_object(props)) {
            const char *k;
            const json_t *ps;
            json_object_foreach((json_t *)props, k, ps)
            {
                const json_t *pv = json_object_get(v, k);
                if (!pv)
                    continue;
                path_push(sub, sizeof(sub), path, k, 0);
                int rc = validate(ps, pv, sub, depth + 1, err, errlen);
                if (rc)
                    return rc;
            }
        }
    }
    if (json_is_array(v)) {
        const json_t *items = json_object_get(s, "items");
        if (items) {
            size_t i;
            const json_t *e;
            json_array_foreach(v, i, e)
            {
                path_push(sub, sizeof(sub), path, NULL, (long)i);
                int rc = validate(items, e, sub, depth + 1, err, errlen);
                if (rc)
                    return rc;
            }
        }
    }
    return JB_OK;
}

int jb_schema_validate(const json_t *schema, const json_t *instance, char *err, size_t errlen)
{
    if (!schema || !instance)
        return jb_err(err, errlen, JB_EINVAL, "schema validation: no schema or no instance");
    return validate(schema, instance, "$", 0, err, errlen);
}

int jb_record_schema_load(json_t **out, char *err, size_t errlen)
{
    char dir[4096], path[4200];
    jb_data_dir(JB_DATA_SCHEMA, dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/record.schema.json", dir);
    json_error_t je;
    *out = json_load_file(path, 0, &je);
    if (!*out)
        return jb_err(err, errlen, JB_ENOENT,
                      "record schema %s: %s (set JB_SCHEMA_DIR to the folder holding it)", path,
                      je.text);
    return JB_OK;
}

/* What a schema cannot say: a complete run measured something. Its
 * throughput and median latency are above 0 and it ran iterations; an
 * incomplete one (interrupted before a repetition finished) may hold zeros. */
static int check_measured(const json_t *r, char *err, size_t errlen)
{
    if (!json_is_true(json_object_get(r, "complete")))
        return JB_OK;
    const json_t *m = json_object_get(r, "measurements");
    static const char *const fields[][2] = {
        {"throughput_units_per_s", NULL}, {"latency_s", "median"}, {"iterations", NULL},
        {"duration_s", NULL}};
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        const json_t *v = json_object_get(m, fields[i][0]);
        if (fields[i][1])
            v = json_object_get(v, fields[i][1]);
        if (json_is_number(v) && !(json_number_value(v) > 0))
            return jb_err(err, errlen, JB_EINVAL,
                          "$.measurements.%s%s%s: %g in a complete record (a run that finished "
                          "measured more than nothing)",
                          fields[i][0], fields[i][1] ? "." : "", fields[i][1] ? fields[i][1] : "",
                          json_number_value(v));
    }
    return JB_OK;
}

int jb_record_check(const json_t *schema, const json_t *record, char *err, size_t errlen)
{
    json_t *own = NULL;
    int rc;
    if (!json_is_object(record))
        return jb_err(err, errlen, JB_EINVAL, "$: a record is a JSON object");
    const json_t *sv = json_object_get(record, "schema_version");
    if (!sv)
        return jb_err(err, errlen, JB_EFORMAT,
                      "$.schema_version: missing; not a joulebench record");
    if (!json_is_integer(sv) || json_integer_value(sv) < 1)
        return jb_err(err, errlen, JB_EFORMAT, "$.schema_version: not a positive integer");
    if (json_integer_value(sv) > JB_RECORD_SCHEMA_VERSION)
        return jb_err(err, errlen, JB_EFORMAT,
                      "$.schema_version: %lld is newer than this joulebench reads (%d); upgrade "
                      "joulebench",
                      (long long)json_integer_value(sv), JB_RECORD_SCHEMA_VERSION);
    if (json_integer_value(sv) != JB_RECORD_SCHEMA_VERSION)
        return jb_err(err, errlen, JB_EFORMAT, "$.schema_version: unknown version %lld",
                      (long long)json_integer_value(sv));
    if (!schema) {
        rc = jb_record_schema_load(&own, err, errlen);
        if (rc)
            return rc;
        schema = own;
    }
    rc = jb_schema_validate(schema, record, err, errlen);
    json_decref(own);
    if (!rc)
        rc = check_measured(record, err, errlen);
    return rc;
}

int jb_record_parse(const char *buf, size_t len, const json_t *schema, json_t **out, char *err,
                    size_t errlen)
{
    json_error_t je;
    *out = NULL;
    /* REJECT_DUPLICATES: two "energy" keys would make which one counts a
     * matter of parser; refuse instead. */
    json_t *r = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
    if (!r)
        return jb_err(err, errlen, JB_EINVAL, "line %d column %d: %s", je.line, je.column, je.text);
    int rc = jb_record_check(schema, r, err, errlen);
    if (rc) {
        json_decref(r);
        return rc;
    }
    *out = r;
    return JB_OK;
}

int jb_record_load(const char *path, json_t **out, char *err, size_t errlen)
{
    char inner[JB_ERRLEN];
    json_error_t je;
    *out = NULL;
    json_t *r = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!r)
        return jb_err(err, errlen, JB_EINVAL, "%s: line %d column %d: %s", path, je.line, je.column,
                      je.text);
    int rc = jb_record_check(NULL, r, inner, sizeof(inner));
    if (rc) {
        json_decref(r);
        return jb_err(err, errlen, rc, "%s: %s", path, inner);
    }
    *out = r;
    return JB_OK;
}
