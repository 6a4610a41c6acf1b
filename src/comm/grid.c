/*
 * The BLACS process grid and its collectives; see matscreen/grid.h. The only file that calls
 * BLACS (libscalapack-openmpi's C interface, declared here: Debian ships no header for it).
 */
#include "matscreen/grid.h"

#include <limits.h>
#include <stdlib.h>

/* ---- BLACS (C interface of libscalapack-openmpi) ---- */

/* Returns a BLACS system handle for an MPI communicator (the C interface's MPI bridge). */
int Csys2blacs_handle(MPI_Comm comm);
/* Releases a handle from Csys2blacs_handle. */
void Cfree_blacs_system_handle(int handle);
/* what = 0: the default system context; used here only through Csys2blacs_handle. */
void Cblacs_get(int icontxt, int what, int *val);
/* Creates an nprow x npcol grid on the system context *icontxt (in: handle, out: context);
 * order "Row" numbers processes row-major. Collective over the handle's communicator. */
void Cblacs_gridinit(int *icontxt, const char *order, int nprow, int npcol);
/* This process's place in the grid; myrow = -1 when it is not part of it. */
void Cblacs_gridinfo(int icontxt, int *nprow, int *npcol, int *myrow, int *mycol);
/* Frees a grid context. */
void Cblacs_gridexit(int icontxt);

/* 1 when MPI can be called: initialised and not yet finalised (a serial program gets a serial
 * grid and needs no mpirun). */
static int mpi_usable(void)
{
    int init = 0, fin = 0;
    MPI_Initialized(&init);
    if (!init) return 0;
    MPI_Finalized(&fin);
    return !fin;
}

struct ms_grid {
    MPI_Comm comm;      /* private duplicate of the caller's communicator; MPI_COMM_NULL serial */
    int serial;         /* 1: no BLACS, LAPACK on the whole matrix (layout of a 1 x 1 grid) */
    int handle;         /* BLACS system handle (Csys2blacs_handle), -1 serial */
    int ctxt;           /* BLACS context, -1 serial */
    int nprow, npcol;   /* grid shape */
    int myrow, mycol;   /* this process */
    int rank, size;     /* in comm; 0 and 1 serial */
    int block;          /* block size (rows = columns) */
};

static ms_status grid_alloc(int block, ms_grid **out)
{
    MS_CHECK(out != NULL, MS_ERR_USAGE, "ms_grid_create: NULL output");
    *out = NULL;
    ms_grid *g = calloc(1, sizeof *g);
    MS_CHECK(g != NULL, MS_ERR_NOMEM, "ms_grid_create: out of memory");
    g->comm = MPI_COMM_NULL;
    g->serial = 1;
    g->handle = -1;
    g->ctxt = -1;
    g->nprow = g->npcol = 1;
    g->myrow = g->mycol = 0;
    g->rank = 0;
    g->size = 1;
    g->block = block > 0 ? block : MS_GRID_BLOCK_DEFAULT;
    *out = g;
    return MS_SUCCESS;
}

ms_status ms_grid_create_serial(int block, ms_grid **out)
{
    return grid_alloc(block, out);
}

