/* Tests of the random forest: accuracy on real data, determinism, uncertainty, serialisation. */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "matscreen/calibration.h"
#include "matscreen/cv.h"
#include "matscreen/forest.h"
#include "matscreen/metrics.h"
#include "matscreen/model.h"
#include "matscreen/scaling.h"
#include "suites.h"
#include "test_util.h"

int ms_suite_forest(void);

/* First 1000 rows of Matbench glass (Magpie), medians imputed. */
static int glass(ms_dataset *d, size_t rows)
{
    ms_dataset_spec s;
    ms_dataset_spec_default(&s);
    s.source = MS_DATASET_MATBENCH;
    s.path = ms_test_data("labeled/matbench/matbench_glass.json");
    s.max_rows = rows;
    if (ms_dataset_load(&s, ms_test_elements(), d) != MS_SUCCESS) return 0;
    double *med = malloc(d->x.cols * sizeof *med);
    ms_scaling_medians(&d->x, med);
    ms_scaling_impute(&d->x, med);
    free(med);
    return 1;
}

static void test_classifier_oob_and_holdout(void)
{
    ms_dataset d;
    CU_ASSERT_FATAL(glass(&d, 1000));
    size_t tr[800], te[200];
    double ytr[800], yte[200];
    for (size_t i = 0; i < 1000; i++) {
        if (i % 5 == 3) te[i / 5] = i, yte[i / 5] = d.y[i];
        else tr[i - i / 5 - (i % 5 > 3)] = i, ytr[i - i / 5 - (i % 5 > 3)] = d.y[i];
    }
    ms_matrix xtr, xte;
    ms_matrix_take_rows(&xtr, &d.x, tr, 800);
    ms_matrix_take_rows(&xte, &d.x, te, 200);
    ms_forest_params p;
    ms_forest_params_default(&p);
    p.seed = 2385;
    ms_forest *f;
    CU_ASSERT_FATAL(ms_forest_fit(&p, &xtr, ytr, 1, MPI_COMM_SELF, &f) == MS_SUCCESS);
    ms_forest_oob o;
    ms_forest_oob_summary(f, &o);
    CU_ASSERT(o.roc_auc > 0.85 && o.accuracy > 0.8);
    CU_ASSERT(ms_forest_get_params(f)->max_features == 11); /* floor(sqrt(132)) */
    double mu[200], sg[200];
    CU_ASSERT(ms_forest_predict(f, &xte, mu, sg) == MS_SUCCESS);
    for (int i = 0; i < 200; i++) CU_ASSERT(mu[i] >= 0 && mu[i] <= 1 && sg[i] >= 0);
    CU_ASSERT(ms_metrics_roc_auc(yte, mu, 200) > 0.85);
    /* same seed, same forest; another seed, another forest */
    ms_forest *g, *h;
    double mu2[200], mu3[200];
    CU_ASSERT_FATAL(ms_forest_fit(&p, &xtr, ytr, 1, MPI_COMM_SELF, &g) == MS_SUCCESS);
    p.seed = 2386;
    CU_ASSERT_FATAL(ms_forest_fit(&p, &xtr, ytr, 1, MPI_COMM_SELF, &h) == MS_SUCCESS);
    ms_forest_predict(g, &xte, mu2, NULL);
    ms_forest_predict(h, &xte, mu3, NULL);
    CU_ASSERT(memcmp(mu, mu2, sizeof mu) == 0);
    CU_ASSERT(memcmp(mu, mu3, sizeof mu) != 0);
    ms_forest_free(f);
    ms_forest_free(g);
    ms_forest_free(h);
    ms_matrix_free(&xtr);
    ms_matrix_free(&xte);
    ms_dataset_free(&d);
}

