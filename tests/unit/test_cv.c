/*
 * Tests of grouped cross-validation (cv.h: ms_group_spec_parse, ms_cv_groups, ms_folds_grouped;
 * train.h: ms_train_folds) and of the group keys the data set loader records (dataset.h).
 *
 * Repository data (runs everywhere): tests/data/labeled/crabnet_ehull_sample.csv, 63 rows of
 * CrabNet mp_e_hull with pymatgen's chemical_system and reduced_formula beside each formula.
 * Shared data (skipped with one line when ../shared is absent): the OBELiX training split, whose
 * doped variants of one host share a chemical system.
 */
#include <CUnit/CUnit.h>
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "matscreen/calibration.h"
#include "matscreen/cv.h"
#include "matscreen/dataset.h"
#include "matscreen/domain.h"
#include "matscreen/model.h"
#include "matscreen/train.h"
#include "suites.h"
#include "test_util.h"

int ms_suite_cv(void);

static ms_status load_sample(const char *group_column, ms_dataset *d)
{
    ms_dataset_spec s;
    ms_dataset_spec_default(&s);
    s.source = MS_DATASET_FORMULA_CSV;
    s.path = ms_test_local("labeled/crabnet_ehull_sample.csv");
    s.formula_column = "formula";
    s.target = "target";
    s.group_column = group_column;
    return ms_dataset_load(&s, ms_test_elements(), d);
}

/* Number of (i, j) pairs with the same key whose folds differ; 0 means every group is whole. */
static size_t split_groups(char *const *key, const int *fold, size_t n)
{
    size_t bad = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            bad += !strcmp(key[i], key[j]) && fold[i] != fold[j];
    return bad;
}

/* The loader's keys are pymatgen's chemical_system and reduced_formula for every row. */
static void test_group_keys_match_pymatgen(void)
{
    ms_dataset d, ref;
    CU_ASSERT_EQUAL_FATAL(load_sample("pymatgen_chemsys", &d), MS_SUCCESS);
    CU_ASSERT_EQUAL_FATAL(load_sample("pymatgen_reduced_formula", &ref), MS_SUCCESS);
    CU_ASSERT_EQUAL_FATAL(d.n, 63);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d.group);
    size_t same_cs = 0, same_f = 0;
    for (size_t i = 0; i < d.n; i++) {
        same_cs += !strcmp(d.chemsys[i], d.group[i]);
        same_f += !strcmp(d.formula[i], ref.group[i]);
        if (strcmp(d.chemsys[i], d.group[i]))
            fprintf(stderr, "\n  row %zu: chemsys %s, pymatgen %s\n", i, d.chemsys[i], d.group[i]);
    }
    CU_ASSERT_EQUAL(same_cs, d.n);
    CU_ASSERT_EQUAL(same_f, d.n);
    CU_ASSERT_STRING_EQUAL(d.chemsys[0], "Ca-Mn-O-Sr-Ti");
    ms_dataset_free(&d);
    ms_dataset_free(&ref);
}

/* Grouped folds keep every chemical system in one fold, balance the folds, vary with the seed;
 * random folds of the same data do split systems (so the check above can fail). */
