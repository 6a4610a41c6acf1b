/*
 * Tests of the explanations: exact TreeSHAP (treeshap.c) against brute-force Shapley values on a
 * hand-built tree, forest contributions summing to prediction minus expected value on every row
 * (regression on CrabNet mp_e_hull, classification on Matbench glass), and the gbm's
 * contributions against python3-xgboost's pred_contribs on the same member models and rows;
 * batches of rows give the bits of one row per call (what screen --explain relies on).
 * Tests that need ../shared/data or /usr/bin/python3 with xgboost SKIP with one line.
 */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "matscreen/dataset.h"
#include "matscreen/gbm.h"
#include "matscreen/model.h"
#include "matscreen/treeshap.h"
#include "suites.h"
#include "test_util.h"

int ms_suite_treeshap(void);

/* A depth-3 tree over 4 features that splits on feature 0 twice on one path (UNWIND) and has
 * uneven covers. Node: feature, left, right, threshold or value. */
typedef struct tnode {
    int32_t feature, left, right;
    double v;
} tnode;

static const tnode hand[] = {
    {0, 1, 2, 0.5},   {1, 3, 4, 0.2},  {0, 5, 6, 0.8},   {-1, 0, 0, 1.0},  {2, 7, 8, 0.4},
    {-1, 0, 0, -2.0}, {3, 9, 10, 0.1}, {-1, 0, 0, 0.25}, {-1, 0, 0, 3.5},  {-1, 0, 0, -0.75},
    {-1, 0, 0, 5.0}};
static const uint32_t hand_cover[] = {100, 60, 40, 25, 35, 10, 30, 20, 15, 12, 18};

static ms_shap_tree view(const tnode *nodes, size_t n, const uint32_t *cover, size_t p)
{
    ms_shap_tree t = {n, &nodes[0].feature, &nodes[0].left, &nodes[0].right, &nodes[0].v,
                      sizeof(tnode), cover, 0};
    t.unique_depth = ms_treeshap_unique_depth(&t, p);
    return t;
}

static ms_shap_tree hand_tree(void) { return view(hand, sizeof hand / sizeof *hand, hand_cover, 4); }

/* E[f(x) | x_S] with the path-dependent rule: features in S follow x, others split by cover. */
static double cond_exp_in(const tnode *nodes, const uint32_t *cover, int32_t k, const double *x,
                          unsigned s)
{
    const tnode *n = &nodes[k];
    if (n->feature < 0) return n->v;
    if (s >> n->feature & 1)
        return cond_exp_in(nodes, cover, x[n->feature] <= n->v ? n->left : n->right, x, s);
    return (cover[n->left] * cond_exp_in(nodes, cover, n->left, x, s) +
            cover[n->right] * cond_exp_in(nodes, cover, n->right, x, s)) / cover[k];
}

static double cond_exp(int32_t k, const double *x, unsigned s)
{
    return cond_exp_in(hand, hand_cover, k, x, s);
}

/* Brute-force Shapley values of the tree over p features (all 2^p coalitions). */
static void brute_force(const tnode *nodes, const uint32_t *cover, const double *x, int p,
                        double *want)
{
    double fact[16] = {1};
    for (int i = 1; i < 16; i++) fact[i] = fact[i - 1] * i;
    for (int j = 0; j < p; j++) {
        want[j] = 0;
        for (unsigned s = 0; s < 1u << p; s++) {
            if (s >> j & 1) continue;
            int sz = __builtin_popcount(s);
            want[j] += fact[sz] * fact[p - sz - 1] / fact[p] *
                       (cond_exp_in(nodes, cover, 0, x, s | 1u << j) -
                        cond_exp_in(nodes, cover, 0, x, s));
        }
    }
}

/* A random tree grown to depth 9 over 6 features (features repeat along paths, so deeper splits
 * on a feature replace its fractions), random covers split from 4096 at the root. */
