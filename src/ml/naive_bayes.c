/* Gaussian naive Bayes; see naive_bayes.h. */
#include "matscreen/naive_bayes.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "matscreen/model.h"

void ms_naive_bayes_free(ms_naive_bayes *m)
{
    if (!m) return;
    free(m->mean);
    free(m->var);
    free(m);
}

static ms_naive_bayes *nb_new(size_t p)
{
    ms_naive_bayes *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->p = p;
    m->mean = calloc(2 * p + 1, sizeof *m->mean);
    m->var = calloc(2 * p + 1, sizeof *m->var);
    if (!m->mean || !m->var) {
        ms_naive_bayes_free(m);
        return NULL;
    }
    return m;
}

ms_status ms_naive_bayes_fit(const ms_matrix *x, const double *y, double var_smoothing,
                             ms_naive_bayes **out)
{
    *out = NULL;
    size_t n = x->rows, p = x->cols;
    double cnt[2] = {0, 0};
    for (size_t i = 0; i < n; i++) {
        MS_CHECK(y[i] == 0 || y[i] == 1, MS_ERR_INVALID, "naive_bayes: label %g of row %zu", y[i], i);
        cnt[(int)y[i]]++;
    }
    MS_CHECK(cnt[0] > 0 && cnt[1] > 0, MS_ERR_INVALID, "naive_bayes: both classes are needed");
    ms_naive_bayes *m = nb_new(p);
    MS_CHECK(m, MS_ERR_NOMEM, "naive_bayes: out of memory");
    double maxvar = 0;
    for (size_t j = 0; j < p; j++) {
        double s = 0, ss = 0;
        for (size_t i = 0; i < n; i++) s += MS_AT(x, i, j);
        double mu = s / (double)n;
        for (size_t i = 0; i < n; i++) ss += (MS_AT(x, i, j) - mu) * (MS_AT(x, i, j) - mu);
        if (ss / (double)n > maxvar) maxvar = ss / (double)n;
    }
    m->epsilon = var_smoothing * maxvar;
    for (int c = 0; c < 2; c++) {
        m->prior[c] = cnt[c] / (double)n;
        for (size_t j = 0; j < p; j++) {
            double s = 0, ss = 0;
            for (size_t i = 0; i < n; i++)
                if (y[i] == c) s += MS_AT(x, i, j);
            double mu = s / cnt[c];
            for (size_t i = 0; i < n; i++)
                if (y[i] == c) ss += (MS_AT(x, i, j) - mu) * (MS_AT(x, i, j) - mu);
            m->mean[(size_t)c * p + j] = mu;
            m->var[(size_t)c * p + j] = ss / cnt[c] + m->epsilon;
        }
    }
    *out = m;
    return MS_SUCCESS;
}

void ms_naive_bayes_predict(const ms_naive_bayes *m, const ms_matrix *x, double *prob)
{
    size_t p = m->p;
    for (size_t i = 0; i < x->rows; i++) {
        double ll[2];
        for (int c = 0; c < 2; c++) {
            double s = log(m->prior[c]);
            for (size_t j = 0; j < p; j++) {
                double v = m->var[(size_t)c * p + j], d = MS_AT(x, i, j) - m->mean[(size_t)c * p + j];
                s -= 0.5 * log(2 * M_PI * v) + d * d / (2 * v);
            }
            ll[c] = s;
        }
        double mx = ll[0] > ll[1] ? ll[0] : ll[1];
        double e0 = exp(ll[0] - mx), e1 = exp(ll[1] - mx);
        prob[i] = e1 / (e0 + e1);
    }
}

static const char *const nb_keys[] = {"var_smoothing", NULL};

static ms_status nb_fit(const ms_model_fit_args *a, void **state)
{
    MS_CALL(ms_model_options_check(a->options, "naive_bayes", nb_keys));
    double vs = 1e-9;
    MS_CALL(ms_model_option_double(a->options, "var_smoothing", &vs));
    ms_naive_bayes *m;
    MS_CALL(ms_naive_bayes_fit(a->x, a->y, vs, &m));
    *state = m;
    return MS_SUCCESS;
}

static ms_status nb_predict(const void *state, const ms_matrix *x, double *mean, double *sigma)
{
    const ms_naive_bayes *m = state;
    MS_CHECK(x->cols == m->p, MS_ERR_USAGE, "naive_bayes: %zu features, model %zu", x->cols, m->p);
    ms_naive_bayes_predict(m, x, mean);
    if (sigma)
        for (size_t i = 0; i < x->rows; i++) sigma[i] = NAN;
    return MS_SUCCESS;
}

static ms_status nb_save(const void *state, ms_model_writer *w)
{
    const ms_naive_bayes *m = state;
    ms_model_put_f64s(w, m->prior, 2);
    ms_model_put_f64(w, m->epsilon);
    ms_model_put_f64s(w, m->mean, 2 * m->p);
    ms_model_put_f64s(w, m->var, 2 * m->p);
    return w->status;
}

static ms_status nb_load(ms_model_reader *r, size_t n_features, ms_model_task task, void **state)
{
    MS_CHECK(task == MS_MODEL_CLASSIFICATION, MS_ERR_PARSE, "naive_bayes: not a classifier");
    ms_naive_bayes *m = nb_new(n_features);
    MS_CHECK(m, MS_ERR_NOMEM, "naive_bayes: out of memory");
    double *pr = NULL, *mu = NULL, *va = NULL;
    size_t np = 0, nm = 0, nv = 0;
    ms_status st = ms_model_get_f64s(r, 2, &pr, &np);
    if (st == MS_SUCCESS) st = ms_model_get_f64(r, &m->epsilon);
    if (st == MS_SUCCESS) st = ms_model_get_f64s(r, 2 * n_features, &mu, &nm);
    if (st == MS_SUCCESS) st = ms_model_get_f64s(r, 2 * n_features, &va, &nv);
    if (st == MS_SUCCESS && (np != 2 || nm != 2 * n_features || nv != 2 * n_features))
        st = ms_error_set(MS_ERR_PARSE, "naive_bayes: parameter count does not match");
    if (st == MS_SUCCESS) {
        memcpy(m->prior, pr, sizeof m->prior);
        memcpy(m->mean, mu, nm * sizeof *mu);
        memcpy(m->var, va, nv * sizeof *va);
        for (size_t j = 0; j < nv; j++)
            if (!(m->var[j] > 0)) st = ms_error_set(MS_ERR_PARSE, "naive_bayes: variance <= 0");
        if (!(m->prior[0] > 0 && m->prior[1] > 0))
            st = ms_error_set(MS_ERR_PARSE, "naive_bayes: prior <= 0");
    }
    free(pr);
    free(mu);
    free(va);
    if (st != MS_SUCCESS) {
        ms_naive_bayes_free(m);
        return st;
    }
    *state = m;
    return MS_SUCCESS;
}

static void nb_free(void *state) { ms_naive_bayes_free(state); }

static void nb_describe(const void *state, FILE *out)
{
    const ms_naive_bayes *m = state;
    fprintf(out, "  class priors: %.4f / %.4f\n  variance smoothing: %.3g\n", m->prior[0],
            m->prior[1], m->epsilon);
}

const ms_model_type ms_model_type_naive_bayes = {
    "naive_bayes", "Gaussian naive Bayes (scikit-learn GaussianNB), baseline", 0, 1,
    nb_fit, nb_predict, nb_save, nb_load, nb_free, nb_describe, NULL,
    NULL, NULL, NULL};
