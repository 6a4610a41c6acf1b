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
/* X(name, mpi, summary), in the order `matscreen --help` lists them (DESIGN.md section 6). mpi 1:
 * main.c initialises MPI before the command and finalises it after (comm.h); the command itself
 * never calls MPI_Init. mpi 0: a plain program (featurize refuses to run under mpirun). */
#define MS_COMMAND_LIST(X)                                                                         \
    X(run, 1, "run an XML workflow (screen, train, evaluate, campaign)")                           \
    X(screen, 1, "screen structures in parallel (MPI) and rank the candidates")                    \
    X(train, 1, "train a model on labelled structures or compositions")                            \
    X(evaluate, 1, "cross-validate a model and report its metrics")                                \
    X(featurize, 0, "compute descriptors of structures into a CSV table")                          \
    X(bvse, 0, "Li+ bond-valence site energy barriers (1-, 2-, 3-D) of structures")                \
    X(quality, 0, "validate, de-duplicate and find outliers in structure data")                    \
    X(suggest, 1, "suggest the next batch of candidates for an active-learning loop")              \
    X(campaign, 1, "simulate sequential learning against random picking")                          \
    X(inspect, 0, "print what the readers see in structure files, as JSON lines")                  \
    X(model, 0, "describe a model file ('model info MODEL')")

#define MS_COMMAND_DECLARE(name, mpi, summary) MS_COMMAND(name)
MS_COMMAND_LIST(MS_COMMAND_DECLARE)
#undef MS_COMMAND_DECLARE

#endif
