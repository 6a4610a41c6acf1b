/*
 * De-duplication across sources: groups records that hold the same crystal structure, picks a
 * representative by a trust order, and records property values that conflict within a group.
 *
 * Conventions
 *   - Records are numbered by the caller (0, 1, 2, ... in the order it wants reported; the
 *     quality command uses file order then record index). Each record is added once.
 *   - Grouping. Records are binned by (fingerprint key, volume bin) in a hash table. A new record
 *     is compared with the first member (the "seed") of each group in its bin and the two
 *     neighbouring volume bins; it joins the first group that matches, else it starts a group.
 *     Cost per record is the number of groups in three bins, not the number of records: near
 *     linear in the input (tests/bench/bench_quality.c measures 1x, 2x, 4x).
 *   - Precise comparison of two standardized conventional cells A (seed) and B (new), same
 *     fingerprint so same space group and formula:
 *       1. equal numbers of sites;
 *       2. for each of the 48 signed permutations R of B's axes (the lattice automorphisms of a
 *          cubic metric, covering spglib's remaining choices: axis order in orthorhombic
 *          settings, unique-axis and sign choices, inversion), the transformed metric must match
 *          A's: every length within ltol (relative, default 0.01) and every angle within
 *          angle_tol (default 1 degree);
 *       3. origin shifts: the first site of A's rarest site kind is put onto each site of the
 *          same kind in B (this approximates the Euclidean normaliser's translations, which
 *          always move an atom onto an atom of its kind);
 *       4. then every site of A must have a site of B with the same species and occupancies
 *          (within occ_tol, default 0.01) within stol Å (default 0.1, Cartesian in A's lattice,
 *          nearest periodic image).
 *     Any (R, shift) that passes makes the records duplicates. A 2% strain fails step 2; one
 *     substitution fails the fingerprint (formula) already.
 *   - Representative: the member whose source database comes first in the trust order (default
 *     ICSD, COD, MP; databases not listed come after, unknown last); ties go to the lowest record
 *     number. All members stay attached to the group.
 *   - Conflicts: for each group with several members and each property name, values differing by
 *     more than max(prop_rtol * max|v|, prop_atol) (defaults 0.05 and 0.01) are one conflict.
 *   - Memory: per record a few words plus its properties; per group the seed's conventional cell
 *     (lattice, fractional positions, species); one hash table. Everything lives in arrays owned
 *     by ms_dedup that grow by doubling: adding a record allocates only when an array grows.
 *   - Not collective: the master de-duplicates the summaries it gathered.
 */
#ifndef MATSCREEN_DEDUP_H
#define MATSCREEN_DEDUP_H

#include <stddef.h>

#include "matscreen/error.h"
#include "matscreen/fingerprint.h"
#include "matscreen/structure.h"

#define MS_DEDUP_TRUST_MAX 8
#define MS_DEDUP_NONE ((size_t)-1) /* "no group" / "no record" */

typedef struct ms_dedup_options {
    double ltol;       /* relative tolerance on lattice lengths (default 0.01) */
    double angle_tol;  /* degrees (default 1) */
    double stol;       /* Å, site displacement (default 0.1) */
    double occ_tol;    /* occupancy difference per species (default 0.01) */
    double prop_rtol;  /* relative tolerance of a property conflict (default 0.05) */
    double prop_atol;  /* absolute tolerance of a property conflict (default 0.01) */
    ms_source_db trust[MS_DEDUP_TRUST_MAX]; /* most trusted first */
    size_t n_trust;    /* default 3: ICSD, COD, MP */
} ms_dedup_options;

typedef struct ms_dedup_conflict {
    size_t group;
    char name[MS_PROP_NAME_MAX];
    double min, max;            /* extreme values in the group */
    size_t record_min, record_max;
    size_t n_values;            /* members that have the property */
} ms_dedup_conflict;

typedef struct ms_dedup ms_dedup;

/* Defaults (see the field comments). */
void ms_dedup_options_default(ms_dedup_options *opt);

/* Parses a comma-separated trust order ("ICSD,COD,MP"; names case-insensitive, "other" allowed)
 * into opt. Fails with MS_ERR_USAGE on an unknown name or too many entries (opt unchanged). */