static void test_grouped_folds_keep_groups_whole(void)
{
    ms_dataset d;
    CU_ASSERT_EQUAL_FATAL(load_sample(NULL, &d), MS_SUCCESS);
    CU_ASSERT_PTR_NULL(d.group);
    int *f0 = malloc(d.n * sizeof *f0), *f1 = malloc(d.n * sizeof *f1), *g = malloc(d.n * sizeof *g);
    ms_group_spec gs;
    CU_ASSERT_EQUAL_FATAL(ms_group_spec_parse("chemsys", &gs), MS_SUCCESS);
    size_t ng = 0;
    CU_ASSERT_EQUAL_FATAL(ms_cv_groups(&d, &gs, 0, g, &ng), MS_SUCCESS);
    CU_ASSERT_EQUAL(ng, 26); /* 12 systems of 3-6 rows, 14 single rows (README) */
    CU_ASSERT_EQUAL_FATAL(ms_train_folds(&d, &gs, 5, 0, f0), MS_SUCCESS);
    CU_ASSERT_EQUAL(split_groups(d.chemsys, f0, d.n), 0);
    size_t cnt[5] = {0};
    for (size_t i = 0; i < d.n; i++) {
        CU_ASSERT_FATAL(f0[i] >= 0 && f0[i] < 5);
        cnt[f0[i]]++;
    }
    size_t lo = d.n, hi = 0;
    for (int k = 0; k < 5; k++) {
        lo = cnt[k] < lo ? cnt[k] : lo;
        hi = cnt[k] > hi ? cnt[k] : hi;
    }
    CU_ASSERT(lo > 0);
    CU_ASSERT(hi - lo <= 6); /* within the largest group's size */
    CU_ASSERT_EQUAL_FATAL(ms_train_folds(&d, &gs, 5, 1, f1), MS_SUCCESS);
    CU_ASSERT_EQUAL(split_groups(d.chemsys, f1, d.n), 0);
    CU_ASSERT(memcmp(f0, f1, d.n * sizeof *f0) != 0);
    /* the same seed gives the same folds */
    CU_ASSERT_EQUAL_FATAL(ms_train_folds(&d, &gs, 5, 1, f0), MS_SUCCESS);
    CU_ASSERT(memcmp(f0, f1, d.n * sizeof *f0) == 0);
    CU_ASSERT_EQUAL_FATAL(ms_train_folds(&d, NULL, 5, 0, f0), MS_SUCCESS);
    CU_ASSERT(split_groups(d.chemsys, f0, d.n) > 0);
    /* reduced formula: as whole */
    CU_ASSERT_EQUAL_FATAL(ms_group_spec_parse("formula", &gs), MS_SUCCESS);
    CU_ASSERT_EQUAL_FATAL(ms_train_folds(&d, &gs, 4, 3, f0), MS_SUCCESS);
    CU_ASSERT_EQUAL(split_groups(d.formula, f0, d.n), 0);
    /* more folds than systems is refused with the counts */
    CU_ASSERT_EQUAL_FATAL(ms_group_spec_parse("chemsys", &gs), MS_SUCCESS);
    CU_ASSERT_EQUAL(ms_train_folds(&d, &gs, 27, 0, f0), MS_ERR_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(ms_error_message(), "26 groups are too few for 27 folds"));
    /* a column group needs the column loaded */
    CU_ASSERT_EQUAL_FATAL(ms_group_spec_parse("column:pymatgen_chemsys", &gs), MS_SUCCESS);
    CU_ASSERT_EQUAL(ms_train_folds(&d, &gs, 5, 0, f0), MS_ERR_USAGE);
    free(f0);
    free(f1);
    free(g);
    ms_dataset_free(&d);
}

/* k-means groups: K clusters at most, deterministic for a seed, whole in grouped folds. */
static void test_kmeans_groups(void)
{
    ms_dataset d;
    CU_ASSERT_EQUAL_FATAL(load_sample(NULL, &d), MS_SUCCESS);
    int *g0 = malloc(d.n * sizeof *g0), *g1 = malloc(d.n * sizeof *g1), *f = malloc(d.n * sizeof *f);
    ms_group_spec gs;
    CU_ASSERT_EQUAL_FATAL(ms_group_spec_parse("kmeans:6", &gs), MS_SUCCESS);
    CU_ASSERT_EQUAL(gs.clusters, 6);
    size_t n0 = 0, n1 = 0;
    CU_ASSERT_EQUAL_FATAL(ms_cv_groups(&d, &gs, 7, g0, &n0), MS_SUCCESS);
    CU_ASSERT_EQUAL_FATAL(ms_cv_groups(&d, &gs, 7, g1, &n1), MS_SUCCESS);
    CU_ASSERT(n0 >= 5 && n0 <= 6);
    CU_ASSERT_EQUAL(n0, n1);
    CU_ASSERT(memcmp(g0, g1, d.n * sizeof *g0) == 0);
    size_t per[6] = {0};
    for (size_t i = 0; i < d.n; i++) {
        CU_ASSERT_FATAL(g0[i] >= 0 && (size_t)g0[i] < n0);
        per[g0[i]]++;
    }
    for (size_t c = 0; c < n0; c++) CU_ASSERT(per[c] > 0);
    /* clusters as groups: whole in their folds */
    CU_ASSERT_EQUAL_FATAL(ms_folds_grouped(g0, d.n, 3, 0, f), MS_SUCCESS);
    for (size_t i = 0; i < d.n; i++)
        for (size_t j = 0; j < d.n; j++)
            if (g0[i] == g0[j]) CU_ASSERT_EQUAL(f[i], f[j]);
    free(g0);
    free(g1);
    free(f);
    ms_dataset_free(&d);
}

