/*
 * matscreen select: feature selection on labelled data (select.h) with train's data options,
 * learner and seeds: prints each stage, the wrapper's score path and the chosen columns; with
 * -o MODEL also writes the model fitted on them, once (`train --select SPEC` chooses the same
 * columns and also recalibrates sigma on grouped folds and stores --cv scores).
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "model_args.h"
#include "matscreen/comm.h"
#include "matscreen/dataset.h"
#include "matscreen/model.h"
#include "matscreen/select.h"
#include "matscreen/train.h"

static void select_usage(FILE *out)
{
    fprintf(out,
            "usage: matscreen select DATA --select SPEC [--kind KIND] [-p KEY=VALUE] [-o MODEL]\n"
            "       mpirun -np N matscreen select ...\n\n"
            MS_MODEL_DATA_HELP
            "with -t TARGET (column), --set NAME (descriptor set, default magpie), --log10 (learn\n"
            "log10 of the target), --threshold X (a classifier of target >= X), --max-rows N (use\n"
            "only the first N rows).\n\n"
            "SPEC: stages separated by commas, applied in order:\n"
            "  variance:T   drop columns of variance <= T\n"
            "  corr:T       drop the later of two columns with |r| > T\n"
            "  f:K          keep the K columns of largest F-score (f_regression / f_classif)\n"
            "  mi:K         keep the K columns of largest mutual information (10 quantile bins)\n"
            "  rfe[:FOLDS[:STEP]]  recursive elimination by permutation importance, scored by\n"
            "               FOLDS-fold CV (default 5) on whole groups of --group (default chemsys),\n"
            "               dropping STEP (default 0.2) of the columns per step; the chosen set is\n"
            "               the smallest within one standard error of the best score\n"
            "e.g. --select f:60,rfe. Prints the stages, the score path and the chosen columns.\n"
            "  -k, --kind KIND         forest (default), logistic, naive_bayes, gp, gbm\n"
            "  -p, --param KEY=VALUE   learner parameter (repeatable; train --help lists them)\n"
            "      --group G           groups of rfe's folds: chemsys (default), formula,\n"
            "                          column:NAME, kmeans:K, none (random folds)\n"
            "  -s, --seed S            seed of the folds and the learner (default 0)\n"
            "  -o, --output MODEL      also write the model fitted on the chosen columns (one fit:\n"
            "                          no cross-validation, the learner's own sigma)\n"
            "  -h, --help              this text\n\n" MS_CLI_EXIT_HELP);
}

static int run_select(const ms_model_args *a, const ms_dataset *d, int rank)
{
    ms_model_spec spec;
    int *groups = ms_model_args_spec(a, d, &spec);
    ms_model *m = NULL;
    ms_status st = ms_train_fit(&spec, d, a->log10, a->threshold, 0, MPI_COMM_WORLD, &m);
    if (st == MS_SUCCESS && rank == 0 && a->output) st = ms_model_save(m, a->output);
    int ok = st == MS_SUCCESS, all_ok = ms_comm_all_ok(MPI_COMM_WORLD, ok);
    if (!ok) fprintf(stderr, "matscreen select (rank %d): %s\n", rank, ms_error_message());
    if (all_ok && rank == 0) {
        printf("%s %s on %zu rows, %zu features (%s v%d)\n", m->type->name,
               d->classification ? "classifier" : "regressor", d->n, d->n_features, d->set_name,
               d->set_version);
        ms_selection_describe(m->selection, stdout);
        printf("chosen columns (%zu):", m->n_kept);
        for (size_t j = 0; j < m->n_raw; j++)
            if (m->keep[j]) printf(" %s", m->feature_names[j]);
        printf("\n");
        if (a->output) fprintf(stderr, "matscreen select: wrote %s\n", a->output);
    }
    ms_model_free(m);
    free(groups);
    return !all_ok ? 2 : d->n_dropped_by[MS_DATASET_DROP_UNREADABLE] ? 1 : 0;
}

int ms_cmd_select(int argc, char **argv)
{
    return ms_model_command(argc, argv, "select", select_usage, run_select);
}
