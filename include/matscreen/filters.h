/*
 * Feature filters of the data-quality stage: variance and correlation. The kept-feature mask is
 * saved in the model file, so prediction drops the same columns.
 *
 * Conventions: x is row-major without NaN (impute first); keep has x->cols flags (1 = kept) and
 * is only ever cleared, so filters compose. Not collective.
 */
#ifndef MATSCREEN_FILTERS_H
#define MATSCREEN_FILTERS_H

#include "matscreen/error.h"
#include "matscreen/matrix.h"

/* Clears keep[j] for columns whose population variance is <= threshold (0 drops constant
 * columns, as scikit-learn's VarianceThreshold()). */
void ms_filter_variance(const ms_matrix *x, double threshold, unsigned char *keep);

/* Walks kept columns in order and clears keep[j] when |Pearson r| with an earlier kept column
 * exceeds threshold (the earlier column stays). Threshold >= 1 is a no-op. O(p^2 n). */
ms_status ms_filter_correlation(const ms_matrix *x, double threshold, unsigned char *keep);

#endif /* MATSCREEN_FILTERS_H */
