/*
 * A process grid for ScaLAPACK (BLACS) on a private duplicate of a communicator, and the three
 * collectives the distributed linear algebra of src/ml needs on it (agree, sum, broadcast). It
 * lives in the comm layer so that MPI and BLACS stay in one place; the block-cyclic matrices that
 * use it are ml/scalapack.c (scalapack.h).
 *
 *   - A grid is near-square: nprow is the largest divisor of the communicator size that is at most
 *     its square root (1 x 1, 1 x 2, 1 x 3, 2 x 2, ...). Blocks are square, block x block
 *     (default MS_GRID_BLOCK_DEFAULT = 64), and start on process (0, 0).
 *   - Serial grid: made by ms_grid_create_serial, or by ms_grid_create when MPI has not been
 *     initialised; it uses no MPI and no BLACS (a 1 x 1 layout) and its collectives are no-ops.
 */
#ifndef MATSCREEN_GRID_H
#define MATSCREEN_GRID_H

#include <mpi.h>
#include <stddef.h>

#include "matscreen/error.h"

#define MS_GRID_BLOCK_DEFAULT 64

typedef struct ms_grid ms_grid;       /* a BLACS process grid on a private communicator */

/* Creates a near-square grid over every rank of comm with square blocks of `block` rows
 * (<= 0 means MS_GRID_BLOCK_DEFAULT). The communicator is duplicated; comm may be freed after.
 * When MPI is not initialised the grid is serial (see the conventions). Collective on comm.
 * Free with ms_grid_destroy. */
ms_status ms_grid_create(MPI_Comm comm, int block, ms_grid **out);

/* Creates a serial grid (LAPACK path, no MPI calls). Not collective. */
ms_status ms_grid_create_serial(int block, ms_grid **out);

/* Releases the grid and sets *g to NULL; NULL or *g == NULL is a no-op. Collective on the grid's
 * communicator (it frees a BLACS context and a communicator). Destroy every ms_dmatrix of the
 * grid first. */
void ms_grid_destroy(ms_grid **g);

/* Accessors. Not collective. ms_grid_comm is MPI_COMM_NULL for a serial grid. */
int ms_grid_rank(const ms_grid *g);
int ms_grid_size(const ms_grid *g);
int ms_grid_is_serial(const ms_grid *g);
void ms_grid_shape(const ms_grid *g, int *nprow, int *npcol);
int ms_grid_block(const ms_grid *g);
MPI_Comm ms_grid_comm(const ms_grid *g);

/* Agreement on success: returns the largest status over the ranks of the grid (MS_SUCCESS only
 * when every rank passed MS_SUCCESS). A rank whose own status was MS_SUCCESS but receives a
 * failure gets the message "another rank failed". Collective on the grid's communicator. */
ms_status ms_grid_agree(const ms_grid *g, ms_status local);

/* Sums n doubles over the ranks in place (MPI_Allreduce SUM, result on every rank; identity on a
 * serial grid). The summation order is MPI's. Collective. */
ms_status ms_grid_sum(const ms_grid *g, double *x, size_t n);

/* Broadcasts n doubles from rank 0 of the grid. Collective. */
ms_status ms_grid_bcast(const ms_grid *g, double *x, size_t n);

/* For the block-cyclic matrices (scalapack.c): the BLACS context (-1 serial) and this process's
 * row and column in the grid (0, 0 serial). Not collective. */
int ms_grid_context(const ms_grid *g);
void ms_grid_coords(const ms_grid *g, int *myrow, int *mycol);

#endif /* MATSCREEN_GRID_H */
