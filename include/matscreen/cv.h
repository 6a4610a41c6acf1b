/*
 * Evaluation data: labelled datasets (features + targets) and cross-validation folds.
 *
 * Datasets are read from
 *   - a Matbench task file (pandas "column" JSON: {"mbid": {...}, "composition": {...},
 *     "<target>": {...}}, e.g. matbench_glass.json); the target column is the one named, or the
 *     last column; booleans become 1/0;
 *   - a CSV with a formula column (CrabNet "formula,target");
 *   - a CSV with an id column whose structures are files DIR/<id>.cif (OBELiX: ID -> cifs/ID.cif),
 *     or with a column holding a structure path relative to the CSV.
 * Rows are featurised with a named descriptor set (descriptor.h): compositions with
 * ms_featurizer_compute_composition, structures with the structure featurizer (featurize.h).
 * Targets: optional log10 (rows with a target <= 0 or not finite are dropped and counted) and an
 * optional classification threshold (label = target >= threshold, in the target's own units).
 * Every rank may load the same dataset independently (deterministic); nothing here is collective.
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

#include "matscreen/element.h"
#include "matscreen/error.h"
#include "matscreen/matrix.h"

typedef enum ms_dataset_source {
    MS_DATASET_MATBENCH = 0, /* path is a Matbench JSON */
    MS_DATASET_FORMULA_CSV,  /* path is a CSV; formula_column holds formulas */
    MS_DATASET_STRUCTURE_CSV /* path is a CSV; id_column names DIR/<id>.cif */
} ms_dataset_source;

typedef struct ms_dataset_spec {
    ms_dataset_source source;
    const char *path;
    const char *target;          /* column; NULL = last column (Matbench) */
    const char *formula_column;  /* default "formula" */
    const char *id_column;       /* default "ID" (structure CSV) / "mbid" (Matbench ids) */
    const char *structure_dir;   /* for MS_DATASET_STRUCTURE_CSV */
    const char *set;             /* descriptor set name, default "magpie" */
    int log10_target;
    double threshold;            /* NaN: regression or labels given as booleans */
    size_t max_rows;             /* 0 = all */
} ms_dataset_spec;

typedef struct ms_dataset {
    size_t n;
    ms_matrix x;            /* n x n_features raw features (NaN allowed) */
    double *y;              /* learner target: transformed value or 0/1 label */
    double *target;         /* target as read, before log10 / threshold */
    char **ids;             /* n row ids (mbid, ID, or row number) */
    size_t n_features;
    char **feature_names;   /* n_features */
    char set_name[64];
    int set_version;
    char set_signature[1024];
    size_t n_dropped;       /* rows dropped (bad target, unreadable formula or structure) */
    int classification;     /* 1 when y holds labels */
    char target_name[256];
} ms_dataset;

void ms_dataset_spec_default(ms_dataset_spec *spec);

/* Reads and featurises; table is the element table (borrowed). On failure d is empty. */
ms_status ms_dataset_load(const ms_dataset_spec *spec, const ms_element_table *table,
                          ms_dataset *d);
void ms_dataset_free(ms_dataset *d);

/* Folds. */
void ms_folds_kfold(size_t n, size_t k, uint64_t seed, int *fold);
/* y: labels 0/1. */
void ms_folds_stratified(const double *y, size_t n, size_t k, uint64_t seed, int *fold);
/* Matbench folds.csv rows of task matched to ids; *k gets the number of folds. Rows whose id is
 * not in the file fail with MS_ERR_NOT_FOUND. */
ms_status ms_folds_read(const char *path, const char *task, char *const *ids, size_t n, int *fold,
                        size_t *k);

/* Out-of-fold predictions: for each fold f a model is trained with spec on the rows whose fold is
 * not f and predicts the rows of fold f into mean / sigma (sigma may be NULL). feature_names may
 * be NULL. Collective on comm (each fit is). */
struct ms_model_spec;
ms_status ms_cv_predict(const struct ms_model_spec *spec, const ms_matrix *x, const double *y,
                        const int *fold, size_t k, MPI_Comm comm, double *mean, double *sigma);

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
