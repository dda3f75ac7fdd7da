/* commands_impl.h: entry points of the results subcommands, each in its own
 * app/cmd_*.c file, gathered in the table of commands.c. Each takes the
 * subcommand's argv (argv[0] is its name) and returns the exit status:
 * 0 success, 1 a failure or (compare, check) a finding, 2 a usage error. */
#ifndef JB_COMMANDS_IMPL_H
#define JB_COMMANDS_IMPL_H

int jb_cmd_import(int argc, char **argv);
int jb_cmd_export(int argc, char **argv);
int jb_cmd_compare(int argc, char **argv);
int jb_cmd_history(int argc, char **argv);
int jb_cmd_report(int argc, char **argv);
int jb_cmd_plot(int argc, char **argv);
int jb_cmd_submit(int argc, char **argv);
int jb_cmd_check(int argc, char **argv);

#endif