static int32_t grow(tnode *nodes, uint32_t *cover, int32_t *n, uint32_t c, int depth,
                    unsigned *seed)
{
    int32_t k = (*n)++;
    cover[k] = c;
    *seed = *seed * 1103515245u + 12345u;
    if (depth == 0 || c < 2 || (*seed >> 16) % 7 == 0) {
        nodes[k] = (tnode){-1, 0, 0, (double)((*seed >> 8) % 1000) / 100.0 - 5};
        return k;
    }
    uint32_t cl = 1 + (*seed >> 12) % (c - 1);
    nodes[k].feature = (int32_t)((*seed >> 20) % 6);
    nodes[k].v = (double)((*seed >> 4) % 100) / 100.0;
    nodes[k].left = grow(nodes, cover, n, cl, depth - 1, seed);
    nodes[k].right = grow(nodes, cover, n, c - cl, depth - 1, seed);
    return k;
}

/* Random trees, 9 rows each: one at a time (ms_treeshap_add), and in a full batch of 8 plus a
 * short batch of 5 (ms_treeshap_add_rows, whose padding rows must not leak), all against brute
 * force. */
static void test_random_trees_against_brute_force(void)
{
    static tnode nodes[1100];
    static uint32_t cover[1100];
    unsigned seed = 7;
    double worst = 0, worst_batch = 0;
    ms_shap_ws *ws = ms_treeshap_ws_new(9, 6);
    CU_ASSERT_FATAL(ws != NULL);
    for (int rep = 0; rep < 20; rep++) {
        int32_t n = 0;
        grow(nodes, cover, &n, 4096, 9, &seed);
        ms_shap_tree t = view(nodes, (size_t)n, cover, 6);
        CU_ASSERT(t.unique_depth <= 6);
        double x[9][6], phi[6], full[9][6] = {{0}}, part[5][6] = {{0}}, want[6];
        for (int r = 0; r < 9; r++)
            for (int j = 0; j < 6; j++) {
                seed = seed * 1103515245u + 12345u;
                x[r][j] = (double)((seed >> 8) % 1000) / 1000.0;
            }
        ms_treeshap_add_rows(&t, x[0], 6, 8, 1.0, full[0], 6, ws);
        ms_treeshap_add_rows(&t, x[8], 6, 1, 1.0, full[8], 6, ws);
        ms_treeshap_add_rows(&t, x[2], 6, 5, 1.0, part[0], 6, ws);
        for (int r = 0; r < 9; r++) {
            memset(phi, 0, sizeof phi);
            ms_treeshap_add(&t, x[r], 1.0, phi, ws);
            brute_force(nodes, cover, x[r], 6, want);
            for (int j = 0; j < 6; j++) {
                worst = fmax(worst, fabs(phi[j] - want[j]));
                worst_batch = fmax(worst_batch, fabs(full[r][j] - want[j]));
                if (r >= 2 && r < 7) worst_batch = fmax(worst_batch, fabs(part[r - 2][j] - want[j]));
            }
        }
    }
    ms_treeshap_ws_free(ws);
    printf(" [180 rows of 20 random trees: max |phi - brute force| %.2e one row at a time, %.2e in "
           "batches] ", worst, worst_batch);
    CU_ASSERT(worst < 1e-10);
    CU_ASSERT(worst_batch < 1e-10);
}

static void test_exact_against_brute_force(void)
{
    const double xs[4][4] = {{0.1, 0.9, 0.3, 0.0}, {0.7, 0.1, 0.9, 0.5}, {0.9, 0.5, 0.5, 0.05},
                             {0.3, 0.1, 0.5, 0.2}};
    ms_shap_tree t = hand_tree();
    CU_ASSERT(ms_treeshap_depth(&t) == 3);
    ms_shap_ws *ws = ms_treeshap_ws_new(3, 4);
    CU_ASSERT_FATAL(ws != NULL);
    CU_ASSERT(t.unique_depth == 3);
    const double fact[5] = {1, 1, 2, 6, 24};
    for (int r = 0; r < 4; r++) {
        double phi[4] = {0}, want[4] = {0};
        ms_treeshap_add(&t, xs[r], 1.0, phi, ws);
        for (int j = 0; j < 4; j++)
            for (unsigned s = 0; s < 16; s++) {
                if (s >> j & 1) continue;
                int sz = __builtin_popcount(s);
                double w = fact[sz] * fact[4 - sz - 1] / fact[4];
                want[j] += w * (cond_exp(0, xs[r], s | 1u << j) - cond_exp(0, xs[r], s));
            }
        for (int j = 0; j < 4; j++) CU_ASSERT(fabs(phi[j] - want[j]) < 1e-12);
        double sum = ms_treeshap_expected(&t);
        for (int j = 0; j < 4; j++) sum += phi[j];
        CU_ASSERT(fabs(sum - cond_exp(0, xs[r], 15)) < 1e-12);
    }
    CU_ASSERT(fabs(ms_treeshap_expected(&t) - cond_exp(0, xs[0], 0)) < 1e-12);
    ms_treeshap_ws_free(ws);
}

