/*
 * L2-regularised logistic regression for binary classification, fitted by Newton's method
 * (iteratively reweighted least squares).
 *
 * Objective (scikit-learn's LogisticRegression(penalty="l2", C) with intercept, lbfgs gives the
 * same optimum):  minimise  sum_i logloss(y_i, sigmoid(b + w.x_i)) + ||w||^2 / (2 C).
 * The intercept b is not penalised. Newton step: (X^T S X + I/C) d = -(X^T (p - y) + w/C) with
 * S = diag(p(1-p)), solved by Cholesky; stops when max |d| < 1e-10 or after 100 steps.
 * Uncertainty: delta method on the linear predictor, sigma_p = p (1 - p) sqrt(x^T H^-1 x) with
 * H the penalised Hessian at the optimum (a standard error of the probability, not of the label).
 * Inputs are row-major ms_matrix without NaN (the model layer imputes and standardises). Not
 * collective.
 */
#ifndef MATSCREEN_LOGISTIC_H
#define MATSCREEN_LOGISTIC_H

#include "matscreen/error.h"
#include "matscreen/matrix.h"

typedef struct ms_logistic {
    size_t p;        /* features */
    double c;        /* inverse regularisation strength */
    double *coef;    /* p + 1: intercept first, then weights */
    double *hinv;    /* (p + 1)^2 inverse penalised Hessian, row-major */
    int iterations;
} ms_logistic;

/* Fits y (0/1) on x with inverse regularisation c (> 0; scikit-learn's default is 1). *out is new
 * (free with ms_logistic_free). */
ms_status ms_logistic_fit(const ms_matrix *x, const double *y, double c, ms_logistic **out);

/* P(class 1) of every row into prob; sigma (may be NULL) the delta-method standard error. */
void ms_logistic_predict(const ms_logistic *m, const ms_matrix *x, double *prob, double *sigma);

void ms_logistic_free(ms_logistic *m);

#endif /* MATSCREEN_LOGISTIC_H */