static void test_regressor_uncertainty_grows_off_data(void)
{
    ms_dataset d;
    CU_ASSERT_FATAL(glass(&d, 600));
    /* target: a smooth function of two Magpie columns plus a kink */
    double *y = malloc(600 * sizeof *y);
    for (size_t i = 0; i < 600; i++)
        y[i] = 0.02 * MS_AT(&d.x, i, 129) + (MS_AT(&d.x, i, 45) > 1.8 ? 2.385 : 0);
    ms_forest_params p;
    ms_forest_params_default(&p);
    p.n_trees = 60;
    ms_forest *f;
    CU_ASSERT_FATAL(ms_forest_fit(&p, &d.x, y, 0, MPI_COMM_SELF, &f) == MS_SUCCESS);
    ms_forest_oob o;
    ms_forest_oob_summary(f, &o);
    CU_ASSERT(o.r2 > 0.9);
    CU_ASSERT(o.sigma_scale > 0 && isfinite(o.sigma_scale));
    double mu[600], sg[600];
    CU_ASSERT(ms_forest_predict(f, &d.x, mu, sg) == MS_SUCCESS);
    int positive = 0;
    for (int i = 0; i < 600; i++) positive += sg[i] > 0;
    CU_ASSERT(positive > 300);
    /* no bootstrap: every tree sees every row; the trees still differ through max_features */
    p.bootstrap = 0;
    ms_forest *g;
    CU_ASSERT_FATAL(ms_forest_fit(&p, &d.x, y, 0, MPI_COMM_SELF, &g) == MS_SUCCESS);
    ms_forest_free(g);
    ms_forest_free(f);
    free(y);
    ms_dataset_free(&d);
}

static void test_serialisation_and_hostile_payloads(void)
{
    ms_dataset d;
    CU_ASSERT_FATAL(glass(&d, 300));
    ms_forest_params p;
    ms_forest_params_default(&p);
    p.n_trees = 7;
    ms_forest *f, *g = NULL;
    CU_ASSERT_FATAL(ms_forest_fit(&p, &d.x, d.y, 1, MPI_COMM_SELF, &f) == MS_SUCCESS);
    ms_model_writer w = {0};
    CU_ASSERT_FATAL(ms_forest_save(f, &w) == MS_SUCCESS);
    ms_model_reader r = {w.data, w.len, 0, 0};
    CU_ASSERT_FATAL(ms_forest_load(&r, d.x.cols, &g) == MS_SUCCESS);
    double a[300], b[300], sa[300], sb[300];
    ms_forest_predict(f, &d.x, a, sa);
    ms_forest_predict(g, &d.x, b, sb);
    CU_ASSERT(memcmp(a, b, sizeof a) == 0 && memcmp(sa, sb, sizeof sa) == 0);
    ms_forest_free(g);
    g = NULL;
    /* truncations and wrong feature counts fail */
    for (size_t cut = 0; cut < w.len; cut += 37) {
        ms_model_reader t = {w.data, cut, 0, 0};
        CU_ASSERT(ms_forest_load(&t, d.x.cols, &g) != MS_SUCCESS && g == NULL);
    }
    ms_model_reader t = {w.data, w.len, 0, 0};
    CU_ASSERT(ms_forest_load(&t, d.x.cols + 1, &g) == MS_ERR_PARSE);
    /* flipped bytes: load may succeed or fail, never crash; walks stay in bounds */
    unsigned char *c = malloc(w.len);
    for (size_t k = 0; k < 400; k++) {
        memcpy(c, w.data, w.len);
        c[(k * 7919) % w.len] ^= (unsigned char)(1u << (k % 8));
        ms_model_reader u = {c, w.len, 0, 0};
        if (ms_forest_load(&u, d.x.cols, &g) == MS_SUCCESS) {
            ms_forest_predict(g, &d.x, b, sb);
            ms_forest_free(g);
        }
        g = NULL;
    }
    free(c);
    free(w.data);
    ms_forest_free(f);
    ms_dataset_free(&d);
}

