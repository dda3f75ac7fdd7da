/* cli_util.h: what the CLI's files (cli.c, cli_run.c, cli_sweep.c) share:
 * output formats, human-readable energy and time, and the subcommands that
 * live in their own files. Private to the CLI. */
#ifndef JB_CLI_UTIL_H
#define JB_CLI_UTIL_H

#include <stddef.h>

enum jb_format { FMT_TABLE, FMT_JSON, FMT_CSV, FMT_MD };

/* "table", "json", "csv", "md"; JB_EINVAL otherwise. */
int jb_cli_parse_format(const char *s, enum jb_format *f);

/* Energy in J, mJ, uJ or nJ, and time in s, ms or us, four digits; return buf. */
const char *jb_cli_fmt_energy(double j, char *buf, size_t n);
const char *jb_cli_fmt_time(double s, char *buf, size_t n);

int jb_cli_run(int argc, char **argv);   /* cli_run.c */
int jb_cli_sweep(int argc, char **argv); /* cli_sweep.c */
int jb_cli_exec(int argc, char **argv);  /* cli_exec.c */
int jb_cli_export_model(int argc, char **argv); /* cli_export.c */

#endif
