/* Tests of outliers (IQR, robust z-score), imputation and correlation matrices
 * (src/quality/outliers.c, impute.c, correlation.c). Reference values were printed once by
 * Debian 12's /usr/bin/python3 with numpy 1.24 (percentile, median), pandas 1.5.3
 * (DataFrame.corr, pairwise complete) and scipy 1.10.1 (stats.rankdata):
 *   df = pd.DataFrame(X); df.corr(method="pearson"); df.corr(method="spearman")
 *   np.percentile(v, [25, 50, 75]); np.median(np.abs(v - med)) over the non-NaN values. */
#include <CUnit/CUnit.h>
#include <math.h>
#include <string.h>

#include "matscreen/correlation.h"
#include "matscreen/impute.h"
#include "matscreen/outliers.h"
#include "suites.h"
#include "test_util.h"

/* Declared here too until suites.h lists X(outliers) (the lead registers suites). */
int ms_suite_outliers(void);

#define ROWS 8
#define COLS 4
/* columns: a density-like value, a lattice length with one wild entry, a band gap, a fraction */
static const double X[ROWS][COLS] = {
    {2.385, 10.41, 3.1, NAN}, {2.911, 10.33, 1.7, 0.52}, {3.402, 10.35, NAN, 0.61},
    {2.118, 10.72, 2.4, 0.44}, {4.977, 10.29, 0.9, 0.70}, {3.402, 10.51, 2.2, 0.58},
    {NAN, 10.38, 1.7, 0.49},   {2.764, 18.95, 3.6, 0.47},
};

static void load(double *data, ms_matrix *m)
{
    memcpy(data, X, sizeof X);
    ms_matrix_wrap(m, data, ROWS, COLS);
}

static void test_iqr(void)
{
    double data[ROWS * COLS], work[ROWS];
    unsigned char flags[ROWS];
    ms_matrix m;
    load(data, &m);
    ms_outlier_summary s;
    CU_ASSERT_EQUAL(ms_outliers_iqr(&m, 0, MS_OUTLIER_IQR_K, work, flags, &s), MS_SUCCESS);
    CU_ASSERT_EQUAL(s.n_valid, 7);
    CU_ASSERT(ms_test_close(s.q1, 2.5744999999999996, 1e-14, 0));
    CU_ASSERT(ms_test_close(s.median, 2.911, 1e-14, 0));
    CU_ASSERT(ms_test_close(s.q3, 3.4020000000000001, 1e-14, 0));
    CU_ASSERT(ms_test_close(s.mad, 0.4910000000000001, 1e-13, 0));
    CU_ASSERT_EQUAL(s.n_outliers, 1);
    CU_ASSERT_EQUAL(flags[4], 1); /* numpy: row 4 */
    CU_ASSERT_EQUAL(flags[6], 0); /* NaN is never an outlier */
    CU_ASSERT_EQUAL(ms_outliers_iqr(&m, 1, MS_OUTLIER_IQR_K, work, flags, &s), MS_SUCCESS);
    CU_ASSERT(ms_test_close(s.q1, 10.344999999999999, 1e-14, 0));
    CU_ASSERT(ms_test_close(s.q3, 10.5625, 1e-14, 0));
    CU_ASSERT_EQUAL(s.n_outliers, 1);
    CU_ASSERT_EQUAL(flags[7], 1);
    CU_ASSERT_EQUAL(ms_outliers_iqr(&m, 2, MS_OUTLIER_IQR_K, work, NULL, &s), MS_SUCCESS);
    CU_ASSERT_EQUAL(s.n_outliers, 0);
    CU_ASSERT_EQUAL(ms_outliers_iqr(&m, COLS, 1.5, work, flags, &s), MS_ERR_USAGE);
    CU_ASSERT_EQUAL(ms_outliers_iqr(&m, 0, -1, work, flags, &s), MS_ERR_USAGE);
    CU_ASSERT(ms_test_close(ms_quantile(X[0], COLS, 0.5, work), 3.1, 1e-15, 0)); /* {2.385 10.41 3.1} */
}

