/*
 * Options shared by `matscreen train`, `select`, `evaluate` and `compare`: where the labelled
 * data comes from, the model kind and its parameters, cross-validation. Private to the CLI.
 */
#ifndef MS_CLI_MODEL_ARGS_H
#define MS_CLI_MODEL_ARGS_H

#include <stddef.h>
#include <stdint.h>

#include "matscreen/cv.h"
#include "matscreen/element.h"
#include "matscreen/model.h"

/* The --help lines on where the labelled data comes from (train, evaluate, compare); each
 * command follows them with its line on -t, --log10 and --threshold. */
#define MS_MODEL_DATA_HELP                                                                         \
    "DATA is one of\n"                                                                             \
    "  --matbench FILE.json             Matbench composition task (target: last column)\n"         \
    "  -l LABELS.csv --formula-column C CSV with formulas in column C (e.g. CrabNet)\n"            \
    "  -l LABELS.csv -i DIR [--id-column ID]  CSV whose ID column names DIR/ID.cif\n"

typedef struct ms_model_args {
    const char *output;      /* train: -o MODEL, the file to write */
    const char *model;       /* evaluate: -m MODEL, a trained model to score (else CV of --kind) */
    const char *predictions; /* --predictions FILE */
    const char *kind, *matbench, *labels, *input, *formula_col, *id_col, *target, *set;
    const char *folds, *task;
    const char *select;      /* train / evaluate --select SPEC (select.h; NULL: none) */
    const char *requires;    /* train --requires LIST|none (NULL: automatic) */
    int goal;                /* train --goal: ms_model_goal */
    int log10, help, repeats, importance;
    size_t cv, max_rows;
    double threshold, class_threshold;
    uint64_t seed;
    ms_model_options opt;
    ms_group_spec group;     /* --group (default chemsys): grouped CV beside the random folds */
    int calibrate;           /* train --calibrate: 1 grouped (default), 0 oob (learner's own) */
    int cal_criterion;       /* --calibration-fit: 1 area, 0 likelihood, 2 coverage; -1 the
                                learner's default (ms_train_calibration_criterion) */
    double conformal;        /* --conformal ALPHA (0: none) */
} ms_model_args;

/* With --select: the group ids of d's rows under --group for the selection's folds (a new array,
 * caller frees); NULL when there is no --select, --group is none, or on failure (random folds). */
int *ms_model_args_select_groups(const ms_model_args *a, const ms_dataset *d);

/* spec for d from the options: ms_model_spec_default, then kind, task (d's), -p options, seed,
 * --select and its groups (ms_model_args_select_groups: the return value, caller frees). */
int *ms_model_args_spec(const ms_model_args *a, const ms_dataset *d, ms_model_spec *spec);

/* Parses argv of the command ("train", "select", "evaluate" or "compare", each with its own
 * option table: an option the command does not use is refused) into a and checks the
 * combination. Returns 0 to go on (a->help set for --help), 2 on a usage error (explained on
 * stderr by rank 0). */
int ms_model_args_parse(int argc, char **argv, const char *command, ms_model_args *a, int rank);

/* The dataset the options name; a loaded model m (or NULL) supplies the descriptor set, target,
 * log10 and threshold it was trained with. */
void ms_model_args_data_spec(const ms_model_args *a, const ms_model *m, ms_dataset_spec *ds);

/* Gives every rank the model of -m (evaluate; *m stays NULL without it) and the dataset the
 * options name (with that model's settings), both read by rank 0 and broadcast (bcast.h). On
 * failure rank 0 prints "matscreen COMMAND: message" on stderr. Returns 0 on success, else 2, the
 * same on every rank. Whatever the result, the caller frees *m (ms_model_free) and d
 * (ms_dataset_free). Collective on MPI_COMM_WORLD. */
int ms_model_args_load(const ms_model_args *a, const char *command, int rank, ms_model **m,
                       ms_dataset *d);

/* The whole of a command that trains on labelled data (train, select): parses argv, prints
 * usage for --help, loads the dataset on every rank, calls run(args, dataset, rank), frees, and
 * gives every rank rank 0's exit code. Collective on MPI_COMM_WORLD. */
int ms_model_command(int argc, char **argv, const char *command, void (*usage)(FILE *),
                     int (*run)(const ms_model_args *, const ms_dataset *, int));

#endif
