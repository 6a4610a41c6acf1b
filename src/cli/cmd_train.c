/*
 * matscreen train: trains a model on labelled compositions or structures and writes a model file.
 *
 * MPI is started by main.c (comm.h). Rank 0 reads and featurises the labelled data and every
 * rank gets it (bcast.h); the fit is collective (forest trees are spread over the ranks, seeds from the tree
 * index) and rank 0 writes the file, which is identical for any number of ranks except for the
 * creation time. Data options are the same as `matscreen evaluate` (see its --help).
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "model_args.h"
#include "matscreen/calibration.h"
#include "matscreen/comm.h"
#include "matscreen/dataset.h"
#include "matscreen/model.h"
#include "matscreen/record_filter.h"
#include "matscreen/train.h"

static void train_usage(FILE *out)
{
    fprintf(out,
            "usage: matscreen train DATA -o MODEL [--kind forest|logistic|naive_bayes|gp|gbm] [options]\n"
            "       mpirun -np N matscreen train ...\n\n"
            MS_MODEL_DATA_HELP
            "with -t TARGET (column), --set NAME (descriptor set, default magpie), --log10 (learn\n"
            "log10 of the target), --threshold X (train a classifier of target >= X).\n\n"
            "  -o, --output MODEL      model file to write (required)\n"
            "  -k, --kind KIND         forest (default), logistic, naive_bayes, gp, gbm\n"
            "  -p, --param KEY=VALUE   learner parameter (repeatable): forest n_trees=100,\n"
            "                          max_features=0 (sqrt(p) classification, p regression),\n"
            "                          max_features_frac, min_samples_leaf=1, max_depth=0,\n"
            "                          bootstrap=1, max_bins=255, recalibrate=1,\n"
            "                          noise_floor=1 (0 off, 2 by likelihood); logistic C=1;\n"
            "                          naive_bayes var_smoothing=1e-9; gbm (XGBoost, K bagged\n"
            "                          boosters) n_estimators=1000 (classification 600),\n"
            "                          learning_rate=0.05, max_depth=10 (classification 8),\n"
            "                          min_child_weight=1, subsample=0.8, colsample_bytree=0.3\n"
            "                          (classification 0.5), colsample_bynode=1, reg_lambda=1,\n"
            "                          reg_alpha=0, gamma=0, max_bin=256, ensemble=5,\n"
            "                          bag_fraction=0.8, nthread=1, recalibrate=1, loss=2\n"
            "                          (0 squared, 1 absolute, 2 pseudo-Huber error),\n"
            "                          huber_slope=0.062 (times the target's sd)\n"
            "      --cv K              also cross-validate (K folds) and store the scores:\n"
            "                          random folds (cvK_*) and grouped folds (gcvK_*)\n"
            "      --group G           grouping of --cv and --calibrate: chemsys (default),\n"
            "                          formula, column:NAME, kmeans:K, none (random folds only)\n"
            "      --calibrate MODE    regression sigma: grouped (default: recalibrated on the\n"
            "                          residuals of a grouped K-fold CV, K = --cv or 5; costs K\n"
            "                          more fits; gp: the noise floor grows with the row's\n"
            "                          domain score) or oob (the learner's own: forest out-of-bag)\n"
            "      --calibration-fit C area (miscalibration area), likelihood or coverage (1- and\n"
            "                          2-sigma coverage); default coverage, likelihood for gp\n"
            "                          (measured best: docs/models.md)\n"
            "      --conformal ALPHA   also store a split-conformal factor: mean +- q sigma covers\n"
            "                          1 - ALPHA of new rows (grouped calibration folds)\n"
            "      --select SPEC       feature selection on the training rows (filters, then the\n"
            "                          wrapper on grouped folds of --group): variance:T, corr:T,\n"
            "                          f:K, mi:K, rfe[:FOLDS[:STEP]], comma-separated, e.g.\n"
            "                          f:60,rfe (docs/models.md); model info shows the path\n"
            "      --goal max|min      which end of the target is good: stored with the best\n"
            "                          training label (y_best), the screen's EI / PI default\n"
            "      --requires LIST|none  elements every candidate must hold (the screen applies\n"
            "                          it); default: those in >= 95%% of the training rows\n"
            "  -s, --seed S            seed (default 0), stored in the model\n"
            "      --max-rows N        use only the first N rows\n"
            "  -h, --help              this text\n\n" MS_CLI_EXIT_HELP
            "Here a failed record is a labelled row whose structure or formula could not be read;\n"
            "rows without a target or without a structure file are dropped and counted by reason.\n");
}

/* The closing lines: the model, its rows and drops by reason, the CV metrics when --cv ran. */
static void print_summary(const ms_model_args *a, const ms_dataset *d, const ms_model *m, double secs)
{
    char drops[512] = "";
    ms_dataset_drop_summary(d, drops, sizeof drops);
    fprintf(stderr, "matscreen train: %s %s on %zu rows, %zu features (%s v%d), %.2f s; wrote %s\n",
            m->type->name, d->classification ? "classifier" : "regressor", d->n, d->n_features,
            d->set_name, d->set_version, secs, a->output);
    if (d->n_dropped)
        fprintf(stderr, "matscreen train: %zu rows dropped: %s; first: %s\n", d->n_dropped, drops,
                d->first_dropped);
    if (a->cv) {
        char prefix[32], line[1024];
        size_t k = 0;
        snprintf(prefix, sizeof prefix, "cv%zu_", a->cv);
        for (size_t i = 0; i < m->n_metrics && k < sizeof line; i++)
            if (!strncmp(m->metric_name[i], prefix, strlen(prefix)))
                k += (size_t)snprintf(line + k, sizeof line - k, " %s %.4g",
                                      m->metric_name[i] + strlen(prefix), m->metric_value[i]);
        fprintf(stderr, "matscreen train: %zu-fold CV (%s):%s\n", a->cv,
                d->classification ? "out-of-fold, classifier" : "out-of-fold, in the units trained on", k ? line : " none stored");
    }
}

