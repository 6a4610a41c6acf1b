/*
 * matscreen select: feature selection on labelled data (select.h) with train's data options,
 * learner and seeds: prints each stage, the wrapper's score path and the chosen columns; with
 * -o MODEL also writes the model trained on them (what `train --select SPEC` writes).
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
            "DATA and the learner options are train's (matscreen train --help). SPEC: stages\n"
            "separated by commas, applied in order:\n"
            "  variance:T   drop columns of variance <= T\n"
            "  corr:T       drop the later of two columns with |r| > T\n"
            "  f:K          keep the K columns of largest F-score (f_regression / f_classif)\n"
            "  mi:K         keep the K columns of largest mutual information (10 quantile bins)\n"
            "  rfe[:FOLDS[:STEP]]  recursive elimination by permutation importance, scored by\n"
            "               FOLDS-fold CV (default 5) on whole groups of --group (default chemsys),\n"
            "               dropping STEP (default 0.2) of the columns per step; the chosen set is\n"
            "               the smallest within one standard error of the best score\n"
            "e.g. --select f:60,rfe. Prints the stages, the score path and the chosen columns.\n"
            "  -o, --output MODEL      also write the model trained on the chosen columns\n"
            "  -h, --help              this text\n\n" MS_CLI_EXIT_HELP);
}

static int run_select(const ms_model_args *a, const ms_dataset *d, int rank)
{
    ms_model_spec spec;
    ms_model_spec_default(&spec);
    spec.kind = a->kind;
    spec.task = d->classification ? MS_MODEL_CLASSIFICATION : MS_MODEL_REGRESSION;
    spec.options = a->opt;
    spec.seed = a->seed;
    spec.select = a->select;
    int *groups = ms_model_args_select_groups(a, d);
    spec.group = groups;
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
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    ms_model_args a;
    int code = ms_model_args_parse(argc, argv, "select", &a, rank);
    if (code == 0 && a.help) {
        if (rank == 0) select_usage(stdout);
    } else if (code == 0 && !a.select) {
        if (rank == 0) fprintf(stderr, "matscreen select: --select SPEC is required (see --help)\n");
        code = 2;
    } else if (code == 0) {
        ms_model *none = NULL;
        ms_dataset d;
        code = ms_model_args_load(&a, "select", rank, &none, &d);
        if (code == 0) code = run_select(&a, &d, rank);
        ms_dataset_free(&d);
        ms_model_free(none);
    }
    MPI_Bcast(&code, 1, MPI_INT, 0, MPI_COMM_WORLD);
    return code;
}
