/*
 * Choosing several candidates at once: ranking by score, diverse batches (no near-duplicates in
 * one batch) and Pareto ranking for two or more targets.
 *
 * Conventions
 *   - Scores are "larger is better" (acquisition.h). NaN scores are never chosen and rank last;
 *     ties keep the lower index first, so every order here is a deterministic function of the
 *     inputs (for a screen: of the records' stable order, never of the number of ranks).
 *   - Features for the distance are a row-major ms_matrix (one candidate per row), standardised by
 *     the caller (z-scores, scaling.h). The distance between rows a and b is the root-mean-square
 *     difference over the features finite in both,
 *         d(a, b) = sqrt( (1/q) sum_k (x_ak - x_bk)^2 ),
 *     so it is in units of one standard deviation per feature whatever the number of features
 *     (infinite, i.e. no penalty, when no feature is finite in both).
 *   - Diverse batch, greedy with a multiplicative distance penalty (in the spirit of local
 *     penalisation, Gonzalez et al. 2016): the eligible finite scores are mapped to utilities
 *     u_i = eps + (1 - eps) (s_i - s_min) / (s_max - s_min) in [eps, 1] (eps = 1e-6; all 1 when
 *     every score is equal; +inf scores get 1 and are then placed first among themselves by index);
 *     then k times: choose the i with the largest
 *         u_i * prod_{j chosen} (1 - exp(-d(i, j)^2 / (2 r^2))),
 *     so a candidate at distance 0 from a chosen one (an exact duplicate) has 0 and one within r
 *     is strongly damped. With r <= 0 or x NULL there is no penalty (the batch is the top k).
 *     Cost O(k n q). Why not kriging believer: it needs the surrogate to refit k times and is
 *     specific to GPs; the penalty works for any surrogate (forest, GP) and for a screen's
 *     gathered top-K, where only features and scores are at hand.
 *   - Pareto ranking (NSGA-II, Deb et al. 2002): a dominates b when a is at least as good in every
 *     objective and strictly better in one. Front 0 holds the non-dominated rows; front k+1 the
 *     rows non-dominated once fronts 0..k are removed. The crowding distance within a front is
 *     the sum over objectives of (f[next] - f[prev]) / (f_max - f_min) along that objective's
 *     sorted order (ties by index), +inf for the two ends; 0 for an objective with no spread.
 *     Cost O(m n^2) time, O(n) memory: meant for pools and gathered top-K lists, not 10^6 rows.
 *   - Every function is Not collective and allocates only its own scratch (freed on return).
 */
#ifndef MATSCREEN_BATCH_H
#define MATSCREEN_BATCH_H

#include <stddef.h>

#include "matscreen/error.h"
#include "matscreen/matrix.h"

/* Writes the indices 0..n-1 into order sorted by score, best first, NaN last, ties by index. */
ms_status ms_batch_rank(const double *score, size_t n, size_t *order);

/* Root-mean-square feature distance between rows a and b of x (see the conventions). */
double ms_batch_distance(const ms_matrix *x, size_t a, size_t b);

/* Chooses up to k candidates among the n = score count rows whose eligible flag is non-zero
 * (eligible NULL: all) and whose score is not NaN, greedily with the distance penalty of radius
 * r on the rows of x (x->rows == n; x NULL: no penalty). chosen (k entries) receives the indices
 * in order of choice, *n_chosen their number (less than k when fewer candidates qualify) and,
 * when utility is not NULL, utility[t] the penalised utility at the moment choice t was made.
 * Fails with MS_ERR_USAGE when x does not have n rows, MS_ERR_NOMEM. */
ms_status ms_batch_select(const double *score, const unsigned char *eligible, size_t n,
                          const ms_matrix *x, double r, size_t k, size_t *chosen,
                          size_t *n_chosen, double *utility);

/* Pareto fronts of n rows with m objectives f (row-major n x m); maximize[j] non-zero when
 * objective j is to be maximised (NULL: all maximised). rank[i] is the front of row i (0 best),
 * or -1 when a value of row i is NaN (such rows take part in nothing); crowding[i] (may be NULL)
 * its crowding distance within the front (NaN for rank -1). Fails with MS_ERR_USAGE when m is 0,
 * MS_ERR_NOMEM. */
ms_status ms_pareto_rank(const double *f, size_t n, size_t m, const int *maximize, int *rank,
                         double *crowding);

/* Orders rows by front (rank -1 last), then by decreasing crowding distance, then by index
 * (NSGA-II's crowded comparison): order receives 0..n-1 in that order. crowding may be NULL
 * (ties within a front then go by index). */
ms_status ms_pareto_order(const int *rank, const double *crowding, size_t n, size_t *order);

#endif /* MATSCREEN_BATCH_H */
