/*
 * Tests of metrics and calibration against scikit-learn / scipy.
 *
 * Predictions: the L2 logistic regression of test_models.c on the first 300 rows of Matbench glass
 * (4 standardised Magpie columns). Reference values computed once with /usr/bin/python3
 * (scikit-learn 1.2.1, scipy): accuracy_score, precision_score, recall_score, f1_score,
 * matthews_corrcoef, balanced_accuracy_score, roc_auc_score, log_loss, confusion_matrix on
 * (y, p >= 0.5); regression: t = "MagpieData mean SpaceGroupNumber", r = 17 * "MagpieData mean
 * Column": mean_absolute_error, sqrt(mean_squared_error), r2_score, spearmanr.
 */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdlib.h>

#include "matscreen/calibration.h"
#include "matscreen/dataset.h"
#include "matscreen/logistic.h"
#include "matscreen/metrics.h"
#include "matscreen/scaling.h"
#include "suites.h"
#include "test_util.h"

int ms_suite_metrics(void);

static int load(ms_dataset *d)
{
    ms_dataset_spec s;
    ms_dataset_spec_default(&s);
    s.source = MS_DATASET_MATBENCH;
    s.path = ms_test_data("labeled/matbench/matbench_glass.json");
    s.max_rows = 300;
    return ms_dataset_load(&s, ms_test_elements(), d) == MS_SUCCESS && d->n == 300;
}

static void test_classification_matches_sklearn(void)
{
    ms_dataset d;
    CU_ASSERT_FATAL(load(&d));
    const int cols[4] = {27, 45, 99, 129};
    ms_matrix x;
    ms_matrix_alloc(&x, 300, 4);
    for (size_t i = 0; i < 300; i++)
        for (int j = 0; j < 4; j++) MS_AT(&x, i, j) = MS_AT(&d.x, i, cols[j]);
    double c[4], s[4], p[300];
    ms_scaling_fit(&x, c, s);
    ms_scaling_apply(&x, c, s);
    ms_logistic *m;
    CU_ASSERT_FATAL(ms_logistic_fit(&x, d.y, 1.0, &m) == MS_SUCCESS);
    ms_logistic_predict(m, &x, p, NULL);
    ms_class_metrics cm;
    CU_ASSERT_FATAL(ms_metrics_classification(d.y, p, 300, &cm) == MS_SUCCESS);
    CU_ASSERT(ms_test_close(cm.accuracy, 0.786666666667, 1e-10, 1e-12));
    CU_ASSERT(ms_test_close(cm.precision, 0.761061946903, 1e-10, 1e-12));
    CU_ASSERT(ms_test_close(cm.recall, 0.699186991870, 1e-10, 1e-12));
    CU_ASSERT(ms_test_close(cm.f1, 0.728813559322, 1e-10, 1e-12));
    CU_ASSERT(ms_test_close(cm.mcc, 0.554861052423, 1e-10, 1e-12));
    CU_ASSERT(ms_test_close(cm.balanced_accuracy, 0.773322309494, 1e-10, 1e-12));
    CU_ASSERT(ms_test_close(cm.roc_auc, 0.873937807175, 1e-9, 1e-12));
    CU_ASSERT(ms_test_close(cm.log_loss, 0.457721092201, 1e-7, 1e-12));
    CU_ASSERT(cm.tn == 150 && cm.fp == 27 && cm.fn == 37 && cm.tp == 86);
    /* Labels at a threshold: 0.5 must agree with the above; 0.41 = 123/300, the positive
     * fraction (balanced_accuracy_score(y, p >= 0.41)). */
    CU_ASSERT(ms_test_close(ms_metrics_balanced_accuracy_at(d.y, p, 300, 0.5),
                            cm.balanced_accuracy, 1e-15, 0));
    CU_ASSERT(ms_test_close(ms_metrics_balanced_accuracy_at(d.y, p, 300, 0.41), 0.790478159019,
                            1e-10, 1e-12));
    double t[300], r[300];
    for (size_t i = 0; i < 300; i++) {
        t[i] = MS_AT(&d.x, i, 129);
        r[i] = 17.0 * MS_AT(&d.x, i, 27);
    }
    ms_reg_metrics rm;
    CU_ASSERT_FATAL(ms_metrics_regression(t, r, 300, &rm) == MS_SUCCESS);
    CU_ASSERT(ms_test_close(rm.mae, 17.808683333333, 1e-10, 1e-12));
    CU_ASSERT(ms_test_close(rm.rmse, 21.816154601197, 1e-10, 1e-12));
    CU_ASSERT(ms_test_close(rm.r2, -3.339672658397, 1e-10, 1e-12));
    CU_ASSERT(ms_test_close(rm.spearman, 0.209937460117, 1e-9, 1e-12));
    ms_logistic_free(m);
    ms_matrix_free(&x);
    ms_dataset_free(&d);
}

static void test_auc_edge_cases(void)
{
    const double y[4] = {0, 0, 1, 1}, s[4] = {0.1, 0.4, 0.35, 0.8};
    CU_ASSERT(ms_test_close(ms_metrics_roc_auc(y, s, 4), 0.75, 0, 1e-15));
    const double one[3] = {1, 1, 1};
    CU_ASSERT(isnan(ms_metrics_roc_auc(one, s, 3)));
    const double tie[4] = {0.5, 0.5, 0.5, 0.5};
    CU_ASSERT(ms_test_close(ms_metrics_roc_auc(y, tie, 4), 0.5, 0, 1e-15));
}

static void test_calibration_of_gaussian_errors(void)
{
    /* exact quantiles of N(0,1) errors with sigma 1: coverage and area known */
    enum { N = 20001 };
    static double y[N], mu[N], sg[N];
    for (int i = 0; i < N; i++) {
        y[i] = ms_normal_quantile((i + 0.5) / N) * 2.385;
        mu[i] = 0;
        sg[i] = 2.385;
    }
    ms_calibration c;
    CU_ASSERT_FATAL(ms_calibration_compute(y, mu, sg, N, &c) == MS_SUCCESS);
    CU_ASSERT(fabs(c.within1 - 0.682689) < 2e-4);
    CU_ASSERT(fabs(c.within2 - 0.954500) < 2e-4);
    CU_ASSERT(c.miscal_area < 2e-3);
    CU_ASSERT(fabs(c.z_rms - 1) < 2e-3);
    CU_ASSERT(fabs(c.nll - (0.5 * log(2 * M_PI * 2.385 * 2.385) + 0.5)) < 2e-3);
    for (int i = 0; i < N; i++) sg[i] = 2.385 * 10; /* 10x too wide */
    CU_ASSERT_FATAL(ms_calibration_compute(y, mu, sg, N, &c) == MS_SUCCESS);
    CU_ASSERT(c.within1 > 0.99 && c.miscal_area > 0.2);
    CU_ASSERT(fabs(ms_normal_quantile(0.975) - 1.959963984540054) < 1e-9);
}

int ms_suite_metrics(void)
{
    CU_pSuite s = CU_add_suite("metrics", NULL, NULL);
    if (!s) return CU_get_error();
    CU_add_test(s, "classification and regression metrics match scikit-learn",
                test_classification_matches_sklearn);
    CU_add_test(s, "ROC-AUC ties and one class", test_auc_edge_cases);
    CU_add_test(s, "calibration of Gaussian errors", test_calibration_of_gaussian_errors);
    return CU_get_error();
}
