/*
 * Distributed dense linear algebra on ScaLAPACK: block-cyclic matrices on a process grid
 * (the grid itself, ms_grid, is the comm layer's: grid.h).
 *
 * Conventions
 *   - This module is the only place where matscreen's row-major ms_matrix layout meets
 *     ScaLAPACK's column-major, 2-D block-cyclic layout. Callers never see local storage: they
 *     move whole replicated matrices in (ms_dmatrix_distribute) and out (ms_dmatrix_gather), or
 *     fill and read one block at a time through callbacks that see a ROW-MAJOR block.
 *   - A grid is near-square: nprow is the largest divisor of the communicator size that is at most
 *     its square root (1 x 1, 1 x 2, 1 x 3, 2 x 2, ...). Blocks are square, block x block
 *     (default MS_GRID_BLOCK_DEFAULT = 64), and start on process (0, 0). The global block
 *     boundaries therefore do not depend on the number of ranks; only their owners do.
 *   - Serial path: a grid made by ms_grid_create_serial, or by ms_grid_create when MPI has not
 *     been initialised, uses no MPI and no BLACS: every operation calls LAPACK on the whole matrix
 *     (the storage is then exactly that of a 1 x 1 grid). A communicator of size 1 uses ScaLAPACK
 *     on a 1 x 1 grid, so that path is exercised too.
 *   - Errors are collective-aware: every function documented "Collective" returns the same status
 *     on every rank of the grid (ranks agree with ms_grid_agree before returning), so callers
 *     may branch on it without deadlocking. A rank that did not fail itself gets the message
 *     "another rank failed: ...".
 *   - Sizes are size_t at the API and must fit in a Fortran INTEGER (int) below; larger sizes fail
 *     with MS_ERR_LIMIT.
 *   - Only the LOWER triangle is used by the symmetric routines (Cholesky, inverse, eigensolver).
 */
#ifndef MATSCREEN_SCALAPACK_H
#define MATSCREEN_SCALAPACK_H

#include <stddef.h>

#include "matscreen/error.h"
#include "matscreen/grid.h" /* the process grid (comm layer) */
#include "matscreen/matrix.h"

typedef struct ms_dmatrix ms_dmatrix; /* a block-cyclic distributed matrix of doubles */

/* Creates an m x n distributed matrix of zeros on grid (borrowed; it must outlive the matrix).
 * Collective on the grid's communicator. Free with ms_dmatrix_destroy. */
ms_status ms_dmatrix_create(const ms_grid *grid, size_t m, size_t n, ms_dmatrix **out);

/* Frees a matrix and sets *a to NULL; NULL-safe. Not collective. */
void ms_dmatrix_destroy(ms_dmatrix **a);

/* Global sizes. Not collective. */
size_t ms_dmatrix_rows(const ms_dmatrix *a);
size_t ms_dmatrix_cols(const ms_dmatrix *a);

/* Sets every local element to zero. Not collective. */
void ms_dmatrix_zero(ms_dmatrix *a);

/* Copies src (same grid and size) into dst. Not collective. */
ms_status ms_dmatrix_copy(ms_dmatrix *dst, const ms_dmatrix *src);

/* Copies the blocks this rank owns from src, a row-major matrix of the same size that every rank
 * holds in full. Not collective (no communication; each rank must call it for its part). */
ms_status ms_dmatrix_distribute(ms_dmatrix *a, const ms_matrix *src);

/* Gathers the whole matrix onto every rank into dst (allocated here, rows x cols, row-major; free
 * with ms_matrix_free). Exact: each element has one owner and the others add zeros. Meant for
 * small results (vectors, d x d); it holds a full m x n buffer per rank. Collective. */
ms_status ms_dmatrix_gather(const ms_dmatrix *a, ms_matrix *dst);

/* A block callback. The block covers global rows row0 .. row0 + nrows - 1 and columns
 * col0 .. col0 + ncols - 1 and is ROW-MAJOR: element (i, j) is block[i * ld + j]. Blocks are
 * always aligned to multiples of the grid's block size, so row0 == col0 means a diagonal block. */
typedef void (*ms_dmatrix_block_fn)(void *ctx, size_t row0, size_t col0, size_t nrows,
                                    size_t ncols, double *block, size_t ld);

/* Which blocks a fill or visit covers. */
typedef enum ms_dmatrix_part {
    MS_DMATRIX_ALL = 0,  /* every local block */
    MS_DMATRIX_LOWER = 1 /* blocks on or below the block diagonal (row0 >= col0) */
} ms_dmatrix_part;

/* Calls fn for each local block of the part; what fn writes into the (uninitialised) block is
 * stored. Not collective and allocation-free. */
void ms_dmatrix_fill(ms_dmatrix *a, ms_dmatrix_part part, ms_dmatrix_block_fn fn, void *ctx);

/* Calls fn for each local block of the part with a row-major copy of it (writes are discarded).
 * Not collective and allocation-free. */
void ms_dmatrix_visit(const ms_dmatrix *a, ms_dmatrix_part part, ms_dmatrix_block_fn fn,
                      void *ctx);

/* The min(m, n) diagonal elements of a, replicated exactly on every rank. Collective. */
ms_status ms_dmatrix_diagonal(const ms_dmatrix *a, double *diag);

/* Sums of squares of each column (n values, on every rank). Collective. */
ms_status ms_dmatrix_column_sumsq(const ms_dmatrix *a, double *out);

/* Cholesky factorisation A = L L^T of the lower triangle of square a, in place (pdpotrf /
 * dpotrf). Fails with MS_ERR_INVALID on every rank when A is not positive definite. Collective. */
ms_status ms_dmatrix_cholesky(ms_dmatrix *a);

/* Solves A X = B for X in place in b, with l from ms_dmatrix_cholesky (pdpotrs / dpotrs).
 * Collective. */
ms_status ms_dmatrix_cholesky_solve(const ms_dmatrix *l, ms_dmatrix *b);

/* Replaces the factor l by the lower triangle of A^-1 (pdpotri / dpotri). Collective. */
ms_status ms_dmatrix_cholesky_inverse(ms_dmatrix *l);

/* B := L^-1 B with the lower triangular l (pdtrsm / dtrsm). Collective. */
ms_status ms_dmatrix_lower_solve(const ms_dmatrix *l, ms_dmatrix *b);

/* Eigen-decomposition of the symmetric a (lower triangle; destroyed): w (n values, ascending,
 * every rank) and the eigenvectors as the columns of z (same grid and size as a) (pdsyevd /
 * dsyevd). Collective. */
ms_status ms_dmatrix_eigh(ms_dmatrix *a, double *w, ms_dmatrix *z);

#endif /* MATSCREEN_SCALAPACK_H */
