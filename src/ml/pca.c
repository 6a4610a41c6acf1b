/*
 * Principal component analysis; see matscreen/pca.h.
 *
 * Two passes over the rows each rank holds: column sums (summed over ranks) give the mean, then
 * dsyrk on the centred rows gives this rank's part of the scatter matrix, summed over ranks. The
 * d x d covariance is then handed to the grid (ms_dmatrix_distribute) and diagonalised with
 * pdsyevd; the eigenvectors are gathered exactly onto every rank.
 */
#include "matscreen/pca.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scalapack_impl.h"

struct ms_pca {
    size_t k, d;
    double *components; /* k x d */
    double *mean;       /* d */
    double *var;        /* k */
    double *ratio;      /* k */
};

void ms_pca_destroy(ms_pca **pca)
{
    if (!pca || !*pca) return;
    free((*pca)->components);
    free((*pca)->mean);
    free((*pca)->var);
    free((*pca)->ratio);
    free(*pca);
    *pca = NULL;
}

ms_status ms_pca_fit(const ms_grid *grid, const ms_matrix *x, int replicated, size_t k,
                     ms_pca **out)
{
    MS_CHECK(grid && x && out, MS_ERR_USAGE, "ms_pca_fit: NULL argument");
    *out = NULL;
    const size_t d = x->cols;
    ms_status st = MS_SUCCESS;
    if (d == 0 || k < 1 || k > d || (x->rows > 0 && !x->data))
        st = ms_error_set(MS_ERR_USAGE, "ms_pca_fit: need 1 <= k <= d and d >= 1");
    for (size_t i = 0; st == MS_SUCCESS && i < x->rows * d; i++)
        if (!isfinite(x->data[i]))
            st = ms_error_set(MS_ERR_INVALID, "ms_pca_fit: value (%zu, %zu) is not finite", i / d,
                              i % d);
    /* every rank must agree on d before sizing collectives by it */
    double dims[2] = {(double)d, -(double)d};
    size_t r0 = 0, r1 = x->rows;
    if (replicated) {
        size_t rank = (size_t)ms_grid_rank(grid), size = (size_t)ms_grid_size(grid);
        r0 = x->rows * rank / size;
        r1 = x->rows * (rank + 1) / size;
    }
    const size_t nl = r1 - r0;
    ms_pca *p = calloc(1, sizeof *p);
    double *cov = malloc((d * d + d + 1) * sizeof *cov);
    double *centred = malloc((nl * d + 1) * sizeof *centred);
    double *w = malloc((d + 1) * sizeof *w);
    if (p) {
        p->k = k;
        p->d = d;
        p->components = malloc((k * d + 1) * sizeof *p->components);
        p->mean = malloc((d + 1) * sizeof *p->mean);
        p->var = malloc((k + 1) * sizeof *p->var);
        p->ratio = malloc((k + 1) * sizeof *p->ratio);
    }
    if (st == MS_SUCCESS && (!p || !cov || !centred || !w || !p->components || !p->mean ||
                             !p->var || !p->ratio))
        st = ms_error_set(MS_ERR_NOMEM, "ms_pca_fit: out of memory for d = %zu", d);
    st = ms_grid_agree(grid, st);
    if (st == MS_SUCCESS) {
        ms_grid_bcast(grid, dims, 2); /* rank 0's d; compare with our own */
        st = ms_grid_agree(grid, dims[0] == (double)d ? MS_SUCCESS
                                                       : ms_error_set(MS_ERR_USAGE, "ms_pca_fit: "
                                                                      "ranks disagree on d"));
    }
    ms_dmatrix *a = NULL, *z = NULL;
    ms_matrix zg = {0, 0, NULL, 0};
    if (st != MS_SUCCESS) goto done;
    /* pass 1: mean (sums and count over ranks) */
    double *sums = cov + d * d;
    memset(sums, 0, (d + 1) * sizeof *sums);
    for (size_t i = r0; i < r1; i++)
        for (size_t j = 0; j < d; j++) sums[j] += x->data[i * d + j];
    sums[d] = (double)nl;
    MS_CALL(ms_grid_sum(grid, sums, d + 1));
    const double ntot = sums[d];
    st = ms_grid_agree(grid, ntot >= 2 ? MS_SUCCESS
                                       : ms_error_set(MS_ERR_USAGE, "ms_pca_fit: need >= 2 rows"));
    if (st != MS_SUCCESS) goto done;
    for (size_t j = 0; j < d; j++) p->mean[j] = sums[j] / ntot;
    /* pass 2: scatter matrix of the centred rows (column-major lower = row-major upper) */
    for (size_t i = 0; i < nl; i++)
        for (size_t j = 0; j < d; j++) centred[i * d + j] = x->data[(r0 + i) * d + j] - p->mean[j];
    memset(cov, 0, d * d * sizeof *cov);
    if (nl > 0) {
        const int di = (int)d, ni = (int)nl;
        const double one = 1.0, zero = 0.0;
        dsyrk_("L", "N", &di, &ni, &one, centred, &di, &zero, cov, &di, 1, 1);
    }
    for (size_t i = 0; i < d; i++)
        for (size_t j = i + 1; j < d; j++) cov[j * d + i] = cov[i * d + j]; /* fill lower */
    MS_CALL(ms_grid_sum(grid, cov, d * d));
    double trace = 0;
    for (size_t i = 0; i < d * d; i++) cov[i] /= ntot - 1;
    for (size_t i = 0; i < d; i++) trace += cov[i * d + i];
    /* eigen-decomposition on the grid */
    ms_matrix cm;
    ms_matrix_wrap(&cm, cov, d, d);
    st = ms_dmatrix_create(grid, d, d, &a);
    if (st == MS_SUCCESS) st = ms_dmatrix_create(grid, d, d, &z);
    if (st == MS_SUCCESS) st = ms_grid_agree(grid, ms_dmatrix_distribute(a, &cm));
    if (st == MS_SUCCESS) st = ms_dmatrix_eigh(a, w, z);
    if (st == MS_SUCCESS) st = ms_dmatrix_gather(z, &zg);
    if (st != MS_SUCCESS) goto done;
    for (size_t r = 0; r < k; r++) {
        size_t col = d - 1 - r; /* ascending eigenvalues: largest last */
        size_t big = 0;
        for (size_t i = 1; i < d; i++)
            if (fabs(zg.data[i * d + col]) > fabs(zg.data[big * d + col])) big = i;
        double sign = zg.data[big * d + col] < 0 ? -1.0 : 1.0;
        for (size_t i = 0; i < d; i++) p->components[r * d + i] = sign * zg.data[i * d + col];
        p->var[r] = w[col] > 0 ? w[col] : 0;
        p->ratio[r] = trace > 0 ? p->var[r] / trace : 0;
    }
done:
    ms_matrix_free(&zg);
    ms_dmatrix_destroy(&a);
    ms_dmatrix_destroy(&z);
    free(cov);
    free(centred);
    free(w);
    if (st != MS_SUCCESS) {
        ms_pca_destroy(&p);
        return st;
    }
    *out = p;
    return MS_SUCCESS;
}

ms_status ms_pca_transform(const ms_pca *pca, const ms_matrix *x, ms_matrix *out)
{
    MS_CHECK(pca && x && out && x->cols == pca->d, MS_ERR_USAGE,
             "ms_pca_transform: NULL argument or wrong number of features");
    MS_CALL(ms_matrix_alloc(out, x->rows, pca->k));
    for (size_t i = 0; i < x->rows; i++)
        for (size_t r = 0; r < pca->k; r++) {
            double s = 0;
            for (size_t j = 0; j < pca->d; j++)
                s += (x->data[i * pca->d + j] - pca->mean[j]) * pca->components[r * pca->d + j];
            out->data[i * pca->k + r] = s;
        }
    return MS_SUCCESS;
}

size_t ms_pca_n_components(const ms_pca *pca) { return pca->k; }
size_t ms_pca_n_features(const ms_pca *pca) { return pca->d; }
const double *ms_pca_components(const ms_pca *pca) { return pca->components; }
const double *ms_pca_mean(const ms_pca *pca) { return pca->mean; }
const double *ms_pca_explained_variance(const ms_pca *pca) { return pca->var; }
const double *ms_pca_explained_variance_ratio(const ms_pca *pca) { return pca->ratio; }