static void test_group_spec_errors(void)
{
    ms_group_spec g;
    char buf[300];
    CU_ASSERT_EQUAL(ms_group_spec_parse("none", &g), MS_SUCCESS);
    CU_ASSERT_EQUAL(g.kind, MS_GROUP_NONE);
    CU_ASSERT_EQUAL(ms_group_spec_parse("column:Family", &g), MS_SUCCESS);
    CU_ASSERT_STRING_EQUAL(ms_group_spec_format(&g, buf, sizeof buf), "column:Family");
    CU_ASSERT_EQUAL(ms_group_spec_parse("kmeans:1", &g), MS_ERR_USAGE);
    CU_ASSERT_EQUAL(ms_group_spec_parse("kmeans:8x", &g), MS_ERR_USAGE);
    CU_ASSERT_EQUAL(ms_group_spec_parse("column:", &g), MS_ERR_USAGE);
    CU_ASSERT_EQUAL(ms_group_spec_parse("elements", &g), MS_ERR_USAGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(ms_error_message(), "'elements' is not a grouping"));
}

/* OBELiX: 226 usable rows; every chemical system (and every Family) whole in its fold, for
 * several seeds; the random 5-fold split separates siblings. */
static void test_obelix_grouped_folds(void)
{
    const char *csv = ms_test_data("labeled/obelix-train/train.csv");
    if (access(csv, R_OK) != 0) {
        fprintf(stderr, "\n  SKIP: %s absent (no ../shared data)\n", csv);
        return;
    }
    ms_dataset_spec s;
    ms_dataset_spec_default(&s);
    s.source = MS_DATASET_STRUCTURE_CSV;
    s.path = strdup(csv);
    s.structure_dir = strdup(ms_test_data("labeled/obelix-train/cifs"));
    s.id_column = "ID";
    s.target = "Ionic conductivity (S cm-1)";
    s.log10_target = 1;
    s.group_column = "Family";
    ms_dataset d;
    CU_ASSERT_EQUAL_FATAL(ms_dataset_load(&s, ms_test_elements(), &d), MS_SUCCESS);
    CU_ASSERT_EQUAL(d.n, 226);
    int *f = malloc(d.n * sizeof *f), *g = malloc(d.n * sizeof *g);
    ms_group_spec gs = {.kind = MS_GROUP_CHEMSYS};
    size_t ng = 0;
    CU_ASSERT_EQUAL_FATAL(ms_cv_groups(&d, &gs, 0, g, &ng), MS_SUCCESS);
    CU_ASSERT(ng > 50 && ng < d.n); /* families of doped variants share systems */
    for (uint64_t seed = 0; seed < 5; seed++) {
        CU_ASSERT_EQUAL_FATAL(ms_train_folds(&d, &gs, 5, seed, f), MS_SUCCESS);
        CU_ASSERT_EQUAL(split_groups(d.chemsys, f, d.n), 0);
    }
    CU_ASSERT_EQUAL_FATAL(ms_group_spec_parse("column:Family", &gs), MS_SUCCESS);
    CU_ASSERT_EQUAL_FATAL(ms_train_folds(&d, &gs, 5, 0, f), MS_SUCCESS);
    CU_ASSERT_EQUAL(split_groups(d.group, f, d.n), 0);
    CU_ASSERT_EQUAL_FATAL(ms_train_folds(&d, NULL, 5, 0, f), MS_SUCCESS);
    CU_ASSERT(split_groups(d.chemsys, f, d.n) > 0);
    free(f);
    free(g);
    ms_dataset_free(&d);
    free((char *)s.path);
    free((char *)s.structure_dir);
}

/* Split-conformal factor: the ceil((m + 1)(1 - alpha))-th smallest score. */
static void test_conformal_q(void)
{
    const double z[10] = {0.913, 2.385, 0.157, 1.702, 0.488, 3.141, 1.234, 0.771, 2.02, 1.5};
    /* sorted: 0.157 0.488 0.771 0.913 1.234 1.5 1.702 2.02 2.385 3.141 */
    CU_ASSERT_DOUBLE_EQUAL(ms_calibration_conformal_q(z, 10, 0.2), 2.385, 0); /* ceil(8.8) = 9 */
    CU_ASSERT_DOUBLE_EQUAL(ms_calibration_conformal_q(z, 10, 0.5), 1.5, 0);   /* ceil(5.5) = 6 */
    CU_ASSERT(isinf(ms_calibration_conformal_q(z, 10, 0.05)));                /* ceil(10.45) = 11 */
    CU_ASSERT(isnan(ms_calibration_conformal_q(z, 0, 0.2)));
    CU_ASSERT_DOUBLE_EQUAL(z[0], 0.913, 0); /* input untouched */
}

