/*
 * Training a model on a labelled dataset and cross-validating it: the steps `matscreen train`,
 * `matscreen evaluate` (src/cli) and the workflow stages train / evaluate (src/workflow/stages.c)
 * share.
 *
 * Conventions
 *   - d is a loaded dataset (dataset.h): raw features, the learner's target y (log10 or 0/1 labels
 *     already applied) and its metadata. spec (model.h) names the learner, its options and seed;
 *     spec->task must match d->classification.
 *   - Both functions are Collective on comm (the fits are; the forest spreads its trees over the
 *     ranks) and deterministic for any number of ranks. They return the local status: ranks that
 *     must agree on success (before writing files or starting the next collective step) do so
 *     themselves, e.g. with MPI_Allreduce(MIN) of (status == MS_SUCCESS).
 *   - Metrics stored in the model (ms_model_add_metric, shown by `matscreen model info`):
 *     "train_mean" (regression: mean of y), the forest's out-of-bag estimates "oob_roc_auc"
 *     (classification) or "oob_mae", "oob_r2" (regression), and with MS_TRAIN_OOB_ALL also
 *     "oob_accuracy" / "oob_sigma_scale"; cross-validation adds "cv<K>_<score>" (the means of
 *     ms_cv_score, cv.h).
 *   - What the model knows, recorded by ms_train_fit (model.h, domain.h): the labels' extremes
 *     (y_best) and spec->goal; the elements seen in training; the elements it requires
 *     (spec->requires, else those present in at least MS_TRAIN_REQUIRE_FRACTION of the rows: 95%,
 *     not 100%, because a few OBELiX CIFs read without their Li sites, docs/models.md); and, with
 *     spec->domain, the domain of applicability over the standardised training rows grouped by
 *     chemical system.
 */
#ifndef MATSCREEN_TRAIN_H
#define MATSCREEN_TRAIN_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

#include "matscreen/cv.h"
#include "matscreen/dataset.h"
#include "matscreen/error.h"
#include "matscreen/model.h"

#define MS_TRAIN_REQUIRE_FRACTION 0.95

/* Flags of ms_train_fit. */
enum {
    MS_TRAIN_OOB_ALL = 1 /* also store oob_accuracy (classification) / oob_sigma_scale (regression);
                            `matscreen train` does, the workflow stage train does not */
};

/* Fits spec on d (ms_model_fit), then records the metadata (d's target name and descriptor set,
 * with log10_target and threshold as the dataset was loaded with; see ms_model_set_meta) and the
 * training metrics of the conventions. flags: 0 or MS_TRAIN_OOB_ALL. Collective on comm. On
 * success *out is a new model (free with ms_model_free); on failure *out is NULL. */
ms_status ms_train_fit(const ms_model_spec *spec, const ms_dataset *d, int log10_target,
                       double threshold, unsigned flags, MPI_Comm comm, ms_model **out);

/* The k test folds of d's rows into fold (d->n entries): with g NULL or of kind MS_GROUP_NONE
 * random folds from seed (stratified for a classification, ms_folds_stratified; else
 * ms_folds_kfold), else grouped folds (ms_cv_groups, ms_folds_grouped; cv.h). Not collective. */
ms_status ms_train_folds(const ms_dataset *d, const ms_group_spec *g, size_t k, uint64_t seed,
                         int *fold);

/* How the fold models of a cross-validation carry sigma: as the model `train` makes. With group
 * of a kind other than MS_GROUP_NONE every fold's regression model is recalibrated as train
 * recalibrates its model (--calibrate grouped, the default): grouped CV with k inner folds (0:
 * the outer K) over the fold's training rows, groups from ms_cv_groups(d, &group, seed),
 * criterion (< 0: ms_train_calibration_criterion(spec->kind)); K + 1 fits per fold. With
 * MS_GROUP_NONE, or a NULL pointer where one is taken, fold models keep the learner's own sigma
 * (train --calibrate oob; one fit per fold). */
typedef struct ms_train_cv_sigma {
    ms_group_spec group;
    size_t k;
    int criterion;
    uint64_t seed;
} ms_train_cv_sigma;