ms_status ms_dedup_options_set_trust(ms_dedup_options *opt, const char *list);

/* The trust order of inputs that each carry a database and a trust rank (a workflow's
 * <source database= trust=>; 1 = most trusted, 0 = none given): the databases of the inputs with
 * a rank, smallest rank first (equal ranks in the default order), then the databases not named,
 * in the default order, unknown last. With no rank given, the default order. Fails with
 * MS_ERR_USAGE, naming both inputs (by 0-based index), when one database gets two ranks. */
ms_status ms_dedup_trust_from_inputs(ms_dedup_options *opt, const ms_source_db *db,
                                     const int *trust, size_t n);

/* The place of db in o's trust order (0: most trusted); databases not in the order come after
 * it, MS_DB_UNKNOWN last. o NULL: the default order (ICSD, COD, MP). The one trust order of
 * matscreen: `quality` and the screen's results (results.c) both rank by it. */
size_t ms_dedup_trust_rank(const ms_dedup_options *o, ms_source_db db);

/* Creates an empty de-duplicator (opt copied; NULL for defaults). Free with ms_dedup_free. */
ms_status ms_dedup_create(const ms_dedup_options *opt, ms_dedup **out);

/* Releases d; NULL is a no-op. */
void ms_dedup_free(ms_dedup *d);

/* Adds record number record (not yet added) with its fingerprint, its standardized conventional
 * cell (ms_symmetry.conventional), source database and properties (props of s; s may be NULL).
 * Sets *group (may be NULL) to the group it joined or started. MS_ERR_USAGE when the record was
 * added before; MS_ERR_NOMEM. */
ms_status ms_dedup_add(ms_dedup *d, size_t record, const ms_fingerprint *fp,
                       const ms_structure *conventional, ms_source_db db, const ms_structure *s,
                       size_t *group);

/* Adds a record that has no fingerprint (symmetry failed): it is a group of its own. */
ms_status ms_dedup_add_alone(ms_dedup *d, size_t record, ms_source_db db, const ms_structure *s,
                             size_t *group);

/* Picks representatives and finds conflicts. Call once, after the last add. */
ms_status ms_dedup_finish(ms_dedup *d);

/* Queries (after finish for representatives and conflicts). */
size_t ms_dedup_group_count(const ms_dedup *d);
size_t ms_dedup_group_of(const ms_dedup *d, size_t record);        /* MS_DEDUP_NONE if not added */
size_t ms_dedup_group_size(const ms_dedup *d, size_t group);
size_t ms_dedup_representative(const ms_dedup *d, size_t group);   /* a record number */
size_t ms_dedup_conflict_count(const ms_dedup *d);
const ms_dedup_conflict *ms_dedup_conflict_get(const ms_dedup *d, size_t i);
size_t ms_dedup_comparisons(const ms_dedup *d); /* precise comparisons made so far */

/* The precise comparison alone (step 1-4 above) of two conventional cells: 1 same, 0 not. */
int ms_dedup_same_cell(const ms_structure *a, const ms_structure *b, const ms_dedup_options *opt);

/* Exact duplicates (docs/engine.md "Exact duplicates"): the bytes of s as parsed that symmetry,
 * fingerprint and descriptors read: the lattice, the number of sites, and per site its
 * fractional position and species (Z, occupancy, oxidation state and whether one was given),
 * each number's own bytes in native order. Two structures with equal keys give the same
 * symmetry, fingerprint and feature row under the same settings (the caller adds the settings
 * to its key when they can differ). Left out, since none of those computations reads them:
 * site labels, the stated formula, properties, provenance, reader warnings, and the Cartesian
 * positions (computed from the fractional ones by ms_structure_finish). Writes the key into
 * *buf (a growable array of *cap bytes, ms_array_reserve; the caller frees it), its length in
 * *len and FNV-1a 64 of it in *hash. MS_ERR_NOMEM (buf unchanged). Not collective. */
ms_status ms_dedup_exact_key(const ms_structure *s, unsigned char **buf, size_t *cap, size_t *len,
                             uint64_t *hash);

#endif /* MATSCREEN_DEDUP_H */