/* The recalibration criteria's names: what --calibration-fit takes is what evaluate prints and
 * what the model file's number means (by_area of ms_calibration_fit_floor). */
static void test_criterion_names(void)
{
    CU_ASSERT_EQUAL(ms_calibration_criterion_lookup("likelihood"), 0);
    CU_ASSERT_EQUAL(ms_calibration_criterion_lookup("area"), 1);
    CU_ASSERT_EQUAL(ms_calibration_criterion_lookup("coverage"), 2);
    for (int c = 0; c < 3; c++)
        CU_ASSERT_EQUAL(ms_calibration_criterion_lookup(ms_calibration_criterion_name(c)), c);
    CU_ASSERT_EQUAL(ms_calibration_criterion_lookup("Coverage"), -1);
    CU_ASSERT_EQUAL(ms_calibration_criterion_lookup(NULL), -1);
    CU_ASSERT_STRING_EQUAL(ms_calibration_criterion_name(3), "");
}

/* The distance term of the recalibration (calibration.h): without scores, or with scores that
 * cannot matter (all 0), the fit is the plain (k, s0) one to the bit and c = 0; with errors that
 * grow with the score, c > 0 and the likelihood is better than without it. */
static void test_fit_floor_dist(void)
{
    enum { M = 400 };
    double r[M], s[M], d[M], zero[M];
    uint64_t state = 12345;
    for (int i = 0; i < M; i++) {
        /* |N(0, 0.2 (1 + 2 d))| by Box-Muller from a small LCG: deterministic */
        double u[2];
        for (int j = 0; j < 2; j++) {
            state = state * 6364136223846793005ULL + 1442695040888963407ULL;
            u[j] = ((double)(state >> 11) + 0.5) / 9007199254740992.0;
        }
        d[i] = 3.0 * i / M;
        s[i] = 0.1 + 0.05 * (i % 7);
        zero[i] = 0;
        r[i] = fabs(0.2 * (1 + 2 * d[i]) * sqrt(-2 * log(u[0])) * cos(2 * M_PI * u[1]));
    }
    for (int crit = 0; crit < 3; crit++) {
        double k0 = 1, s00 = 0, k1 = 1, s01 = 0, c1 = -1;
        int f0 = 0, f1 = 0;
        CU_ASSERT_EQUAL_FATAL(ms_calibration_fit_floor(r, s, M, crit, &k0, &s00, &f0), MS_SUCCESS);
        CU_ASSERT_EQUAL_FATAL(ms_calibration_fit_floor_dist(r, s, zero, M, crit, &k1, &s01, &c1, &f1),
                              MS_SUCCESS);
        CU_ASSERT(f0 && f1);
        CU_ASSERT_EQUAL(k1, k0);
        CU_ASSERT_EQUAL(s01, s00);
        CU_ASSERT_EQUAL(c1, 0);
        c1 = -1;
        CU_ASSERT_EQUAL_FATAL(ms_calibration_fit_floor_dist(r, s, NULL, M, crit, &k1, &s01, &c1, &f1),
                              MS_SUCCESS);
        CU_ASSERT_EQUAL(k1, k0);
        CU_ASSERT_EQUAL(s01, s00);
        CU_ASSERT_EQUAL(c1, 0);
    }
    double k = 1, s0 = 0, c = 0, kb = 1, s0b = 0;
    int f = 0;
    CU_ASSERT_EQUAL_FATAL(ms_calibration_fit_floor_dist(r, s, d, M, 0, &k, &s0, &c, &f), MS_SUCCESS);
    CU_ASSERT_EQUAL_FATAL(ms_calibration_fit_floor(r, s, M, 0, &kb, &s0b, &f), MS_SUCCESS);
    CU_ASSERT(c > 0.5 && c < 8); /* the errors' own 2, within the sample's noise */
    double nll_d = 0, nll_b = 0;
    for (int i = 0; i < M; i++) {
        double a = ms_calibration_sigma(s[i], k, s0, c, d[i]);
        double b = ms_calibration_sigma(s[i], kb, s0b, 0, d[i]);
        CU_ASSERT(ms_test_close(b, hypot(kb * s[i], s0b), 1e-15, 0));
        nll_d += log(a * a) + r[i] * r[i] / (a * a);
        nll_b += log(b * b) + r[i] * r[i] / (b * b);
    }
    CU_ASSERT(nll_d < nll_b - 50);
    /* no score (a model without a domain): the plain formula */
    CU_ASSERT_EQUAL(ms_calibration_sigma(0.3, 2, 0.1, 5, NAN), hypot(0.6, 0.1));
    CU_ASSERT(ms_test_close(ms_calibration_sigma(0.3, 2, 0.1, 5, 1), hypot(0.6, 0.6), 1e-15, 0));
}

