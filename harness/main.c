/* main.c: the joulebench executable; everything is in harness/cli.c. */
#include "harness/cli.h"

int main(int argc, char **argv)
{
    return jb_cli_main(argc, argv);
}
