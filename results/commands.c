/* commands.c: the table of the results pipeline's subcommands. Each entry's
 * function lives in its own results/ file. */
#include "results/commands.h"

#include <stddef.h>

const struct jb_command jb_results_commands[] = {
    {NULL, NULL, NULL},
};
