/* cli.c: PLACEHOLDER dispatcher; the real CLI is being written. */
#include "harness/cli.h"
#include "workloads/workload.h"

#include <stdio.h>
#include <string.h>

static int cmd_list(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    for (int i = 0; jb_workloads[i]; i++)
        printf("%-20s %s\n", jb_workloads[i]->name, jb_workloads[i]->description);
    return 0;
}

static const struct jb_command commands[] = {
    {"list", "list workloads, suites, power sources and back-ends", cmd_list},
    {NULL, NULL, NULL},
};

int jb_cli_main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: joulebench COMMAND [options]\n");
        return 2;
    }
    for (int i = 0; commands[i].name; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].main(argc - 1, argv + 1);
    fprintf(stderr, "joulebench: unknown command '%s'\n", argv[1]);
    return 2;
}
