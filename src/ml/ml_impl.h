/* Helpers shared by the model modules of src/ml. Private to the ml layer; never installed. */
#ifndef MS_ML_IMPL_H
#define MS_ML_IMPL_H

#include <mpi.h>

/* 1 when MPI can be called: initialised and not yet finalised. Library functions that take a
 * communicator run as a single rank otherwise, so serial programs and tests need no mpirun. */
static inline int ms_mpi_usable(void)
{
    int init = 0, fin = 0;
    MPI_Initialized(&init);
    if (!init) return 0;
    MPI_Finalized(&fin);
    return !fin;
}

/* Rank and size of comm, or 0 and 1 when MPI is not usable. */
static inline void ms_mpi_rank_size(MPI_Comm comm, int *rank, int *size)
{
    *rank = 0;
    *size = 1;
    if (!ms_mpi_usable()) return;
    MPI_Comm_rank(comm, rank);
    MPI_Comm_size(comm, size);
}

#endif
