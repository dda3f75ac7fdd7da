/* test_results_schema_suite.c: results/schema_validate.c against the
 * official JSON Schema Test Suite (Debian's json-schema-test-suite
 * package), for exactly the subset the validator claims: type (and type
 * lists), required, properties, items, enum, const, minimum, minLength,
 * maxLength, and boolean schemas.
 *
 * Which cases: every test group of the suite's draft7 folder (and its
 * optional/ folder) whose schema uses those keywords and nothing else
 * (annotations such as title, description and default aside, which do not
 * validate). The validator implements draft 2020-12, which the packaged
 * suite (2.0.0) does not have yet; draft7 is the newest it has, and for
 * these keywords draft7 and 2020-12 agree, except `items` given as an
 * array (draft7's tuple form, 2020-12's prefixItems), which the validator
 * does not claim and whose groups are left out. A file jansson cannot
 * parse is an error, except in optional/ (bignum.json: integers beyond 64
 * bits, which the record loader refuses before validation).
 *
 * The test fails on any case where the validator's verdict differs from
 * the suite's, and also when a claimed keyword was exercised by no case
 * (so that a suite that moved or shrank cannot pass by running nothing).
 * It is skipped, saying so, when the package is not installed;
 * $JB_JSON_SCHEMA_SUITE names another copy (the folder holding tests/). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/error.h"
#include "results/schema_validate.h"

#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DEFAULT_SUITE "/usr/share/json-schema-test-suite"
#define DRAFT "draft7"

/* The claimed keywords, in the order of the coverage mask's bits. */
static const char *const claimed[] = {"type",  "required", "properties", "items",    "enum",
                                      "const", "minimum",  "minLength",  "maxLength"};
#define NCLAIMED (sizeof(claimed) / sizeof(claimed[0]))
#define BOOLEAN_SCHEMA_BIT (1u << NCLAIMED)

/* Keywords that annotate and never validate. */
static const char *const annotations[] = {"title", "description", "default", "$comment",
                                          "examples"};

static char suite_dir[4096];

struct tally {
    int files, groups_run, groups_left_out, cases, mismatches;
    unsigned covered; /* bit i: claimed[i] was in a run group's schema */
};

static int claimed_index(const char *k)
{
    for (size_t i = 0; i < NCLAIMED; i++)
        if (!strcmp(k, claimed[i]))
            return (int)i;
    return -1;
}

static int is_annotation(const char *k)
{
    for (size_t i = 0; i < sizeof(annotations) / sizeof(annotations[0]); i++)
        if (!strcmp(k, annotations[i]))
            return 1;
    return 0;
}

/* 1 when schema uses only the claimed keywords (in the forms claimed),
 * recursing where a keyword holds schemas; ORs the keywords met into
 * *mask. */
static int within_subset(const json_t *schema, unsigned *mask)
{
    if (json_is_boolean(schema)) {
        *mask |= BOOLEAN_SCHEMA_BIT;
        return 1;
    }
    if (!json_is_object(schema))
        return 0;
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)schema, k, v)
    {
        if (is_annotation(k))
            continue;
        int i = claimed_index(k);
        if (i < 0)
            return 0;
        *mask |= 1u << i;
        if (!strcmp(k, "properties")) {
            if (!json_is_object(v))
                return 0;
            const char *pk;
            const json_t *ps;
            json_object_foreach((json_t *)v, pk, ps) if (!within_subset(ps, mask)) return 0;
        } else if (!strcmp(k, "items")) {
            if (json_is_array(v) || !within_subset(v, mask))
                return 0;
        }
    }
    return 1;
}

