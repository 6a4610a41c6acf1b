/*
 * Missing-value policies (see include/matscreen/impute.h).
 */
#include "matscreen/impute.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

ms_status ms_impute_policy_parse(const char *name, ms_impute_policy *policy)
{
    static const struct {
        const char *name;
        ms_impute_policy p;
    } names[] = {{"keep", MS_IMPUTE_KEEP},
                 {"drop", MS_IMPUTE_DROP},
                 {"median", MS_IMPUTE_MEDIAN},
                 {"group_median", MS_IMPUTE_GROUP_MEDIAN}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (name && strcmp(name, names[i].name) == 0) {
            *policy = names[i].p;
            return MS_SUCCESS;
        }
    return ms_error_set(MS_ERR_USAGE, "unknown missing-value policy '%s' (keep, drop, median, group_median)",
                        name ? name : "");
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median_of(double *v, size_t m)
{
    if (m == 0) return NAN;
    qsort(v, m, sizeof *v, cmp_double);
    return m % 2 ? v[m / 2] : 0.5 * (v[m / 2 - 1] + v[m / 2]);
}

static int cmp_group(const void *a, const void *b, void *arg)
{
    const int *g = arg;
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    if (g[i] != g[j]) return (g[i] > g[j]) - (g[i] < g[j]);
    return (i > j) - (i < j);
}

ms_status ms_impute_apply(ms_matrix *x, const ms_impute_policy *policy, const int *group,
                          double *work, size_t *iwork, unsigned char *keep,
                          ms_impute_report *report)
{
    MS_CHECK(x && policy && keep, MS_ERR_USAGE, "impute: matrix, policies and keep are required");
    ms_impute_report rep = {0};
    size_t rows = x->rows, cols = x->cols;
    for (size_t c = 0; c < cols; c++)
        MS_CHECK(policy[c] != MS_IMPUTE_GROUP_MEDIAN || group, MS_ERR_USAGE,
                 "impute: column %zu uses group_median but no groups were given", c);
    for (size_t i = 0; i < rows; i++) {
        keep[i] = 1;
        for (size_t c = 0; c < cols && keep[i]; c++)
            if (policy[c] == MS_IMPUTE_DROP && isnan(MS_AT(x, i, c))) keep[i] = 0;
        rep.rows_dropped += !keep[i];
    }
    /* kept rows, sorted by group when groups are used */
    size_t nk = 0;
    for (size_t i = 0; i < rows; i++)
        if (keep[i]) iwork[nk++] = i;
    if (group) qsort_r(iwork, nk, sizeof *iwork, cmp_group, (void *)group);
    for (size_t c = 0; c < cols; c++) {
        if (policy[c] != MS_IMPUTE_MEDIAN && policy[c] != MS_IMPUTE_GROUP_MEDIAN) continue;
        size_t m = 0;
        for (size_t k = 0; k < nk; k++)
            if (!isnan(MS_AT(x, iwork[k], c))) work[m++] = MS_AT(x, iwork[k], c);
        double col_median = median_of(work, m);
        if (policy[c] == MS_IMPUTE_MEDIAN) {
            for (size_t k = 0; k < nk; k++)
                if (isnan(MS_AT(x, iwork[k], c)) && !isnan(col_median)) {
                    MS_AT(x, iwork[k], c) = col_median;
                    rep.imputed++;
                }
            continue;
        }
        for (size_t a = 0; a < nk;) { /* one run of equal group labels: [a, b) */
            size_t b = a;
            while (b < nk && group[iwork[b]] == group[iwork[a]]) b++;
            m = 0;
            int missing = 0;
            for (size_t k = a; k < b; k++) {
                double v = MS_AT(x, iwork[k], c);
                if (isnan(v)) missing = 1;
                else work[m++] = v;
            }
            if (missing) {
                double med = m ? median_of(work, m) : col_median;
                for (size_t k = a; k < b; k++)
                    if (isnan(MS_AT(x, iwork[k], c)) && !isnan(med)) {
                        MS_AT(x, iwork[k], c) = med;
                        rep.imputed++;
                    }
            }
            a = b;
        }
    }
    for (size_t i = 0; i < rows; i++)
        if (keep[i])
            for (size_t c = 0; c < cols; c++) rep.still_missing += (size_t)isnan(MS_AT(x, i, c));
    if (report) *report = rep;
    return MS_SUCCESS;
}
