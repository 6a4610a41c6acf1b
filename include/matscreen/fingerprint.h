/*
 * Structure fingerprints for de-duplication: a hash key that equal structures share, whatever
 * their source, cell choice, origin or site order, plus a binned lattice invariant.
 *
 * Conventions
 *   - Built from one ms_symmetry result (spglib on the structure, use_oxidation 0 so that "Fe2+"
 *     from a CIF and plain "Fe" from a JSON agree) and its standardized primitive cell.
 *   - key = FNV-1a over: the reduced formula of the primitive cell, the space-group number, and
 *     the multiset of orbits, each orbit as (elements on the site, multiplicity per primitive
 *     cell). The multiset is combined by a commutative sum of per-orbit hashes, so site order does
 *     not matter. Wyckoff LETTERS are not hashed: an origin shift in the Euclidean normaliser maps
 *     4a to 4b in Pnma or Fm-3m, and spglib's origin choice follows the input; multiplicities are
 *     invariant under the normaliser. The letters are shown in `wyckoff` for people.
 *   - Occupancies are not in the key (a 0.333 against 0.334 would split a group); they are
 *     compared by the precise comparison (dedup.h).
 *   - volume_bin = floor(ln(V_prim / n_prim) / ln(1 + MS_FINGERPRINT_BIN_WIDTH)): 3% wide bins
 *     of the volume per site. Candidates are looked up in their bin and both neighbours, so two
 *     cells whose volumes differ by less than one bin width always meet.
 *   - No heap: a fingerprint is a fixed-size value; computing one allocates nothing. Not
 *     collective.
 */
#ifndef MATSCREEN_FINGERPRINT_H
#define MATSCREEN_FINGERPRINT_H

#include <stddef.h>
#include <stdint.h>

#include "matscreen/element.h"
#include "matscreen/error.h"
#include "matscreen/structure.h"
#include "matscreen/symmetry.h"

#define MS_FINGERPRINT_BIN_WIDTH 0.03 /* relative width of a volume bin */

typedef struct ms_fingerprint {
    uint64_t key;             /* formula + space group + orbit multiset */
    long volume_bin;          /* binned volume per site of the primitive cell */
    int spacegroup;           /* 1..230 */
    size_t n_prim;            /* sites in the standardized primitive cell */
    double volume_per_site;   /* Å^3 */
    char reduced_formula[96]; /* of the primitive cell (pymatgen rules) */
    char wyckoff[160];        /* sorted orbits "Fe4c O4c O8d P4c Li4a" ("..." when cut) */
} ms_fingerprint;

/* Computes the fingerprint of s from its symmetry sym (analysed with options->cells = 1, so
 * sym->primitive is filled). Fails with MS_ERR_USAGE when sym has no primitive cell. */
ms_status ms_fingerprint_compute(const ms_structure *s, const ms_symmetry *sym,
                                 const ms_element_table *table, ms_fingerprint *fp);

/* "key-bin" as text: 16 hex digits, '-', the bin (at most 40 bytes with NUL). */
void ms_fingerprint_format(const ms_fingerprint *fp, char *out, size_t n);

/* Volume bin of a volume per site (Å^3). */
long ms_fingerprint_volume_bin(double volume_per_site);

#endif /* MATSCREEN_FINGERPRINT_H */
