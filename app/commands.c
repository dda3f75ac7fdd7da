/* commands.c: the table of the results pipeline's subcommands. Each entry's
 * function lives in its own app/cmd_*.c file. */
#include "app/commands.h"

#include "app/commands_impl.h"

#include <stddef.h>

const struct jb_command jb_results_commands[] = {
    {"import", "load records and Google Benchmark JSON into the results database", jb_cmd_import},
    {"export", "write the database as JSON, CSV, JSON Lines, SQL or Markdown", jb_cmd_export},
    {"compare", "compare two sets of runs: ratios, 95% CIs, Mann-Whitney; exit 1 on regression",
     jb_cmd_compare},
    {"history", "a metric over time per configuration key, with change points", jb_cmd_history},
    {"report", "write the static HTML dashboard from the database", jb_cmd_report},
    {"plot", "write a paper's figures (SVG, PDF, PNG) from the database for a query", jb_cmd_plot},
    {"submit", "lay out records as a vendor submission with a SHA-256 manifest", jb_cmd_submit},
    {"check", "validate a submission: schema, system, run rules, consistency, hashes",
     jb_cmd_check},
    {NULL, NULL, NULL},
};
