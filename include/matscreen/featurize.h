/*
 * From a structure to a feature row: the featurizer path of `matscreen featurize` and of the
 * screening workers. It owns everything a row needs besides the structure, so that computing a
 * row allocates nothing in steady state:
 *   - the descriptor featurizer of a named set (descriptor.h),
 *   - a symmetry workspace and result (symmetry.h): ms_symmetry_analyze runs ONCE per structure,
 *     only when a family of the set needs it, and its dataset is shared by every consumer through
 *     ms_descriptor_input.symmetry (and ms_structure_featurizer_symmetry for the caller),
 *   - a periodic neighbour list (neighbors.h), built once per structure with the largest cutoff
 *     the set's families ask for, shared by them through ms_descriptor_input.neighbors.
 *
 * Conventions
 *   - Symmetry uses the options given at creation (NULL: ms_symmetry_options_default with
 *     pymatgen's site order, options.elements = the element table, and cells = 0 since no family
 *     reads the standardized cells). The default ladder requests symprec 0.01 Å, matminer's
 *     GlobalSymmetryFeatures tolerance. A structure whose symmetry fails at every rung still gets
 *     a row: the symmetry features are NaN with MS_NAN_NEEDS_SYMMETRY.
 *   - A neighbour list that cannot be built (MS_ERR_LIMIT for hostile cells, MS_ERR_NOMEM) is an
 *     error of the structure: compute returns it and the caller reports the record.
 *   - Timing: the featurizer accumulates the seconds spent in symmetry (spglib), in the neighbour
 *     search and in the descriptor families, for benchmarks (two clock reads per stage).
 *   - Not collective; one featurizer per thread (one per MPI rank in matscreen).
 */
#ifndef MATSCREEN_FEATURIZE_H
#define MATSCREEN_FEATURIZE_H

#include <stddef.h>

#include "matscreen/descriptor.h"
#include "matscreen/element.h"
#include "matscreen/error.h"
#include "matscreen/structure.h"
#include "matscreen/symmetry.h"

typedef struct ms_structure_featurizer ms_structure_featurizer;

/* Cumulative seconds per stage since creation (or the last reset), and structures computed. */
typedef struct ms_featurize_timing {
    double symmetry_s;    /* ms_symmetry_analyze (spglib and our type/sort code around it) */
    double neighbors_s;   /* ms_neighbor_list_build */
    double descriptors_s; /* composition and all descriptor families */
    size_t n_structures;
} ms_featurize_timing;

/* Creates a featurizer for set with the element table (borrowed; it must outlive the featurizer)
 * and symmetry options sym_opt (copied; NULL for the defaults above). On failure nothing stays
 * allocated and *out is NULL. Free with ms_structure_featurizer_destroy. */
ms_status ms_structure_featurizer_create(const ms_descriptor_set *set,
                                         const ms_element_table *table,
                                         const ms_symmetry_options *sym_opt,
                                         ms_structure_featurizer **out);

/* Frees *f and sets it to NULL; NULL or *f == NULL is a no-op. */
void ms_structure_featurizer_destroy(ms_structure_featurizer **f);

/* Number of features of a row, and the name of feature i ("" out of range; borrowed, static). */
size_t ms_structure_featurizer_n_features(const ms_structure_featurizer *f);
const char *ms_structure_featurizer_feature_name(const ms_structure_featurizer *f, size_t i);

/* The descriptor featurizer inside (borrowed), e.g. for its set. */
ms_featurizer *ms_structure_featurizer_base(ms_structure_featurizer *f);

/* Computes the row of s (finished, see structure.h): row and reason hold n_features entries each
 * (reason may be NULL). Returns MS_SUCCESS (a NaN feature is not a failure), MS_ERR_LIMIT or
 * MS_ERR_NOMEM when the neighbour list cannot be built, MS_ERR_USAGE on misuse. */
ms_status ms_structure_featurizer_compute(ms_structure_featurizer *f, const ms_structure *s,
                                          double *row, unsigned char *reason);

/* The same, reusing the caller's symmetry analysis of s made with these options but
 * use_oxidation 0 (plain; NULL when it failed): when s carries no oxidation states (or the
 * options ignore them) the analysis is the same, so it is not run twice; otherwise the featurizer
 * runs its own with oxidation states (pymatgen's convention for descriptors). The screen's road:
 * one symmetry analysis per structure in the common case, the same row as
 * ms_structure_featurizer_compute. */
ms_status ms_structure_featurizer_compute_with(ms_structure_featurizer *f, const ms_structure *s,
                                               const ms_symmetry *plain, double *row,
                                               unsigned char *reason);

/* The symmetry dataset of the last structure computed, or NULL when the set needs none or it
 * failed (borrowed; valid until the next compute). */
const ms_symmetry *ms_structure_featurizer_symmetry(const ms_structure_featurizer *f);

/* The neighbour list of the last structure computed, or NULL when the set needs none (borrowed;
 * valid until the next compute). */
const struct ms_neighbor_list *ms_structure_featurizer_neighbors(const ms_structure_featurizer *f);

/* The composition of the last structure computed (borrowed; valid until the next compute). */
const ms_composition *ms_structure_featurizer_composition(const ms_structure_featurizer *f);

/* Cumulative timing; reset sets it to zero. */
ms_featurize_timing ms_structure_featurizer_timing(const ms_structure_featurizer *f);
void ms_structure_featurizer_reset_timing(ms_structure_featurizer *f);

#endif /* MATSCREEN_FEATURIZE_H */
