/*
 * `matscreen featurize` as a library call: the rows of a descriptor set for every structure of
 * the inputs, written as CSV by rank 0 in input order, the same bytes for any number of ranks
 * (src/parallel/featurize_run.c says how). Collective on comm; prints nothing but a fatal
 * message before MPI_Abort when a round cannot be gathered (the ranks would otherwise wait).
 */
#ifndef MATSCREEN_FEATURIZE_RUN_H
#define MATSCREEN_FEATURIZE_RUN_H

#include <mpi.h>
#include <stddef.h>

#include "matscreen/descriptor.h"
#include "matscreen/element.h"
#include "matscreen/error.h"
#include "matscreen/featurize.h"
#include "matscreen/reader.h"

typedef struct ms_featurize_run_config {
    const char *const *inputs;     /* input specs (source.h) */
    size_t n_inputs;
    ms_format format;              /* MS_FORMAT_AUTO: by extension */
    const ms_descriptor_set *set;
    const ms_element_table *elements;
    const char *out_path;          /* the table, written beside and renamed; "-": stdout */
    const char *err_path;          /* the errors file (CSV with a header); NULL: stderr */
    int reasons;                   /* a last column nan_reasons */
} ms_featurize_run_config;

typedef struct ms_featurize_run_summary {
    unsigned long long ok, failed; /* rows written, records that failed (over all ranks) */
    size_t n_features;
} ms_featurize_run_summary;

/* Runs the featurization; every rank returns the same status (rank 0's message names the file
 * or the failure). Collective on comm. */
ms_status ms_featurize_run(MPI_Comm comm, const ms_featurize_run_config *cfg,
                           ms_featurize_run_summary *sum);

#endif /* MATSCREEN_FEATURIZE_RUN_H */
