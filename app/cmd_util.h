/* cmd_util.h: what the results subcommands share: a small option parser
 * that keeps no global state (the subcommands are also called in-process by
 * the tests, so getopt's globals would leak between calls), loading records
 * from files or folders, and the normalization options every command that
 * stores or shows carbon takes. */
#ifndef JB_CMD_UTIL_H
#define JB_CMD_UTIL_H

#include "base/html.h"
#include "results/normalize.h"
#include "results/store.h"

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

/* One option: "--name VALUE" / "--name=VALUE" when val is set, "--name"
 * when flag is set. */
struct jb_opt {
    const char *name;
    const char **val;
    int *flag;
};

/* Parses argv[1..argc) into opts; the rest are positional, stored in pos
 * (up to maxpos). Returns 0, or JB_EINVAL with a message. */
int jb_opts_parse(int argc, char **argv, const struct jb_opt *opts, const char **pos, int maxpos,
                  int *npos, char *err, size_t errlen);

/* When argv holds --help or -h: prints usage on stdout and returns 1 (the
 * command then exits 0); else 0. */
int jb_opts_help(int argc, char **argv, const char *usage);

/* Strict number parsing for options: JB_EINVAL names the option. */
int jb_opt_double(const char *name, const char *s, double *out, char *err, size_t errlen);

/* A decimal integer from lo to hi, all of s (no sign where lo >= 0, no
 * "12abc", no hex): JB_EINVAL naming the option and the value otherwise. */
int jb_opt_long(const char *name, const char *s, long long lo, long long hi, long long *out,
                char *err, size_t errlen);

/* Loads the records of one file or every *.json file under a folder
 * (recursively, not following symlinks) into `out` (array of records,
 * paths in `paths` as strings when non-NULL). Google Benchmark files met
 * on the way are appended to `gbench` (objects {path, json}) when non-NULL,
 * otherwise reported as errors. Files that fail are reported on stderr and
 * counted in *bad; loading goes on. */
int jb_records_collect(const char *path, json_t *out, json_t *paths, json_t *gbench, int *bad);

/* The files jb_records_collect would load from path, appended to paths
 * (strings) without being read, so that a caller can load them one at a
 * time; a path that cannot be listed is reported and counted in *bad. */
void jb_records_list(const char *path, json_t *paths, int *bad);

/* Loads one file as jb_records_collect does: returns 0 with *doc a record
 * that passed the schema, 1 with *doc a Google Benchmark document, or -1
 * when the file was skipped (reported on stderr, counted in *bad). The
 * caller owns *doc. schema: jb_record_schema_load's. */
int jb_record_file_load(const char *path, const json_t *schema, json_t **doc, int *bad);

/* Normalization options from --region, --grid-intensity, --pue, --wue,
 * --platform. *platform_out is owned by the caller (may be NULL). */
int jb_norm_opts_from(struct jb_norm_opts *o, const char *region, const char *grid, const char *pue,
                      const char *wue, const char *platform, json_t **platform_out, char *err,
                      size_t errlen);

/* The power trace written beside a record file (NAME.power.csv, or
 * NAME-power.csv, NAME.trace.csv), checked to start with the header
 * "time_s,domain,watts"; malloc'd text (caller frees) or NULL. */
char *jb_read_trace_beside(const char *record_path);


/* Creates a folder and its missing parents (mode 0755), like `mkdir -p`;
 * existing ones are fine. Returns 0, or -1 with errno set, which the
 * caller reports. Paths are cut at 2047 bytes. */
int jb_mkdirs(const char *dir);

/* Parses a query "key=value,key=value" (workload, commit, topology, since,
 * backend, dtype, threads, context, options, key, run) into a store filter;
 * values point into buf, which is modified. JB_EINVAL names a bad term. */
int jb_query_parse(char *buf, struct jb_store_filter *f, char *err, size_t errlen);


#endif
