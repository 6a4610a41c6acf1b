/*
 * Process grids and block-cyclic matrices on ScaLAPACK; see matscreen/scalapack.h.
 *
 * This file is the only place where the row-major ms_matrix layout is converted to and from
 * ScaLAPACK's column-major block-cyclic layout. Prototypes and object layouts live in
 * scalapack_impl.h. Every Fortran call passes the hidden CHARACTER lengths explicitly (1).
 */
#include "ml_impl.h"
#include "scalapack_impl.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* ---- distributed matrices ---- */

ms_status ms_dmatrix_create(const ms_grid *grid, size_t m, size_t n, ms_dmatrix **out)
{
    ms_status st = MS_SUCCESS;
    ms_dmatrix *a = NULL;
    if (!grid || !out || m == 0 || n == 0)
        st = ms_error_set(MS_ERR_USAGE, "ms_dmatrix_create: NULL argument or empty size");
    else if (m > INT_MAX || n > INT_MAX)
        st = ms_error_set(MS_ERR_LIMIT, "ms_dmatrix_create: %zu x %zu exceeds Fortran INTEGER", m,
                          n);
    if (st == MS_SUCCESS) {
        a = calloc(1, sizeof *a);
        if (!a) st = ms_error_set(MS_ERR_NOMEM, "ms_dmatrix_create: out of memory");
    }
    if (st == MS_SUCCESS) {
        const int zero = 0, nb = ms_grid_block(grid);
        a->grid = grid;
        a->m = (int)m;
        a->n = (int)n;
        int nprow, npcol, myrow, mycol;
        ms_grid_shape(grid, &nprow, &npcol);
        ms_grid_coords(grid, &myrow, &mycol);
        a->locr = numroc_(&a->m, &nb, &myrow, &zero, &nprow);
        a->locc = numroc_(&a->n, &nb, &mycol, &zero, &npcol);
        a->lld = a->locr > 1 ? a->locr : 1;
        size_t count = (size_t)a->lld * (size_t)(a->locc > 0 ? a->locc : 1);
        a->local = calloc(count, sizeof *a->local);
        a->scratch = malloc((size_t)nb * (size_t)nb * sizeof *a->scratch);
        if (!a->local || !a->scratch)
            st = ms_error_set(MS_ERR_NOMEM, "ms_dmatrix_create: %zu doubles", count);
        if (st == MS_SUCCESS && !ms_grid_is_serial(grid)) {
            int info = 0, ctxt = ms_grid_context(grid);
            descinit_(a->desc, &a->m, &a->n, &nb, &nb, &zero, &zero, &ctxt, &a->lld, &info);
            if (info != 0)
                st = ms_error_set(MS_ERR_INTERNAL, "ms_dmatrix_create: descinit info %d", info);
        }
    }
    if (grid) st = ms_grid_agree(grid, st);
    if (st != MS_SUCCESS) {
        ms_dmatrix_destroy(&a);
        if (out) *out = NULL;
        return st;
    }
    *out = a;
    return MS_SUCCESS;
}

void ms_dmatrix_destroy(ms_dmatrix **a)
{
    if (!a || !*a) return;
    free((*a)->local);
    free((*a)->scratch);
    free(*a);
    *a = NULL;
}

size_t ms_dmatrix_rows(const ms_dmatrix *a) { return (size_t)a->m; }
size_t ms_dmatrix_cols(const ms_dmatrix *a) { return (size_t)a->n; }

void ms_dmatrix_zero(ms_dmatrix *a)
{
    memset(a->local, 0, (size_t)a->lld * (size_t)a->locc * sizeof *a->local);
}

ms_status ms_dmatrix_copy(ms_dmatrix *dst, const ms_dmatrix *src)
{
    MS_CHECK(dst->grid == src->grid && dst->m == src->m && dst->n == src->n, MS_ERR_USAGE,
             "ms_dmatrix_copy: different grids or sizes");
    memcpy(dst->local, src->local, (size_t)src->lld * (size_t)src->locc * sizeof *src->local);
    return MS_SUCCESS;
}

/* Iteration over the local blocks: global origin, size and local origin of each. */
typedef struct block_it {
    size_t grow, gcol;   /* global origin */
    size_t nr, nc;       /* size */
    size_t lrow, lcol;   /* local origin */
} block_it;

