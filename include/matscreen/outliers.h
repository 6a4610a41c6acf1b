/*
 * Outlier detection on the columns of a feature matrix: Tukey's IQR fences and the robust
 * (modified) z-score.
 *
 * Conventions
 *   - Input is an ms_matrix (row-major, a row per record, a column per feature). NaN marks a
 *     missing value: it is ignored when computing the statistics and is never flagged.
 *   - Quantiles use linear interpolation between order statistics (numpy.percentile's default,
 *     pandas' quantile, R type 7): q(p) = x[floor(h)] + (h - floor(h)) (x[floor(h)+1] -
 *     x[floor(h)]) with h = (n - 1) p over the n sorted non-missing values.
 *   - IQR: a value is an outlier when it lies below Q1 - k IQR or above Q3 + k IQR, IQR = Q3 -
 *     Q1. Default k = 1.5 (Tukey 1977).
 *   - Robust z-score: z = (x - median) / (1.4826 MAD), MAD = median |x - median|; 1.4826 makes MAD
 *     a consistent estimator of the standard deviation for normal data. A value is an outlier when
 *     |z| > threshold, default 3.5 (Iglewicz and Hoaglin 1993; their 0.6745 (x - med) / MAD is the
 *     same number). When MAD is 0 (over half the values equal) z is undefined: nothing is flagged
 *     and the result says so (mad = 0).
 *   - The caller gives a work buffer of rows doubles; nothing is allocated. Not collective.
 */
#ifndef MATSCREEN_OUTLIERS_H
#define MATSCREEN_OUTLIERS_H

#include <stddef.h>

#include "matscreen/error.h"
#include "matscreen/matrix.h"

#define MS_OUTLIER_IQR_K 1.5        /* Tukey's fence factor */
#define MS_OUTLIER_ROBUST_Z 3.5     /* Iglewicz-Hoaglin threshold */
#define MS_OUTLIER_MAD_SCALE 1.4826 /* MAD to standard deviation for normal data */

typedef struct ms_outlier_summary {
    size_t n_valid;        /* non-missing values */
    size_t n_outliers;     /* values flagged */
    double q1, median, q3; /* quartiles (NaN when n_valid is 0) */
    double lower, upper;   /* IQR fences (IQR method) */
    double mad;            /* median absolute deviation (unscaled) */
} ms_outlier_summary;

/* Quantile p in [0, 1] of the n values v (NaN skipped) by linear interpolation; work holds n
 * doubles. NaN when no value is present. */
double ms_quantile(const double *v, size_t n, double p, double *work);

/* Flags column col of x by the IQR rule with factor k (> 0): flags[i] = 1 for an outlier in row i,
 * else 0 (flags has x->rows entries; may be NULL). work holds x->rows doubles. summary may be
 * NULL. MS_ERR_USAGE for a bad column or k. */
ms_status ms_outliers_iqr(const ms_matrix *x, size_t col, double k, double *work,
                          unsigned char *flags, ms_outlier_summary *summary);

/* Same with the robust z-score and threshold (> 0). */
ms_status ms_outliers_robust_z(const ms_matrix *x, size_t col, double threshold, double *work,
                               unsigned char *flags, ms_outlier_summary *summary);

#endif /* MATSCREEN_OUTLIERS_H */
