/* Logistic regression by Newton / IRLS; see logistic.h. */
#include "matscreen/logistic.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "matscreen/model.h"

/* In-place Cholesky of the k x k SPD matrix a (lower triangle); 0 on failure. */
static int cholesky(double *a, size_t k)
{
    for (size_t j = 0; j < k; j++) {
        double d = a[j * k + j];
        for (size_t q = 0; q < j; q++) d -= a[j * k + q] * a[j * k + q];
        if (!(d > 0)) return 0;
        d = sqrt(d);
        a[j * k + j] = d;
        for (size_t i = j + 1; i < k; i++) {
            double s = a[i * k + j];
            for (size_t q = 0; q < j; q++) s -= a[i * k + q] * a[j * k + q];
            a[i * k + j] = s / d;
        }
    }
    return 1;
}

static void chol_solve(const double *l, size_t k, double *b)
{
    for (size_t i = 0; i < k; i++) {
        double s = b[i];
        for (size_t q = 0; q < i; q++) s -= l[i * k + q] * b[q];
        b[i] = s / l[i * k + i];
    }
    for (size_t i = k; i-- > 0;) {
        double s = b[i];
        for (size_t q = i + 1; q < k; q++) s -= l[q * k + i] * b[q];
        b[i] = s / l[i * k + i];
    }
}

static double sigmoid(double z) { return z >= 0 ? 1 / (1 + exp(-z)) : exp(z) / (1 + exp(z)); }

void ms_logistic_free(ms_logistic *m)
{
    if (!m) return;
    free(m->coef);
    free(m->hinv);
    free(m);
}

static ms_logistic *logistic_new(size_t p)
{
    ms_logistic *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->p = p;
    m->coef = calloc(p + 1, sizeof *m->coef);
    m->hinv = calloc((p + 1) * (p + 1), sizeof *m->hinv);
    if (!m->coef || !m->hinv) {
        ms_logistic_free(m);
        return NULL;
    }
    return m;
}

ms_status ms_logistic_fit(const ms_matrix *x, const double *y, double c, ms_logistic **out)
{
    *out = NULL;
    size_t n = x->rows, p = x->cols, k = p + 1;
    MS_CHECK(c > 0 && isfinite(c), MS_ERR_USAGE, "logistic: C must be positive");
    MS_CHECK(n >= 2, MS_ERR_INVALID, "logistic: need at least 2 rows");
    for (size_t i = 0; i < n; i++)
        MS_CHECK(y[i] == 0 || y[i] == 1, MS_ERR_INVALID, "logistic: label %g of row %zu", y[i], i);
    ms_logistic *m = logistic_new(p);
    double *h = malloc(k * k * sizeof *h), *g = malloc(k * sizeof *g), *z = malloc(k * sizeof *z);
    if (!m || !h || !g || !z) {
        ms_logistic_free(m);
        free(h);
        free(g);
        free(z);
        return ms_error_set(MS_ERR_NOMEM, "logistic: out of memory");
    }
    m->c = c;
    ms_status st = MS_SUCCESS;
    int it;
    for (it = 0; it < 100; it++) {
        memset(h, 0, k * k * sizeof *h);
        for (size_t j = 1; j < k; j++) {
            h[j * k + j] = 1 / c;
            g[j] = m->coef[j] / c;
        }
        g[0] = 0;
        for (size_t i = 0; i < n; i++) {
            const double *r = x->data + i * p;
            z[0] = 1;
            memcpy(z + 1, r, p * sizeof *z);
            double eta = 0;
            for (size_t j = 0; j < k; j++) eta += m->coef[j] * z[j];
            double pi = sigmoid(eta), s = pi * (1 - pi), e = pi - y[i];
            for (size_t a = 0; a < k; a++) {
                g[a] += e * z[a];
                double sa = s * z[a];
                for (size_t b = 0; b <= a; b++) h[a * k + b] += sa * z[b];
            }
        }
        for (size_t a = 0; a < k; a++)
            for (size_t b = a + 1; b < k; b++) h[a * k + b] = h[b * k + a];
        if (!cholesky(h, k)) {
            st = ms_error_set(MS_ERR_INVALID, "logistic: Hessian is not positive definite");
            break;
        }
        chol_solve(h, k, g);
        double step = 0;
        for (size_t j = 0; j < k; j++) {
            m->coef[j] -= g[j];
            if (fabs(g[j]) > step) step = fabs(g[j]);
        }
        if (step < 1e-10) break;
    }
    m->iterations = it + 1;
    if (st == MS_SUCCESS) {
        /* H^-1 from the last factorisation (at the optimum to 1e-10) */
        for (size_t j = 0; j < k; j++) {
            for (size_t a = 0; a < k; a++) z[a] = a == j;
            chol_solve(h, k, z);
            for (size_t a = 0; a < k; a++) m->hinv[a * k + j] = z[a];
        }
    }
    free(h);
    free(g);
    free(z);
    if (st != MS_SUCCESS) {
        ms_logistic_free(m);
        return st;
    }
    *out = m;
    return MS_SUCCESS;
}

