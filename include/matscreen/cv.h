/*
 * Cross-validation: folds, out-of-fold predictions and their scores. The labelled datasets they
 * run on are in dataset.h (included here, as callers of the folds need ms_dataset).
 *
 * Folds: fold[i] in 0..k-1 is the test fold of row i. k-fold shuffles rows with the stream
 * (seed, 0) and deals them in turn; stratified k-fold deals each class in turn (as scikit-learn's
 * StratifiedKFold keeps class ratios); Matbench folds come from folds.csv (task,mbid,test_fold).
 */
#ifndef MATSCREEN_CV_H
#define MATSCREEN_CV_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

#include "matscreen/dataset.h"
#include "matscreen/error.h"
#include "matscreen/matrix.h"

/* Folds. */
void ms_folds_kfold(size_t n, size_t k, uint64_t seed, int *fold);
/* y: labels 0/1. */
void ms_folds_stratified(const double *y, size_t n, size_t k, uint64_t seed, int *fold);
/* Matbench folds.csv rows of task matched to ids; *k gets the number of folds. Rows whose id is
 * not in the file fail with MS_ERR_NOT_FOUND. */
ms_status ms_folds_read(const char *path, const char *task, char *const *ids, size_t n, int *fold,
                        size_t *k);

/* Grouped folds (leave-cluster-out CV, Meredig et al., Mol. Syst. Des. Eng. 2018): every row of
 * a group lands in the same test fold, so a model is scored on families it has never seen
 * (doped variants of one host share a chemical system; random k-fold puts siblings on both
 * sides of a split and overstates accuracy). */
typedef enum ms_group_kind {
    MS_GROUP_NONE = 0, /* random (or stratified) k-fold */
    MS_GROUP_CHEMSYS,  /* chemical system (element set), ms_dataset.chemsys; the default */
    MS_GROUP_FORMULA,  /* reduced formula, ms_dataset.formula */
    MS_GROUP_COLUMN,   /* a labels-CSV column, ms_dataset.group */
    MS_GROUP_KMEANS    /* k-means clusters of the standardised features */
} ms_group_kind;

typedef struct ms_group_spec {
    ms_group_kind kind;
    size_t clusters;  /* MS_GROUP_KMEANS: k */
    char column[256]; /* MS_GROUP_COLUMN: the column name */
} ms_group_spec;

/* Parses "none", "chemsys", "formula", "column:NAME" or "kmeans:K" (K 2..100000). Fails with
 * MS_ERR_USAGE naming the text and the valid forms. Not collective. */
ms_status ms_group_spec_parse(const char *text, ms_group_spec *out);
/* The spec as text ("chemsys", "kmeans:8", ...) in buf; returns buf. */
const char *ms_group_spec_format(const ms_group_spec *g, char *buf, size_t n);

/* Group ids of d's rows into group[0..d->n-1] (0..*n_groups-1; ids follow the sorted keys, or
 * cluster order for k-means). k-means: NaN -> column median, z-score (population sd; constant
 * columns dropped), k-means++ seeding from the stream (seed, 1), Lloyd iterations until no row
 * moves (at most 300). MS_GROUP_COLUMN fails with MS_ERR_USAGE when d has no group column.
 * Deterministic, not collective. */
ms_status ms_cv_groups(const ms_dataset *d, const ms_group_spec *g, uint64_t seed, int *group,
                       size_t *n_groups);

/* k test folds of whole groups: groups in decreasing size (ties in an order drawn from the
 * stream (seed, 0)), each to the fold with the fewest rows so far (lowest index on ties), which
 * keeps folds balanced as scikit-learn's GroupKFold does, and lets the seed vary the split.
 * Fails with MS_ERR_INVALID when there are fewer than k groups. Not collective. */
ms_status ms_folds_grouped(const int *group, size_t n, size_t k, uint64_t seed, int *fold);

/* Out-of-fold predictions: for each fold f a model is trained with spec on the rows whose fold is
 * not f and predicts the rows of fold f into mean / sigma (sigma may be NULL). feature_names may
 * be NULL. Collective on comm (each fit is). */
struct ms_model_spec;
ms_status ms_cv_predict(const struct ms_model_spec *spec, const ms_matrix *x, const double *y,
                        const int *fold, size_t k, MPI_Comm comm, double *mean, double *sigma);

/* Out-of-fold predictions of the model `train` would make, sigma included: as ms_cv_predict,
 * and each fold's regression model carries the grouped recalibration train stores by default
 * (train.h ms_train_calibrate): grouped CV with rc->k folds over the fold's training rows (groups
 * rc->group of x's rows, folds ms_folds_grouped seeded with spec->seed), (scale, floor) fitted
 * on its out-of-fold residuals with criterion rc->criterion (ms_calibration_fit_floor), then
 * sigma' = sqrt((scale sigma)^2 + floor^2) on the fold's test rows. A fold whose training rows
 * have fewer than MS_CALIBRATION_MIN_ROWS rows or rc->k groups keeps the learner's own sigma,
 * as train does; *n_recal (may be NULL) counts the folds recalibrated. sigma_own (may be NULL)
 * receives the fold models' own sigma (ms_cv_predict's), which a caller that fits a
 * recalibration of its own needs (the workflow's train stage). Costs rc->k + 1 fits per fold.
 * Classification models are left as ms_cv_predict leaves them. Callers go through
 * ms_train_cv_predict (train.h), which builds rc as train would and spreads the folds over the
 * ranks. dgroup (may be NULL): the chemical system of each row of x (the groups of a model's
 * domain, train.c): with it, and spec->domain, each fold's model gets the domain of its training
 * rows, its recalibration the distance term (calibration.h ms_calibration_fit_floor_dist, fitted
 * on the inner out-of-fold rows' clipped domain scores) and dist (may be NULL) receives the test
 * rows' clipped domain scores (NaN without dgroup). Collective on comm. */
typedef struct ms_cv_recal {
    const int *group; /* group id of each row of x (ms_cv_groups) */
    size_t k;         /* inner folds, 2..MS_CV_MAX_FOLDS */
    int criterion;    /* ms_calibration_fit_floor's by_area (train.h ms_train_calibration_criterion) */
} ms_cv_recal;
ms_status ms_cv_predict_recalibrated(const struct ms_model_spec *spec, const ms_matrix *x,
                                     const double *y, const int *fold, size_t k,
                                     const ms_cv_recal *rc, const uint64_t *dgroup,
                                     MPI_Comm comm, double *mean, double *sigma,
                                     double *sigma_own, double *dist, size_t *n_recal);

/* Per-fold and mean scores of out-of-fold predictions. Classification: roc_auc, balanced_accuracy
 * (= Matbench's "rocauc" of labels), f1, accuracy, mcc, log_loss. Regression: mae, rmse, r2,
 * spearman, and, when sigma is given, within1, within2, miscal_area, nll. Baselines (regression):
 * mae of predicting the training folds' mean and median. */
#define MS_CV_MAX_FOLDS 64
#define MS_CV_MAX_SCORES 16
typedef struct ms_cv_scores {
    size_t k, n_scores;
    const char *name[MS_CV_MAX_SCORES];
    double fold[MS_CV_MAX_SCORES][MS_CV_MAX_FOLDS];
    double mean[MS_CV_MAX_SCORES], std[MS_CV_MAX_SCORES]; /* std with ddof 0, as Matbench */
} ms_cv_scores;

ms_status ms_cv_score(int classification, const double *y, const double *mean, const double *sigma,
                      const int *fold, size_t n, size_t k, ms_cv_scores *out);

#endif /* MATSCREEN_CV_H */
