/*
 * Missing-value policy per feature: drop the record, impute the column median, or impute the
 * median of the record's group (for example its crystal system or chemical family).
 *
 * Conventions
 *   - Input is an ms_matrix (row-major; rows are records, columns features); NaN is missing.
 *   - Order: first every DROP column marks its rows with a missing value as dropped (keep[i] = 0);
 *     then medians are computed over the kept rows only and written into the missing cells of
 *     MEDIAN and GROUP_MEDIAN columns (dropped rows are left as they are). The caller removes
 *     dropped rows with ms_matrix_take_rows when it wants a dense matrix.
 *   - Median as in numpy.nanmedian (mean of the two middle values for an even count).
 *   - GROUP_MEDIAN: the median of the non-missing values of kept rows with the same group label
 *     (group[i], any int); a group with no value falls back to the column median. A column with
 *     no value at all stays NaN and is counted in still_missing.
 *   - Work: the caller gives rows doubles and rows size_t; nothing is allocated. Not collective.
 */
#ifndef MATSCREEN_IMPUTE_H
#define MATSCREEN_IMPUTE_H

#include <stddef.h>

#include "matscreen/error.h"
#include "matscreen/matrix.h"

typedef enum ms_impute_policy {
    MS_IMPUTE_KEEP = 0,     /* leave missing values as NaN */
    MS_IMPUTE_DROP,         /* drop records missing this feature */
    MS_IMPUTE_MEDIAN,       /* column median */
    MS_IMPUTE_GROUP_MEDIAN  /* median within the record's group, else the column median */
} ms_impute_policy;

typedef struct ms_impute_report {
    size_t rows_dropped;  /* rows with keep[i] = 0 */
    size_t imputed;       /* cells filled */
    size_t still_missing; /* NaN cells left in kept rows */
} ms_impute_report;

/* Parses "drop", "median", "group_median", "keep" (MS_ERR_USAGE otherwise). */
ms_status ms_impute_policy_parse(const char *name, ms_impute_policy *policy);

/* Applies policy[c] to every column c of x in place. group (x->rows labels) is needed only when
 * a column uses MS_IMPUTE_GROUP_MEDIAN (else may be NULL; MS_ERR_USAGE if missing). keep
 * (x->rows) receives 1 for kept rows and 0 for dropped ones. work: x->rows doubles; iwork:
 * x->rows size_t. report may be NULL. */
ms_status ms_impute_apply(ms_matrix *x, const ms_impute_policy *policy, const int *group,
                          double *work, size_t *iwork, unsigned char *keep,
                          ms_impute_report *report);

#endif /* MATSCREEN_IMPUTE_H */
