/*
 * Labelled datasets: features and targets for training and evaluating models (model.h, cv.h),
 * campaigns (campaign.h) and suggestions.
 *
 * Datasets are read from
 *   - a Matbench task file (pandas "column" JSON: {"mbid": {...}, "composition": {...},
 *     "<target>": {...}}, e.g. matbench_glass.json); the target column is the one named, or the
 *     last column; booleans become 1/0;
 *   - a CSV with a formula column (CrabNet "formula,target");
 *   - a CSV with an id column whose structures are files DIR/<id>.cif (OBELiX: ID -> cifs/ID.cif),
 *     or DIR/<id> when that file exists (perov5: file "perov5-1.cif" -> cifs/perov5-1.cif),
 *     or with a column holding a structure path relative to the CSV.
 * Rows are featurised with a named descriptor set (descriptor.h): compositions with
 * ms_featurizer_compute_composition, structures with the structure featurizer (featurize.h).
 * Targets: optional log10 (rows with a target <= 0 or not finite are dropped and counted) and an
 * optional classification threshold (label = target >= threshold, in the target's own units).
 * Loading is deterministic and not collective; under MPI, rank 0 loads and broadcasts
 * (ms_dataset_load_bcast in bcast.h), so that only rank 0 reads the labels and structures.
 * x is row-major, n rows by n_features columns (leading dimension n_features).
 */
#ifndef MATSCREEN_DATASET_H
#define MATSCREEN_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include "matscreen/element.h"
#include "matscreen/error.h"
#include "matscreen/matrix.h"

typedef enum ms_dataset_source {
    MS_DATASET_MATBENCH = 0, /* path is a Matbench JSON */
    MS_DATASET_FORMULA_CSV,  /* path is a CSV; formula_column holds formulas */
    MS_DATASET_STRUCTURE_CSV /* path is a CSV; id_column names DIR/<id>.cif */
} ms_dataset_source;

typedef struct ms_dataset_spec {
    ms_dataset_source source;
    const char *path;
    const char *target;          /* column; NULL = last column (Matbench) */
    const char *formula_column;  /* default "formula" */
    const char *id_column;       /* default "ID" (structure CSV) / "mbid" (Matbench ids) */
    const char *structure_dir;   /* for MS_DATASET_STRUCTURE_CSV */
    const char *set;             /* descriptor set name, default "magpie" */
    int log10_target;
    double threshold;            /* NaN: regression or labels given as booleans */
    size_t max_rows;             /* 0 = all */
    const char *group_column;    /* CSV column read into ms_dataset.group (grouped CV), or NULL */
} ms_dataset_spec;

/* Why a labelled row was dropped: counted by reason so that "252 dropped" says which. */
typedef enum ms_dataset_drop_reason {
    MS_DATASET_DROP_NO_TARGET = 0,    /* target empty or not a number */
    MS_DATASET_DROP_NOT_POSITIVE,     /* log10 asked, target <= 0 */
    MS_DATASET_DROP_NO_FILE,          /* structure file missing or not readable (I/O) */
    MS_DATASET_DROP_UNREADABLE,       /* structure or formula could not be read or featurised */
    MS_DATASET_DROP_COUNT
} ms_dataset_drop_reason;

/* Short text of a drop reason ("target empty or not a number", ...). */
const char *ms_dataset_drop_reason_name(ms_dataset_drop_reason r);

typedef struct ms_dataset {
    size_t n;
    ms_matrix x;            /* n x n_features raw features (NaN allowed) */
    double *y;              /* learner target: transformed value or 0/1 label */
    double *target;         /* target as read, before log10 / threshold */
    char **ids;             /* n row ids (mbid, ID, or row number) */
    /* Group keys of each row for grouped cross-validation (cv.h): chemsys is the chemical system
     * (element symbols sorted alphabetically, joined by '-', as pymatgen's chemical_system:
     * "La-Li-O-Zr"), formula the reduced formula (ms_composition_reduced_formula) of the row's
     * composition (a structure's occupancy-weighted composition); group the value of
     * spec->group_column, NULL when none was asked for. */
    char **chemsys, **formula, **group;
    size_t n_features;
    char **feature_names;   /* n_features */
    char set_name[64];
    int set_version;
    char set_signature[1024];
    size_t n_dropped;       /* rows dropped (bad target, unreadable formula or structure) */
    size_t n_dropped_by[MS_DATASET_DROP_COUNT]; /* the same, by reason (ms_dataset_drop_reason) */
    char first_dropped[768]; /* "FILE:LINE (ID): reason" of the first dropped row, or "" */
    int classification;     /* 1 when y holds labels */
    char target_name[256];
    uint64_t *elements;     /* n x 2 words: bit (z - 1) set when element z is in row i (its
                               chemical system); see ms_dataset_has_element */
    size_t *source_row;     /* ms_dataset_load_part only: each row's position among the rows
                               read from the file (NULL otherwise; not packed) */
    size_t first_dropped_line; /* line of first_dropped (0: none) */
} ms_dataset;

/* 1 when row i of d holds element z (1..MS_MAX_Z). Not collective. */
int ms_dataset_has_element(const ms_dataset *d, size_t i, int z);

/* The chemical system (element set) of row i as a 64-bit id: equal sets, equal ids. */
uint64_t ms_dataset_chemical_system(const ms_dataset *d, size_t i);

/* "N target empty or not a number, M structure file missing" into out (counts > 0 only). */
void ms_dataset_drop_summary(const ms_dataset *d, char *out, size_t n);

/* Fills spec with the defaults above (formula column "formula", set "magpie", threshold NaN,
 * everything else 0 / NULL). Not collective. */
void ms_dataset_spec_default(ms_dataset_spec *spec);

/* Reads and featurises the rows spec names into d (its arrays are allocated; free with
 * ms_dataset_free); table is the element table (borrowed). Fails with MS_ERR_INVALID when fewer
 * than 2 rows are usable, or with the error of the file or descriptor set that failed; on
 * failure d is empty. Not collective. */
ms_status ms_dataset_load(const ms_dataset_spec *spec, const ms_element_table *table,
                          ms_dataset *d);

/* The featurisation of ms_dataset_load spread over n_parts processes (bcast.h): part k reads the
 * file but featurises only the rows i (in file order) with i % n_parts == k, recording each kept
 * row's i in d->source_row; no "fewer than 2 rows" check. ms_dataset_merge_parts then joins the
 * n_parts parts (emptied: strings move) into out in file order, the same data set, drop counts
 * and first_dropped as ms_dataset_load gives. Not collective. */
ms_status ms_dataset_load_part(const ms_dataset_spec *spec, const ms_element_table *table,
                               size_t part, size_t n_parts, ms_dataset *d);
ms_status ms_dataset_merge_parts(const ms_dataset_spec *spec, ms_dataset *parts, size_t n_parts,
                                 ms_dataset *out);

/* Serialises d into one new buffer (*buf, *n bytes; free with free()) so that rank 0 alone reads
 * and featurises a data set and broadcasts it (bcast.h). Not collective. */
ms_status ms_dataset_pack(const ms_dataset *d, void **buf, size_t *n);

/* Rebuilds a data set from ms_dataset_pack's bytes into d (free with ms_dataset_free). Fails with
 * MS_ERR_INVALID on bytes that are not a whole packed data set (never reads past n); d is then
 * empty. Not collective. */
ms_status ms_dataset_unpack(const void *buf, size_t n, ms_dataset *d);

/* Frees what d holds and empties it; safe on an empty (zeroed) dataset. */
void ms_dataset_free(ms_dataset *d);

#endif /* MATSCREEN_DATASET_H */
