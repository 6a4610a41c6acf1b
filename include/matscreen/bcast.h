/*
 * Rank 0 reads, every rank gets the bytes: share/ data, model files and labelled data sets
 * (STYLE.md item 12).
 *
 * Conventions
 *   - Only rank 0 of comm opens files. It broadcasts its outcome first (status and, on failure,
 *     its error message), then the bytes, so every rank returns the same status, with rank 0's
 *     message, and no rank waits for bytes that will not come. On a cluster this turns N reads
 *     of a model file from the parallel file system into one read and a broadcast.
 *   - Buffers of any size: the bytes go in pieces of at most 1 GiB (MPI counts are int).
 *   - Every rank returns the same status: when one rank cannot unpack what it received (out of
 *     memory), all fail, so that no rank goes on to the next collective call alone.
 *   - Every function here is Collective on comm: all ranks call it, in the same order.
 */
#ifndef MATSCREEN_BCAST_H
#define MATSCREEN_BCAST_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

#include "matscreen/dataset.h"
#include "matscreen/element.h"
#include "matscreen/error.h"
#include "matscreen/model.h"

/* The bytes travel with ms_comm_bcast_buffer (comm.h). */

/* The element table of ms_share_dir(), read by rank 0, on every rank (free it with
 * ms_element_table_free). Collective on comm. */
ms_status ms_element_table_load_bcast(MPI_Comm comm, ms_element_table **out);

/* The model file at path, read by rank 0 (path matters there only), loaded on every rank (free
 * with ms_model_free). hash, when not NULL, receives the FNV-1a hash of the file's bytes (the
 * model's identity in journals and state stores). Collective on comm. */
ms_status ms_model_load_bcast(MPI_Comm comm, const char *path, ms_model **out, uint64_t *hash);

/* The data set spec names, loaded and featurised by rank 0 (with the element table of
 * ms_share_dir()), on every rank (free with ms_dataset_free). Fails on every rank with rank 0's
 * message when the labels or a descriptor set cannot be used. Collective on comm. */
ms_status ms_dataset_load_bcast(MPI_Comm comm, const ms_dataset_spec *spec, ms_dataset *d);

#endif /* MATSCREEN_BCAST_H */