/* Calls body(a, &it, arg) for every local block of the part. */
static void for_blocks(const ms_dmatrix *a, ms_dmatrix_part part,
                       void (*body)(const ms_dmatrix *, const block_it *, void *), void *arg)
{
    int nprow, npcol, myrow, mycol;
    ms_grid_shape(a->grid, &nprow, &npcol);
    ms_grid_coords(a->grid, &myrow, &mycol);
    const size_t nb = (size_t)ms_grid_block(a->grid);
    for (size_t lc = 0;; lc++) {
        size_t gbc = lc * (size_t)npcol + (size_t)mycol;
        size_t gcol = gbc * nb;
        if (gcol >= (size_t)a->n) break;
        for (size_t lr = 0;; lr++) {
            size_t gbr = lr * (size_t)nprow + (size_t)myrow;
            size_t grow = gbr * nb;
            if (grow >= (size_t)a->m) break;
            if (part == MS_DMATRIX_LOWER && grow < gcol) continue;
            block_it it = {grow, gcol, (size_t)a->m - grow < nb ? (size_t)a->m - grow : nb,
                           (size_t)a->n - gcol < nb ? (size_t)a->n - gcol : nb, lr * nb, lc * nb};
            body(a, &it, arg);
        }
    }
}

typedef struct {
    ms_dmatrix_block_fn fn;
    void *ctx;
    int store;
} cb_arg;

/* Runs the callback on a row-major scratch copy; stores it back when filling. */
static void block_callback(const ms_dmatrix *a, const block_it *it, void *arg)
{
    const cb_arg *c = arg;
    double *s = a->scratch;
    const size_t lld = (size_t)a->lld;
    if (!c->store)
        for (size_t i = 0; i < it->nr; i++)
            for (size_t j = 0; j < it->nc; j++)
                s[i * it->nc + j] = a->local[(it->lrow + i) + (it->lcol + j) * lld];
    c->fn(c->ctx, it->grow, it->gcol, it->nr, it->nc, s, it->nc);
    if (c->store)
        for (size_t j = 0; j < it->nc; j++)
            for (size_t i = 0; i < it->nr; i++)
                a->local[(it->lrow + i) + (it->lcol + j) * lld] = s[i * it->nc + j];
}

void ms_dmatrix_fill(ms_dmatrix *a, ms_dmatrix_part part, ms_dmatrix_block_fn fn, void *ctx)
{
    cb_arg c = {fn, ctx, 1};
    for_blocks(a, part, block_callback, &c);
}

void ms_dmatrix_visit(const ms_dmatrix *a, ms_dmatrix_part part, ms_dmatrix_block_fn fn,
                      void *ctx)
{
    cb_arg c = {fn, ctx, 0};
    for_blocks(a, part, block_callback, &c);
}

typedef struct {
    const ms_matrix *src;
    double *dst; /* row-major m x n, for gather */
} copy_arg;

static void block_from_rowmajor(const ms_dmatrix *a, const block_it *it, void *arg)
{
    const ms_matrix *src = ((copy_arg *)arg)->src;
    const size_t lld = (size_t)a->lld;
    for (size_t j = 0; j < it->nc; j++)
        for (size_t i = 0; i < it->nr; i++)
            a->local[(it->lrow + i) + (it->lcol + j) * lld] =
                src->data[(it->grow + i) * src->cols + it->gcol + j];
}

static void block_to_rowmajor(const ms_dmatrix *a, const block_it *it, void *arg)
{
    double *dst = ((copy_arg *)arg)->dst;
    const size_t lld = (size_t)a->lld, n = (size_t)a->n;
    for (size_t i = 0; i < it->nr; i++)
        for (size_t j = 0; j < it->nc; j++)
            dst[(it->grow + i) * n + it->gcol + j] =
                a->local[(it->lrow + i) + (it->lcol + j) * lld];
}

ms_status ms_dmatrix_distribute(ms_dmatrix *a, const ms_matrix *src)
{
    MS_CHECK(src && src->rows == (size_t)a->m && src->cols == (size_t)a->n, MS_ERR_USAGE,
             "ms_dmatrix_distribute: source is not %d x %d", a->m, a->n);
    copy_arg c = {src, NULL};
    for_blocks(a, MS_DMATRIX_ALL, block_from_rowmajor, &c);
    return MS_SUCCESS;
}

