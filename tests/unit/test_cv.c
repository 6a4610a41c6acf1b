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

/* A forest recalibrated on grouped-CV residuals: the calibration is stored, survives the model
 * file, changes sigma as sqrt((k s)^2 + s0^2) of the learner's sigma, and its conformal factor
 * covers at least 1 - alpha of the rows it was fitted on. */
static void test_grouped_recalibration(void)
{
    ms_dataset d;
    CU_ASSERT_EQUAL_FATAL(load_sample(NULL, &d), MS_SUCCESS);
    ms_model_spec spec;
    ms_model_spec_default(&spec);
    spec.kind = "forest";
    spec.seed = 3;
    ms_model_options_add(&spec.options, "n_trees=30");
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
    CU_ASSERT_EQUAL_FATAL(ms_model_predict(m, &d.x, mu2, s_cal), MS_SUCCESS);
    for (size_t i = 0; i < d.n; i++) {
        CU_ASSERT_EQUAL(mu2[i], mu[i]); /* means never change */
        CU_ASSERT(ms_test_close(s_cal[i], hypot(c->scale * s_raw[i], c->floor), 1e-12, 0));
    }
    int has_gcv = 0;
    for (size_t k = 0; k < m->n_metrics; k++) has_gcv |= !strcmp(m->metric_name[k], "gcv5_mae");
    CU_ASSERT(has_gcv);
    /* the file keeps it */
    ms_model_writer w = {0};
    CU_ASSERT_EQUAL_FATAL(ms_model_save_buffer(m, &w), MS_SUCCESS);
    CU_ASSERT_EQUAL(w.data[8], 3); /* format version 3 */
    ms_model *back = NULL;
    CU_ASSERT_EQUAL_FATAL(ms_model_load_buffer(w.data, w.len, "cal.msm", &back), MS_SUCCESS);
    CU_ASSERT_EQUAL(back->calibration.kind, MS_MODEL_CAL_GROUPED);
    CU_ASSERT_EQUAL(back->calibration.scale, c->scale);
    CU_ASSERT_EQUAL(back->calibration.floor, c->floor);
    CU_ASSERT_EQUAL(back->calibration.q, c->q);
    CU_ASSERT_STRING_EQUAL(back->calibration.grouping, "chemsys");
    CU_ASSERT_EQUAL_FATAL(ms_model_predict(back, &d.x, mu2, s_raw), MS_SUCCESS);
    CU_ASSERT(memcmp(s_raw, s_cal, d.n * sizeof *s_raw) == 0);
    CU_ASSERT(ms_test_close(ms_model_interval_half_width(back, 2.385), c->q * 2.385, 1e-15, 0));
    ms_model_free(back);
    free(w.data);
    free(s_raw);
    free(s_cal);
    free(mu);
    free(mu2);
    ms_model_free(m);
    ms_dataset_free(&d);
}

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
        !CU_add_test(s, "grouped recalibration", test_grouped_recalibration))
        return CU_get_error();
    return CUE_SUCCESS;
}
