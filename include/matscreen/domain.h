/*
 * Domain of applicability: how far a feature row lies from what a model was trained on.
 *
 * Conventions (docs/models.md "Domain of applicability")
 *   - Space: the model's standardised feature space (model.h: kept columns, imputed, z-scored),
 *     i.e. exactly the rows the learner saw. Distance: Euclidean.
 *   - Stored rows: the training rows, or MS_DOMAIN_MAX_ROWS of them taken at even strides
 *     (row floor(i n / cap)) when there are more; a brute-force search over at most 2000 rows of
 *     a few hundred columns costs well under a millisecond per query, below one structure's
 *     featurisation (measured figures in docs/models.md), so no tree is kept.
 *   - distance(x) = mean Euclidean distance from x to its k nearest stored rows (k = 5, fewer
 *     when fewer are stored).
 *   - Normalisation: each stored row's own leave-one-group-out distance (the same mean over its
 *     k nearest stored rows of OTHER groups, groups = chemical systems, i.e. element sets) says
 *     how far a family the model has not seen typically lies. scale = the median of those
 *     distances; score(x) = distance(x) / scale, so 1.0 = as far as a typical unseen family.
 *     Without groups (or when every row shares one group) each row leaves only itself out.
 *   - threshold = the 95th percentile (linear interpolation) of the stored rows' normalised
 *     leave-one-group-out scores: a row is in the domain when score <= threshold.
 *   - Every function is Not collective; queries allocate nothing and are thread safe.
 *   - File layout (the model's "domain" field): u32 layout 1, u64 k, f64 scale, f64 threshold,
 *     f64 quantile, u64 n_train, u64 n_groups, u64 n, u64 p, n*p f64 rows.
 */
#ifndef MATSCREEN_DOMAIN_H
#define MATSCREEN_DOMAIN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "matscreen/error.h"
#include "matscreen/matrix.h"
#include "matscreen/model.h"

#define MS_DOMAIN_MAX_ROWS 2000
#define MS_DOMAIN_K 5
#define MS_DOMAIN_QUANTILE 0.95

typedef struct ms_domain {
    size_t n, p;      /* stored rows, columns (the model's kept features) */
    double *rows;     /* n x p standardised training rows, row-major */
    size_t k;         /* neighbours averaged */
    double scale;     /* median leave-one-group-out distance of the stored rows (> 0) */
    double threshold; /* normalised score above which a row is out of the domain */
    double quantile;  /* the quantile of the LOGO scores the threshold is (0.95) */
    size_t n_train;   /* training rows the stored ones were taken from */
    size_t n_groups;  /* groups (chemical systems) among the stored rows */
} ms_domain;

/* Builds the domain of standardised training rows z (n x p) with group ids group (n entries,
 * NULL: every row its own group), k neighbours and the threshold at quantile q of the LOGO
 * scores. MS_ERR_INVALID when z has fewer than 2 rows. *out: free with ms_domain_free. */
ms_status ms_domain_build(const ms_matrix *z, const uint64_t *group, size_t k, double q,
                          ms_domain **out);

/* Mean distance from row (p values, standardised) to its k nearest stored rows. */
double ms_domain_distance(const ms_domain *d, const double *row);

/* ms_domain_distance / scale. */
double ms_domain_score(const ms_domain *d, const double *row);

/* The model-file field body (layout above) and its reader; p must match the model's columns. */
void ms_domain_save(const ms_domain *d, ms_model_writer *w);
ms_status ms_domain_load(ms_model_reader *r, size_t p, ms_domain **out);

/* "domain of applicability: ..." lines for `matscreen model info`. */
void ms_domain_describe(const ms_domain *d, FILE *out);

/* Releases d; NULL is a no-op. */
void ms_domain_free(ms_domain *d);

#endif /* MATSCREEN_DOMAIN_H */