static int have(const char *rel)
{
    if (access(ms_test_data(rel), R_OK) == 0) return 1;
    printf("\n  SKIP: %s absent (../shared/data not here)\n", ms_test_data(rel));
    return 0;
}

/* The first rows of CrabNet mp_e_hull train with Magpie features; 1 on success. */
static int load_ehull(ms_dataset *d, size_t rows)
{
    ms_dataset_spec s;
    ms_dataset_spec_default(&s);
    s.source = MS_DATASET_FORMULA_CSV;
    s.path = ms_test_data("labeled/crabnet/mp_e_hull/train.csv");
    s.formula_column = "formula";
    s.target = "target";
    s.max_rows = rows;
    return ms_dataset_load(&s, ms_test_elements(), d) == MS_SUCCESS;
}

static ms_model *fit_on(const ms_dataset *d, const char *kind, ms_model_task task, const char *p1,
                        const char *p2, int standardize)
{
    ms_model_spec spec;
    ms_model_spec_default(&spec);
    spec.kind = kind;
    spec.task = task;
    spec.seed = 11;
    spec.standardize = standardize;
    ms_model_options_add(&spec.options, p1);
    if (p2) ms_model_options_add(&spec.options, p2);
    ms_model *m = NULL;
    if (ms_model_fit(&spec, &d->x, d->y, NULL, MPI_COMM_SELF, &m) != MS_SUCCESS) return NULL;
    return m;
}

/* sum_j phi_ij + base_i equals the model's prediction to tol on every row (the forest sums in
 * double: 1e-9; XGBoost in float: 1e-5). */
static void check_additivity(const ms_model *m, const ms_matrix *x, double tol)
{
    size_t n = x->rows, p = x->cols;
    double *phi = malloc(n * p * sizeof *phi), *base = malloc(n * sizeof *base);
    double *mu = malloc(n * sizeof *mu);
    CU_ASSERT_FATAL(phi && base && mu);
    CU_ASSERT_FATAL(ms_model_explain(m, x, phi, base) == MS_SUCCESS);
    CU_ASSERT_FATAL(ms_model_predict(m, x, mu, NULL) == MS_SUCCESS);
    double worst = 0, spread = 0;
    for (size_t i = 0; i < n; i++) {
        double s = base[i];
        for (size_t j = 0; j < p; j++) s += phi[i * p + j];
        worst = fmax(worst, fabs(s - mu[i]));
        spread = fmax(spread, fabs(mu[i] - base[i]));
    }
    printf(" [max |sum phi + E - f| %.2e over %zu rows] ", worst, n);
    CU_ASSERT(worst <= tol);
    CU_ASSERT(spread > 1e-3); /* the rows do differ from the expected value */
    free(phi);
    free(base);
    free(mu);
}

static void test_forest_additivity(void)
{
    if (!have("labeled/crabnet/mp_e_hull/train.csv") ||
        !have("labeled/matbench/matbench_glass.json"))
        return;
    ms_dataset d;
    CU_ASSERT_FATAL(load_ehull(&d, 600));
    ms_model *m = fit_on(&d, "forest", MS_MODEL_REGRESSION, "n_trees=30", NULL, 1);
    CU_ASSERT_FATAL(m != NULL);
    check_additivity(m, &d.x, 1e-9);
    ms_model_free(m);
    ms_dataset_free(&d);
    ms_dataset_spec s;
    ms_dataset_spec_default(&s);
    s.source = MS_DATASET_MATBENCH;
    s.path = ms_test_data("labeled/matbench/matbench_glass.json");
    s.max_rows = 400;
    CU_ASSERT_FATAL(ms_dataset_load(&s, ms_test_elements(), &d) == MS_SUCCESS);
    m = fit_on(&d, "forest", MS_MODEL_CLASSIFICATION, "n_trees=25", NULL, 1);
    CU_ASSERT_FATAL(m != NULL);
    check_additivity(m, &d.x, 1e-9);
    ms_model_free(m);
    ms_dataset_free(&d);
}

