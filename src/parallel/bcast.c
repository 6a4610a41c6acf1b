/*
 * Rank 0 reads, every rank gets the bytes (see bcast.h). The bytes travel with
 * ms_comm_bcast_buffer and the ranks agree on the unpacking with ms_comm_agree (comm.h).
 */
#include "matscreen/bcast.h"

#include <stdlib.h>
#include <string.h>

#include "matscreen/comm.h"
#include "matscreen/file_read.h"
#include "matscreen/hash.h"

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
    st = ms_comm_bcast_buffer(comm, st, &buf, &n);
    if (st == MS_SUCCESS) {
        if (rank != 0) st = ms_element_table_unpack(buf, n, out);
        st = ms_comm_agree(comm, st, MS_ERR_NOMEM, "another rank could not unpack the element table");
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
    st = ms_comm_bcast_buffer(comm, st, &buf, &n);
    if (st == MS_SUCCESS) {
        if (hash) *hash = ms_hash_bytes(buf, n);
        st = ms_comm_agree(comm, ms_model_load_buffer((const unsigned char *)buf, n, path, out),
                           MS_ERR_NOMEM, "another rank could not unpack %s", path);
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
    st = ms_comm_bcast_buffer(comm, st, &buf, &n);
    if (st == MS_SUCCESS) {
        if (rank != 0) st = ms_dataset_unpack(buf, n, d);
        st = ms_comm_agree(comm, st, MS_ERR_NOMEM, "another rank could not unpack the data set");
    }
    free(buf);
    if (st != MS_SUCCESS) ms_dataset_free(d);
    return st;
}
