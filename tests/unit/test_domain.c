/*
 * Tests of what a model knows about its training data (model.h, domain.h, train.h): the best
 * training label, the elements seen and required, and the domain of applicability. Data: the
 * OBELiX training split (../shared/data/labeled/obelix-train; skipped without it) and the
 * version-1 model file of tests/data/models (a file from before these fields).
 */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "matscreen/dataset.h"
#include "matscreen/domain.h"
#include "matscreen/model.h"
#include "matscreen/train.h"
#include "suites.h"
#include "test_util.h"

int ms_suite_domain(void);

/* OBELiX training rows (log10 conductivity, magpie); 0 when ../shared is absent. */
static int obelix(ms_dataset *d)
{
    const char *csv = ms_test_data("labeled/obelix-train/train.csv");
    if (access(csv, R_OK) != 0) {
        printf("\n  SKIP: %s not found (needs ../shared)\n", csv);
        return 0;
    }
    ms_dataset_spec s;
    ms_dataset_spec_default(&s);
    s.source = MS_DATASET_STRUCTURE_CSV;
    s.path = csv;
    s.structure_dir = ms_test_data("labeled/obelix-train/cifs");
    s.id_column = "ID";
    s.target = "Ionic conductivity (S cm-1)";
    s.log10_target = 1;
    return ms_dataset_load(&s, ms_test_elements(), d) == MS_SUCCESS;
}

static ms_model *fit(const ms_dataset *d, ms_model_goal goal)
{
    ms_model_spec spec;
    ms_model_spec_default(&spec);
    spec.goal = goal;
    ms_model_options_add(&spec.options, "n_trees=10");
    ms_model *m = NULL;
    if (ms_train_fit(&spec, d, 1, NAN, 0, MPI_COMM_SELF, &m) != MS_SUCCESS) return NULL;
    return m;
}

static void test_train_records_what_the_model_knows(void)
{
    ms_dataset d;
    if (!obelix(&d)) return;
    ms_model *m = fit(&d, MS_GOAL_MAX);
    CU_ASSERT_FATAL(m != NULL);
    double hi = -INFINITY, lo = INFINITY;
    size_t with_li = 0, with_o = 0;
    for (size_t i = 0; i < d.n; i++) {
        hi = fmax(hi, d.y[i]);
        lo = fmin(lo, d.y[i]);
        with_li += (size_t)ms_dataset_has_element(&d, i, 3);
        with_o += (size_t)ms_dataset_has_element(&d, i, 8);
    }
    printf("\n  OBELiX: %zu rows, %zu hold Li, %zu hold O\n", d.n, with_li, with_o);
    CU_ASSERT_EQUAL(m->y_max, hi);
    CU_ASSERT_EQUAL(m->y_min, lo);
    CU_ASSERT_EQUAL(ms_model_y_best(m, 0), hi);
    CU_ASSERT_EQUAL(ms_model_y_best(m, 1), lo);
    CU_ASSERT_EQUAL(m->goal, MS_GOAL_MAX);
    /* Li is in >= 95% of the rows (a few CIFs read without their Li sites), nothing else is */
    CU_ASSERT(with_li < d.n && (double)with_li >= 0.95 * (double)d.n);
    CU_ASSERT(m->has_elements && m->elem_required[3] && m->elem_seen[3] && m->elem_seen[8]);
    for (int z = 1; z <= MS_MAX_Z; z++)
        if (z != 3) CU_ASSERT_EQUAL(m->elem_required[z], 0);
    CU_ASSERT_EQUAL(m->elem_seen[80], 0); /* no Hg compound in OBELiX */
    CU_ASSERT_FATAL(m->domain != NULL);
    CU_ASSERT_EQUAL(m->domain->n, d.n);
    CU_ASSERT_EQUAL(m->domain->p, m->n_kept);
    CU_ASSERT(m->domain->n_groups > 50 && m->domain->n_groups < d.n);
    CU_ASSERT(m->domain->threshold > 1 && m->domain->scale > 0);

    /* the file keeps all of it, bit for bit */
    ms_model_writer w = {0};
    CU_ASSERT_FATAL(ms_model_save_buffer(m, &w) == MS_SUCCESS);
    ms_model *back = NULL;
    CU_ASSERT_FATAL(ms_model_load_buffer(w.data, w.len, "mem", &back) == MS_SUCCESS);
    CU_ASSERT_EQUAL(back->y_max, m->y_max);
    CU_ASSERT_EQUAL(back->y_min, m->y_min);
    CU_ASSERT_EQUAL(back->goal, MS_GOAL_MAX);
    CU_ASSERT(memcmp(back->elem_required, m->elem_required, sizeof m->elem_required) == 0);
    CU_ASSERT(memcmp(back->elem_seen, m->elem_seen, sizeof m->elem_seen) == 0);
    CU_ASSERT_FATAL(back->domain != NULL);
    CU_ASSERT_EQUAL(back->domain->threshold, m->domain->threshold);
    CU_ASSERT_EQUAL(back->domain->scale, m->domain->scale);
    CU_ASSERT(memcmp(back->domain->rows, m->domain->rows,
                     m->domain->n * m->domain->p * sizeof(double)) == 0);
    /* a file cut inside the domain field fails cleanly */
    ms_model *cut = NULL;
    CU_ASSERT(ms_model_load_buffer(w.data, w.len - 8, "cut", &cut) != MS_SUCCESS && !cut);
    free(w.data);
    ms_model_free(back);
    ms_model_free(m);
    ms_dataset_free(&d);
}

