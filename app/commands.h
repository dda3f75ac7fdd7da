/* commands.h: the results pipeline's subcommands (import, export, compare,
 * history, report, submit, check), listed in one table that the CLI
 * (app/cli.c) appends to its own. */
#ifndef JB_RESULTS_COMMANDS_H
#define JB_RESULTS_COMMANDS_H

#include "app/cli.h"

/* NULL-terminated (name == NULL) table of subcommands. */
extern const struct jb_command jb_results_commands[];

#endif