/* The gbm (2 members, 30 rounds, no standardisation so the learner sees the raw kept columns)
 * explains 200 e_hull rows; python3-xgboost loads the same member JSON, predicts pred_contribs on
 * the same float rows, averages the members, and the two agree to 1e-6 on every entry. */
static const char *const py_contribs =
    "import sys, numpy as np, xgboost as xgb\n"
    "d = sys.argv[1]; k = int(sys.argv[2])\n"
    "x = np.loadtxt(d + '/x.csv', delimiter=',', ndmin=2).astype(np.float32)\n"
    "m = xgb.DMatrix(x, missing=np.nan)\n"
    "c = sum(np.asarray(xgb.Booster(model_file=d + '/m%d.json' % i).predict(m, pred_contribs=True),"
    " dtype=np.float64) for i in range(k)) / k\n"
    "np.savetxt(d + '/c.csv', c, delimiter=',', fmt='%.17g')\n";

static void test_gbm_matches_python(void)
{
    if (!have("labeled/crabnet/mp_e_hull/train.csv")) return;
    if (system("/usr/bin/python3 -c 'import xgboost' >/dev/null 2>&1") != 0) {
        printf("\n  SKIP: /usr/bin/python3 has no xgboost module\n");
        return;
    }
    ms_dataset d;
    CU_ASSERT_FATAL(load_ehull(&d, 500));
    ms_model *m = fit_on(&d, "gbm", MS_MODEL_REGRESSION, "n_estimators=30", "ensemble=2", 0);
    CU_ASSERT_FATAL(m != NULL);
    check_additivity(m, &d.x, 1e-5);
    size_t n = 200, p = d.x.cols, K = ms_gbm_members(m->state);
    char dir[] = "/tmp/ms-shap-XXXXXX", path[256];
    CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
    for (size_t k = 0; k < K; k++) {
        size_t len;
        const unsigned char *b = ms_gbm_member_bytes(m->state, k, &len);
        snprintf(path, sizeof path, "%s/m%zu.json", dir, k);
        FILE *f = fopen(path, "wb");
        CU_ASSERT_FATAL(f && fwrite(b, 1, len, f) == len);
        fclose(f);
    }
    /* the rows the learner sees: kept columns, NaN -> training median (no z-score) */
    snprintf(path, sizeof path, "%s/x.csv", dir);
    FILE *f = fopen(path, "w");
    CU_ASSERT_FATAL(f != NULL);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0, c = 0; j < p; j++) {
            if (!m->keep[j]) continue;
            double v = MS_AT(&d.x, i, j);
            fprintf(f, "%s%.17g", c ? "," : "", isfinite(v) ? v : m->median[c]);
            c++;
            if (c == m->n_kept) fputc('\n', f);
        }
    fclose(f);
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 -c \"%s\" %s %zu", py_contribs, dir, K);
    CU_ASSERT_FATAL(system(cmd) == 0);
    double *phi = malloc(n * p * sizeof *phi), base[200];
    ms_matrix head = d.x;
    head.rows = n;
    CU_ASSERT_FATAL(ms_model_explain(m, &head, phi, base) == MS_SUCCESS);
    snprintf(path, sizeof path, "%s/c.csv", dir);
    f = fopen(path, "r");
    CU_ASSERT_FATAL(f != NULL);
    double worst = 0;
    size_t read = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0, c = 0; j <= p; j++) {
            if (j < p && !m->keep[j]) {
                CU_ASSERT(phi[i * p + j] == 0);
                continue;
            }
            double v;
            read += fscanf(f, " %lf ,", &v) == 1;
            worst = fmax(worst, fabs(v - (j < p ? phi[i * p + j] : base[i])));
            c++;
        }
    fclose(f);
    printf(" [%zu values, max |matscreen - python3-xgboost| %.2e] ", read, worst);
    CU_ASSERT(read == n * (m->n_kept + 1));
    CU_ASSERT(worst <= 1e-6);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CU_ASSERT(system(cmd) == 0);
    free(phi);
    ms_model_free(m);
    ms_dataset_free(&d);
}

