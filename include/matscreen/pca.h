/*
 * Principal component analysis on ScaLAPACK (pdsyevd), an optional reduction of feature matrices.
 *
 * Conventions
 *   - Data are row-major ms_matrix objects (rows = samples, cols = d features, leading dimension
 *     d). The covariance matrix is d x d with denominator N - 1 (as numpy.cov and scikit-learn's
 *     PCA), built from row blocks on each rank and summed over the grid (ms_grid_sum); its
 *     eigen-decomposition runs on the grid (pdsyevd).
 *   - Components are returned sorted by decreasing variance, as the rows of a k x d row-major
 *     matrix. The sign of each component is fixed so that its entry of largest magnitude is
 *     positive (the first such entry on ties), which makes results reproducible across rank
 *     counts and LAPACK versions (scikit-learn uses svd_flip, a different but equally arbitrary
 *     convention: compare up to sign).
 *   - The fitted object is replicated on every rank; transform is local.
 */
#ifndef MATSCREEN_PCA_H
#define MATSCREEN_PCA_H

#include <stddef.h>

#include "matscreen/error.h"
#include "matscreen/matrix.h"
#include "matscreen/scalapack.h"

typedef struct ms_pca ms_pca;

/* Fits k components (1 <= k <= d) to x. replicated = 1: every rank passes the same full matrix
 * and the rows are split between the ranks internally; replicated = 0: each rank passes its own
 * rows (possibly none, x->rows = 0) and the data set is their union. N >= 2 overall, values
 * finite. Collective on the grid's communicator. Free *out with ms_pca_destroy. */
ms_status ms_pca_fit(const ms_grid *grid, const ms_matrix *x, int replicated, size_t k,
                     ms_pca **out);

/* Projects the rows of x (n x d) onto the components: out is allocated n x k (free with
 * ms_matrix_free), out = (x - mean) C^T. Not collective. */
ms_status ms_pca_transform(const ms_pca *pca, const ms_matrix *x, ms_matrix *out);

/* Number of components k and of features d. Not collective. */
size_t ms_pca_n_components(const ms_pca *pca);
size_t ms_pca_n_features(const ms_pca *pca);

/* Borrowed arrays, valid until ms_pca_destroy. Not collective.
 * components: k x d row-major; mean: d; explained_variance: k (eigenvalues of the covariance,
 * decreasing); explained_variance_ratio: k (each divided by the trace of the covariance). */
const double *ms_pca_components(const ms_pca *pca);
const double *ms_pca_mean(const ms_pca *pca);
const double *ms_pca_explained_variance(const ms_pca *pca);
const double *ms_pca_explained_variance_ratio(const ms_pca *pca);

/* Frees and sets *pca to NULL; NULL-safe. Not collective. */
void ms_pca_destroy(ms_pca **pca);

#endif /* MATSCREEN_PCA_H */