/* First rows of CrabNet mp_e_hull (Magpie); NaN imputed with the medians of `train`. */
static int ehull(ms_dataset *d, const char *file, size_t rows, const double *train_med)
{
    char rel[128];
    snprintf(rel, sizeof rel, "labeled/crabnet/mp_e_hull/%s", file);
    ms_dataset_spec s;
    ms_dataset_spec_default(&s);
    s.source = MS_DATASET_FORMULA_CSV;
    s.path = ms_test_data(rel);
    s.target = "target";
    s.max_rows = rows;
    if (ms_dataset_load(&s, ms_test_elements(), d) != MS_SUCCESS) return 0;
    if (train_med) ms_scaling_impute(&d->x, train_med);
    return 1;
}

/* Energy above hull is heavy-tailed with many exact zeros: where every tree agrees the jackknife
 * sigma is tiny or 0 however wrong the mean is, and no scale factor fixes that. The noise floor
 * (default: fitted on the OOB miscalibration area) must move the OOB and the held-out coverage
 * within 1 sigma toward 0.683, lower the held-out NLL and miscalibration area, never give sigma
 * 0, and leave the means alone. The likelihood fit (noise_floor=2) must buy a lower NLL with
 * wider intervals. 3000 training rows, 1500 held-out rows, 40 trees. */
static void test_noise_floor_on_heavy_tailed_target(void)
{
    ms_dataset tr, va;
    double med[256];
    CU_ASSERT_FATAL(ehull(&tr, "train.csv", 3000, NULL));
    CU_ASSERT_FATAL(tr.x.cols <= 256);
    ms_scaling_medians(&tr.x, med);
    ms_scaling_impute(&tr.x, med);
    CU_ASSERT_FATAL(ehull(&va, "val.csv", 1500, med));
    ms_forest_params p;
    ms_forest_params_default(&p);
    p.n_trees = 40;
    CU_ASSERT(p.noise_floor == 1); /* on by default */
    ms_forest *on, *off, *again, *lik;
    CU_ASSERT_FATAL(ms_forest_fit(&p, &tr.x, tr.y, 0, MPI_COMM_SELF, &on) == MS_SUCCESS);
    CU_ASSERT_FATAL(ms_forest_fit(&p, &tr.x, tr.y, 0, MPI_COMM_SELF, &again) == MS_SUCCESS);
    p.noise_floor = 0;
    CU_ASSERT_FATAL(ms_forest_fit(&p, &tr.x, tr.y, 0, MPI_COMM_SELF, &off) == MS_SUCCESS);
    p.noise_floor = 2;
    CU_ASSERT_FATAL(ms_forest_fit(&p, &tr.x, tr.y, 0, MPI_COMM_SELF, &lik) == MS_SUCCESS);
    ms_forest_oob o1, o0, o2;
    ms_forest_oob_summary(on, &o1);
    ms_forest_oob_summary(off, &o0);
    ms_forest_oob_summary(again, &o2);
    CU_ASSERT(o0.noise_sd == 0 && o1.noise_sd > 0 && isfinite(o1.noise_sd));
    CU_ASSERT(o1.sigma_scale > 0 && isfinite(o1.sigma_scale));
    CU_ASSERT(memcmp(&o1, &o2, sizeof o1) == 0); /* deterministic */
    CU_ASSERT(fabs(o1.within1 - 0.683) < fabs(o0.within1 - 0.683));
    size_t n = va.n;
    double *m1 = malloc(n * sizeof *m1), *s1 = malloc(n * sizeof *s1);
    double *m0 = malloc(n * sizeof *m0), *s0 = malloc(n * sizeof *s0);
    double *s2 = malloc(n * sizeof *s2), *sl = malloc(n * sizeof *sl);
    CU_ASSERT_FATAL(m1 && s1 && m0 && s0 && s2 && sl);
    CU_ASSERT(ms_forest_predict(on, &va.x, m1, s1) == MS_SUCCESS);
    CU_ASSERT(ms_forest_predict(off, &va.x, m0, s0) == MS_SUCCESS);
    CU_ASSERT(memcmp(m1, m0, n * sizeof *m1) == 0); /* the floor changes sigma only */
    size_t zero0 = 0, zero1 = 0;
    for (size_t i = 0; i < n; i++) {
        zero0 += !(s0[i] > 0);
        zero1 += !(s1[i] > 0);
        CU_ASSERT(s1[i] >= o1.noise_sd);
    }
    CU_ASSERT(zero0 > 0 && zero1 == 0); /* the subset has rows where every tree agrees */
    ms_calibration c1, c0;
    CU_ASSERT(ms_calibration_compute(va.y, m1, s1, n, &c1) == MS_SUCCESS);
    CU_ASSERT(ms_calibration_compute(va.y, m0, s0, n, &c0) == MS_SUCCESS);
    CU_ASSERT(c1.n_used == n && c0.n_used == n - zero0);
    CU_ASSERT(fabs(c1.within1 - 0.683) < fabs(c0.within1 - 0.683));
    CU_ASSERT(c1.nll < c0.nll);
    CU_ASSERT(c1.miscal_area < c0.miscal_area);
    ms_calibration cl;
    CU_ASSERT(ms_forest_predict(lik, &va.x, m0, sl) == MS_SUCCESS);
    CU_ASSERT(ms_calibration_compute(va.y, m1, sl, n, &cl) == MS_SUCCESS);
    CU_ASSERT(cl.nll < c1.nll && cl.within1 > c1.within1);
    /* the floor survives a save / load round trip bit for bit */
    ms_model_writer w = {0};
    ms_forest *g = NULL;
    CU_ASSERT_FATAL(ms_forest_save(on, &w) == MS_SUCCESS);
    ms_model_reader r = {w.data, w.len, 0, MS_MODEL_FORMAT_VERSION};
    CU_ASSERT_FATAL(ms_forest_load(&r, tr.x.cols, &g) == MS_SUCCESS);
    CU_ASSERT(ms_forest_predict(g, &va.x, m0, s2) == MS_SUCCESS);
    CU_ASSERT(memcmp(s1, s2, n * sizeof *s1) == 0);
    ms_forest_free(g);
    free(w.data);
    free(m1);
    free(s1);
    free(m0);
    free(s0);
    free(s2);
    free(sl);
    ms_forest_free(lik);
    ms_forest_free(on);
    ms_forest_free(off);
    ms_forest_free(again);
    ms_dataset_free(&tr);
    ms_dataset_free(&va);
}

