/*
 * Subcommands of the matscreen program; each is one file src/cli/cmd_<name>.c. Private to the CLI.
 *
 * Each command gets argv with argv[0] = its own name and returns the process exit code:
 * 0 success, 1 some input failed (reported), 2 usage error or nothing could be done.
 *
 * The command functions are declared weak so that a command under construction simply does not
 * appear in the program until its file exists; main.c lists only the linked ones.
 */
#ifndef MS_CLI_COMMANDS_H
#define MS_CLI_COMMANDS_H

#define MS_COMMAND(name) int ms_cmd_##name(int argc, char **argv) __attribute__((weak));
/* X(name, summary), in the order `matscreen --help` lists them (DESIGN.md section 6). */
#define MS_COMMAND_LIST(X)                                                                         \
    X(run, "run an XML workflow (screen, train, evaluate, campaign)")                              \
    X(screen, "screen structures in parallel (MPI) and rank the candidates")                       \
    X(train, "train a model on labelled structures or compositions")                               \
    X(evaluate, "cross-validate a model and report its metrics")                                   \
    X(featurize, "compute descriptors of structures into a CSV table")                             \
    X(bvse, "Li+ bond-valence site energy barriers (1-, 2-, 3-D) of structures")                   \
    X(quality, "validate, de-duplicate and find outliers in structure data")                       \
    X(suggest, "suggest the next batch of candidates for an active-learning loop")                 \
    X(campaign, "simulate sequential learning against random picking")                             \
    X(inspect, "print what the readers see in structure files, as JSON lines")                     \
    X(model, "describe a model file ('model info MODEL')")

#define MS_COMMAND_DECLARE(name, summary) MS_COMMAND(name)
MS_COMMAND_LIST(MS_COMMAND_DECLARE)
#undef MS_COMMAND_DECLARE

#endif