static void test_robust_z(void)
{
    double data[ROWS * COLS], work[ROWS];
    unsigned char flags[ROWS];
    ms_matrix m;
    load(data, &m);
    ms_outlier_summary s;
    size_t expect_out[COLS] = {0, 1, 0, 0};
    const double mad[COLS] = {0.4910000000000001, 0.084999999999999964, 0.50000000000000022,
                              0.059999999999999942};
    for (size_t c = 0; c < COLS; c++) {
        CU_ASSERT_EQUAL(ms_outliers_robust_z(&m, c, MS_OUTLIER_ROBUST_Z, work, flags, &s), MS_SUCCESS);
        CU_ASSERT(ms_test_close(s.mad, mad[c], 1e-12, 0));
        CU_ASSERT_EQUAL(s.n_outliers, expect_out[c]);
    }
    CU_ASSERT_EQUAL(ms_outliers_robust_z(&m, 1, MS_OUTLIER_ROBUST_Z, work, flags, &s), MS_SUCCESS);
    CU_ASSERT_EQUAL(flags[7], 1); /* 18.95 A: |z| = 67 */
    /* MAD 0: more than half the values equal, nothing flagged */
    double same[5] = {1.7, 1.7, 1.7, 9.9, 1.7};
    ms_matrix one;
    ms_matrix_wrap(&one, same, 5, 1);
    CU_ASSERT_EQUAL(ms_outliers_robust_z(&one, 0, 3.5, work, flags, &s), MS_SUCCESS);
    CU_ASSERT_EQUAL(s.mad, 0);
    CU_ASSERT_EQUAL(s.n_outliers, 0);
}

static void test_impute(void)
{
    double data[ROWS * COLS], work[ROWS];
    size_t iwork[ROWS];
    unsigned char keep[ROWS];
    ms_matrix m;
    ms_impute_report rep;
    load(data, &m);
    ms_impute_policy p[COLS] = {MS_IMPUTE_MEDIAN, MS_IMPUTE_KEEP, MS_IMPUTE_MEDIAN, MS_IMPUTE_DROP};
    CU_ASSERT_EQUAL(ms_impute_apply(&m, p, NULL, work, iwork, keep, &rep), MS_SUCCESS);
    CU_ASSERT_EQUAL(keep[0], 0); /* column 3 missing: dropped */
    CU_ASSERT_EQUAL(rep.rows_dropped, 1);
    /* medians over kept rows 1..7: column 0 {2.911 3.402 2.118 4.977 3.402 2.764} -> 3.1565 */
    CU_ASSERT(ms_test_close(MS_AT(&m, 6, 0), 0.5 * (2.911 + 3.402), 1e-15, 0));
    /* column 2 over rows 1..7 {1.7 2.4 0.9 2.2 1.7 3.6} -> 1.95 */
    CU_ASSERT(ms_test_close(MS_AT(&m, 2, 2), 1.95, 1e-15, 0));
    CU_ASSERT_EQUAL(rep.imputed, 2);
    CU_ASSERT_EQUAL(rep.still_missing, 0);
    CU_ASSERT(isnan(MS_AT(&m, 0, 3))); /* dropped rows are left alone */
    /* group medians (pandas groupby([0,1,0,1,0,1,0,1]).median()): group 0 column 0 {2.385 3.402
     * 4.977} -> 3.402, column 2 {3.1 0.9 1.7} -> 1.7 */
    load(data, &m);
    int group[ROWS] = {0, 1, 0, 1, 0, 1, 0, 1};
    ms_impute_policy q[COLS] = {MS_IMPUTE_GROUP_MEDIAN, MS_IMPUTE_KEEP, MS_IMPUTE_GROUP_MEDIAN,
                                MS_IMPUTE_KEEP};
    CU_ASSERT_EQUAL(ms_impute_apply(&m, q, group, work, iwork, keep, &rep), MS_SUCCESS);
    CU_ASSERT_EQUAL(rep.rows_dropped, 0);
    CU_ASSERT(ms_test_close(MS_AT(&m, 6, 0), 3.402, 1e-15, 0));
    CU_ASSERT(ms_test_close(MS_AT(&m, 2, 2), 1.7, 1e-15, 0));
    CU_ASSERT_EQUAL(rep.still_missing, 1); /* column 3 kept as NaN */
    CU_ASSERT_EQUAL(ms_impute_apply(&m, q, NULL, work, iwork, keep, &rep), MS_ERR_USAGE);
    ms_impute_policy r;
    CU_ASSERT_EQUAL(ms_impute_policy_parse("group_median", &r), MS_SUCCESS);
    CU_ASSERT_EQUAL(r, MS_IMPUTE_GROUP_MEDIAN);
    CU_ASSERT_EQUAL(ms_impute_policy_parse("mean", &r), MS_ERR_USAGE);
}

