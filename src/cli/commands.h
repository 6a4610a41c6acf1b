/* Subcommands of the matscreen program; each is one file in src/cli. Private to the CLI. */
#ifndef MS_CLI_COMMANDS_H
#define MS_CLI_COMMANDS_H

/* Each command gets argv with argv[0] = its own name and returns the process exit code:
 * 0 success, 1 some input failed (reported), 2 usage error or nothing could be done. */
int ms_cmd_inspect(int argc, char **argv);

#endif