static void run_group(const char *file, const json_t *group, struct tally *t)
{
    const char *gdesc = json_string_value(json_object_get(group, "description"));
    const json_t *schema = json_object_get(group, "schema"),
                 *tests = json_object_get(group, "tests");
    unsigned mask = 0;
    if (!schema || !json_is_array(tests))
        fail_msg("%s: group \"%s\" has no schema or no tests", file, gdesc ? gdesc : "?");
    if (!within_subset(schema, &mask)) {
        t->groups_left_out++;
        return;
    }
    t->groups_run++;
    t->covered |= mask;
    size_t i;
    const json_t *c;
    json_array_foreach(tests, i, c)
    {
        const char *cdesc = json_string_value(json_object_get(c, "description"));
        const json_t *data = json_object_get(c, "data"), *valid = json_object_get(c, "valid");
        if (!data || !json_is_boolean(valid))
            fail_msg("%s: %s: case %zu has no data or no verdict", file, gdesc, i);
        char err[JB_ERRLEN] = "";
        int rc = jb_schema_validate(schema, data, err, sizeof(err));
        int want = json_is_true(valid), got = rc == JB_OK;
        t->cases++;
        if (want != got) {
            t->mismatches++;
            char *s = json_dumps(schema, JSON_COMPACT | JSON_ENCODE_ANY);
            char *d = json_dumps(data, JSON_COMPACT | JSON_ENCODE_ANY);
            fprintf(stderr,
                    "MISMATCH %s: %s / %s: schema %s, data %s: the suite says %s, the "
                    "validator %s%s%s\n",
                    file, gdesc, cdesc ? cdesc : "?", s ? s : "?", d ? d : "?",
                    want ? "valid" : "invalid", got ? "valid" : "invalid", got ? "" : ": ",
                    got ? "" : err);
            free(s);
            free(d);
        }
    }
}

static int json_file(const struct dirent *e)
{
    size_t n = strlen(e->d_name);
    return n > 5 && !strcmp(e->d_name + n - 5, ".json");
}

/* Runs every *.json file of dir (in name order); optional: whether a file
 * jansson cannot parse is left out rather than an error. */
static void run_folder(const char *dir, const char *shown, int optional, struct tally *t)
{
    struct dirent **names = NULL;
    int n = scandir(dir, &names, json_file, alphasort);
    if (n < 0)
        fail_msg("%s: cannot list", dir);
    for (int i = 0; i < n; i++) {
        char path[4400], label[4400];
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
        snprintf(label, sizeof(label), "%s%s", shown, names[i]->d_name);
        free(names[i]);
        json_error_t je;
        json_t *doc = json_load_file(path, 0, &je);
        if (!doc) {
            if (!optional)
                fail_msg("%s: %s", label, je.text);
            printf("%s: left out: jansson cannot parse it (%s)\n", label, je.text);
            continue;
        }
        if (!json_is_array(doc))
            fail_msg("%s: not an array of test groups", label);
        t->files++;
        size_t g;
        const json_t *group;
        json_array_foreach(doc, g, group) run_group(label, group, t);
        json_decref(doc);
    }
    free(names);
}

static void suite_cases(void **st)
{
    (void)st;
    struct tally t;
    memset(&t, 0, sizeof(t));
    char dir[4200];
    snprintf(dir, sizeof(dir), "%s/tests/%s", suite_dir, DRAFT);
    run_folder(dir, DRAFT "/", 0, &t);
    snprintf(dir, sizeof(dir), "%s/tests/%s/optional", suite_dir, DRAFT);
    struct stat sb;
    if (stat(dir, &sb) == 0)
        run_folder(dir, DRAFT "/optional/", 1, &t);
    printf("%s/tests/%s: %d files, %d test groups run (%d left out: keywords outside the "
           "subset), %d cases, %d mismatches\n",
           suite_dir, DRAFT, t.files, t.groups_run, t.groups_left_out, t.cases, t.mismatches);
    for (size_t i = 0; i < NCLAIMED; i++)
        if (!(t.covered & (1u << i)))
            fail_msg("no case of the suite exercised \"%s\"", claimed[i]);
    if (!(t.covered & BOOLEAN_SCHEMA_BIT))
        fail_msg("no case of the suite exercised a boolean schema");
    assert_int_equal(t.mismatches, 0);
}

int main(void)
{
    const char *env = getenv("JB_JSON_SCHEMA_SUITE");
    snprintf(suite_dir, sizeof(suite_dir), "%s", env && *env ? env : DEFAULT_SUITE);
    char dir[4200];
    struct stat sb;
    snprintf(dir, sizeof(dir), "%s/tests/%s", suite_dir, DRAFT);
    if (stat(dir, &sb) || !S_ISDIR(sb.st_mode)) {
        fprintf(stderr,
                "skipped: the JSON Schema Test Suite is not installed (no folder %s); "
                "apt-get install json-schema-test-suite, or set JB_JSON_SCHEMA_SUITE to a copy\n",
                dir);
        return 77; /* ctest: SKIP_RETURN_CODE (tests/results.cmake) */
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(suite_cases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