ms_status ms_grid_create(MPI_Comm comm, int block, ms_grid **out)
{
    if (!mpi_usable()) return grid_alloc(block, out);
    MS_CHECK(out != NULL && comm != MPI_COMM_NULL, MS_ERR_USAGE,
             "ms_grid_create: NULL output or MPI_COMM_NULL");
    ms_grid *g = NULL;
    ms_status st = grid_alloc(block, &g);
    /* the block size must be the same everywhere: a mismatch would corrupt every descriptor */
    int blk[2] = {g ? g->block : 0, g ? -g->block : 0};
    MPI_Allreduce(MPI_IN_PLACE, blk, 2, MPI_INT, MPI_MAX, comm);
    int agreed = (int)st;
    MPI_Allreduce(MPI_IN_PLACE, &agreed, 1, MPI_INT, MPI_MAX, comm);
    if (agreed != MS_SUCCESS || blk[0] != -blk[1]) {
        free(g);
        *out = NULL;
        if (st != MS_SUCCESS) return st;
        return ms_error_set(agreed != MS_SUCCESS ? (ms_status)agreed : MS_ERR_USAGE,
                            agreed != MS_SUCCESS ? "another rank failed: ms_grid_create"
                                                 : "ms_grid_create: ranks passed different "
                                                   "block sizes");
    }
    MPI_Comm_dup(comm, &g->comm);
    MPI_Comm_rank(g->comm, &g->rank);
    MPI_Comm_size(g->comm, &g->size);
    int nprow = 1;
    for (int p = 1; (long)p * p <= g->size; p++)
        if (g->size % p == 0) nprow = p;
    g->nprow = nprow;
    g->npcol = g->size / nprow;
    g->serial = 0;
    g->handle = Csys2blacs_handle(g->comm);
    g->ctxt = g->handle;
    Cblacs_gridinit(&g->ctxt, "Row", g->nprow, g->npcol);
    int pr, pc;
    Cblacs_gridinfo(g->ctxt, &pr, &pc, &g->myrow, &g->mycol);
    ms_status ok = (g->myrow >= 0 && g->mycol >= 0) ? MS_SUCCESS : MS_ERR_INTERNAL;
    if (ok != MS_SUCCESS) ms_error_set(ok, "ms_grid_create: BLACS did not place rank %d", g->rank);
    ok = ms_grid_agree(g, ok);
    if (ok != MS_SUCCESS) {
        ms_grid_destroy(&g);
        *out = NULL;
        return ok;
    }
    *out = g;
    return MS_SUCCESS;
}

void ms_grid_destroy(ms_grid **g)
{
    if (!g || !*g) return;
    ms_grid *p = *g;
    if (!p->serial && mpi_usable()) {
        if (p->ctxt >= 0) Cblacs_gridexit(p->ctxt);
        if (p->handle >= 0) Cfree_blacs_system_handle(p->handle);
        if (p->comm != MPI_COMM_NULL) MPI_Comm_free(&p->comm);
    }
    free(p);
    *g = NULL;
}

int ms_grid_rank(const ms_grid *g) { return g->rank; }
int ms_grid_size(const ms_grid *g) { return g->size; }
int ms_grid_is_serial(const ms_grid *g) { return g->serial; }
int ms_grid_block(const ms_grid *g) { return g->block; }
MPI_Comm ms_grid_comm(const ms_grid *g) { return g->serial ? MPI_COMM_NULL : g->comm; }

void ms_grid_shape(const ms_grid *g, int *nprow, int *npcol)
{
    if (nprow) *nprow = g->nprow;
    if (npcol) *npcol = g->npcol;
}

ms_status ms_grid_agree(const ms_grid *g, ms_status local)
{
    if (g->serial) return local;
    int v = (int)local;
    MPI_Allreduce(MPI_IN_PLACE, &v, 1, MPI_INT, MPI_MAX, g->comm);
    if (v != MS_SUCCESS && local == MS_SUCCESS)
        return ms_error_set((ms_status)v, "another rank failed: %s", ms_strerror((ms_status)v));
    return (ms_status)v;
}

ms_status ms_grid_sum(const ms_grid *g, double *x, size_t n)
{
    if (g->serial || n == 0) return MS_SUCCESS;
    MS_CHECK(n <= INT_MAX, MS_ERR_LIMIT, "ms_grid_sum: %zu values exceed an MPI count", n);
    MPI_Allreduce(MPI_IN_PLACE, x, (int)n, MPI_DOUBLE, MPI_SUM, g->comm);
    return MS_SUCCESS;
}

ms_status ms_grid_bcast(const ms_grid *g, double *x, size_t n)
{
    if (g->serial || n == 0) return MS_SUCCESS;
    MS_CHECK(n <= INT_MAX, MS_ERR_LIMIT, "ms_grid_bcast: %zu values exceed an MPI count", n);
    MPI_Bcast(x, (int)n, MPI_DOUBLE, 0, g->comm);
    return MS_SUCCESS;
}

int ms_grid_context(const ms_grid *g) { return g->ctxt; }

void ms_grid_coords(const ms_grid *g, int *myrow, int *mycol)
{
    if (myrow) *myrow = g->myrow;
    if (mycol) *mycol = g->mycol;
}
