/* cli.h: the joulebench command line: one table of subcommands. */
#ifndef JB_CLI_H
#define JB_CLI_H

/* A subcommand: argv[0] is the subcommand's name. Returns the exit status. */
struct jb_command {
    const char *name;
    const char *summary;
    int (*main)(int argc, char **argv);
};

int jb_cli_main(int argc, char **argv);

#endif
