/*
 * Batch selection and Pareto ranking (see include/matscreen/batch.h).
 */
#include "matscreen/batch.h"

#include <math.h>
#include <stdlib.h>

typedef struct keyed {
    double key;
    size_t index;
} keyed;

/* Larger key first, NaN last, ties by index. */
static int keyed_desc(const void *pa, const void *pb)
{
    const keyed *a = pa, *b = pb;
    int na = isnan(a->key), nb = isnan(b->key);
    if (na != nb) return na - nb;
    if (!na && a->key != b->key) return a->key > b->key ? -1 : 1;
    return a->index < b->index ? -1 : a->index > b->index;
}

/* Smaller key first, ties by index (keys are never NaN here). */
static int keyed_asc(const void *pa, const void *pb)
{
    const keyed *a = pa, *b = pb;
    if (a->key != b->key) return a->key < b->key ? -1 : 1;
    return a->index < b->index ? -1 : a->index > b->index;
}

ms_status ms_batch_rank(const double *score, size_t n, size_t *order)
{
    keyed *k = malloc((n + 1) * sizeof *k);
    MS_CHECK(k, MS_ERR_NOMEM, "batch: out of memory");
    for (size_t i = 0; i < n; i++) k[i] = (keyed){score[i], i};
    qsort(k, n, sizeof *k, keyed_desc);
    for (size_t i = 0; i < n; i++) order[i] = k[i].index;
    free(k);
    return MS_SUCCESS;
}

double ms_batch_distance(const ms_matrix *x, size_t a, size_t b)
{
    const double *ra = x->data + a * x->cols, *rb = x->data + b * x->cols;
    double s = 0;
    size_t q = 0;
    for (size_t j = 0; j < x->cols; j++) {
        double d = ra[j] - rb[j];
        if (isfinite(d)) {
            s += d * d;
            q++;
        }
    }
    return q ? sqrt(s / (double)q) : INFINITY;
}

ms_status ms_batch_select(const double *score, const unsigned char *eligible, size_t n,
                          const ms_matrix *x, double r, size_t k, size_t *chosen,
                          size_t *n_chosen, double *utility)
{
    *n_chosen = 0;
    MS_CHECK(!x || x->rows == n, MS_ERR_USAGE, "batch: %zu feature rows for %zu scores",
             x ? x->rows : 0, n);
    if (k == 0 || n == 0) return MS_SUCCESS;
    double *u = malloc(n * sizeof *u);
    MS_CHECK(u, MS_ERR_NOMEM, "batch: out of memory");
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        int ok = (!eligible || eligible[i]) && !isnan(score[i]) && score[i] != -INFINITY;
        u[i] = ok ? score[i] : NAN;
        if (ok && isfinite(score[i])) {
            if (score[i] < lo) lo = score[i];
            if (score[i] > hi) hi = score[i];
        }
    }
    const double eps = 1e-6;
    for (size_t i = 0; i < n; i++) {
        if (isnan(u[i])) continue;
        if (u[i] == INFINITY || !(hi > lo)) u[i] = 1.0;
        else u[i] = eps + (1.0 - eps) * (u[i] - lo) / (hi - lo);
    }
    int penalise = x && r > 0;
    double inv2r2 = penalise ? 1.0 / (2.0 * r * r) : 0.0;
    for (size_t t = 0; t < k; t++) {
        size_t best = n;
        for (size_t i = 0; i < n; i++)
            if (!isnan(u[i]) && (best == n || u[i] > u[best])) best = i;
        if (best == n) break;
        chosen[t] = best;
        if (utility) utility[t] = u[best];
        (*n_chosen)++;
        u[best] = NAN;
        if (!penalise) continue;
        for (size_t i = 0; i < n; i++) {
            if (isnan(u[i])) continue;
            double d = ms_batch_distance(x, i, best);
            u[i] *= isinf(d) ? 1.0 : 1.0 - exp(-d * d * inv2r2);
        }
    }
    free(u);
    return MS_SUCCESS;
}

/* 1 when row a dominates row b (all objectives already oriented for maximisation in g). */
static int dominates(const double *g, size_t m, size_t a, size_t b)
{
    int strict = 0;
    for (size_t j = 0; j < m; j++) {
        double fa = g[a * m + j], fb = g[b * m + j];
        if (fa < fb) return 0;
        if (fa > fb) strict = 1;
    }
    return strict;
}