/* A forest recalibrated on grouped-CV residuals: the calibration is stored, survives the model
 * file, changes sigma as sqrt((k s)^2 + (s0 (1 + c min(score, clip)))^2) of the learner's sigma
 * and the row's domain score, and its conformal factor covers at least 1 - alpha of the rows it
 * was fitted on. A file whose distance term has no domain to score rows is refused. */
static void grouped_recalibration(const char *kind)
{
    ms_dataset d;
    CU_ASSERT_EQUAL_FATAL(load_sample(NULL, &d), MS_SUCCESS);
    ms_model_spec spec;
    ms_model_spec_default(&spec);
    spec.kind = kind;
    spec.seed = 3;
    if (!strcmp(kind, "forest")) ms_model_options_add(&spec.options, "n_trees=30");
    ms_model *m = NULL;
    CU_ASSERT_EQUAL_FATAL(ms_train_fit(&spec, &d, 0, NAN, 0, MPI_COMM_SELF, &m), MS_SUCCESS);
    double *s_raw = malloc(d.n * sizeof *s_raw), *s_cal = malloc(d.n * sizeof *s_cal);
    double *mu = malloc(d.n * sizeof *mu), *mu2 = malloc(d.n * sizeof *mu2);
    CU_ASSERT_EQUAL_FATAL(ms_model_predict(m, &d.x, mu, s_raw), MS_SUCCESS);
    CU_ASSERT_EQUAL(m->calibration.kind, MS_MODEL_CAL_NONE);
    ms_group_spec gs = {.kind = MS_GROUP_CHEMSYS};
    CU_ASSERT_EQUAL_FATAL(ms_train_calibrate(&spec, &d, &gs, 5, 3, 0.2, 1, MPI_COMM_SELF, m),
                          MS_SUCCESS);
    const ms_model_calibration *c = &m->calibration;
    CU_ASSERT_EQUAL(c->kind, MS_MODEL_CAL_GROUPED);
    CU_ASSERT_STRING_EQUAL(c->grouping, "chemsys");
    CU_ASSERT_EQUAL(c->folds, 5);
    CU_ASSERT_EQUAL(c->groups, 26);
    CU_ASSERT_EQUAL(c->rows, d.n);
    CU_ASSERT(c->scale > 0 && c->floor >= 0);
    CU_ASSERT(c->within1 > 0.4 && c->within1 < 0.95); /* the area fit matches the curve's bulk */
    CU_ASSERT(isfinite(c->q) && c->q > 0);
    CU_ASSERT_EQUAL(c->alpha, 0.2);
    CU_ASSERT(c->dist_coef >= 0);
    CU_ASSERT(c->dist_coef == 0 || c->dist_clip == m->domain->threshold);
    CU_ASSERT(ms_train_calibration_distance(kind) || c->dist_coef == 0);
    printf(" [%s: scale %.4g, floor %.4g, distance term %.4g] ", kind, c->scale, c->floor,
           c->dist_coef);
    CU_ASSERT_EQUAL_FATAL(ms_model_predict(m, &d.x, mu2, s_cal), MS_SUCCESS);
    ms_matrix z = {0};
    CU_ASSERT_EQUAL_FATAL(ms_model_standardize(m, &d.x, &z), MS_SUCCESS);
    for (size_t i = 0; i < d.n; i++) {
        CU_ASSERT_EQUAL(mu2[i], mu[i]); /* means never change */
        double sc = fmin(ms_domain_score(m->domain, &MS_AT(&z, i, 0)), c->dist_clip);
        double g = c->dist_coef > 0 ? 1 + c->dist_coef * sc : 1;
        CU_ASSERT(ms_test_close(s_cal[i], hypot(c->scale * s_raw[i], c->floor * g), 1e-12, 0));
    }
    ms_matrix_free(&z);
    int has_gcv = 0;
    for (size_t k = 0; k < m->n_metrics; k++) has_gcv |= !strcmp(m->metric_name[k], "gcv5_mae");
    CU_ASSERT(has_gcv);
    /* the file keeps it */
    ms_model_writer w = {0};
    CU_ASSERT_EQUAL_FATAL(ms_model_save_buffer(m, &w), MS_SUCCESS);
    CU_ASSERT_EQUAL(w.data[8], 4); /* format version 4 */
    ms_model *back = NULL;
    CU_ASSERT_EQUAL_FATAL(ms_model_load_buffer(w.data, w.len, "cal.msm", &back), MS_SUCCESS);
    CU_ASSERT_EQUAL(back->calibration.kind, MS_MODEL_CAL_GROUPED);
    CU_ASSERT_EQUAL(back->calibration.scale, c->scale);
    CU_ASSERT_EQUAL(back->calibration.floor, c->floor);
    CU_ASSERT_EQUAL(back->calibration.q, c->q);
    CU_ASSERT_EQUAL(back->calibration.dist_coef, c->dist_coef);
    CU_ASSERT_EQUAL(back->calibration.dist_clip, c->dist_clip);
    CU_ASSERT_STRING_EQUAL(back->calibration.grouping, "chemsys");
    CU_ASSERT_EQUAL_FATAL(ms_model_predict(back, &d.x, mu2, s_raw), MS_SUCCESS);
    CU_ASSERT(memcmp(s_raw, s_cal, d.n * sizeof *s_raw) == 0);
    CU_ASSERT(ms_test_close(ms_model_interval_half_width(back, 2.385), c->q * 2.385, 1e-15, 0));
    ms_model_free(back);
    free(w.data);
    /* a distance term without the domain field is a damaged file */
    m->calibration.dist_coef = 1.5;
    m->calibration.dist_clip = 4;
    ms_domain_free(m->domain);
    m->domain = NULL;
    ms_model_writer w2 = {0};
    CU_ASSERT_EQUAL_FATAL(ms_model_save_buffer(m, &w2), MS_SUCCESS);
    back = NULL;
    CU_ASSERT_EQUAL(ms_model_load_buffer(w2.data, w2.len, "cal.msm", &back), MS_ERR_PARSE);
    CU_ASSERT(strstr(ms_error_message(), "distance term needs the domain") != NULL);
    ms_error_clear();
    ms_model_free(back);
    free(w2.data);
    free(s_raw);
    free(s_cal);
    free(mu);
    free(mu2);
    ms_model_free(m);
    ms_dataset_free(&d);
}