ms_status ms_dmatrix_gather(const ms_dmatrix *a, ms_matrix *dst)
{
    ms_status st = MS_SUCCESS;
    size_t count = (size_t)a->m * (size_t)a->n;
    if (count > INT_MAX)
        st = ms_error_set(MS_ERR_LIMIT, "ms_dmatrix_gather: %zu elements exceed an MPI count",
                          count);
    else
        st = ms_matrix_alloc(dst, (size_t)a->m, (size_t)a->n);
    st = ms_grid_agree(a->grid, st);
    if (st != MS_SUCCESS) {
        ms_matrix_free(dst);
        return st;
    }
    copy_arg c = {NULL, dst->data};
    for_blocks(a, MS_DMATRIX_ALL, block_to_rowmajor, &c);
    return ms_grid_sum(a->grid, dst->data, count);
}

typedef struct {
    double *out;
} diag_arg;

static void block_diag(const ms_dmatrix *a, const block_it *it, void *arg)
{
    double *out = ((diag_arg *)arg)->out;
    const size_t lld = (size_t)a->lld;
    if (it->grow != it->gcol) return;
    size_t k = it->nr < it->nc ? it->nr : it->nc;
    for (size_t i = 0; i < k; i++)
        out[it->grow + i] = a->local[(it->lrow + i) + (it->lcol + i) * lld];
}

ms_status ms_dmatrix_diagonal(const ms_dmatrix *a, double *diag)
{
    size_t k = (size_t)(a->m < a->n ? a->m : a->n);
    memset(diag, 0, k * sizeof *diag);
    diag_arg c = {diag};
    for_blocks(a, MS_DMATRIX_LOWER, block_diag, &c);
    return ms_grid_sum(a->grid, diag, k);
}

static void block_sumsq(const ms_dmatrix *a, const block_it *it, void *arg)
{
    double *out = ((diag_arg *)arg)->out;
    const size_t lld = (size_t)a->lld;
    for (size_t j = 0; j < it->nc; j++) {
        const double *col = a->local + it->lrow + (it->lcol + j) * lld;
        double s = 0;
        for (size_t i = 0; i < it->nr; i++) s += col[i] * col[i];
        out[it->gcol + j] += s;
    }
}

ms_status ms_dmatrix_column_sumsq(const ms_dmatrix *a, double *out)
{
    memset(out, 0, (size_t)a->n * sizeof *out);
    diag_arg c = {out};
    for_blocks(a, MS_DMATRIX_ALL, block_sumsq, &c);
    return ms_grid_sum(a->grid, out, (size_t)a->n);
}

/* ---- solvers: each turns info into a status and agrees on it ---- */

static ms_status info_status(const ms_grid *g, const char *what, int info)
{
    ms_status st = MS_SUCCESS;
    if (info > 0)
        st = ms_error_set(MS_ERR_INVALID, "%s: the matrix is not positive definite or is "
                          "singular (info %d)", what, info);
    else if (info < 0)
        st = ms_error_set(MS_ERR_INTERNAL, "%s: argument %d is invalid", what, -info);
    return ms_grid_agree(g, st);
}

ms_status ms_dmatrix_cholesky(ms_dmatrix *a)
{
    MS_CHECK(a->m == a->n, MS_ERR_USAGE, "ms_dmatrix_cholesky: matrix is not square");
    const int one = 1;
    int info = 0;
    if (ms_grid_is_serial(a->grid))
        dpotrf_("L", &a->n, a->local, &a->lld, &info, 1);
    else
        pdpotrf_("L", &a->n, a->local, &one, &one, a->desc, &info, 1);
    return info_status(a->grid, "Cholesky factorisation", info);
}

ms_status ms_dmatrix_cholesky_solve(const ms_dmatrix *l, ms_dmatrix *b)
{
    MS_CHECK(l->m == l->n && b->m == l->m && b->grid == l->grid, MS_ERR_USAGE,
             "ms_dmatrix_cholesky_solve: sizes or grids differ");
    const int one = 1;
    int info = 0;
    if (ms_grid_is_serial(l->grid))
        dpotrs_("L", &l->n, &b->n, l->local, &l->lld, b->local, &b->lld, &info, 1);
    else
        pdpotrs_("L", &l->n, &b->n, l->local, &one, &one, l->desc, b->local, &one, &one, b->desc,
                 &info, 1);
    return info_status(l->grid, "Cholesky solve", info);
}

