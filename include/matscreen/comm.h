/*
 * The MPI layer (src/comm/), just above core: everything below it (core, io, quality, features)
 * is plain C without an MPI header; everything above calls MPI through these functions or, for
 * the distributed algorithms docs/architecture.md lists, on a communicator it is given.
 *
 * Conventions
 *   - MPI is initialised once, by the program (cli/main.c) for the commands that use it, and
 *     finalised once when the command returns. No command or library function calls MPI_Init.
 *   - "Agree" is the one collective that keeps ranks in step after a step that can fail on some
 *     ranks only: every rank learns whether all succeeded, so no rank enters the next collective
 *     call alone. Each rank keeps its own message; the ranks that did not fail get a message
 *     saying another rank did.
 */
#ifndef MATSCREEN_COMM_H
#define MATSCREEN_COMM_H

#include <mpi.h>
#include <stddef.h>

#include "matscreen/error.h"

/* Initialises MPI unless it already is (a singleton without mpirun), asking for
 * MPI_THREAD_FUNNELED: a process may run helper threads as long as only its main thread calls
 * MPI. Returns 0, or 1 when MPI could not start (its message printed by MPI). */
int ms_comm_init(int *argc, char ***argv);

/* 1 when this process may run helper threads beside MPI (MPI not initialised, or initialised
 * with at least MPI_THREAD_FUNNELED), else 0: code that would start a thread then does the work
 * on the calling thread. */
int ms_comm_threads_allowed(void);

/* Finalises MPI when ms_comm_init started it and it is not finalised yet. */
void ms_comm_finalize(void);

/* Broadcasts *v from rank 0, waiting without spinning (MPI_Ibcast, then MPI_Test and a sleep
 * growing from 20 us to 1 ms): Open MPI's blocking collectives poll at 100% of a core, which a
 * rank waiting for rank 0 (enumerating, writing outputs) would take from it. Collective on comm;
 * every rank must call this one (a blocking MPI_Bcast does not match it). */
void ms_comm_bcast_int_idle(MPI_Comm comm, int *v);

/* 1 when ok is nonzero on every rank of comm, else 0 (on every rank). Collective on comm;
 * no communication on a communicator of one rank or before MPI is initialised (unit tests of
 * the serial paths). */
int ms_comm_all_ok(MPI_Comm comm, int ok);

/* The agree-on-status collective: MS_SUCCESS on every rank when st is MS_SUCCESS everywhere;
 * else a failing rank returns its own st (message kept) and the others return other_code with
 * the message made from fmt. Collective on comm. */
ms_status ms_comm_agree(MPI_Comm comm, ms_status st, ms_status other_code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Gives rank 0's buffer to every rank. On rank 0, st is the status of producing *buf and *n (on
 * failure its message is ms_error_message()); *buf stays rank 0's. On the other ranks st and the
 * inputs are ignored and *buf becomes a new buffer of *n bytes (plus a NUL; the caller frees it),
 * or NULL on failure. Returns rank 0's st on every rank (MS_ERR_NOMEM where a rank cannot hold
 * the bytes: then the others return it too). Buffers of any size go in pieces of at most 1 GiB
 * (MPI counts are int). Collective on comm. */
ms_status ms_comm_bcast_buffer(MPI_Comm comm, ms_status st, char **buf, size_t *n);

#endif /* MATSCREEN_COMM_H */
