/* submission.h: the layout and the rules of a vendor submission, and the
 * checker `joulebench check` runs over one. A submission is a folder
 *   ORG/systems/NAME.json                       system description
 *   ORG/results/NAME/WORKLOAD/SCENARIO/RUN.*    records, logs, power traces
 *   ORG/results/NAME/benchmark/FILE.json        Google Benchmark output
 *   ORG/MANIFEST.sha256                         SHA-256 of every other file
 * The checker reads files only: it never executes anything from the
 * submission, follows no symbolic link and refuses paths that leave it. */
#ifndef JB_SUBMISSION_H
#define JB_SUBMISSION_H

#include <jansson.h>
#include <stddef.h>

/* Run rules. A record shorter or with fewer repetitions than this cannot
 * support a confidence interval worth publishing. */
#define JB_RULE_MIN_REPETITIONS 3
#define JB_RULE_MIN_DURATION_S 1.0
/* Slack of the energy = power x time check on top of the stated
 * uncertainty: figures are rounded when written. */
#define JB_RULE_POWER_TOLERANCE 0.01

#define JB_MANIFEST_NAME "MANIFEST.sha256"

/* Receives every problem found: the path it is about and one line. */
typedef void (*jb_problem_fn)(void *ctx, const char *path, const char *msg);

/* Whether s is a safe single path component: 1-64 of [A-Za-z0-9._-], not
 * starting with a dot. Names of organizations, systems and files. */
int jb_safe_component(const char *s);

/* Rules on one record (schema, completeness, repetitions, duration, output
 * check, energy source class, consistency of energy, power, time, counts
 * and units). want_workload/want_scenario: the folder names it sits in, or
 * NULL. Returns the number of problems reported. */
int jb_submission_check_record(const json_t *schema, const json_t *rec, const char *path,
                               const char *want_workload, const char *want_scenario,
                               jb_problem_fn fn, void *ctx);

/* Required fields of a system description; want_name: its file's name. */
int jb_submission_check_system(const json_t *sys, const char *path, const char *want_name,
                               jb_problem_fn fn, void *ctx);

/* Parses manifest text ("HEX64  relative/path" per line) into out (path ->
 * hex string), reporting malformed lines, unsafe paths and duplicates.
 * Returns the number of problems. */
int jb_manifest_parse(const char *buf, size_t len, json_t *out, const char *mpath, jb_problem_fn fn,
                      void *ctx);

/* Checks a whole submission folder. Returns the number of problems (>= 0)
 * and *nrecords the records checked. */
int jb_submission_check(const char *dir, jb_problem_fn fn, void *ctx, int *nrecords);

/* Writes ORG/MANIFEST.sha256 for every regular file under org_dir. */
int jb_manifest_write(const char *org_dir, char *err, size_t errlen);

#endif
