/*
 * Pearson and Spearman correlation matrices (see include/matscreen/correlation.h).
 */
#include "matscreen/correlation.h"

#include <math.h>
#include <stdlib.h>

static int cmp_index(const void *a, const void *b, void *arg)
{
    const double *v = arg;
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    if (v[i] != v[j]) return (v[i] > v[j]) - (v[i] < v[j]);
    return (i > j) - (i < j);
}

void ms_rank_average(const double *v, size_t n, double *rank, size_t *iwork)
{
    for (size_t i = 0; i < n; i++) iwork[i] = i;
    qsort_r(iwork, n, sizeof *iwork, cmp_index, (void *)v);
    for (size_t a = 0; a < n;) {
        size_t b = a + 1;
        while (b < n && v[iwork[b]] == v[iwork[a]]) b++;
        double r = 0.5 * (double)(a + 1 + b); /* mean of ranks a+1 .. b */
        for (size_t k = a; k < b; k++) rank[iwork[k]] = r;
        a = b;
    }
}

/* Pearson of a[0..n), b[0..n), two-pass for accuracy; NaN for no variance. */
static double pearson(const double *a, const double *b, size_t n)
{
    double ma = 0, mb = 0;
    for (size_t i = 0; i < n; i++) {
        ma += a[i];
        mb += b[i];
    }
    ma /= (double)n;
    mb /= (double)n;
    double sab = 0, saa = 0, sbb = 0;
    for (size_t i = 0; i < n; i++) {
        double da = a[i] - ma, db = b[i] - mb;
        sab += da * db;
        saa += da * da;
        sbb += db * db;
    }
    if (!(saa > 0) || !(sbb > 0)) return NAN;
    double r = sab / sqrt(saa * sbb);
    return r > 1 ? 1 : (r < -1 ? -1 : r);
}

ms_status ms_correlation_matrix(const ms_matrix *x, ms_correlation_method method,
                                size_t min_periods, ms_matrix *out, double *work, size_t *iwork)
{
    MS_CHECK(x && out && out->rows == x->cols && out->cols == x->cols, MS_ERR_USAGE,
             "correlation: the output must be %zu x %zu", x ? x->cols : 0, x ? x->cols : 0);
    MS_CHECK(method == MS_CORRELATION_PEARSON || method == MS_CORRELATION_SPEARMAN, MS_ERR_USAGE,
             "correlation: unknown method %d", (int)method);
    if (min_periods < 2) min_periods = 2;
    size_t rows = x->rows, cols = x->cols;
    double *a = work, *b = work + rows, *ra = work + 2 * rows, *rb = work + 3 * rows;
    for (size_t i = 0; i < cols; i++)
        for (size_t j = i; j < cols; j++) {
            size_t n = 0;
            for (size_t r = 0; r < rows; r++) {
                double u = MS_AT(x, r, i), v = MS_AT(x, r, j);
                if (isnan(u) || isnan(v)) continue;
                a[n] = u;
                b[n++] = v;
            }
            double c = NAN;
            if (n >= min_periods) {
                if (method == MS_CORRELATION_SPEARMAN) {
                    ms_rank_average(a, n, ra, iwork);
                    ms_rank_average(b, n, rb, iwork);
                    c = pearson(ra, rb, n);
                } else {
                    c = pearson(a, b, n);
                }
            }
            MS_AT(out, i, j) = c;
            MS_AT(out, j, i) = c;
        }
    return MS_SUCCESS;
}