/* screen --explain explains up to MS_TREESHAP_BATCH held records in one ms_model_explain_ws
 * call, with one learner scratch reused over its calls; its outputs must be those of one call
 * per record with a scratch of its own, to the bit: chunks of 16, 7, 1, 16 and 5 rows (full
 * batches, short ones with padding, one row) against one row per call. */
static void check_batches_equal_rows(const ms_model *m, const ms_matrix *x)
{
    static const size_t chunk[] = {MS_TREESHAP_BATCH, 7, 1, MS_TREESHAP_BATCH, 5};
    size_t p = x->cols, n = 0;
    for (size_t c = 0; c < sizeof chunk / sizeof *chunk; c++) n += chunk[c];
    CU_ASSERT_FATAL(n <= x->rows);
    double *work = malloc((ms_model_explain_workspace_size(m, MS_TREESHAP_BATCH) + 1) * sizeof *work);
    double *phi_b = malloc(n * p * sizeof *phi_b), *phi_1 = malloc(n * p * sizeof *phi_1);
    double base_b[64], base_1[64];
    void *scratch = NULL;
    CU_ASSERT_FATAL(work && phi_b && phi_1 && n <= 64);
    CU_ASSERT_FATAL(ms_model_explain_scratch_new(m, &scratch) == MS_SUCCESS);
    for (size_t c = 0, i = 0; c < sizeof chunk / sizeof *chunk; i += chunk[c++]) {
        ms_matrix b = {chunk[c], p, x->data + i * p, 0};
        CU_ASSERT_FATAL(ms_model_explain_ws(m, &b, work, scratch, phi_b + i * p, base_b + i) == MS_SUCCESS);
    }
    for (size_t i = 0; i < n; i++) {
        ms_matrix one = {1, p, x->data + i * p, 0};
        CU_ASSERT_FATAL(ms_model_explain_ws(m, &one, work, NULL, phi_1 + i * p, base_1 + i) == MS_SUCCESS);
    }
    size_t differ = 0;
    for (size_t k = 0; k < n * p; k++) differ += memcmp(&phi_b[k], &phi_1[k], sizeof *phi_b) != 0;
    for (size_t i = 0; i < n; i++) differ += memcmp(&base_b[i], &base_1[i], sizeof *base_b) != 0;
    printf(" [%s: %zu of %zu values differ in their bits] ", m->type->name, differ, n * (p + 1));
    CU_ASSERT(differ == 0);
    ms_model_explain_scratch_free(m, scratch);
    free(work);
    free(phi_b);
    free(phi_1);
}

static void test_batches_equal_rows(void)
{
    if (!have("labeled/crabnet/mp_e_hull/train.csv")) return;
    ms_dataset d;
    CU_ASSERT_FATAL(load_ehull(&d, 400));
    ms_model *m = fit_on(&d, "forest", MS_MODEL_REGRESSION, "n_trees=20", NULL, 1); /* fully grown */
    CU_ASSERT_FATAL(m != NULL);
    check_batches_equal_rows(m, &d.x);
    ms_model_free(m);
    m = fit_on(&d, "gbm", MS_MODEL_REGRESSION, "n_estimators=20", "ensemble=2", 1);
    CU_ASSERT_FATAL(m != NULL);
    check_batches_equal_rows(m, &d.x);
    ms_model_free(m);
    ms_dataset_free(&d);
}

int ms_suite_treeshap(void)
{
    CU_pSuite s = CU_add_suite("treeshap", NULL, NULL);
    if (!s) return CU_get_error();
    CU_add_test(s, "exact TreeSHAP equals brute-force Shapley values", test_exact_against_brute_force);
    CU_add_test(s, "TreeSHAP on random trees with repeated features equals brute force",
                test_random_trees_against_brute_force);
    CU_add_test(s, "forest contributions add up on every row", test_forest_additivity);
    CU_add_test(s, "gbm contributions match python3-xgboost pred_contribs", test_gbm_matches_python);
    CU_add_test(s, "explanations in batches are one row per call to the bit", test_batches_equal_rows);
    return CU_get_error();
}