/* A model file of format version 1 (written before the noise floor existed) still loads, with
 * the floor off (tests/integration/models.sh checks its predictions byte for byte). */
static void test_format_version_1_still_loads(void)
{
    ms_model *m = NULL;
    CU_ASSERT_FATAL(ms_model_load(ms_test_local("models/forest_v1_ehull.msm"), &m) ==
                    MS_SUCCESS);
    ms_forest_oob o;
    ms_forest_oob_summary(m->state, &o);
    CU_ASSERT(o.noise_sd == 0 && ms_forest_get_params(m->state)->noise_floor == 0);
    ms_model_free(m);
}

int ms_suite_forest(void)
{
    CU_pSuite s = CU_add_suite("forest", NULL, NULL);
    if (!s) return CU_get_error();
    CU_add_test(s, "classifier: OOB and held-out ROC-AUC, determinism", test_classifier_oob_and_holdout);
    CU_add_test(s, "regressor: accuracy and uncertainty", test_regressor_uncertainty_grows_off_data);
    CU_add_test(s, "serialisation and hostile payloads", test_serialisation_and_hostile_payloads);
    CU_add_test(s, "noise floor on CrabNet e_hull: calibration, sigma > 0",
                test_noise_floor_on_heavy_tailed_target);
    CU_add_test(s, "model files of format version 1 still load", test_format_version_1_still_loads);
    return CU_get_error();
}
