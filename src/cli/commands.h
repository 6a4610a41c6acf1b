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
 * never calls MPI_Init. mpi 0: a plain program. */
#define MS_COMMAND_LIST(X)                                                                         \
    X(run, 1, "run an XML workflow (screen, train, evaluate, campaign)")                           \
    X(screen, 1, "screen structures in parallel (MPI) and rank the candidates")                    \
    X(train, 1, "train a model on labelled structures or compositions")                            \
    X(evaluate, 1, "cross-validate a model and report its metrics")                                \
    X(select, 1, "select features: filters and a cross-validated wrapper")                         \
    X(compare, 1, "compare learners x descriptor sets x selections on the same folds")             \
    X(featurize, 1, "compute descriptors of structures into a CSV table")                          \
    X(bvse, 0, "Li+ bond-valence site energy barriers (1-, 2-, 3-D) of structures")                \
    X(quality, 0, "validate, de-duplicate and find outliers in structure data")                    \
    X(suggest, 1, "suggest the next batch of candidates for an active-learning loop")              \
    X(campaign, 1, "simulate sequential learning against random picking")                          \
    X(inspect, 0, "print what the readers see in structure files, as JSON lines")                  \
    X(model, 0, "describe a model file ('model info MODEL')")

/* The exit-status rule, for --help and the man page. */
#define MS_CLI_EXIT_HELP                                                                           \
    "Exit status: 0 every record was processed; 1 some records failed (each is reported,\n"       \
    "the rest is done); 2 usage error, a missing input path, or nothing could be read.\n"

/* Exit code of a command that processed records records of which failed failed: 0 none failed,
 * 1 some, 2 all of them or there were none (nothing could be read). */
int ms_cli_status(unsigned long long records, unsigned long long failed);
/* 1 (after a message on stderr naming it) when input spec - a path, or @LIST - does not exist;
 * 0 when it exists or is a glob pattern. Exit 2 follows: a typo must not look like success. */
int ms_cli_input_missing(const char *command, const char *spec);
/* The closing line of a command on stderr: "matscreen COMMAND: N records, M failed, S s, R
 * records/s; TAIL". R = records / seconds: give the seconds the report's throughput uses. */
void ms_cli_summary(const char *command, unsigned long long records, unsigned long long failed,
                    double seconds, const char *tail);

/* Monotonic seconds, for the summary line. */
double ms_cli_now(void);

#define MS_COMMAND_DECLARE(name, mpi, summary) MS_COMMAND(name)
MS_COMMAND_LIST(MS_COMMAND_DECLARE)
#undef MS_COMMAND_DECLARE

#endif