ms_status ms_pareto_rank(const double *f, size_t n, size_t m, const int *maximize, int *rank,
                         double *crowding)
{
    MS_CHECK(m > 0, MS_ERR_USAGE, "pareto: no objectives");
    double *g = malloc((n * m + 1) * sizeof *g);
    size_t *count = malloc((n + 1) * sizeof *count);
    size_t *front = malloc((n + 1) * sizeof *front);
    keyed *kk = malloc((n + 1) * sizeof *kk);
    if (!g || !count || !front || !kk) {
        free(g);
        free(count);
        free(front);
        free(kk);
        return ms_error_set(MS_ERR_NOMEM, "pareto: out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        rank[i] = 0;
        for (size_t j = 0; j < m; j++) {
            double v = f[i * m + j];
            if (isnan(v)) rank[i] = -1;
            g[i * m + j] = (!maximize || maximize[j]) ? v : -v;
        }
        if (crowding) crowding[i] = NAN;
    }
    /* Domination counts over the valid rows, then peel fronts (Deb's fast sort without the
     * O(n^2) dominated-set lists: each front member re-scans all rows). */
    for (size_t i = 0; i < n; i++) {
        count[i] = 0;
        if (rank[i] < 0) continue;
        for (size_t q = 0; q < n; q++)
            if (q != i && rank[q] >= 0 && dominates(g, m, q, i)) count[i]++;
    }
    size_t nf = 0;
    for (size_t i = 0; i < n; i++)
        if (rank[i] >= 0 && count[i] == 0) front[nf++] = i;
    int level = 0;
    while (nf > 0) {
        for (size_t a = 0; a < nf; a++) rank[front[a]] = level;
        if (crowding) {
            for (size_t a = 0; a < nf; a++) crowding[front[a]] = 0.0;
            for (size_t j = 0; j < m; j++) {
                for (size_t a = 0; a < nf; a++) kk[a] = (keyed){g[front[a] * m + j], front[a]};
                qsort(kk, nf, sizeof *kk, keyed_asc);
                double span = kk[nf - 1].key - kk[0].key;
                crowding[kk[0].index] = INFINITY;
                crowding[kk[nf - 1].index] = INFINITY;
                if (!(span > 0) || !isfinite(span)) continue;
                for (size_t a = 1; a + 1 < nf; a++)
                    crowding[kk[a].index] += (kk[a + 1].key - kk[a - 1].key) / span;
            }
        }
        /* next front: rows whose dominators are all in fronts <= level */
        size_t nn = 0;
        for (size_t a = 0; a < nf; a++) {
            size_t p = front[a];
            for (size_t q = 0; q < n; q++)
                if (rank[q] >= 0 && count[q] > 0 && dominates(g, m, p, q) && --count[q] == 0)
                    kk[nn++].index = q; /* kk reused as a list; order fixed below */
        }
        for (size_t a = 0; a < nn; a++) kk[a].key = (double)kk[a].index;
        qsort(kk, nn, sizeof *kk, keyed_asc);
        for (size_t a = 0; a < nn; a++) front[a] = kk[a].index;
        nf = nn;
        level++;
    }
    free(g);
    free(count);
    free(front);
    free(kk);
    return MS_SUCCESS;
}

ms_status ms_pareto_order(const int *rank, const double *crowding, size_t n, size_t *order)
{
    keyed *k = malloc((n + 1) * sizeof *k);
    MS_CHECK(k, MS_ERR_NOMEM, "pareto: out of memory");
    /* one key: front first (rank -1 after every front), then crowding; encode in two passes */
    for (size_t i = 0; i < n; i++) k[i] = (keyed){0.0, i};
    size_t nk = 0;
    int maxrank = -1;
    for (size_t i = 0; i < n; i++)
        if (rank[i] > maxrank) maxrank = rank[i];
    for (int level = 0; level <= maxrank; level++) {
        size_t start = nk;
        for (size_t i = 0; i < n; i++)
            if (rank[i] == level) k[nk++] = (keyed){crowding ? crowding[i] : 0.0, i};
        qsort(k + start, nk - start, sizeof *k, keyed_desc);
    }
    for (size_t i = 0; i < n; i++)
        if (rank[i] < 0) k[nk++] = (keyed){0.0, i};
    for (size_t i = 0; i < n; i++) order[i] = k[i].index;
    free(k);
    return MS_SUCCESS;
}
