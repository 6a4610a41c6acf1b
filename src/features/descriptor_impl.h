/*
 * Helpers shared by the descriptor families of src/features/ (private, never installed).
 *
 * The composition families reproduce matminer's numbers, which numpy computes; the sums here
 * follow numpy's summation order (pairwise, 8 accumulators) so that results agree to the last
 * bits where it is cheap to do so, not only to the 1e-9 the tests require.
 */
#ifndef MATSCREEN_DESCRIPTOR_IMPL_H
#define MATSCREEN_DESCRIPTOR_IMPL_H

#include <stddef.h>

#include "matscreen/descriptor.h"

/* The elements of a composition as flat arrays, in order of first appearance (pymatgen's
 * order). Elements whose amount is below MS_COMPOSITION_TOL in magnitude are left out, as
 * pymatgen's Composition drops them. */
typedef struct ms_feature_elements {
    int n;                    /* number of elements kept */
    int negative;             /* 1 when some amount is negative (no family accepts that) */
    int z[MS_MAX_Z];          /* atomic numbers */
    double amount[MS_MAX_Z];  /* amounts (occupancy weighted), the weights of the statistics */
} ms_feature_elements;

/* Fills e from c. */
void ms_feature_elements_get(const ms_composition *c, ms_feature_elements *e);

/* Sum of a[0..n) in numpy's order (np.add.reduce on a contiguous float64 array). */
double ms_np_sum(const double *a, size_t n);

/* np.average(v, weights=w): sum(v*w) / sum(w), with tmp holding n doubles of scratch. */
double ms_np_average(const double *v, const double *w, size_t n, double *tmp);

/* np.nanmean of a[0..n): mean of the non-NaN entries, NaN when there are none. tmp holds n
 * doubles of scratch. */
double ms_np_nanmean(const double *a, size_t n, double *tmp);

/* Sets out[0..n) to NaN and reason[0..n) to r. */
void ms_feature_fill_nan(double *out, unsigned char *reason, size_t n, ms_nan_reason r);

#endif /* MATSCREEN_DESCRIPTOR_IMPL_H */