static void test_grouped_recalibration(void) { grouped_recalibration("forest"); }

/* The GP's recalibration has the distance term (train.h ms_train_calibration_distance). */
static void test_grouped_recalibration_gp(void) { grouped_recalibration("gp"); }

int ms_suite_cv(void)
{
    CU_pSuite s = CU_add_suite("cv", NULL, NULL);
    if (!s) return CU_get_error();
    if (!CU_add_test(s, "group keys match pymatgen", test_group_keys_match_pymatgen) ||
        !CU_add_test(s, "grouped folds keep groups whole", test_grouped_folds_keep_groups_whole) ||
        !CU_add_test(s, "k-means groups", test_kmeans_groups) ||
        !CU_add_test(s, "group spec errors", test_group_spec_errors) ||
        !CU_add_test(s, "OBELiX grouped folds", test_obelix_grouped_folds) ||
        !CU_add_test(s, "conformal factor", test_conformal_q) ||
        !CU_add_test(s, "recalibration criteria's names", test_criterion_names) ||
        !CU_add_test(s, "recalibration's distance term", test_fit_floor_dist) ||
        !CU_add_test(s, "grouped recalibration", test_grouped_recalibration) ||
        !CU_add_test(s, "grouped recalibration, GP", test_grouped_recalibration_gp))
        return CU_get_error();
    return CUE_SUCCESS;
}
