/*
 * Tests of the model interface, logistic regression and Gaussian naive Bayes.
 *
 * Reference values: the first 300 rows of Matbench glass (matbench_glass.json), Magpie columns
 * 27, 45, 99, 129 ("MagpieData mean Column", "... mean Electronegativity", "... mean NfUnfilled",
 * "... mean SpaceGroupNumber"), label gfa. Computed once with /usr/bin/python3 (scikit-learn 1.2.1):
 *   X = StandardScaler().fit_transform(d[:, :4]); y = d[:, 4]
 *   LogisticRegression(C=1.0, tol=1e-12, max_iter=10000).fit(X, y)  (lbfgs; its newton-cg
 *   optimum differs by 2e-7 relative, so coefficients are compared to 2e-6)
 *   GaussianNB().fit(X, y).predict_proba(X)[:, 1]
 */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "matscreen/dataset.h"
#include "matscreen/hash.h"
#include "matscreen/logistic.h"
#include "matscreen/model.h"
#include "matscreen/naive_bayes.h"
#include "matscreen/scaling.h"
#include "suites.h"
#include "test_util.h"

int ms_suite_models(void);

static const int cols[4] = {27, 45, 99, 129};

/* 300 rows x 4 standardised columns and labels; returns 0 on failure. */
static int glass4(ms_matrix *x, double *y, ms_dataset *d)
{
    ms_dataset_spec s;
    ms_dataset_spec_default(&s);
    s.source = MS_DATASET_MATBENCH;
    s.path = ms_test_data("labeled/matbench/matbench_glass.json");
    s.max_rows = 300;
    if (ms_dataset_load(&s, ms_test_elements(), d) != MS_SUCCESS || d->n != 300) return 0;
    ms_matrix_alloc(x, 300, 4);
    for (size_t i = 0; i < 300; i++) {
        for (int j = 0; j < 4; j++) MS_AT(x, i, j) = MS_AT(&d->x, i, cols[j]);
        y[i] = d->y[i];
    }
    double c[4], s4[4];
    ms_scaling_fit(x, c, s4);
    ms_scaling_apply(x, c, s4);
    return 1;
}

static void test_logistic_matches_sklearn(void)
{
    ms_matrix x;
    double y[300];
    ms_dataset d;
    CU_ASSERT_FATAL(glass4(&x, y, &d));
    ms_logistic *m = NULL;
    CU_ASSERT_FATAL(ms_logistic_fit(&x, y, 1.0, &m) == MS_SUCCESS);
    const double coef[5] = {-0.390476008853, 0.589911839169, 2.465753980037, 0.0, 0.685481993613};
    for (int j = 0; j < 5; j++) CU_ASSERT(ms_test_close(m->coef[j], coef[j], 2e-6, 1e-9));
    double p[300], s[300];
    ms_logistic_predict(m, &x, p, s);
    const double ref[5] = {0.103099232478, 0.940674666031, 0.787887860904, 0.755308730942,
                           0.680681728629};
    for (int i = 0; i < 5; i++) {
        CU_ASSERT(ms_test_close(p[i], ref[i], 1e-6, 1e-10));
        CU_ASSERT(s[i] > 0 && s[i] < 0.25);
    }
    ms_logistic_free(m);
    ms_matrix_free(&x);
    ms_dataset_free(&d);
}

static void test_naive_bayes_matches_sklearn(void)
{
    ms_matrix x;
    double y[300];
    ms_dataset d;
    CU_ASSERT_FATAL(glass4(&x, y, &d));
    ms_naive_bayes *m = NULL;
    CU_ASSERT_FATAL(ms_naive_bayes_fit(&x, y, 1e-9, &m) == MS_SUCCESS);
    double p[300];
    ms_naive_bayes_predict(m, &x, p);
    const double ref[5] = {0.031469431009, 0.999219279580, 0.999994446167, 0.999990195305,
                           0.999973154069};
    for (int i = 0; i < 5; i++) CU_ASSERT(ms_test_close(p[i], ref[i], 1e-8, 1e-11));
    ms_naive_bayes_free(m);
    ms_matrix_free(&x);
    ms_dataset_free(&d);
}

