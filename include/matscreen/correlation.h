/*
 * Correlation matrices of features: Pearson and Spearman.
 *
 * Conventions
 *   - Input is an ms_matrix (rows are records, columns features); NaN is missing. Each pair of
 *     columns uses the rows where both are present ("pairwise complete observations", as
 *     pandas.DataFrame.corr), so different entries may rest on different rows.
 *   - Spearman: the complete observations of the pair are ranked (ties get the average of their
 *     ranks, as scipy.stats.rankdata(method="average")), then Pearson is taken of the ranks.
 *   - An entry is NaN when fewer than min_periods (at least 2) rows are complete or a column has
 *     no variance on them; the diagonal is computed like any entry (1, or NaN for a constant
 *     column), as pandas does.
 *   - out is a caller-allocated cols x cols matrix. work: 4 x rows doubles, iwork: rows size_t;
 *     nothing is allocated. Cost O(cols^2 rows) for Pearson, O(cols^2 rows log rows) for Spearman.
 *     Not collective.
 */
#ifndef MATSCREEN_CORRELATION_H
#define MATSCREEN_CORRELATION_H

#include <stddef.h>

#include "matscreen/error.h"
#include "matscreen/matrix.h"

typedef enum ms_correlation_method {
    MS_CORRELATION_PEARSON = 0,
    MS_CORRELATION_SPEARMAN
} ms_correlation_method;

/* Fills out (x->cols x x->cols) with the correlation matrix of x. MS_ERR_USAGE when out has the
 * wrong shape. min_periods below 2 is taken as 2. */
ms_status ms_correlation_matrix(const ms_matrix *x, ms_correlation_method method,
                                size_t min_periods, ms_matrix *out, double *work, size_t *iwork);

/* Average ranks (1-based) of v[0..n) into rank, ties averaged; iwork holds n size_t. NaN values
 * are not allowed (the caller removes them). */
void ms_rank_average(const double *v, size_t n, double *rank, size_t *iwork);

#endif /* MATSCREEN_CORRELATION_H */
