/*
 * Feature selection (`matscreen select`, `train --select SPEC`): filters, then optionally a
 * wrapper, run inside ms_model_fit on the training rows only, so cross-validation of a spec with a
 * selection selects again in every training fold (no peeking at the test fold).
 *
 * SPEC: stages separated by commas, applied in order to the columns the variance filter kept:
 *   variance:T   drop columns of population variance <= T
 *   corr:T       drop the later of two columns with |Pearson r| > T
 *   f:K          keep the K columns of largest F-score (regression: r^2 / (1 - r^2) (n - 2), as
 *                scikit-learn's f_regression; classification: one-way ANOVA F, f_classif)
 *   mi:K         keep the K columns of largest mutual information with the target, estimated on
 *                10 equal-frequency bins of the column (and of a regression target; classes as
 *                they are). Not scikit-learn's k-nearest-neighbour estimator: a plug-in one.
 *   rfe[:FOLDS[:STEP]]  the wrapper: recursive elimination by permutation importance. Each step
 *                scores the current columns by (grouped) FOLDS-fold CV of the learner (default 5;
 *                MAE for a regression, 1 - ROC-AUC for a classification: lower is better),
 *                averages the permutation importance measured on each held-out fold, and drops
 *                the STEP fraction (default 0.2, at least one column) of least important columns,
 *                down to one column. The chosen step is the one with the fewest columns whose mean
 *                score is within one standard error (fold sd / sqrt(FOLDS)) of the best mean.
 * e.g. "f:60,rfe" (hybrid: F-score filter, then the wrapper).
 *
 * Folds of the wrapper: whole groups (ms_folds_grouped) when the caller gives group ids of the
 * rows (ms_model_spec.group; train and evaluate give the chemical systems), else random
 * (stratified for a classification). Seeds come from the spec's seed.
 * Collective on comm (the fits are); every rank computes the same selection.
 */
#ifndef MATSCREEN_SELECT_H
#define MATSCREEN_SELECT_H

#include <mpi.h>
#include <stddef.h>
#include <stdio.h>

#include "matscreen/error.h"
#include "matscreen/matrix.h"
#include "matscreen/model.h"

typedef struct ms_select_step {
    size_t n_features;
    double score, se; /* mean over folds and its standard error */
} ms_select_step;

typedef struct ms_selection {
    char *spec;           /* the SPEC text */
    char *log;            /* one line per stage, "f:60: 121 -> 60 columns\n..." */
    int classification;   /* score: 1 - ROC-AUC (1) or MAE (0) */
    size_t n_steps;       /* wrapper path (0 without rfe) */
    ms_select_step *steps;
    size_t chosen;        /* index into steps */
} ms_selection;

/* MS_ERR_USAGE naming the bad stage and the valid forms when spec does not parse. */
ms_status ms_select_check(const char *spec);

/* Runs spec->select on x (imputed raw rows, no NaN) and y, clearing keep[j] of dropped columns;
 * *out records what happened (free with ms_selection_free). Collective on comm. */
ms_status ms_select_run(const ms_model_spec *spec, const ms_matrix *x, const double *y,
                        MPI_Comm comm, unsigned char *keep, ms_selection **out);

void ms_selection_free(ms_selection *s);
void ms_selection_save(const ms_selection *s, ms_model_writer *w);
ms_status ms_selection_load(ms_model_reader *r, ms_selection **out);
/* "selection: ..." lines for `model info`, with the score path as a table. */
void ms_selection_describe(const ms_selection *s, FILE *out);

#endif /* MATSCREEN_SELECT_H */
