/*
 * Private to src/ml: the ScaLAPACK, BLACS, LAPACK and BLAS prototypes matscreen calls, declared
 * once here (no C header ships with Debian's libscalapack-openmpi-dev 2.2.1 or reference LAPACK),
 * and the definition of the distributed-matrix object of matscreen/scalapack.h.
 * Never installed; a public header never includes it.
 *
 * Fortran calling conventions (gfortran, which builds Debian's ScaLAPACK, LAPACK and OpenBLAS's
 * Fortran interface):
 *   - Every argument is passed by reference, including scalars: `int n` becomes `const int *n`.
 *   - INTEGER is a 32-bit int (the LP64 builds Debian ships), DOUBLE PRECISION is double.
 *   - Arrays are column-major with an explicit leading dimension (LDA >= max(1, rows)).
 *   - Names are lower case with one trailing underscore (pdpotrf_).
 *   - Each CHARACTER argument adds a hidden length argument, appended after all visible arguments
 *     in the order of the CHARACTER arguments; gfortran >= 8 types it size_t. We declare and pass
 *     them (always 1) instead of relying on callers that ignore them, which is undefined
 *     behaviour under link-time optimisation (the LAPACK_FORTRAN_STRLEN_END convention of
 *     LAPACKE's lapack.h).
 *   - The BLACS C interface (Cblacs_*) is C: values, no hidden lengths; "Row" is a C string.
 *
 * Descriptors (DESC, 9 ints, "DTYPE_ = 1" dense block-cyclic):
 *   [0] dtype = 1, [1] ctxt, [2] m, [3] n, [4] mb, [5] nb, [6] rsrc, [7] csrc, [8] lld.
 * matscreen always uses square blocks (mb = nb, required by pdpotrf and pdsyevd) and source
 * process (0, 0).
 */
#ifndef MATSCREEN_SCALAPACK_IMPL_H
#define MATSCREEN_SCALAPACK_IMPL_H

#include <stddef.h>

#include "matscreen/scalapack.h"

/* ---- BLACS: the grid is src/comm/grid.c (grid.h); its context reaches the descriptors through
 * ms_grid_context. ---- */

/* ---- ScaLAPACK tools (no CHARACTER arguments) ---- */

/* Number of rows (or columns) of an n-long dimension distributed in blocks of nb that process
 * coordinate iproc of nprocs owns, with the first block on isrcproc. */
int numroc_(const int *n, const int *nb, const int *iproc, const int *isrcproc,
            const int *nprocs);
/* Fills a descriptor; info < 0 names the bad argument. */
void descinit_(int *desc, const int *m, const int *n, const int *mb, const int *nb,
               const int *irsrc, const int *icsrc, const int *ictxt, const int *lld, int *info);

/* ---- ScaLAPACK drivers (PBLAS / PDLA; hidden lengths after the visible arguments) ---- */

/* Cholesky factorisation of the uplo triangle of sub(A) = A(ia:ia+n-1, ja:ja+n-1). */
void pdpotrf_(const char *uplo, const int *n, double *a, const int *ia, const int *ja,
              const int *desca, int *info, size_t uplo_len);
/* Solves A X = B with the factor from pdpotrf. */
void pdpotrs_(const char *uplo, const int *n, const int *nrhs, const double *a, const int *ia,
              const int *ja, const int *desca, double *b, const int *ib, const int *jb,
              const int *descb, int *info, size_t uplo_len);
/* Inverse of A from its Cholesky factor, in place (uplo triangle only). */
void pdpotri_(const char *uplo, const int *n, double *a, const int *ia, const int *ja,
              const int *desca, int *info, size_t uplo_len);
/* Triangular solve with multiple right-hand sides: B := alpha op(A)^-1 B (side = "L"). */
void pdtrsm_(const char *side, const char *uplo, const char *transa, const char *diag,
             const int *m, const int *n, const double *alpha, const double *a, const int *ia,
             const int *ja, const int *desca, double *b, const int *ib, const int *jb,
             const int *descb, size_t side_len, size_t uplo_len, size_t transa_len,
             size_t diag_len);
/* Symmetric eigensolver, divide and conquer; w ascending and replicated on every process.
 * lwork = liwork = -1 queries the workspace sizes into work[0] and iwork[0]. */
void pdsyevd_(const char *jobz, const char *uplo, const int *n, double *a, const int *ia,
              const int *ja, const int *desca, double *w, double *z, const int *iz,
              const int *jz, const int *descz, double *work, const int *lwork, int *iwork,
              const int *liwork, int *info, size_t jobz_len, size_t uplo_len);

/* ---- LAPACK and BLAS (serial path and per-block kernels) ---- */

void dpotrf_(const char *uplo, const int *n, double *a, const int *lda, int *info,
             size_t uplo_len);
void dpotrs_(const char *uplo, const int *n, const int *nrhs, const double *a, const int *lda,
             double *b, const int *ldb, int *info, size_t uplo_len);
void dpotri_(const char *uplo, const int *n, double *a, const int *lda, int *info,
             size_t uplo_len);
void dposv_(const char *uplo, const int *n, const int *nrhs, double *a, const int *lda,
            double *b, const int *ldb, int *info, size_t uplo_len);
void dsyevd_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda,
             double *w, double *work, const int *lwork, int *iwork, const int *liwork, int *info,
             size_t jobz_len, size_t uplo_len);
void dtrsm_(const char *side, const char *uplo, const char *transa, const char *diag,
            const int *m, const int *n, const double *alpha, const double *a, const int *lda,
            double *b, const int *ldb, size_t side_len, size_t uplo_len, size_t transa_len,
            size_t diag_len);
void dtrsv_(const char *uplo, const char *trans, const char *diag, const int *n, const double *a,
            const int *lda, double *x, const int *incx, size_t uplo_len, size_t trans_len,
            size_t diag_len);
void dgemm_(const char *transa, const char *transb, const int *m, const int *n, const int *k,
            const double *alpha, const double *a, const int *lda, const double *b, const int *ldb,
            const double *beta, double *c, const int *ldc, size_t transa_len, size_t transb_len);
void dsyrk_(const char *uplo, const char *trans, const int *n, const int *k, const double *alpha,
            const double *a, const int *lda, const double *beta, double *c, const int *ldc,
            size_t uplo_len, size_t trans_len);

/* ---- Object definitions ---- */

struct ms_dmatrix {
    const ms_grid *grid; /* borrowed */
    int m, n;            /* global size */
    int locr, locc;      /* local rows and columns */
    int lld;             /* local leading dimension, max(1, locr) */
    int desc[9];         /* ScaLAPACK descriptor (unused in serial mode) */
    double *local;       /* locr x locc, column-major, lld */
    double *scratch;     /* block x block, for the row-major block callbacks */
};

#endif /* MATSCREEN_SCALAPACK_IMPL_H */