ms_status ms_dmatrix_cholesky_inverse(ms_dmatrix *l)
{
    MS_CHECK(l->m == l->n, MS_ERR_USAGE, "ms_dmatrix_cholesky_inverse: matrix is not square");
    const int one = 1;
    int info = 0;
    if (ms_grid_is_serial(l->grid))
        dpotri_("L", &l->n, l->local, &l->lld, &info, 1);
    else
        pdpotri_("L", &l->n, l->local, &one, &one, l->desc, &info, 1);
    return info_status(l->grid, "inverse from the Cholesky factor", info);
}

ms_status ms_dmatrix_lower_solve(const ms_dmatrix *l, ms_dmatrix *b)
{
    MS_CHECK(l->m == l->n && b->m == l->m && b->grid == l->grid, MS_ERR_USAGE,
             "ms_dmatrix_lower_solve: sizes or grids differ");
    const int one = 1;
    const double done = 1.0;
    if (ms_grid_is_serial(l->grid))
        dtrsm_("L", "L", "N", "N", &b->m, &b->n, &done, l->local, &l->lld, b->local, &b->lld, 1, 1,
               1, 1);
    else
        pdtrsm_("L", "L", "N", "N", &b->m, &b->n, &done, l->local, &one, &one, l->desc, b->local,
                &one, &one, b->desc, 1, 1, 1, 1);
    return ms_grid_agree(l->grid, MS_SUCCESS);
}

ms_status ms_dmatrix_eigh(ms_dmatrix *a, double *w, ms_dmatrix *z)
{
    MS_CHECK(a->m == a->n && z->m == a->m && z->n == a->n && z->grid == a->grid, MS_ERR_USAGE,
             "ms_dmatrix_eigh: sizes or grids differ");
    const int one = 1, query = -1;
    int info = 0, iwq = 0;
    double wq = 0;
    if (ms_grid_is_serial(a->grid))
        dsyevd_("V", "L", &a->n, a->local, &a->lld, w, &wq, &query, &iwq, &query, &info, 1, 1);
    else
        pdsyevd_("V", "L", &a->n, a->local, &one, &one, a->desc, w, z->local, &one, &one, z->desc,
                 &wq, &query, &iwq, &query, &info, 1, 1);
    ms_status st = info_status(a->grid, "eigensolver workspace query", info);
    if (st != MS_SUCCESS) return st;
    /* pdsyevd's query comes out short on some grids (ScaLAPACK 2.2.1, 2 x 2, n = 131, nb = 64:
     * PDORMTR then rejects LWORK and pdsyevd still returns info = 0 with wrong vectors). Add
     * what PDORMTR documents it needs, max((NQ + MP) NB, NB (NB - 1) / 2) + NB^2, on top. */
    const int zero = 0, nb = ms_grid_block(a->grid);
    int nprow, npcol, myrow, mycol;
    ms_grid_shape(a->grid, &nprow, &npcol);
    ms_grid_coords(a->grid, &myrow, &mycol);
    int mp = numroc_(&a->n, &nb, &myrow, &zero, &nprow);
    int nq = numroc_(&a->n, &nb, &mycol, &zero, &npcol);
    int lwork = (int)wq + (mp + nq + 2) * nb + nb * nb + 2 * a->n + 64;
    int liwork = iwq + 2 * a->n + 64;
    double *work = malloc((size_t)lwork * sizeof *work);
    int *iwork = malloc((size_t)liwork * sizeof *iwork);
    st = (work && iwork) ? MS_SUCCESS
                         : ms_error_set(MS_ERR_NOMEM, "ms_dmatrix_eigh: workspace of %d doubles",
                                        lwork);
    st = ms_grid_agree(a->grid, st);
    if (st == MS_SUCCESS) {
        if (ms_grid_is_serial(a->grid)) {
            dsyevd_("V", "L", &a->n, a->local, &a->lld, w, work, &lwork, iwork, &liwork, &info, 1,
                    1);
            if (info == 0) ms_dmatrix_copy(z, a);
        } else {
            pdsyevd_("V", "L", &a->n, a->local, &one, &one, a->desc, w, z->local, &one, &one,
                     z->desc, work, &lwork, iwork, &liwork, &info, 1, 1);
        }
        st = info_status(a->grid, "symmetric eigensolver", info);
    }
    free(work);
    free(iwork);
    return st;
}