/* A trained model of each kind on the glass rows (all 132 features, NaN-free). */
static ms_model *train(const char *kind, ms_dataset *d)
{
    ms_dataset_spec s;
    ms_dataset_spec_default(&s);
    s.source = MS_DATASET_MATBENCH;
    s.path = ms_test_data("labeled/matbench/matbench_glass.json");
    s.max_rows = 300;
    if (ms_dataset_load(&s, ms_test_elements(), d) != MS_SUCCESS) return NULL;
    ms_model_spec spec;
    ms_model_spec_default(&spec);
    spec.kind = kind;
    spec.task = MS_MODEL_CLASSIFICATION;
    spec.seed = 2385;
    ms_model_options_add(&spec.options, strcmp(kind, "forest") == 0 ? "n_trees=20" : "C=0.5");
    if (strcmp(kind, "naive_bayes") == 0) spec.options.n = 0;
    ms_model *m = NULL;
    if (ms_model_fit(&spec, &d->x, d->y, (const char *const *)d->feature_names, MPI_COMM_SELF, &m))
        return NULL;
    ms_model_set_meta(m, "gfa", 0, NAN, d->set_name, d->set_version, d->set_signature);
    ms_model_add_metric(m, "cv5_roc_auc", 0.9385);
    return m;
}

static void test_round_trip_every_kind(void)
{
    const char *kinds[3] = {"forest", "logistic", "naive_bayes"};
    for (int k = 0; k < 3; k++) {
        ms_dataset d;
        ms_model *m = train(kinds[k], &d);
        CU_ASSERT_FATAL(m != NULL);
        ms_model_writer w = {0};
        CU_ASSERT_FATAL(ms_model_save_buffer(m, &w) == MS_SUCCESS);
        ms_model *back = NULL;
        CU_ASSERT_FATAL(ms_model_load_buffer(w.data, w.len, "mem", &back) == MS_SUCCESS);
        double a[300], b[300], sa[300], sb[300];
        CU_ASSERT(ms_model_predict(m, &d.x, a, sa) == MS_SUCCESS);
        CU_ASSERT(ms_model_predict(back, &d.x, b, sb) == MS_SUCCESS);
        CU_ASSERT(memcmp(a, b, sizeof a) == 0);
        CU_ASSERT(strcmp(back->type->name, kinds[k]) == 0);
        CU_ASSERT(back->n_metrics == 1 && back->metric_value[0] == 0.9385);
        CU_ASSERT(strcmp(back->feature_names[45], "MagpieData mean Electronegativity") == 0);
        CU_ASSERT(back->data_hash == m->data_hash);
        ms_model_free(back);
        ms_model_free(m);
        free(w.data);
        ms_dataset_free(&d);
    }
}

static void test_damaged_files_fail_cleanly(void)
{
    ms_dataset d;
    ms_model *m = train("forest", &d);
    CU_ASSERT_FATAL(m != NULL);
    ms_model_writer w = {0};
    CU_ASSERT_FATAL(ms_model_save_buffer(m, &w) == MS_SUCCESS);
    ms_model *back = NULL;
    /* a flipped payload byte */
    unsigned char *c = malloc(w.len);
    memcpy(c, w.data, w.len);
    c[w.len / 2] ^= 0x40;
    CU_ASSERT(ms_model_load_buffer(c, w.len, "model.bin", &back) == MS_ERR_PARSE);
    CU_ASSERT(strstr(ms_error_message(), "model.bin: checksum mismatch: file is damaged") != NULL);
    /* truncated anywhere */
    for (size_t cut = 0; cut < w.len; cut += w.len / 97 + 1) {
        CU_ASSERT(ms_model_load_buffer(w.data, cut, "model.bin", &back) != MS_SUCCESS);
        CU_ASSERT(back == NULL);
    }
    CU_ASSERT(strstr(ms_error_message(), "truncated") != NULL);
    /* a foreign file */
    const char *cif = "data_x\n_cell_length_a 2.385\n";
    CU_ASSERT(ms_model_load_buffer((const unsigned char *)cif, strlen(cif), "x.cif", &back) ==
              MS_ERR_PARSE);
    CU_ASSERT(strstr(ms_error_message(), "not a matscreen model") != NULL);
    /* a newer format version */
    memcpy(c, w.data, w.len);
    c[8] = 9;
    CU_ASSERT(ms_model_load_buffer(c, w.len, "m", &back) == MS_ERR_UNSUPPORTED);
    CU_ASSERT(strstr(ms_error_message(), "newer than this matscreen") != NULL);
    /* a descriptor set version this build does not have: rewrite the payload, fix the sum */
    ms_model_set_meta(m, "gfa", 0, NAN, "magpie", 2, "magpie/2");
    ms_model_writer w2 = {0};
    CU_ASSERT_FATAL(ms_model_save_buffer(m, &w2) == MS_SUCCESS);
    CU_ASSERT(ms_model_load_buffer(w2.data, w2.len, "model.bin", &back) == MS_ERR_UNSUPPORTED);
    CU_ASSERT(strstr(ms_error_message(),
                     "made for descriptor set magpie v2 but this matscreen has v1") != NULL);
    /* random byte flips with a recomputed checksum (hostile, not damaged): never a crash */
    for (int t = 0; t < 300; t++) {
        memcpy(c, w.data, w.len);
        size_t at = 32 + (size_t)(((unsigned)t * 2654435761u) % (unsigned)(w.len - 32));
        c[at] = (unsigned char)(c[at] + 1 + t % 200);
        uint64_t h = ms_hash_bytes(c + 32, w.len - 32);
        for (int k = 0; k < 8; k++) c[24 + k] = (unsigned char)(h >> (8 * k));
        if (ms_model_load_buffer(c, w.len, "fuzz", &back) == MS_SUCCESS) {
            double mu[300];
            ms_model_predict(back, &d.x, mu, NULL);
            ms_model_free(back);
            back = NULL;
        }
    }
    free(c);
    free(w.data);
    free(w2.data);
    ms_model_free(m);
    ms_dataset_free(&d);
}

