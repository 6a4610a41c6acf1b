/* The e_hull benchmark matrix; see ehull_bench.h. */
#include "ehull_bench.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "matscreen/dataset.h"
#include "matscreen/element.h"
#include "matscreen/rng.h"

static ms_status load(const char *dir, const char *name, const ms_element_table *t, ms_dataset *d)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/labeled/crabnet/mp_e_hull/%s", dir, name);
    ms_dataset_spec s;
    ms_dataset_spec_default(&s);
    s.source = MS_DATASET_FORMULA_CSV;
    s.path = path;
    s.target = "target";
    return ms_dataset_load(&s, t, d);
}

ms_status ms_bench_ehull_matrix(const char *dir, size_t n, ms_matrix *x, double **y)
{
    const size_t n_full = 50000;
    if (n < 2 || n > n_full) n = n_full;
    ms_element_table *t = NULL;
    ms_dataset a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    ms_status st = ms_element_table_load_default(&t);
    if (st == MS_SUCCESS) st = load(dir, "train.csv", t, &a);
    if (st == MS_SUCCESS) st = load(dir, "val.csv", t, &b);
    size_t p = a.n_features;
    if (st == MS_SUCCESS) st = ms_matrix_alloc(x, n, p);
    *y = st == MS_SUCCESS ? malloc(n * sizeof **y) : NULL;
    if (st == MS_SUCCESS && !*y) st = ms_error_set(MS_ERR_NOMEM, "bench: out of memory");
    ms_rng rng;
    ms_rng_seed(&rng, 2385, 0);
    for (size_t i = 0; st == MS_SUCCESS && i < n; i++) {
        size_t src = i < a.n + b.n ? i : (i - a.n - b.n);
        const ms_dataset *d = src < a.n ? &a : &b;
        size_t r = src < a.n ? src : src - a.n;
        int noisy = i >= a.n + b.n;
        for (size_t j = 0; j < p; j++) {
            double v = MS_AT(&d->x, r, j);
            if (!isfinite(v)) v = 0;
            MS_AT(x, i, j) = noisy ? v * (1 + 1e-6 * ms_rng_normal(&rng)) : v;
        }
        (*y)[i] = d->y[r];
    }
    ms_dataset_free(&a);
    ms_dataset_free(&b);
    ms_element_table_free(t);
    return st;
}

ms_status ms_bench_write_csv(const char *path, const ms_matrix *x, const double *y)
{
    FILE *f = fopen(path, "w");
    MS_CHECK(f, MS_ERR_IO, "%s: cannot write", path);
    for (size_t i = 0; i < x->rows; i++) {
        for (size_t j = 0; j < x->cols; j++) fprintf(f, "%.17g,", MS_AT(x, i, j));
        fprintf(f, "%.17g\n", y[i]);
    }
    MS_CHECK(fclose(f) == 0, MS_ERR_IO, "%s: write failed", path);
    return MS_SUCCESS;
}
