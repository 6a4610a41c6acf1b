/*
 * Metrics of classifiers and regressors, as scikit-learn (and scipy for Spearman) define them.
 *
 * Classification (binary, y in {0,1}, prob = P(class 1), predicted class = prob >= 0.5):
 *   accuracy = (TP+TN)/n; precision = TP/(TP+FP); recall = TP/(TP+FN); F1 = 2PR/(P+R)
 *   (0 when undefined, as scikit-learn's zero_division default warns and returns 0);
 *   MCC = (TP TN - FP FN)/sqrt((TP+FP)(TP+FN)(TN+FP)(TN+FN)) (0 when a factor is 0);
 *   balanced accuracy = (TPR + TNR)/2; ROC-AUC = Mann-Whitney U with average ranks for ties
 *   (= sklearn roc_auc_score; NaN with one class); log loss = -mean(y log p + (1-y) log(1-p)) with
 *   p clipped to [1e-15, 1-1e-15]. Matbench's "rocauc" column is roc_auc_score of the predicted
 *   LABELS, which equals balanced accuracy; both are reported.
 * Regression: MAE, RMSE, R^2 = 1 - SSE/SST (NaN when SST = 0), Spearman rho = Pearson r of the
 *   average ranks (scipy.stats.spearmanr).
 * All functions are Not collective; NaN inputs are the caller's business (they propagate).
 */
#ifndef MATSCREEN_METRICS_H
#define MATSCREEN_METRICS_H

#include <stddef.h>

#include "matscreen/error.h"

typedef struct ms_class_metrics {
    double accuracy, precision, recall, f1, mcc, balanced_accuracy, roc_auc, log_loss;
    size_t tn, fp, fn, tp; /* confusion matrix */
} ms_class_metrics;

typedef struct ms_reg_metrics {
    double mae, rmse, r2, spearman;
} ms_reg_metrics;

/* Fills m from labels y (0/1) and probabilities prob (n each). MS_ERR_NOMEM only. */
ms_status ms_metrics_classification(const double *y, const double *prob, size_t n,
                                    ms_class_metrics *m);

/* Balanced accuracy of the labels prob >= threshold (NaN when one class is absent). With the
 * positive fraction of the TRAINING labels as threshold this is the decision that maximises
 * expected balanced accuracy for calibrated probabilities, and the like-for-like figure for
 * Matbench's leaderboard "rocauc" (balanced accuracy of hard labels), chosen without the test
 * labels. */
double ms_metrics_balanced_accuracy_at(const double *y, const double *prob, size_t n,
                                       double threshold);

/* ROC-AUC alone (NaN when one class is absent). */
double ms_metrics_roc_auc(const double *y, const double *score, size_t n);

ms_status ms_metrics_regression(const double *y, const double *pred, size_t n, ms_reg_metrics *m);

/* Average ranks (1-based, ties averaged) of v into rank. MS_ERR_NOMEM only. */
ms_status ms_metrics_ranks(const double *v, size_t n, double *rank);

#endif /* MATSCREEN_METRICS_H */
