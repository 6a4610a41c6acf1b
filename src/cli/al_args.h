/*
 * Options shared by `matscreen campaign` and `matscreen suggest` (active learning): where the
 * labelled data comes from, the acquisition function and its parameters, the batch diversity
 * radius, the seed and the output. Private to the CLI, as model_args.h is for train / evaluate.
 *
 * Each command keeps its own getopt_long loop: its option table starts with MS_AL_LONGOPTS, its
 * switch hands every code it does not know to ms_al_args_option, and options of the other command
 * stay usage errors. The codes of MS_AL_LONGOPTS are the short options -l -t -a -s -o -h and the
 * long-only codes 'M', 'F', 'L', 'z', 'x', 'k', 'r', 'E'; the commands' own options use others.
 */
#ifndef MS_CLI_AL_ARGS_H
#define MS_CLI_AL_ARGS_H

#include <getopt.h>
#include <stdint.h>

#include "matscreen/dataset.h"

typedef struct ms_al_args {
    const char *matbench;    /* --matbench FILE.json */
    const char *labels;      /* -l LABELS.csv */
    const char *formula_col; /* --formula-column C */
    const char *target;      /* -t TARGET */
    const char *set;         /* --set NAME (NULL: magpie) */
    const char *output;      /* -o: campaign's DIR, suggest's FILE */
    const char *acq;         /* --acq: campaign's list, suggest's name (default: the command's) */
    int log10, minimize, help;
    double xi, kappa, radius;
    uint64_t seed;
} ms_al_args;

#define MS_AL_LONGOPTS                                                                            \
    {"matbench", required_argument, 0, 'M'}, {"labels", required_argument, 0, 'l'},               \
        {"formula-column", required_argument, 0, 'F'}, {"target", required_argument, 0, 't'},     \
        {"log10", no_argument, 0, 'L'}, {"minimize", no_argument, 0, 'z'},                        \
        {"acq", required_argument, 0, 'a'}, {"xi", required_argument, 0, 'x'},                    \
        {"kappa", required_argument, 0, 'k'}, {"radius", required_argument, 0, 'r'},              \
        {"set", required_argument, 0, 'E'}, {"seed", required_argument, 0, 's'},                  \
        {"output", required_argument, 0, 'o'}, {"help", no_argument, 0, 'h'}

/* Empties a and sets the shared defaults: acq default_acq, kappa 2, radius 0.25, xi 0, seed 0. */
void ms_al_args_default(ms_al_args *a, const char *default_acq);

/* Takes option c of MS_AL_LONGOPTS with its argument arg (optarg) into a. Returns 1 when c is one
 * of those codes, 0 otherwise (the caller's usage error), -1 when its value is refused
 * (ms_parse_double / ms_parse_u64: the message, naming option, value and range, is set). */
int ms_al_args_option(ms_al_args *a, int c, const char *arg);

/* The composition dataset of a (Matbench task, or the labels CSV with formulas in formula_col),
 * learning column target (NULL: Matbench's last) with a's descriptor set (default magpie) and
 * log10 flag; every other field is the default (ms_dataset_spec_default). */
void ms_al_args_data_spec(const ms_al_args *a, const char *target, ms_dataset_spec *ds);

#endif
