/*
 * Gaussian naive Bayes for binary classification, the simple baseline of the field; the same
 * estimator as scikit-learn's GaussianNB(var_smoothing=1e-9): per class c, prior = fraction of
 * rows, mean and population variance of each feature, every variance increased by
 * var_smoothing * (largest feature variance over all rows). P(c | x) by Bayes' rule with a
 * log-sum-exp. No sigma (NaN). Inputs are row-major without NaN. Not collective.
 */
#ifndef MATSCREEN_NAIVE_BAYES_H
#define MATSCREEN_NAIVE_BAYES_H

#include "matscreen/error.h"
#include "matscreen/matrix.h"

typedef struct ms_naive_bayes {
    size_t p;
    double prior[2];
    double *mean;  /* 2 x p */
    double *var;   /* 2 x p (smoothed) */
    double epsilon;
} ms_naive_bayes;

ms_status ms_naive_bayes_fit(const ms_matrix *x, const double *y, double var_smoothing,
                             ms_naive_bayes **out);
void ms_naive_bayes_predict(const ms_naive_bayes *m, const ms_matrix *x, double *prob);
void ms_naive_bayes_free(ms_naive_bayes *m);

#endif /* MATSCREEN_NAIVE_BAYES_H */
