/*
 * IQR and robust z-score outliers (see include/matscreen/outliers.h).
 */
#include "matscreen/outliers.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Copies the non-NaN values into work, sorted; returns their number. */
static size_t sorted_valid(const double *v, size_t n, size_t stride, double *work)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(v[i * stride])) work[m++] = v[i * stride];
    qsort(work, m, sizeof *work, cmp_double);
    return m;
}

static double quantile_sorted(const double *s, size_t m, double p)
{
    if (m == 0) return NAN;
    double h = (double)(m - 1) * p;
    size_t lo = (size_t)floor(h);
    if (lo + 1 >= m) return s[m - 1];
    return s[lo] + (h - (double)lo) * (s[lo + 1] - s[lo]);
}

double ms_quantile(const double *v, size_t n, double p, double *work)
{
    size_t m = sorted_valid(v, n, 1, work);
    return quantile_sorted(work, m, p);
}

static ms_status column_check(const ms_matrix *x, size_t col, double param, const char *what)
{
    MS_CHECK(x && col < x->cols, MS_ERR_USAGE, "%s: column %zu outside the matrix", what, col);
    MS_CHECK(param > 0 && isfinite(param), MS_ERR_USAGE, "%s: parameter %g must be positive", what,
             param);
    return MS_SUCCESS;
}

/* What both rules summarise of column col: the valid values' count, quartiles, median and MAD
 * (work holds x->rows doubles and is overwritten); lower, upper and n_outliers are the rule's. */
static ms_outlier_summary column_summary(const ms_matrix *x, size_t col, double *work)
{
    ms_outlier_summary s = {0};
    size_t m = sorted_valid(x->data + col, x->rows, x->cols, work);
    s.n_valid = m;
    s.q1 = quantile_sorted(work, m, 0.25);
    s.median = quantile_sorted(work, m, 0.5);
    s.q3 = quantile_sorted(work, m, 0.75);
    for (size_t i = 0; i < m; i++) work[i] = fabs(work[i] - s.median);
    qsort(work, m, sizeof *work, cmp_double);
    s.mad = quantile_sorted(work, m, 0.5);
    return s;
}

ms_status ms_outliers_iqr(const ms_matrix *x, size_t col, double k, double *work,
                          unsigned char *flags, ms_outlier_summary *summary)
{
    MS_CALL(column_check(x, col, k, "IQR outliers"));
    ms_outlier_summary s = column_summary(x, col, work);
    const double *v = x->data + col;
    size_t m = s.n_valid;
    double iqr = s.q3 - s.q1;
    s.lower = s.q1 - k * iqr;
    s.upper = s.q3 + k * iqr;
    for (size_t i = 0; i < x->rows; i++) {
        double a = v[i * x->cols];
        int out = !isnan(a) && m > 0 && (a < s.lower || a > s.upper);
        s.n_outliers += (size_t)out;
        if (flags) flags[i] = (unsigned char)out;
    }
    if (summary) *summary = s;
    return MS_SUCCESS;
}

ms_status ms_outliers_robust_z(const ms_matrix *x, size_t col, double threshold, double *work,
                               unsigned char *flags, ms_outlier_summary *summary)
{
    MS_CALL(column_check(x, col, threshold, "robust z-score outliers"));
    ms_outlier_summary s = column_summary(x, col, work);
    const double *v = x->data + col;
    size_t m = s.n_valid;
    s.lower = s.upper = NAN;
    double scale = MS_OUTLIER_MAD_SCALE * s.mad;
    if (m > 0 && scale > 0) {
        s.lower = s.median - threshold * scale;
        s.upper = s.median + threshold * scale;
    }
    for (size_t i = 0; i < x->rows; i++) {
        double a = v[i * x->cols];
        int out = !isnan(a) && scale > 0 && fabs(a - s.median) / scale > threshold;
        s.n_outliers += (size_t)out;
        if (flags) flags[i] = (unsigned char)out;
    }
    if (summary) *summary = s;
    return MS_SUCCESS;
}
