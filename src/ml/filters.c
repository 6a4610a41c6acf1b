/* Variance and correlation filters; see filters.h. */
#include "matscreen/filters.h"

#include <math.h>
#include <stdlib.h>

static void col_stats(const ms_matrix *x, size_t j, double *mean, double *var)
{
    double s = 0, ss = 0;
    for (size_t i = 0; i < x->rows; i++) s += MS_AT(x, i, j);
    double m = x->rows ? s / (double)x->rows : 0;
    for (size_t i = 0; i < x->rows; i++) ss += (MS_AT(x, i, j) - m) * (MS_AT(x, i, j) - m);
    *mean = m;
    *var = x->rows ? ss / (double)x->rows : 0;
}

void ms_filter_variance(const ms_matrix *x, double threshold, unsigned char *keep)
{
    for (size_t j = 0; j < x->cols; j++) {
        double m, v;
        col_stats(x, j, &m, &v);
        if (!(v > threshold)) keep[j] = 0;
    }
}

ms_status ms_filter_correlation(const ms_matrix *x, double threshold, unsigned char *keep)
{
    if (threshold >= 1) return MS_SUCCESS;
    size_t n = x->rows, p = x->cols;
    double *z = malloc((n * p + 1) * sizeof *z); /* column-major standardised copy */
    MS_CHECK(z, MS_ERR_NOMEM, "filters: out of memory");
    for (size_t j = 0; j < p; j++) {
        double m, v;
        col_stats(x, j, &m, &v);
        double sd = sqrt(v * (double)n);
        for (size_t i = 0; i < n; i++) z[j * n + i] = sd > 0 ? (MS_AT(x, i, j) - m) / sd : 0;
    }
    for (size_t j = 0; j < p; j++) {
        if (!keep[j]) continue;
        for (size_t k = 0; k < j; k++) {
            if (!keep[k]) continue;
            double r = 0;
            for (size_t i = 0; i < n; i++) r += z[j * n + i] * z[k * n + i];
            if (fabs(r) > threshold) {
                keep[j] = 0;
                break;
            }
        }
    }
    free(z);
    return MS_SUCCESS;
}