void ms_logistic_predict(const ms_logistic *m, const ms_matrix *x, double *prob, double *sigma)
{
    size_t p = m->p, k = p + 1;
    for (size_t i = 0; i < x->rows; i++) {
        const double *r = x->data + i * p;
        double eta = m->coef[0];
        for (size_t j = 0; j < p; j++) eta += m->coef[j + 1] * r[j];
        double pi = sigmoid(eta);
        prob[i] = pi;
        if (!sigma) continue;
        double v = 0;
        for (size_t a = 0; a < k; a++) {
            double za = a ? r[a - 1] : 1, s = 0;
            for (size_t b = 0; b < k; b++) s += m->hinv[a * k + b] * (b ? r[b - 1] : 1);
            v += za * s;
        }
        sigma[i] = pi * (1 - pi) * sqrt(v > 0 ? v : 0);
    }
}

/* ---- learner --------------------------------------------------------------------------------- */

static const char *const logistic_keys[] = {"C", NULL};

static ms_status lr_fit(const ms_model_fit_args *a, void **state)
{
    MS_CALL(ms_model_options_check(a->options, "logistic", logistic_keys));
    double c = 1.0;
    MS_CALL(ms_model_option_double(a->options, "C", &c));
    ms_logistic *m;
    MS_CALL(ms_logistic_fit(a->x, a->y, c, &m));
    *state = m;
    return MS_SUCCESS;
}

static ms_status lr_predict(const void *state, const ms_matrix *x, double *mean, double *sigma)
{
    const ms_logistic *m = state;
    MS_CHECK(x->cols == m->p, MS_ERR_USAGE, "logistic: %zu features, model %zu", x->cols, m->p);
    ms_logistic_predict(m, x, mean, sigma);
    return MS_SUCCESS;
}

static ms_status lr_save(const void *state, ms_model_writer *w)
{
    const ms_logistic *m = state;
    ms_model_put_f64(w, m->c);
    ms_model_put_u64(w, (uint64_t)m->iterations);
    ms_model_put_f64s(w, m->coef, m->p + 1);
    ms_model_put_f64s(w, m->hinv, (m->p + 1) * (m->p + 1));
    return w->status;
}

static ms_status lr_load(ms_model_reader *r, size_t n_features, ms_model_task task, void **state)
{
    MS_CHECK(task == MS_MODEL_CLASSIFICATION, MS_ERR_PARSE, "logistic: not a classifier");
    MS_CHECK(n_features < 100000, MS_ERR_PARSE, "logistic: too many features");
    ms_logistic *m = logistic_new(n_features);
    MS_CHECK(m, MS_ERR_NOMEM, "logistic: out of memory");
    double *c = NULL, *h = NULL;
    size_t nc = 0, nh = 0;
    uint64_t it = 0;
    size_t k = n_features + 1;
    ms_status st = ms_model_get_f64(r, &m->c);
    if (st == MS_SUCCESS) st = ms_model_get_u64(r, &it);
    if (st == MS_SUCCESS) st = ms_model_get_f64s(r, k, &c, &nc);
    if (st == MS_SUCCESS) st = ms_model_get_f64s(r, k * k, &h, &nh);
    if (st == MS_SUCCESS && (nc != k || nh != k * k))
        st = ms_error_set(MS_ERR_PARSE, "logistic: coefficient count does not match");
    if (st == MS_SUCCESS) {
        memcpy(m->coef, c, k * sizeof *c);
        memcpy(m->hinv, h, k * k * sizeof *h);
        m->iterations = (int)(it & 0xffff);
    }
    free(c);
    free(h);
    if (st != MS_SUCCESS) {
        ms_logistic_free(m);
        return st;
    }
    *state = m;
    return MS_SUCCESS;
}

static void lr_free(void *state) { ms_logistic_free(state); }

static void lr_describe(const void *state, FILE *out)
{
    const ms_logistic *m = state;
    fprintf(out, "  C: %g\n  newton iterations: %d\n  intercept: %.6g\n", m->c, m->iterations,
            m->coef[0]);
}

const ms_model_type ms_model_type_logistic = {
    "logistic", "L2 logistic regression (Newton/IRLS), delta-method sigma of the probability",
    0, 1, lr_fit, lr_predict, lr_save, lr_load, lr_free, lr_describe, NULL,
    NULL, NULL, NULL};
