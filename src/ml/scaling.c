/* Standardisation and imputation; see scaling.h. */
#include "matscreen/scaling.h"

#include <math.h>
#include <stdlib.h>

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

ms_status ms_scaling_medians(const ms_matrix *x, double *median)
{
    double *col = malloc((x->rows + 1) * sizeof *col);
    MS_CHECK(col, MS_ERR_NOMEM, "scaling: out of memory");
    for (size_t j = 0; j < x->cols; j++) {
        size_t m = 0;
        for (size_t i = 0; i < x->rows; i++) {
            double v = MS_AT(x, i, j);
            if (isfinite(v)) col[m++] = v;
        }
        if (!m) {
            median[j] = 0;
            continue;
        }
        qsort(col, m, sizeof *col, cmp_d);
        median[j] = m % 2 ? col[m / 2] : 0.5 * (col[m / 2 - 1] + col[m / 2]);
    }
    free(col);
    return MS_SUCCESS;
}

void ms_scaling_impute(ms_matrix *x, const double *median)
{
    for (size_t i = 0; i < x->rows; i++)
        for (size_t j = 0; j < x->cols; j++)
            if (!isfinite(MS_AT(x, i, j))) MS_AT(x, i, j) = median[j];
}

void ms_scaling_fit(const ms_matrix *x, double *center, double *scale)
{
    for (size_t j = 0; j < x->cols; j++) {
        double s = 0;
        size_t m = 0;
        for (size_t i = 0; i < x->rows; i++) {
            double v = MS_AT(x, i, j);
            if (isfinite(v)) {
                s += v;
                m++;
            }
        }
        double mean = m ? s / (double)m : 0, ss = 0;
        for (size_t i = 0; i < x->rows; i++) {
            double v = MS_AT(x, i, j);
            if (isfinite(v)) ss += (v - mean) * (v - mean);
        }
        double sd = m ? sqrt(ss / (double)m) : 0;
        center[j] = mean;
        scale[j] = sd > 0 && isfinite(sd) ? sd : 1;
    }
}

void ms_scaling_apply(ms_matrix *x, const double *center, const double *scale)
{
    for (size_t i = 0; i < x->rows; i++)
        for (size_t j = 0; j < x->cols; j++) MS_AT(x, i, j) = (MS_AT(x, i, j) - center[j]) / scale[j];
}
