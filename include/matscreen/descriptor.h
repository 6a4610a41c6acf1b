/*
 * Descriptors: the registry of descriptor families, named descriptor sets, and the featurizer that
 * turns one structure (or composition) into one row of features.
 *
 * Conventions
 *   - A descriptor family is one file in src/features/ that exports a const ms_descriptor_type:
 *     name, version, feature names and the init/compute/free functions (as libxc's functionals
 *     and GSL's rng types). Families never allocate inside compute.
 *   - A feature row is a contiguous array of n_features doubles; a matrix of rows is row-major
 *     with leading dimension n_features. Next to every row there is a reason array of the same
 *     length (one unsigned char per feature, an ms_nan_reason).
 *   - A value that cannot be computed is NaN and its reason says why; a value is never silently 0.
 *     The one non-NaN reason is MS_NAN_IMPUTED: the value is a number but used an element datum
 *     that the data source lacks, replaced as matminer does (documented per family).
 *   - Named descriptor sets ("magpie", "composition", "structure", "li-transport", "bvse",
 *     "default", "full") are what workflows and model
 *     files refer to. A model records the set name and set version; a set's version changes
 *     whenever a member family's version changes or the membership changes, and loading a model
 *     with a different set version is an error.
 *   - Compositions are occupancy weighted (see composition.h), so disordered structures work with
 *     every composition family.
 *   - Every function here is Not collective: each MPI rank builds its own featurizer.
 *
 * See docs/descriptors.md for every family's features, units and the places where matscreen
 * deliberately differs from matminer.
 */
#ifndef MATSCREEN_DESCRIPTOR_H
#define MATSCREEN_DESCRIPTOR_H

#include <stddef.h>

#include "matscreen/composition.h"
#include "matscreen/element.h"
#include "matscreen/error.h"
#include "matscreen/structure.h"

struct ms_neighbor_list; /* neighbors.h */

/* Why a feature value is NaN (or, for MS_NAN_IMPUTED, why a number is approximate). Stored as one
 * unsigned char per feature. */
typedef enum ms_nan_reason {
    MS_NAN_NONE = 0,             /* a number computed from complete data */
    MS_NAN_MISSING_ELEMENT_DATA, /* an element of the composition lacks the needed datum */
    MS_NAN_NEEDS_STRUCTURE,      /* the family needs a structure; only a composition was given */
    MS_NAN_NEEDS_ORDERED,        /* the family needs an ordered structure (no partial occupancy) */
    MS_NAN_NEEDS_SYMMETRY,       /* the family needs the symmetry dataset, which was not given */
    MS_NAN_UNDEFINED,            /* mathematically undefined for this input (0/0, no elements) */
    MS_NAN_TOO_LARGE,            /* the input exceeds a documented size bound of the family */
    MS_NAN_IMPUTED,              /* NOT NaN: the value used an imputed element datum (see family) */
    MS_NAN_NO_PARAMETERS,        /* a pair of species has no tabulated parameters (bvse: Li+-P3-) */
    MS_NAN_UNSUPPORTED_ANION,    /* an anion's element has parameters, but not at this valence */
    MS_NAN_REASON_COUNT          /* number of reasons; not a reason */
} ms_nan_reason;

/* Short static name of a reason ("none", "missing-element-data", ...); never NULL. */
const char *ms_nan_reason_name(ms_nan_reason reason);

/* What a family computes from. composition is never NULL; structure may be NULL for
 * composition-only use (families that need it then give NaN with MS_NAN_NEEDS_STRUCTURE). All
 * pointers are borrowed for the duration of one compute call. */
typedef struct ms_descriptor_input {
    const ms_structure *structure;     /* the structure, or NULL */
    const ms_composition *composition; /* occupancy-weighted composition (of structure if given) */
    const void *symmetry;              /* const ms_symmetry * (symmetry.h) of the structure, from
                                          one ms_symmetry_analyze per structure (featurize.h does
                                          it); NULL when absent or failed (families that need it
                                          give NaN with MS_NAN_NEEDS_SYMMETRY) */
    const struct ms_neighbor_list *neighbors; /* neighbour list (neighbors.h) of the structure,
                                          built with a cutoff of at least every family's
                                          neighbor_cutoff; NULL when absent (families that need it
                                          give NaN with MS_NAN_NEEDS_STRUCTURE) */
} ms_descriptor_input;

/* Caller-owned scratch memory for compute. The featurizer sizes it once from each family's
 * work_doubles() and grows it (by doubling) only when a larger input than any before arrives, so
 * a run allocates nothing per structure in steady state. */
typedef struct ms_descriptor_workspace {
    double *d;   /* scratch doubles */
    size_t n_d;  /* number of doubles in d */
} ms_descriptor_workspace;

/* A descriptor family. Instances are static const objects exported by the family's file. */
typedef struct ms_descriptor_type {
    const char *name;                  /* registry name, e.g. "magpie", "stoichiometry" */
    int version;                       /* bumped whenever any value or name can change */
    size_t n_features;                 /* length of the family's part of a row */
    const char *const *feature_names;  /* n_features names, static */
    const char *summary;               /* one line for listings */
    /* Builds the read-only state from the element table (borrowed for the state's lifetime);
     * *state may be set to NULL when the family needs none. */
    ms_status (*init)(const ms_element_table *table, void **state);
    /* Scratch doubles that compute needs for in; NULL means none. */
    size_t (*work_doubles)(const void *state, const ms_descriptor_input *in);
    /* Writes n_features values to out and their reasons to reason. Never allocates. Fails only on
     * misuse (MS_ERR_USAGE); unusable data gives NaN values with reasons, not an error. */
    ms_status (*compute)(const void *state, const ms_descriptor_input *in,
                         ms_descriptor_workspace *ws, double *out, unsigned char *reason);
    /* Frees the state from init; NULL is a no-op. May be NULL when init allocates nothing. */
    void (*free)(void *state);
    /* What the caller must provide in ms_descriptor_input besides the composition (0 for the
     * composition families): needs_symmetry 1 when the family reads in->symmetry; neighbor_cutoff
     * the smallest cutoff in Å of in->neighbors the family needs (0: no neighbour list). */
    int needs_symmetry;
    double neighbor_cutoff;
} ms_descriptor_type;