/* The one road from folds to out-of-fold predictions, shared by `evaluate`, `compare`, `train
 * --cv` and the workflow stages: for each fold f the model of spec fitted on the rows whose fold
 * is not f predicts fold f's rows into mean and sigma (d->n entries; sigma may be NULL), its
 * sigma built as how says (ms_cv_predict_recalibrated, cv.h; sigma_own, may be NULL, gets the
 * fold models' own sigma; *n_recal, may be NULL, the folds recalibrated). Folds are spread over
 * the ranks (a fold per rank; the predictions are the same bytes for any number of ranks).
 * Collective on comm. */
ms_status ms_train_cv_predict(const ms_model_spec *spec, const ms_dataset *d, const int *fold,
                              size_t k, const ms_train_cv_sigma *how, MPI_Comm comm, double *mean,
                              double *sigma, double *sigma_own, size_t *n_recal);

/* K-fold cross-validation of spec on d: folds of ms_train_folds (g NULL: random), out-of-fold
 * predictions (ms_train_cv_predict with how, NULL: the learner's own sigma) and their scores
 * (ms_cv_score; with sigma for a regression). mean, sigma and sigma_own (d->n entries each, may
 * be NULL) receive the out-of-fold predictions, dist (may be NULL) the rows' domain scores
 * against their fold model's domain, clipped at its threshold (regression; cv.h); when m is not NULL the mean scores are added to
 * it as cv<k>_<score> (random folds) or gcv<k>_<score> (grouped). k is 2..MS_CV_MAX_FOLDS
 * (cv.h). Collective on comm. */
ms_status ms_train_cross_validate(const ms_model_spec *spec, const ms_dataset *d,
                                  const ms_group_spec *g, size_t k, uint64_t seed,
                                  const ms_train_cv_sigma *how, MPI_Comm comm, ms_model *m,
                                  double *mean, double *sigma, double *sigma_own, double *dist);

/* Stores in m (a regression; a classification is left as it is) the sigma recalibration of
 * model.h fitted on out-of-fold predictions mu, sg of d->y: (scale, floor) by
 * ms_calibration_fit_floor with criterion (1 miscalibration area, 0 likelihood, 2 coverage),
 * with the distance term (ms_calibration_fit_floor_dist; clipped at m's domain threshold) when
 * dist (the out-of-fold rows' clipped domain scores, ms_train_cross_validate) is given and m
 * has a domain, and with
 * alpha in (0, 1) the split-conformal factor of |y - mu| / recalibrated sigma. The folds behind
 * mu and sg should hold out whole groups (g, k folds, n_groups groups; recorded in m). Rows
 * whose sigma is not finite are left out; with fewer than MS_CALIBRATION_MIN_ROWS rows left m is
 * not changed (it keeps the learner's own sigma: callers that asked for a recalibration check
 * m->calibration.kind and say so). Not collective. */
ms_status ms_train_calibration_fit(const ms_dataset *d, const double *mu, const double *sg,
                                   const double *dist, const ms_group_spec *g, size_t k,
                                   size_t n_groups, double alpha, int criterion, ms_model *m);

/* The default criterion of ms_train_calibration_fit for a learner, chosen on OBELiX's training
 * split (5 outer 80/20 splits by chemical system, docs/models.md): 2 (1- and 2-sigma coverage)
 * for the forest and other learners, 0 (likelihood) for the GP. */
int ms_train_calibration_criterion(const char *kind);

/* 1 when the recalibration of a learner has the distance term (model.h; calibration.h
 * ms_calibration_fit_floor_dist): the GP, where calibration CV on the training parts of OBELiX
 * (20 outer splits by chemical system) preferred it pooled and on 16 of 20 splits; 0 for the
 * forest and the others, where the gain was not consistent (7 of 20 splits; docs/models.md
 * "Distance-aware recalibration"). Fold models in cross-validation follow the same rule. */
int ms_train_calibration_distance(const char *kind);

/* Grouped k-fold cross-validation of spec on d (ms_train_cross_validate with g, adding the
 * gcv<k>_* metrics to m) followed by ms_train_calibration_fit on its out-of-fold predictions.
 * Collective on comm. */
ms_status ms_train_calibrate(const ms_model_spec *spec, const ms_dataset *d,
                             const ms_group_spec *g, size_t k, uint64_t seed, double alpha,
                             int criterion, MPI_Comm comm, ms_model *m);

#endif /* MATSCREEN_TRAIN_H */
