/*
 * The MPI layer: init/finalize, the agree-on-status collective and the buffer broadcast (see
 * comm.h).
 *
 * Order of messages of the buffer broadcast: int[2] {status, message length} from rank 0; the
 * message when status is not MS_SUCCESS (and nothing more); else uint64 n, then an Allreduce on
 * "every rank could allocate n bytes", then the bytes in pieces of at most PIECE.
 */
#include "matscreen/comm.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

#define PIECE ((size_t)1 << 30)
#define MESSAGE_MAX 1024

static int started_here;

int ms_comm_init(int *argc, char ***argv)
{
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (initialized) return 0;
    /* FUNNELED: rank 0 writes the ranked files on helper threads and XGBoost runs OpenMP
     * threads; only the main thread calls MPI, which is what FUNNELED promises. */
    int provided = MPI_THREAD_SINGLE;
    if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) return 1;
    started_here = 1;
    return 0;
}

int ms_comm_threads_allowed(void)
{
    int initialized = 0, provided = MPI_THREAD_SINGLE;
    MPI_Initialized(&initialized);
    if (!initialized) return 1;
    MPI_Query_thread(&provided);
    return provided >= MPI_THREAD_FUNNELED;
}

void ms_comm_finalize(void)
{
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (started_here && !finalized) MPI_Finalize();
    started_here = 0;
}

void ms_comm_bcast_int_idle(MPI_Comm comm, int *v)
{
    MPI_Request req;
    MPI_Ibcast(v, 1, MPI_INT, 0, comm, &req);
    long us = 20;
    for (;;) {
        int done = 0;
        MPI_Test(&req, &done, MPI_STATUS_IGNORE);
        if (done) return;
        struct timespec ts = {0, us * 1000L};
        nanosleep(&ts, NULL);
        if (us < 1000) us *= 2;
    }
}

int ms_comm_all_ok(MPI_Comm comm, int ok)
{
    int initialized = 0, size = 1;
    MPI_Initialized(&initialized);
    if (initialized) MPI_Comm_size(comm, &size);
    ok = ok != 0;
    if (size == 1) return ok;
    int all = 0;
    MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_MIN, comm);
    return all;
}

ms_status ms_comm_agree(MPI_Comm comm, ms_status st, ms_status other_code, const char *fmt, ...)
{
    if (ms_comm_all_ok(comm, st == MS_SUCCESS)) return MS_SUCCESS;
    if (st != MS_SUCCESS) return st;
    char msg[MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return ms_error_set(other_code, "%s", msg);
}

ms_status ms_comm_bcast_buffer(MPI_Comm comm, ms_status st, char **buf, size_t *n)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    char msg[MESSAGE_MAX] = "";
    int head[2] = {(int)st, 0};
    if (rank == 0 && st != MS_SUCCESS) {
        snprintf(msg, sizeof msg, "%s", ms_error_message());
        head[1] = (int)strlen(msg);
    }
    MPI_Bcast(head, 2, MPI_INT, 0, comm);
    if (rank != 0) *buf = NULL;
    if (head[0] != MS_SUCCESS) {
        MPI_Bcast(msg, head[1], MPI_CHAR, 0, comm);
        msg[head[1]] = '\0';
        return ms_error_set((ms_status)head[0], "%s", msg);
    }
    uint64_t size = rank == 0 ? (uint64_t)*n : 0;
    MPI_Bcast(&size, 1, MPI_UINT64_T, 0, comm);
    if (rank != 0) {
        *n = (size_t)size;
        *buf = malloc(*n + 1);
    }
    if (!ms_comm_all_ok(comm, *buf != NULL)) {
        if (rank != 0) {
            free(*buf);
            *buf = NULL;
        }
        return ms_error_set(MS_ERR_NOMEM, "a rank cannot hold %llu bytes broadcast from rank 0",
                            (unsigned long long)size);
    }
    for (size_t off = 0; off < *n; off += PIECE) {
        size_t len = *n - off < PIECE ? *n - off : PIECE;
        MPI_Bcast(*buf + off, (int)len, MPI_BYTE, 0, comm);
    }
    if (rank != 0) (*buf)[*n] = '\0';
    return MS_SUCCESS;
}
