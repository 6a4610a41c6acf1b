/*
 * Z-score standardisation and median imputation, NaN-aware, with parameters that are saved in
 * model files (model.h).
 *
 * Conventions: x is row-major (ms_matrix); statistics are per column over the finite values of
 * that column. A column without finite values has median 0, center 0, scale 1. A column with zero
 * spread has scale 1 (it is only centred), so standardising never divides by zero. The standard
 * deviation is the population one (divide by n), as scikit-learn's StandardScaler. Not collective.
 */
#ifndef MATSCREEN_SCALING_H
#define MATSCREEN_SCALING_H

#include "matscreen/error.h"
#include "matscreen/matrix.h"

/* Per-column medians of the finite values (mean of the two middle ones for even counts) into
 * median (x->cols). */
ms_status ms_scaling_medians(const ms_matrix *x, double *median);

/* Replaces every NaN / infinite value of column j by median[j], in place. */
void ms_scaling_impute(ms_matrix *x, const double *median);

/* Per-column mean (center) and population standard deviation (scale, 1 when zero) of the finite
 * values. */
void ms_scaling_fit(const ms_matrix *x, double *center, double *scale);

/* x[i][j] = (x[i][j] - center[j]) / scale[j], in place (NaN stays NaN). */
void ms_scaling_apply(ms_matrix *x, const double *center, const double *scale);

#endif /* MATSCREEN_SCALING_H */
