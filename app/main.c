/* main.c: the joulebench executable; everything is in app/cli.c. */
#include "app/cli.h"

int main(int argc, char **argv)
{
    return jb_cli_main(argc, argv);
}