/* Held-out chemical systems lie about 1.0 from the training rows (the normalisation's promise);
 * training rows themselves are in the domain; a row far outside every feature's range is not. */
static void test_domain_scores_held_out_families(void)
{
    ms_dataset d;
    if (!obelix(&d)) return;
    ms_model *m = fit(&d, MS_GOAL_UNKNOWN);
    CU_ASSERT_FATAL(m != NULL && m->domain != NULL);
    ms_matrix z = {0};
    CU_ASSERT_FATAL(ms_model_standardize(m, &d.x, &z) == MS_SUCCESS);
    /* hold out every chemical system whose id is odd: a grouped split */
    size_t n_in = 0, n_out = 0;
    ms_matrix tr = {0};
    uint64_t *g = malloc(d.n * sizeof *g);
    double *held = malloc(d.n * sizeof *held);
    CU_ASSERT_FATAL(g && held && ms_matrix_alloc(&tr, d.n, z.cols) == MS_SUCCESS);
    for (size_t i = 0; i < d.n; i++) {
        uint64_t c = ms_dataset_chemical_system(&d, i);
        if (c & 1) continue;
        memcpy(&MS_AT(&tr, n_in, 0), &MS_AT(&z, i, 0), z.cols * sizeof(double));
        g[n_in++] = c;
    }
    tr.rows = n_in;
    ms_domain *dom = NULL;
    CU_ASSERT_FATAL(ms_domain_build(&tr, g, MS_DOMAIN_K, 0.95, &dom) == MS_SUCCESS);
    for (size_t i = 0; i < d.n; i++)
        if (ms_dataset_chemical_system(&d, i) & 1) held[n_out++] = ms_domain_score(dom, &MS_AT(&z, i, 0));
    CU_ASSERT_FATAL(n_out > 20 && n_in > 20);
    double below = 0;
    for (size_t i = 0; i < n_out; i++) below += held[i] <= 1.0;
    below /= (double)n_out;
    printf("\n  held-out families: %zu rows, %.0f%% at or below score 1.0\n", n_out, 100 * below);
    CU_ASSERT(below > 0.3 && below < 0.8); /* about half of unseen families lie within 1.0 */
    /* a training row is its own neighbour: in the domain */
    size_t in_dom = 0;
    for (size_t i = 0; i < d.n; i++)
        in_dom += ms_domain_score(m->domain, &MS_AT(&z, i, 0)) <= m->domain->threshold;
    CU_ASSERT(in_dom >= d.n * 95 / 100);
    /* far outside: every standardised feature 30 units off */
    double *far = malloc(z.cols * sizeof *far);
    for (size_t j = 0; j < z.cols; j++) far[j] = MS_AT(&z, 0, j) + 30;
    CU_ASSERT(ms_domain_score(m->domain, far) > 3 * m->domain->threshold);
    free(far);
    free(g);
    free(held);
    ms_domain_free(dom);
    ms_matrix_free(&tr);
    ms_matrix_free(&z);
    ms_model_free(m);
    ms_dataset_free(&d);
}

/* A file from before y_best and the domain loads, and says it knows neither. */
static void test_old_files_know_nothing(void)
{
    ms_model *m = NULL;
    CU_ASSERT_FATAL(ms_model_load(ms_test_local("models/forest_v1_ehull.msm"), &m) == MS_SUCCESS);
    CU_ASSERT(isnan(m->y_max) && isnan(m->y_min) && isnan(ms_model_y_best(m, 0)));
    CU_ASSERT_EQUAL(m->goal, MS_GOAL_UNKNOWN);
    CU_ASSERT_EQUAL(m->has_elements, 0);
    CU_ASSERT(m->domain == NULL);
    ms_model_free(m);
}

int ms_suite_domain(void)
{
    CU_pSuite s = CU_add_suite("domain", NULL, NULL);
    if (!s) return CU_get_error();
    CU_add_test(s, "train records y_best, elements, domain; file round trip", test_train_records_what_the_model_knows);
    CU_add_test(s, "domain scores of held-out chemical systems", test_domain_scores_held_out_families);
    CU_add_test(s, "files from before y_best load without it", test_old_files_know_nothing);
    return CU_get_error();
}
