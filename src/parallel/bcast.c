/*
 * Rank 0 reads, every rank gets the bytes (see bcast.h).
 *
 * Order of messages for one buffer: int[2] {status, message length} from rank 0; the message when
 * status is not MS_SUCCESS (and nothing more); else uint64 n, then an Allreduce on "every rank
 * could allocate n bytes", then the bytes in pieces of at most PIECE.
 */
#include "matscreen/bcast.h"

#include <stdlib.h>
#include <string.h>

#include "matscreen/file_read.h"
#include "matscreen/hash.h"

#define PIECE ((size_t)1 << 30)
#define MESSAGE_MAX 1024

ms_status ms_bcast_buffer(MPI_Comm comm, ms_status st, char **buf, size_t *n)
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
    int ok = *buf != NULL, all = 0;
    MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_MIN, comm);
    if (!all) {
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

/* After each rank has parsed what it received (which fails on one rank only when it runs out of
 * memory): every rank returns failure if one failed, so that no rank goes on to the next
 * collective call alone. */
static ms_status agree(MPI_Comm comm, ms_status st, const char *what)
{
    int ok = st == MS_SUCCESS, all = 0;
    MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_MIN, comm);
    if (all) return MS_SUCCESS;
    if (st != MS_SUCCESS) return st;
    return ms_error_set(MS_ERR_NOMEM, "another rank could not unpack %s", what);
}

ms_status ms_element_table_load_bcast(MPI_Comm comm, ms_element_table **out)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    *out = NULL;
    char *buf = NULL;
    size_t n = 0;
    ms_status st = MS_SUCCESS;
    if (rank == 0) {
        ms_element_table *t = NULL;
        st = ms_element_table_load_default(&t);
        void *packed = NULL;
        if (st == MS_SUCCESS) st = ms_element_table_pack(t, &packed, &n);
        buf = packed;
        if (st == MS_SUCCESS) *out = t;
        else ms_element_table_free(t);
    }
    st = ms_bcast_buffer(comm, st, &buf, &n);
    if (st == MS_SUCCESS) {
        if (rank != 0) st = ms_element_table_unpack(buf, n, out);
        st = agree(comm, st, "the element table");
    }
    free(buf);
    if (st != MS_SUCCESS) {
        ms_element_table_free(*out);
        *out = NULL;
    }
    return st;
}

ms_status ms_model_load_bcast(MPI_Comm comm, const char *path, ms_model **out, uint64_t *hash)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    *out = NULL;
    char *buf = NULL;
    size_t n = 0;
    ms_status st = rank == 0 ? ms_read_whole_file(path, MS_MODEL_MAX_BYTES, &buf, &n) : MS_SUCCESS;
    st = ms_bcast_buffer(comm, st, &buf, &n);
    if (st == MS_SUCCESS) {
        if (hash) *hash = ms_hash_bytes(buf, n);
        st = agree(comm, ms_model_load_buffer((const unsigned char *)buf, n, path, out), path);
        if (st != MS_SUCCESS) {
            ms_model_free(*out);
            *out = NULL;
        }
    }
    free(buf);
    return st;
}

ms_status ms_dataset_load_bcast(MPI_Comm comm, const ms_dataset_spec *spec, ms_dataset *d)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    memset(d, 0, sizeof *d);
    char *buf = NULL;
    size_t n = 0;
    ms_status st = MS_SUCCESS;
    if (rank == 0) {
        ms_element_table *elements = NULL;
        st = ms_element_table_load_default(&elements);
        if (st == MS_SUCCESS) st = ms_dataset_load(spec, elements, d);
        ms_element_table_free(elements);
        void *packed = NULL;
        if (st == MS_SUCCESS) st = ms_dataset_pack(d, &packed, &n);
        buf = packed;
    }
    st = ms_bcast_buffer(comm, st, &buf, &n);
    if (st == MS_SUCCESS) {
        if (rank != 0) st = ms_dataset_unpack(buf, n, d);
        st = agree(comm, st, "the data set");
    }
    free(buf);
    if (st != MS_SUCCESS) ms_dataset_free(d);
    return st;
}