static const double pearson_ref[COLS][COLS] = {
    {1, -0.20291561947613679, -0.73828894875878837, 0.95990893655520515},
    {-0.20291561947613679, 1, 0.6797215303081604, -0.38727085645529258},
    {-0.73828894875878837, 0.6797215303081604, 1, -0.68968995054433779},
    {0.95990893655520515, -0.38727085645529258, -0.68968995054433779, 1}};
static const double spearman_ref[COLS][COLS] = {
    {1, -0.64867497314080247, -0.7142857142857143, 0.98561076060916231},
    {-0.64867497314080247, 1, 0.88291871344164774, -0.7857142857142857},
    {-0.7142857142857143, 0.88291871344164774, 1, -0.75370234634818301},
    {0.98561076060916231, -0.7857142857142857, -0.75370234634818301, 1}};

static void test_correlation(void)
{
    double data[ROWS * COLS], work[4 * ROWS], outd[COLS * COLS];
    size_t iwork[ROWS];
    ms_matrix m, out;
    load(data, &m);
    ms_matrix_wrap(&out, outd, COLS, COLS);
    CU_ASSERT_EQUAL(ms_correlation_matrix(&m, MS_CORRELATION_PEARSON, 2, &out, work, iwork), MS_SUCCESS);
    for (int i = 0; i < COLS; i++)
        for (int j = 0; j < COLS; j++) CU_ASSERT(ms_test_close(MS_AT(&out, i, j), pearson_ref[i][j], 1e-12, 1e-15));
    CU_ASSERT_EQUAL(ms_correlation_matrix(&m, MS_CORRELATION_SPEARMAN, 2, &out, work, iwork), MS_SUCCESS);
    for (int i = 0; i < COLS; i++)
        for (int j = 0; j < COLS; j++) CU_ASSERT(ms_test_close(MS_AT(&out, i, j), spearman_ref[i][j], 1e-12, 1e-15));
    /* too few complete rows -> NaN */
    CU_ASSERT_EQUAL(ms_correlation_matrix(&m, MS_CORRELATION_PEARSON, 8, &out, work, iwork), MS_SUCCESS);
    CU_ASSERT(isnan(MS_AT(&out, 0, 2)));
    CU_ASSERT(ms_test_close(MS_AT(&out, 1, 1), 1, 0, 1e-15)); /* column 1 is complete */
    ms_matrix bad;
    ms_matrix_wrap(&bad, outd, 3, 3);
    CU_ASSERT_EQUAL(ms_correlation_matrix(&m, MS_CORRELATION_PEARSON, 2, &bad, work, iwork), MS_ERR_USAGE);
    /* average ranks: scipy.stats.rankdata([3.1 1.7 2.4 0.9 2.2 1.7 3.6]) */
    const double v[7] = {3.1, 1.7, 2.4, 0.9, 2.2, 1.7, 3.6}, r_ref[7] = {6, 2.5, 5, 1, 4, 2.5, 7};
    double r[7];
    ms_rank_average(v, 7, r, iwork);
    for (int i = 0; i < 7; i++) CU_ASSERT_DOUBLE_EQUAL(r[i], r_ref[i], 0);
}

int ms_suite_outliers(void)
{
    CU_pSuite s = CU_add_suite("outliers", NULL, NULL);
    if (!s) return CU_get_error();
    if (!CU_add_test(s, "IQR fences", test_iqr) || !CU_add_test(s, "robust z-score", test_robust_z) ||
        !CU_add_test(s, "imputation policies", test_impute) ||
        !CU_add_test(s, "Pearson and Spearman", test_correlation))
        return CU_get_error();
    return CUE_SUCCESS;
}
