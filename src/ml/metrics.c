/* Classification and regression metrics; see metrics.h. */
#include "matscreen/metrics.h"

#include <math.h>
#include <stdlib.h>

typedef struct keyed {
    double v;
    size_t i;
} keyed;

static int cmp_keyed(const void *a, const void *b)
{
    const keyed *x = a, *y = b;
    if (x->v < y->v) return -1;
    if (x->v > y->v) return 1;
    return (x->i > y->i) - (x->i < y->i);
}

ms_status ms_metrics_ranks(const double *v, size_t n, double *rank)
{
    keyed *k = malloc((n + 1) * sizeof *k);
    MS_CHECK(k, MS_ERR_NOMEM, "metrics: out of memory");
    for (size_t i = 0; i < n; i++) k[i] = (keyed){v[i], i};
    qsort(k, n, sizeof *k, cmp_keyed);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && k[j].v == k[i].v) j++;
        double avg = (double)(i + 1 + j) / 2.0;
        for (size_t q = i; q < j; q++) rank[k[q].i] = avg;
        i = j;
    }
    free(k);
    return MS_SUCCESS;
}

double ms_metrics_roc_auc(const double *y, const double *score, size_t n)
{
    double *r = malloc((n + 1) * sizeof *r);
    if (!r || ms_metrics_ranks(score, n, r) != MS_SUCCESS) {
        free(r);
        return NAN;
    }
    double sum = 0, npos = 0;
    for (size_t i = 0; i < n; i++)
        if (y[i] > 0.5) {
            sum += r[i];
            npos++;
        }
    free(r);
    double nneg = (double)n - npos;
    if (npos == 0 || nneg == 0) return NAN;
    return (sum - npos * (npos + 1) / 2) / (npos * nneg);
}

ms_status ms_metrics_classification(const double *y, const double *prob, size_t n,
                                    ms_class_metrics *m)
{
    size_t tp = 0, tn = 0, fp = 0, fn = 0;
    double ll = 0;
    for (size_t i = 0; i < n; i++) {
        int t = y[i] > 0.5, p = prob[i] >= 0.5;
        tp += t && p;
        tn += !t && !p;
        fp += !t && p;
        fn += t && !p;
        double q = fmin(fmax(prob[i], 1e-15), 1 - 1e-15);
        ll -= t ? log(q) : log(1 - q);
    }
    m->tp = tp;
    m->tn = tn;
    m->fp = fp;
    m->fn = fn;
    double TP = (double)tp, TN = (double)tn, FP = (double)fp, FN = (double)fn;
    m->accuracy = n ? (TP + TN) / (double)n : NAN;
    m->precision = tp + fp ? TP / (TP + FP) : 0;
    m->recall = tp + fn ? TP / (TP + FN) : 0;
    m->f1 = m->precision + m->recall > 0 ? 2 * m->precision * m->recall / (m->precision + m->recall) : 0;
    double den = (TP + FP) * (TP + FN) * (TN + FP) * (TN + FN);
    m->mcc = den > 0 ? (TP * TN - FP * FN) / sqrt(den) : 0;
    double tpr = tp + fn ? TP / (TP + FN) : NAN, tnr = tn + fp ? TN / (TN + FP) : NAN;
    m->balanced_accuracy = (tpr + tnr) / 2;
    m->log_loss = n ? ll / (double)n : NAN;
    m->roc_auc = ms_metrics_roc_auc(y, prob, n);
    return MS_SUCCESS;
}

double ms_metrics_balanced_accuracy_at(const double *y, const double *prob, size_t n,
                                       double threshold)
{
    size_t pos = 0, neg = 0, tp = 0, tn = 0;
    for (size_t i = 0; i < n; i++) {
        int t = y[i] > 0.5, p = prob[i] >= threshold;
        pos += t;
        neg += !t;
        tp += t && p;
        tn += !t && !p;
    }
    if (!pos || !neg) return NAN;
    return ((double)tp / (double)pos + (double)tn / (double)neg) / 2;
}

ms_status ms_metrics_regression(const double *y, const double *pred, size_t n, ms_reg_metrics *m)
{
    m->mae = m->rmse = m->r2 = m->spearman = NAN;
    if (!n) return MS_SUCCESS;
    double ae = 0, se = 0, ym = 0, st = 0;
    for (size_t i = 0; i < n; i++) ym += y[i];
    ym /= (double)n;
    for (size_t i = 0; i < n; i++) {
        double e = y[i] - pred[i];
        ae += fabs(e);
        se += e * e;
        st += (y[i] - ym) * (y[i] - ym);
    }
    m->mae = ae / (double)n;
    m->rmse = sqrt(se / (double)n);
    m->r2 = st > 0 ? 1 - se / st : NAN;
    double *ry = malloc((n + 1) * sizeof *ry), *rp = malloc((n + 1) * sizeof *rp);
    if (!ry || !rp || ms_metrics_ranks(y, n, ry) || ms_metrics_ranks(pred, n, rp)) {
        free(ry);
        free(rp);
        return ms_error_set(MS_ERR_NOMEM, "metrics: out of memory");
    }
    double my = 0, mp = 0, sxy = 0, sxx = 0, syy = 0;
    for (size_t i = 0; i < n; i++) {
        my += ry[i];
        mp += rp[i];
    }
    my /= (double)n;
    mp /= (double)n;
    for (size_t i = 0; i < n; i++) {
        sxy += (ry[i] - my) * (rp[i] - mp);
        sxx += (ry[i] - my) * (ry[i] - my);
        syy += (rp[i] - mp) * (rp[i] - mp);
    }
    m->spearman = sxx > 0 && syy > 0 ? sxy / sqrt(sxx * syy) : NAN;
    free(ry);
    free(rp);
    return MS_SUCCESS;
}
