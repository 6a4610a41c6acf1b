/*
 * Charge balance: does some assignment of oxidation states make a composition neutral?
 *
 * Conventions
 *   - Candidate states follow pymatgen's Composition.oxi_state_guesses as matminer calls it:
 *     an element's common oxidation states, else its ICSD states, else all its known states
 *     (element table, copied from pymatgen's periodic_table.json). An element with no state makes
 *     every composition holding it impossible.
 *   - Every atom of the composition picks one state independently (amounts as given, not
 *     reduced). Non-integer amounts (disordered structures) are scaled by the smallest integer
 *     k <= MS_OXIDATION_MAX_SCALE that makes every amount integral within 1e-6 atoms; with no
 *     such k the answer is "undecided".
 *   - The search is a dynamic programme over reachable charge sums kept as a bitset (one atom of
 *     a multivalent element at a time; single-valent elements only shift the sum). It is bounded:
 *     at most MS_OXIDATION_SPAN reachable sums and about 5e7 word operations of that per-atom
 *     programme (~20 ms). Beyond the bound the counts are divided by their greatest common
 *     divisor (a neutral reduced formula implies a neutral multiple) and tried once more; if
 *     still too large the answer is "undecided" (-1). It never runs unbounded, unlike
 *     enumerating the combinations.
 *   - Saturation shortcut (same verdicts, the bound is unchanged): after some atoms of one
 *     element the reachable set keeps its lowest and highest 256 offsets and is periodic (period
 *     g, the gcd of the element's state differences) in between; from then on each further atom
 *     only lengthens the periodic middle, so the remaining atoms of that element are applied in
 *     one pass (the proof is at `saturated` in src/core/oxidation.c). Scaled disordered cells
 *     (Li24.024 x 1000) take a few hundred steps instead of one per atom: about 100x faster on the
 *     OBELiX cells. tests/unit/test_oxidation.c compares every verdict with the per-atom
 *     programme on ~17,000 compositions.
 *   - Memory: the caller owns the work buffer (MS_OXIDATION_WORK_WORDS 64-bit words, about
 *     260 kB) and reuses it; nothing is allocated per call. Not collective; thread-safe with one
 *     buffer per thread.
 * This is the one implementation of the search: the validation stage (quality) and the
 * IonProperty descriptor (features) both call it.
 */
#ifndef MATSCREEN_OXIDATION_H
#define MATSCREEN_OXIDATION_H

#include <stddef.h>
#include <stdint.h>

#include "matscreen/element.h"

#define MS_OXIDATION_MAX_SCALE 1000                            /* largest k tried for integers */
#define MS_OXIDATION_SPAN (1L << 20)                           /* reachable charge sums (bits) */
#define MS_OXIDATION_SPAN_WORDS ((size_t)MS_OXIDATION_SPAN / 64 + 1)
#define MS_OXIDATION_WORK_WORDS (2 * MS_OXIDATION_SPAN_WORDS)  /* uint64_t words of the buffer */

/* Candidate oxidation states of every element (a copy; no pointer into the table). */
typedef struct ms_oxidation_states {
    int n[MS_MAX_Z + 1];              /* number of candidate states of Z */
    int oxi[MS_MAX_Z + 1][MS_MAX_OXI]; /* candidate states of Z, ascending */
} ms_oxidation_states;

/* Fills states from the element table (common, else ICSD, else all states). */
void ms_oxidation_states_init(ms_oxidation_states *states, const ms_element_table *table);

/* Decides charge balance for integer counts count[i] of elements z[i], i < n (n <= MS_MAX_Z).
 * work holds MS_OXIDATION_WORK_WORDS words. Returns 1 (a neutral assignment exists), 0 (none
 * exists) or -1 (over the search bound: undecided). Does not try the gcd reduction. */
int ms_oxidation_balance_counts(const ms_oxidation_states *states, const int *z,
                                const long long *count, int n, uint64_t *work);

/* Decides charge balance for amounts amount[i] (may be fractional) of elements z[i], i < n:
 * scales to integers (see the conventions), runs the search, and on "over the bound" retries with
 * the counts divided by their gcd. Returns 1, 0 or -1 (undecided: no integer multiple within
 * MS_OXIDATION_MAX_SCALE, or over the bound). A single element gives 1 (an elemental solid is
 * neutral, as matminer's IonProperty says); n == 0 gives -1. */
int ms_oxidation_balance(const ms_oxidation_states *states, const int *z, const double *amount,
                         int n, uint64_t *work);

#endif /* MATSCREEN_OXIDATION_H */