/* The families of this build (each defined in its own src/features/ file). */
extern const ms_descriptor_type ms_descriptor_magpie;         /* composition_magpie.c */
extern const ms_descriptor_type ms_descriptor_stoichiometry;  /* composition_stoichiometry.c */
extern const ms_descriptor_type ms_descriptor_valence_orbital; /* composition_valence.c */
extern const ms_descriptor_type ms_descriptor_ion_property;   /* composition_ion.c */
extern const ms_descriptor_type ms_descriptor_element_fraction; /* composition_fraction.c */
extern const ms_descriptor_type ms_descriptor_density;        /* structure_density.c */
extern const ms_descriptor_type ms_descriptor_global_symmetry; /* structure_symmetry.c */
extern const ms_descriptor_type ms_descriptor_neighbors;      /* structure_neighbors.c */
extern const ms_descriptor_type ms_descriptor_li_transport;   /* li_transport.c */
extern const ms_descriptor_type ms_descriptor_bvse;           /* bvse.c */

/* A named descriptor set: families in row order and the set's version. Static const. */
typedef struct ms_descriptor_set {
    const char *name;                            /* "magpie", "composition", "default", ... */
    int version;                                 /* see the conventions block */
    const char *summary;                         /* one line for listings */
    size_t n_families;
    const ms_descriptor_type *const *families;   /* n_families, in row order */
} ms_descriptor_set;

/* Finds the family called name. Unknown names fail with MS_ERR_NOT_FOUND and a message listing
 * the valid names. *out is borrowed (static). */
ms_status ms_descriptor_type_lookup(const char *name, const ms_descriptor_type **out);

/* Finds the set called name. Unknown names fail with MS_ERR_NOT_FOUND and a message listing the
 * valid names. *out is borrowed (static). */
ms_status ms_descriptor_set_lookup(const char *name, const ms_descriptor_set **out);

/* Number of registered sets and set i (NULL when i is out of range); for listings. */
size_t ms_descriptor_set_count(void);
const ms_descriptor_set *ms_descriptor_set_get(size_t i);

/* Number of registered families and family i (NULL when i is out of range). */
size_t ms_descriptor_type_count(void);
const ms_descriptor_type *ms_descriptor_type_get(size_t i);

/* Total number of features of a set (sum over its families). */
size_t ms_descriptor_set_n_features(const ms_descriptor_set *set);

/* 1 when some family of set needs the symmetry dataset; the largest neighbor_cutoff of its
 * families in Å (0: the set needs no neighbour list). */
int ms_descriptor_set_needs_symmetry(const ms_descriptor_set *set);
double ms_descriptor_set_neighbor_cutoff(const ms_descriptor_set *set);

/* Writes "family/version,family/version,..." of set into out (size n), the exact membership a
 * model file may record next to the set name and version. Fails with MS_ERR_LIMIT when n is too
 * small. */
ms_status ms_descriptor_set_signature(const ms_descriptor_set *set, char *out, size_t n);

/* A descriptor set instantiated once: all family states and the workspace, so that computing a
 * row allocates nothing. One featurizer per thread (compute writes its workspace). */
typedef struct ms_featurizer ms_featurizer;

/* Instantiates set with the element table (borrowed; it must outlive the featurizer). On failure
 * nothing stays allocated and *out is NULL. The caller frees with ms_featurizer_destroy. */
ms_status ms_featurizer_create(const ms_descriptor_set *set, const ms_element_table *table,
                               ms_featurizer **out);

/* Frees *f and sets it to NULL; NULL or *f == NULL is a no-op. */
void ms_featurizer_destroy(ms_featurizer **f);

/* The set the featurizer was made from (borrowed). */
const ms_descriptor_set *ms_featurizer_set(const ms_featurizer *f);

/* Number of features in a row. */
size_t ms_featurizer_n_features(const ms_featurizer *f);

/* Name of feature i of the row ("" when out of range); borrowed, static. */
const char *ms_featurizer_feature_name(const ms_featurizer *f, size_t i);

/* Computes one row: row and reason have ms_featurizer_n_features entries each (reason may be
 * NULL when the caller does not want reasons). in->composition must be set. Allocates only when
 * a family needs more scratch than any earlier input did (MS_ERR_NOMEM if that fails). */
ms_status ms_featurizer_compute(ms_featurizer *f, const ms_descriptor_input *in, double *row,
                                unsigned char *reason);

/* Convenience: the row of a composition alone (structure and symmetry NULL). */
ms_status ms_featurizer_compute_composition(ms_featurizer *f, const ms_composition *c, double *row,
                                            unsigned char *reason);

/* Convenience: the row of a structure, its occupancy-weighted composition computed here (on the
 * stack), symmetry and neighbours NULL (their families give NaN; featurize.h computes both). */
ms_status ms_featurizer_compute_structure(ms_featurizer *f, const ms_structure *s, double *row,
                                          unsigned char *reason);

#endif /* MATSCREEN_DESCRIPTOR_H */
