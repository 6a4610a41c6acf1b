/* Cross-validation folds, out-of-fold predictions and their scores; see cv.h. */
#include "matscreen/file_read.h"
#include "matscreen/cv.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "matscreen/calibration.h"
#include "matscreen/csv.h"
#include "matscreen/metrics.h"
#include "matscreen/model.h"
#include "matscreen/rng.h"

/* ---- folds ----------------------------------------------------------------------------------- */

static void shuffle(size_t *a, size_t n, ms_rng *rng)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)ms_rng_below(rng, i);
        size_t t = a[i - 1];
        a[i - 1] = a[j];
        a[j] = t;
    }
}

void ms_folds_kfold(size_t n, size_t k, uint64_t seed, int *fold)
{
    size_t *perm = malloc((n + 1) * sizeof *perm);
    ms_rng rng;
    ms_rng_seed(&rng, seed, 0);
    if (!perm) {
        for (size_t i = 0; i < n; i++) fold[i] = (int)(i % k);
        return;
    }
    for (size_t i = 0; i < n; i++) perm[i] = i;
    shuffle(perm, n, &rng);
    for (size_t i = 0; i < n; i++) fold[perm[i]] = (int)(i % k);
    free(perm);
}

void ms_folds_stratified(const double *y, size_t n, size_t k, uint64_t seed, int *fold)
{
    size_t *perm = malloc((n + 1) * sizeof *perm);
    ms_rng rng;
    ms_rng_seed(&rng, seed, 0);
    if (!perm) {
        ms_folds_kfold(n, k, seed, fold);
        return;
    }
    size_t off = 0;
    for (int c = 0; c < 2; c++) {
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
            if ((y[i] > 0.5) == c) perm[m++] = i;
        shuffle(perm, m, &rng);
        for (size_t q = 0; q < m; q++) fold[perm[q]] = (int)((off + q) % k);
        off += m;
    }
    free(perm);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

ms_status ms_folds_read(const char *path, const char *task, char *const *ids, size_t n, int *fold,
                        size_t *k)
{
    *k = 0;
    FILE *f;
    MS_CALL(ms_open_regular(path, 0, &f, NULL));
    /* sorted (id, index) for lookup */
    char **sorted = malloc((n + 1) * sizeof *sorted);
    if (!sorted) {
        fclose(f);
        return ms_error_set(MS_ERR_NOMEM, "folds: out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        sorted[i] = ids[i];
        fold[i] = -1;
    }
    qsort(sorted, n, sizeof *sorted, cmp_str);
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    char *fields[8];
    int ct = 0, ci = 1, cf = 2;
    int maxf = -1;
    while (getline(&line, &cap, f) > 0) {
        int nf = ms_csv_split(line, fields, 8);
        if (lineno++ == 0) {
            ct = ms_csv_column(fields, nf, "task");
            ci = ms_csv_column(fields, nf, "mbid");
            cf = ms_csv_column(fields, nf, "test_fold");
            if (ct < 0 || ci < 0 || cf < 0) break;
            continue;
        }
        if (nf <= ct || nf <= ci || nf <= cf || strcmp(fields[ct], task) != 0) continue;
        char *key = fields[ci];
        char **hit = bsearch(&key, sorted, n, sizeof *sorted, cmp_str);
        if (!hit) continue;
        int fv = atoi(fields[cf]);
        if (fv < 0 || fv > 1000) continue;
        /* map back: ids are unique; find index by pointer identity */
        for (size_t i = 0; i < n; i++)
            if (ids[i] == *hit) {
                fold[i] = fv;
                break;
            }
        if (fv > maxf) maxf = fv;
    }
    free(line);
    fclose(f);
    free(sorted);
    MS_CHECK(lineno > 0 && ct >= 0 && ci >= 0 && cf >= 0, MS_ERR_PARSE,
             "%s: need columns task,mbid,test_fold", path);
    for (size_t i = 0; i < n; i++)
        MS_CHECK(fold[i] >= 0, MS_ERR_NOT_FOUND, "%s: no fold for %s of task %s", path, ids[i], task);
    *k = (size_t)maxf + 1;
    return MS_SUCCESS;
}

/* ---- cross-validation ------------------------------------------------------------------------ */

ms_status ms_cv_predict(const ms_model_spec *spec, const ms_matrix *x, const double *y,
                        const int *fold, size_t k, MPI_Comm comm, double *mean, double *sigma)
{
    size_t n = x->rows, p = x->cols;
    size_t *tr = malloc((n + 1) * sizeof *tr), *te = malloc((n + 1) * sizeof *te);
    double *ytr = malloc((n + 1) * sizeof *ytr), *mu = malloc((n + 1) * sizeof *mu);
    double *sg = malloc((n + 1) * sizeof *sg);
    ms_status st = MS_SUCCESS;
    if (!tr || !te || !ytr || !mu || !sg) st = ms_error_set(MS_ERR_NOMEM, "cv: out of memory");
    for (size_t f = 0; st == MS_SUCCESS && f < k; f++) {
        size_t ntr = 0, nte = 0;
        for (size_t i = 0; i < n; i++) {
            if (fold[i] == (int)f) te[nte++] = i;
            else {
                ytr[ntr] = y[i];
                tr[ntr++] = i;
            }
        }
        if (!nte) continue;
        ms_matrix xtr = {0}, xte = {0};
        ms_model *m = NULL;
        st = ms_matrix_take_rows(&xtr, x, tr, ntr);
        if (st == MS_SUCCESS) st = ms_matrix_take_rows(&xte, x, te, nte);
        if (st == MS_SUCCESS) st = ms_model_fit(spec, &xtr, ytr, NULL, comm, &m);
        if (st == MS_SUCCESS) st = ms_model_predict(m, &xte, mu, sg);
        if (st == MS_SUCCESS)
            for (size_t q = 0; q < nte; q++) {
                mean[te[q]] = mu[q];
                if (sigma) sigma[te[q]] = sg[q];
            }
        ms_model_free(m);
        ms_matrix_free(&xtr);
        ms_matrix_free(&xte);
    }
    (void)p;
    free(tr);
    free(te);
    free(ytr);
    free(mu);
    free(sg);
    return st;
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

ms_status ms_cv_score(int classification, const double *y, const double *mean, const double *sigma,
                      const int *fold, size_t n, size_t k, ms_cv_scores *out)
{
    memset(out, 0, sizeof *out);
    MS_CHECK(k >= 1 && k <= MS_CV_MAX_FOLDS, MS_ERR_USAGE, "cv: 1..%d folds", MS_CV_MAX_FOLDS);
    out->k = k;
    /* balanced_accuracy_prior: labels p >= the positive fraction of the training folds (see
     * ms_metrics_balanced_accuracy_at): Matbench's "rocauc" like for like. */
    static const char *const cls[] = {"roc_auc", "balanced_accuracy", "f1", "accuracy", "mcc",
                                      "log_loss", "balanced_accuracy_prior"};
    static const char *const reg[] = {"mae", "rmse", "r2", "spearman", "baseline_mean_mae",
                                      "baseline_median_mae", "within1", "within2", "miscal_area",
                                      "nll"};
    size_t ns = classification ? 7 : (sigma ? 10 : 6);
    out->n_scores = ns;
    for (size_t s = 0; s < ns; s++) out->name[s] = classification ? cls[s] : reg[s];
    double *yt = malloc((n + 1) * sizeof *yt), *mt = malloc((n + 1) * sizeof *mt);
    double *st_ = malloc((n + 1) * sizeof *st_), *ytr = malloc((n + 1) * sizeof *ytr);
    ms_status st = MS_SUCCESS;
    if (!yt || !mt || !st_ || !ytr) st = ms_error_set(MS_ERR_NOMEM, "cv: out of memory");
    for (size_t f = 0; st == MS_SUCCESS && f < k; f++) {
        size_t m = 0, mtr = 0;
        double sum_tr = 0;
        for (size_t i = 0; i < n; i++) {
            if (fold[i] == (int)f) {
                yt[m] = y[i];
                mt[m] = mean[i];
                st_[m] = sigma ? sigma[i] : NAN;
                m++;
            } else {
                ytr[mtr++] = y[i];
                sum_tr += y[i];
            }
        }
        double *v = &out->fold[0][f];
        (void)v;
        if (classification) {
            ms_class_metrics cm;
            st = ms_metrics_classification(yt, mt, m, &cm);
            double prior = mtr ? sum_tr / (double)mtr : 0.5;
            double vals[7] = {cm.roc_auc, cm.balanced_accuracy, cm.f1, cm.accuracy, cm.mcc,
                              cm.log_loss, ms_metrics_balanced_accuracy_at(yt, mt, m, prior)};
            for (size_t s = 0; s < 7; s++) out->fold[s][f] = vals[s];
        } else {
            ms_reg_metrics rm;
            st = ms_metrics_regression(yt, mt, m, &rm);
            qsort(ytr, mtr, sizeof *ytr, cmp_dbl);
            double med = mtr ? (mtr % 2 ? ytr[mtr / 2] : 0.5 * (ytr[mtr / 2 - 1] + ytr[mtr / 2])) : NAN;
            double mu = mtr ? sum_tr / (double)mtr : NAN, bm = 0, bd = 0;
            for (size_t q = 0; q < m; q++) {
                bm += fabs(yt[q] - mu);
                bd += fabs(yt[q] - med);
            }
            double vals[10] = {rm.mae, rm.rmse, rm.r2, rm.spearman, m ? bm / (double)m : NAN,
                               m ? bd / (double)m : NAN, NAN, NAN, NAN, NAN};
            if (sigma && st == MS_SUCCESS) {
                ms_calibration c;
                st = ms_calibration_compute(yt, mt, st_, m, &c);
                vals[6] = c.within1;
                vals[7] = c.within2;
                vals[8] = c.miscal_area;
                vals[9] = c.nll;
            }
            for (size_t s = 0; s < ns; s++) out->fold[s][f] = vals[s];
        }
    }
    for (size_t s = 0; st == MS_SUCCESS && s < ns; s++) {
        double a = 0, b = 0;
        for (size_t f = 0; f < k; f++) a += out->fold[s][f];
        a /= (double)k;
        for (size_t f = 0; f < k; f++) b += (out->fold[s][f] - a) * (out->fold[s][f] - a);
        out->mean[s] = a;
        out->std[s] = sqrt(b / (double)k);
    }
    free(yt);
    free(mt);
    free(st_);
    free(ytr);
    return st;
}
