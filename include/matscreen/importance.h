/*
 * Permutation feature importance (Breiman 2001; scikit-learn's permutation_importance): the
 * score drop when one raw feature column is shuffled, averaged over repeats. Score: MAE for
 * regression (importance = MAE(permuted) - MAE), ROC-AUC for classification (importance =
 * AUC - AUC(permuted)). Column j of repeat r is shuffled with the stream (seed, j * 1000 + r), so
 * results are reproducible. Not collective.
 */
#ifndef MATSCREEN_IMPORTANCE_H
#define MATSCREEN_IMPORTANCE_H

#include <stdint.h>

#include "matscreen/error.h"
#include "matscreen/matrix.h"
#include "matscreen/model.h"

/* x holds raw rows (m->n_raw columns); importance gets m->n_raw values. */
ms_status ms_permutation_importance(const ms_model *m, const ms_matrix *x, const double *y,
                                    int repeats, uint64_t seed, double *importance);

/* Indices 0..n-1 ordered by decreasing importance (ties by index). */
void ms_importance_order(const double *importance, size_t n, size_t *order);

#endif /* MATSCREEN_IMPORTANCE_H */
