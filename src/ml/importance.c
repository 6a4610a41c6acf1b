/* Permutation importance; see importance.h. */
#include "matscreen/importance.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "matscreen/metrics.h"
#include "matscreen/rng.h"

static double score(const ms_model *m, const double *y, const double *mu, size_t n)
{
    if (m->task == MS_MODEL_CLASSIFICATION) return ms_metrics_roc_auc(y, mu, n);
    double s = 0;
    for (size_t i = 0; i < n; i++) s += fabs(y[i] - mu[i]);
    return -s / (double)n; /* higher is better */
}

ms_status ms_permutation_importance(const ms_model *m, const ms_matrix *x, const double *y,
                                    int repeats, uint64_t seed, double *importance)
{
    size_t n = x->rows, p = x->cols;
    MS_CHECK(p == m->n_raw, MS_ERR_USAGE, "importance: %zu columns, model %zu", p, m->n_raw);
    ms_matrix w = {0};
    MS_CALL(ms_matrix_copy(&w, x));
    double *mu = malloc((n + 1) * sizeof *mu), *col = malloc((n + 1) * sizeof *col);
    ms_status st = mu && col ? ms_model_predict(m, x, mu, NULL)
                             : ms_error_set(MS_ERR_NOMEM, "importance: out of memory");
    double base = st == MS_SUCCESS ? score(m, y, mu, n) : 0;
    for (size_t j = 0; st == MS_SUCCESS && j < p; j++) {
        importance[j] = 0;
        if (!m->keep[j]) continue;
        for (size_t i = 0; i < n; i++) col[i] = MS_AT(x, i, j);
        for (int r = 0; r < repeats && st == MS_SUCCESS; r++) {
            ms_rng rng;
            ms_rng_seed(&rng, seed, (uint64_t)j * 1000 + (uint64_t)r);
            for (size_t i = 0; i < n; i++) MS_AT(&w, i, j) = col[i];
            for (size_t i = n; i > 1; i--) {
                size_t k = (size_t)ms_rng_below(&rng, i);
                double t = MS_AT(&w, i - 1, j);
                MS_AT(&w, i - 1, j) = MS_AT(&w, k, j);
                MS_AT(&w, k, j) = t;
            }
            st = ms_model_predict(m, &w, mu, NULL);
            if (st == MS_SUCCESS) importance[j] += (base - score(m, y, mu, n)) / repeats;
        }
        for (size_t i = 0; i < n; i++) MS_AT(&w, i, j) = col[i];
    }
    free(mu);
    free(col);
    ms_matrix_free(&w);
    return st;
}

void ms_importance_order(const double *importance, size_t n, size_t *order)
{
    for (size_t i = 0; i < n; i++) order[i] = i;
    for (size_t i = 1; i < n; i++) { /* insertion sort: n is a few hundred */
        size_t v = order[i], j = i;
        while (j > 0 && importance[order[j - 1]] < importance[v]) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = v;
    }
}
