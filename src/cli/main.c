/*
 * matscreen: entry point and subcommand dispatch.
 *
 * Each subcommand lives in its own file (cmd_<name>.c) and parses its own options; this file
 * maps names to functions (the list is in commands.h), prints the overview, and is the one place
 * where MPI starts and ends (comm.h), for the commands that use it.
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "matscreen/comm.h"

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    int mpi;
    const char *summary;
} command;

#define MS_COMMAND_ENTRY(name, mpi, summary) {#name, ms_cmd_##name, mpi, summary},
static const command commands[] = {MS_COMMAND_LIST(MS_COMMAND_ENTRY)};

static void usage(FILE *out)
{
    fprintf(out, "usage: matscreen COMMAND [OPTIONS] ...\n\n"
                 "High-throughput screening of inorganic crystal structures.\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (commands[i].run) fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n'matscreen COMMAND --help' describes a command. Version %s.\n", MS_VERSION);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("matscreen %s\n", MS_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (!commands[i].run || strcmp(argv[1], commands[i].name) != 0) continue;
        if (!commands[i].mpi) return commands[i].run(argc - 1, argv + 1);
        if (ms_comm_init(&argc, &argv) != 0) return 2;
        int rc = commands[i].run(argc - 1, argv + 1);
        ms_comm_finalize();
        return rc;
    }
    fprintf(stderr, "matscreen: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