/* 1 when d has the MS_CALIBRATION_MIN_ROWS rows a recalibration is fitted on (calibration.h;
 * every row gets one out-of-fold prediction); else warns (rank 0) and returns 0: the model then
 * keeps its learner's own sigma. */
static int enough_rows(const ms_model_args *a, const ms_dataset *d, int rank)
{
    if (d->n >= MS_CALIBRATION_MIN_ROWS) return 1;
    if (rank == 0)
        fprintf(stderr, "matscreen train: warning: %zu rows are too few to recalibrate sigma on "
                        "grouped CV (at least %d): the model keeps the learner's own sigma%s; "
                        "train on more rows, or give --calibrate oob to choose that\n",
                d->n, MS_CALIBRATION_MIN_ROWS,
                a->conformal > 0 ? " and stores no conformal interval" : "");
    return 0;
}

/* 1 when d has at least k groups of a->group; else says so (rank 0) and returns 0: the model
 * then keeps its learner's own sigma. */
static int enough_groups(const ms_model_args *a, const ms_dataset *d, size_t k, int rank)
{
    int *g = malloc((d->n + 1) * sizeof *g);
    size_t ng = 0;
    ms_status st = g ? ms_cv_groups(d, &a->group, a->seed, g, &ng) : MS_ERR_NOMEM;
    free(g);
    if (st == MS_SUCCESS && ng >= k) return 1;
    char name[300];
    if (rank == 0)
        fprintf(stderr, "matscreen train: %zu groups (%s) are too few for %zu grouped folds: no "
                        "grouped CV, sigma keeps the learner's own calibration\n",
                ng, ms_group_spec_format(&a->group, name, sizeof name), k);
    return 0;
}

static int train(const ms_model_args *a, const ms_dataset *d, int rank)
{
    ms_model_spec spec;
    int *groups = ms_model_args_spec(a, d, &spec);
    spec.goal = (ms_model_goal)a->goal;
    unsigned char req[MS_MAX_Z + 1] = {0};
    if (a->requires && strcmp(a->requires, "none") != 0 &&
        ms_record_filter_parse_elements(a->requires, req) != MS_SUCCESS) {
        if (rank == 0) fprintf(stderr, "matscreen train: --requires '%s': %s\n", a->requires,
                               ms_error_message());
        free(groups);
        return 2;
    }
    if (a->requires) spec.requires = req;
    ms_model *m = NULL;
    double t0 = MPI_Wtime();
    ms_status st = ms_train_fit(&spec, d, a->log10, a->threshold, MS_TRAIN_OOB_ALL,
                                MPI_COMM_WORLD, &m);
    double secs = MPI_Wtime() - t0;
    if (st == MS_SUCCESS && a->cv)
        st = ms_train_cross_validate(&spec, d, NULL, a->cv, a->seed, NULL, MPI_COMM_WORLD, m, NULL,
                                     NULL, NULL, NULL);
    size_t k = a->cv ? a->cv : 5;
    int grouped = a->group.kind != MS_GROUP_NONE && enough_groups(a, d, k, rank);
    int calibrate = grouped && a->calibrate && !d->classification && enough_rows(a, d, rank);
    if (st == MS_SUCCESS && calibrate)
        st = ms_train_calibrate(&spec, d, &a->group, k, a->seed, a->conformal,
                                a->cal_criterion >= 0 ? a->cal_criterion
                                                      : ms_train_calibration_criterion(a->kind),
                                MPI_COMM_WORLD, m);
    else if (st == MS_SUCCESS && a->cv && grouped)
        st = ms_train_cross_validate(&spec, d, &a->group, a->cv, a->seed, NULL, MPI_COMM_WORLD, m,
                                     NULL, NULL, NULL, NULL);
    if (st == MS_SUCCESS && rank == 0) st = ms_model_save(m, a->output);
    int ok = st == MS_SUCCESS, all_ok = ms_comm_all_ok(MPI_COMM_WORLD, ok);
    if (!ok) fprintf(stderr, "matscreen train (rank %d): %s\n", rank, ms_error_message());
    if (all_ok && rank == 0) print_summary(a, d, m, secs);
    ms_model_free(m);
    free(groups);
    /* rows without a label or a structure file are the data's choice, not failures */
    return !all_ok ? 2 : d->n_dropped_by[MS_DATASET_DROP_UNREADABLE] ? 1 : 0;
}

int ms_cmd_train(int argc, char **argv)
{
    return ms_model_command(argc, argv, "train", train_usage, train);
}