/* ms_model_load on disk: every failure names the file; a truncated copy of a real model fails. */
static void test_model_files_on_disk(void)
{
    ms_model *m = NULL;
    CU_ASSERT(ms_model_load("/nonexistent/forest.msm", &m) == MS_ERR_IO);
    CU_ASSERT(m == NULL);
    CU_ASSERT(strstr(ms_error_message(), "/nonexistent/forest.msm: cannot open") != NULL);
    char dir[] = "/tmp/ms_test_models_XXXXXX";
    CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
    CU_ASSERT(ms_model_load(dir, &m) == MS_ERR_IO);
    CU_ASSERT(strstr(ms_error_message(), "not a regular file") != NULL);
    /* the real e_hull forest, cut to half its size */
    FILE *in = fopen(ms_test_local("models/forest_v1_ehull.msm"), "rb");
    CU_ASSERT_FATAL(in != NULL);
    char path[64];
    snprintf(path, sizeof path, "%s/half.msm", dir);
    FILE *out = fopen(path, "wb");
    CU_ASSERT_FATAL(out != NULL);
    fseek(in, 0, SEEK_END);
    long size = ftell(in);
    rewind(in);
    for (long i = 0; i < size / 2; i++) fputc(fgetc(in), out);
    fclose(in);
    fclose(out);
    CU_ASSERT(ms_model_load(path, &m) == MS_ERR_PARSE);
    CU_ASSERT(m == NULL);
    CU_ASSERT(strstr(ms_error_message(), path) != NULL);
    remove(path);
    rmdir(dir);
}

static void test_unknown_kind_and_parameter(void)
{
    const ms_model_type *t;
    CU_ASSERT(ms_model_type_lookup("svm", &t) == MS_ERR_NOT_FOUND);
    CU_ASSERT(strstr(ms_error_message(), "forest, logistic, naive_bayes") != NULL);
    ms_model_options o = {0};
    CU_ASSERT(ms_model_options_add(&o, "n_tress=5") == MS_SUCCESS);
    static const char *const keys[] = {"n_trees", NULL};
    CU_ASSERT(ms_model_options_check(&o, "forest", keys) == MS_ERR_USAGE);
    CU_ASSERT(strstr(ms_error_message(), "'n_tress'") != NULL);
    CU_ASSERT(ms_model_options_add(&o, "novalue") == MS_ERR_USAGE);
}

int ms_suite_models(void)
{
    CU_pSuite s = CU_add_suite("models", NULL, NULL);
    if (!s) return CU_get_error();
    CU_add_test(s, "logistic matches scikit-learn", test_logistic_matches_sklearn);
    CU_add_test(s, "naive Bayes matches scikit-learn", test_naive_bayes_matches_sklearn);
    CU_add_test(s, "save/load round trip of every kind", test_round_trip_every_kind);
    CU_add_test(s, "damaged, truncated, foreign files", test_damaged_files_fail_cleanly);
    CU_add_test(s, "model files on disk: missing, directory, truncated", test_model_files_on_disk);
    CU_add_test(s, "unknown kind and parameter", test_unknown_kind_and_parameter);
    return CU_get_error();
}
