/*
 * Rank 0 reads, every rank gets the bytes (see bcast.h). The bytes travel with
 * ms_comm_bcast_buffer and the ranks agree on the unpacking with ms_comm_agree (comm.h).
 */
#include "matscreen/bcast.h"

#include <stdio.h>
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

/* Rank 0's data set featurised by every rank: rank r loads part r (ms_dataset_load_part), the
 * packed parts and their source rows go to rank 0, which merges them in file order. Same data
 * set as rank 0 loading it alone; the featurisation, which dominates, is spread cyclically. */
static ms_status load_parts(MPI_Comm comm, const ms_dataset_spec *spec, ms_dataset *d)
{
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    ms_element_table *elements = NULL;
    ms_dataset part;
    memset(&part, 0, sizeof part);
    ms_status st = ms_element_table_load_default(&elements);
    if (st == MS_SUCCESS)
        st = ms_dataset_load_part(spec, elements, (size_t)rank, (size_t)size, &part);
    ms_element_table_free(elements);
    void *packed = NULL;
    size_t n = 0;
    if (st == MS_SUCCESS) st = ms_dataset_pack(&part, &packed, &n);
    /* the part, then its source rows and first drop line (u64 each) */
    size_t extra = (part.n + 1) * sizeof(uint64_t);
    unsigned char *msg = st == MS_SUCCESS ? malloc(n + extra + 8) : NULL;
    if (st == MS_SUCCESS && !msg) st = ms_error_set(MS_ERR_NOMEM, "dataset: out of memory");
    if (st == MS_SUCCESS) {
        uint64_t n64 = n, line = part.first_dropped_line;
        memcpy(msg, &n64, 8);
        memcpy(msg + 8, packed, n);
        for (size_t i = 0; i < part.n; i++) {
            uint64_t v = part.source_row[i];
            memcpy(msg + 8 + n + 8 * i, &v, 8);
        }
        memcpy(msg + 8 + n + 8 * part.n, &line, 8);
    }
    free(packed);
    st = ms_comm_agree(comm, st, MS_ERR_NOMEM, "another rank could not load its part of %s",
                       spec->path);
    if (st != MS_SUCCESS) {
        free(msg);
        ms_dataset_free(&part);
        return st;
    }
    int mine = (int)(n + extra + 8), *counts = NULL, *displ = NULL;
    if (n + extra + 8 >= (1u << 30)) { /* MPI counts are int; the others would wait for us */
        fprintf(stderr, "matscreen: %s: a rank's part of the data set is over 1 GiB\n", spec->path);
        MPI_Abort(comm, 2);
    }
    if (rank == 0) {
        counts = calloc((size_t)size, sizeof *counts);
        displ = calloc((size_t)size, sizeof *displ);
        if (!counts || !displ) MPI_Abort(comm, 2);
    }
    MPI_Gather(&mine, 1, MPI_INT, counts, 1, MPI_INT, 0, comm);
    unsigned char *all = NULL;
    size_t total = 0;
    if (rank == 0) {
        for (int r = 0; r < size; r++) {
            displ[r] = (int)total;
            total += (size_t)counts[r];
        }
        if (total >= (1u << 31) || !(all = malloc(total + 1))) MPI_Abort(comm, 2);
    }
    MPI_Gatherv(msg, mine, MPI_BYTE, all, counts, displ, MPI_BYTE, 0, comm);
    free(msg);
    ms_dataset_free(&part);
    if (rank == 0) {
        ms_dataset *parts = calloc((size_t)size, sizeof *parts);
        st = parts ? MS_SUCCESS : ms_error_set(MS_ERR_NOMEM, "dataset: out of memory");
        for (int r = 0; st == MS_SUCCESS && r < size; r++) {
            const unsigned char *b = all + displ[r];
            uint64_t len, line;
            memcpy(&len, b, 8);
            st = ms_dataset_unpack(b + 8, (size_t)len, &parts[r]);
            if (st != MS_SUCCESS) break;
            parts[r].source_row = malloc((parts[r].n + 1) * sizeof *parts[r].source_row);
            if (!parts[r].source_row) st = ms_error_set(MS_ERR_NOMEM, "dataset: out of memory");
            for (size_t i = 0; st == MS_SUCCESS && i < parts[r].n; i++) {
                uint64_t v;
                memcpy(&v, b + 8 + len + 8 * i, 8);
                parts[r].source_row[i] = (size_t)v;
            }
            memcpy(&line, b + 8 + len + 8 * parts[r].n, 8);
            parts[r].first_dropped_line = (size_t)line;
        }
        if (st == MS_SUCCESS) st = ms_dataset_merge_parts(spec, parts, (size_t)size, d);
        for (int r = 0; parts && r < size; r++) ms_dataset_free(&parts[r]);
        free(parts);
    }
    free(all);
    free(counts);
    free(displ);
    return st;
}

ms_status ms_dataset_load_bcast(MPI_Comm comm, const ms_dataset_spec *spec, ms_dataset *d)
{
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    memset(d, 0, sizeof *d);
    char *buf = NULL;
    size_t n = 0;
    ms_status st = MS_SUCCESS;
    /* Featurisation dominates loading (a structure about a millisecond): spread it. */
    int spread = size > 1 && spec->source != MS_DATASET_MATBENCH; /* Matbench: labels need all rows */
    if (spread) st = load_parts(comm, spec, d);
    if (rank == 0) {
        if (!spread) {
            ms_element_table *elements = NULL;
            st = ms_element_table_load_default(&elements);
            if (st == MS_SUCCESS) st = ms_dataset_load(spec, elements, d);
            ms_element_table_free(elements);
        }
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
