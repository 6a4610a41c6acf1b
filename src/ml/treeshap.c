/* Exact path-dependent TreeSHAP in its polynomial form (Linear TreeSHAP); see treeshap.h.
 * The path of distinct features is never stored: every node carries the values P(t_k) of the
 * product prod_j (z_j (1 - t) + o_j t) over its path at the q quadrature nodes t_k, and every
 * edge returns G(t_k) = sum over the leaves below it of v_l P_l(t_k). Feature i's share of a
 * leaf is v_l (o_i - z_i) integral(P_l / f_i), f_i = z_i (1 - t) + o_i t, with f_i set by the
 * deepest split on i above the leaf; an edge on feature i therefore takes the leaves below it
 * minus those below a deeper split on i ("acc", the sum of those splits' G). */
#include "matscreen/treeshap.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define FIELD(t, arr, k) (*(const int32_t *)((const char *)(t)->arr + (size_t)(k) * (t)->stride))
#define VALUE(t, k) (*(const double *)((const char *)(t)->value + (size_t)(k) * (t)->stride))

struct ms_shap_ws {
    size_t qmax, levels;
    double *nodes, *weights; /* Gauss-Legendre on [0, 1] for q = 1..qmax at q (q - 1) / 2 */
    double *comp, *wcomp;    /* 1 - node, weight / (1 - node), same layout */
    double *p, *g, *acc;     /* levels x qmax each: P of a node, G of an edge, acc of an edge */
    double *zf, *of;         /* per feature: fractions of its deepest split so far (1, 1: none) */
    double **cur;            /* per feature: acc of its deepest split so far (NULL: none) */
};

static size_t depth_of(const ms_shap_tree *t, int32_t k)
{
    if (FIELD(t, feature, k) < 0) return 0;
    size_t l = depth_of(t, FIELD(t, left, k)), r = depth_of(t, FIELD(t, right, k));
    return 1 + (l > r ? l : r);
}

size_t ms_treeshap_depth(const ms_shap_tree *t) { return t->n_nodes ? depth_of(t, 0) : 0; }

static size_t unique_of(const ms_shap_tree *t, int32_t k, unsigned *seen, size_t have)
{
    int32_t d = FIELD(t, feature, k);
    if (d < 0) return have;
    size_t now = have + (seen[d]++ == 0);
    size_t l = unique_of(t, FIELD(t, left, k), seen, now), r = unique_of(t, FIELD(t, right, k), seen, now);
    seen[d]--;
    return l > r ? l : r;
}

size_t ms_treeshap_unique_depth(const ms_shap_tree *t, size_t n_features)
{
    unsigned *seen = calloc(n_features + 1, sizeof *seen);
    if (!seen || !t->n_nodes) {
        free(seen);
        return t->n_nodes ? ms_treeshap_depth(t) : 0; /* an upper bound is still exact */
    }
    size_t u = unique_of(t, 0, seen, 0);
    free(seen);
    return u;
}

/* Gauss-Legendre nodes and weights of order q mapped to [0, 1] (Newton on P_q from the
 * Chebyshev-like first guess; converges to rounding in a few steps). */
static void gauss_legendre(size_t q, double *t, double *w)
{
    for (size_t i = 0; i < (q + 1) / 2; i++) {
        double z = cos(M_PI * ((double)i + 0.75) / ((double)q + 0.5)), pp = 1;
        for (int it = 0; it < 100; it++) {
            double p1 = 1, p2 = 0;
            for (size_t j = 1; j <= q; j++) {
                double p3 = p2;
                p2 = p1;
                p1 = ((2.0 * (double)j - 1) * z * p2 - ((double)j - 1) * p3) / (double)j;
            }
            pp = (double)q * (z * p1 - p2) / (z * z - 1);
            double z1 = z;
            z = z1 - p1 / pp;
            if (fabs(z - z1) < 1e-16) break;
        }
        double wi = 1 / ((1 - z * z) * pp * pp); /* 2 / (...) on [-1, 1], halved on [0, 1] */
        t[i] = (1 - z) / 2;
        t[q - 1 - i] = (1 + z) / 2;
        w[i] = w[q - 1 - i] = wi;
    }
}

ms_shap_ws *ms_treeshap_ws_new(size_t max_depth, size_t n_features)
{
    ms_shap_ws *ws = calloc(1, sizeof *ws);
    if (!ws) return NULL;
    size_t u = max_depth < n_features ? max_depth : n_features;
    ws->qmax = (u + 1) / 2 + 1;
    ws->levels = max_depth + 2;
    size_t tri = ws->qmax * (ws->qmax + 1) / 2, lv = ws->levels * ws->qmax;
    ws->nodes = malloc(tri * sizeof *ws->nodes);
    ws->weights = malloc(tri * sizeof *ws->weights);
    ws->comp = malloc(tri * sizeof *ws->comp);
    ws->wcomp = malloc(tri * sizeof *ws->wcomp);
    ws->p = malloc(lv * sizeof *ws->p);
    ws->g = malloc(lv * sizeof *ws->g);
    ws->acc = malloc(lv * sizeof *ws->acc);
    ws->zf = malloc((n_features + 1) * sizeof *ws->zf);
    ws->of = malloc((n_features + 1) * sizeof *ws->of);
    ws->cur = calloc(n_features + 1, sizeof *ws->cur);
    if (!ws->nodes || !ws->weights || !ws->comp || !ws->wcomp || !ws->p || !ws->g || !ws->acc || !ws->zf || !ws->of ||
        !ws->cur) {
        ms_treeshap_ws_free(ws);
        return NULL;
    }
    for (size_t q = 1; q <= ws->qmax; q++)
        gauss_legendre(q, ws->nodes + q * (q - 1) / 2, ws->weights + q * (q - 1) / 2);
    for (size_t k = 0; k < tri; k++) {
        ws->comp[k] = 1 - ws->nodes[k];
        ws->wcomp[k] = ws->weights[k] / ws->comp[k];
    }
    for (size_t j = 0; j <= n_features; j++) ws->zf[j] = ws->of[j] = 1;
    return ws;
}

void ms_treeshap_ws_free(ms_shap_ws *ws)
{
    if (!ws) return;
    free(ws->nodes);
    free(ws->weights);
    free(ws->comp);
    free(ws->wcomp);
    free(ws->p);
    free(ws->g);
    free(ws->acc);
    free(ws->zf);
    free(ws->of);
    free(ws->cur);
    free(ws);
}

double ms_treeshap_expected(const ms_shap_tree *t)
{
    double s = 0;
    for (size_t k = 0; k < t->n_nodes; k++)
        if (FIELD(t, feature, k) < 0) s += VALUE(t, k) * (double)t->cover[k];
    return s / (double)t->cover[0];
}

typedef struct shap_call {
    const ms_shap_tree *t;
    const double *x, *tk, *wk, *sk, *wsk; /* quadrature: t_k, w_k, 1 - t_k, w_k / (1 - t_k) */
    double scale, *phi;
    size_t q;
    ms_shap_ws *ws;
} shap_call;

/* Node j at level lvl, its P at ws->p + lvl qmax; writes the G of the edge into j at g.
 * The child's P is r f_new with r = P / f_old (f_old = 1 when d is new on the path), and the
 * share of the edge sum_k w_k (G - acc) / f_new, with f_new = z (1 - t) on the cold side (no
 * division: w_k / (1 - t_k) is tabulated). A leaf child's G / f_new is v r: no division. */
static void visit(const shap_call *c, int32_t j, size_t lvl, double *g)
{
    const ms_shap_tree *t = c->t;
    ms_shap_ws *ws = c->ws;
    size_t q = c->q;
    double *p = ws->p + lvl * ws->qmax;
    int32_t d = FIELD(t, feature, j);
    if (d < 0) {
        double v = VALUE(t, j);
        for (size_t k = 0; k < q; k++) g[k] = v * p[k];
        return;
    }
    int32_t l = FIELD(t, left, j), r = FIELD(t, right, j);
    int32_t hot = c->x[d] <= VALUE(t, j) ? l : r;
    double zo = ws->zf[d], oo = ws->of[d], *prev = ws->cur[d], rj = (double)t->cover[j];
    double *pc = ws->p + (lvl + 1) * ws->qmax, *gc = ws->g + (lvl + 1) * ws->qmax;
    double *acc = ws->acc + lvl * ws->qmax, *rk = p; /* P / f_old overwrites P: j's P is done */
    if (prev)
        for (size_t k = 0; k < q; k++) rk[k] = p[k] / (zo * c->sk[k] + oo * c->tk[k]);
    memset(g, 0, q * sizeof *g);
    for (int side = 0; side < 2; side++) {
        int32_t ch = side ? r : l;
        double zn = zo * (double)t->cover[ch] / rj, on = ch == hot ? oo : 0, sum = 0;
        if (FIELD(t, feature, ch) < 0) {
            double v = VALUE(t, ch);
            for (size_t k = 0; k < q; k++) {
                sum += c->wk[k] * rk[k];
                g[k] += v * rk[k] * (zn * c->sk[k] + on * c->tk[k]);
            }
            c->phi[d] += c->scale * (on - zn) * v * sum;
            continue;
        }
        for (size_t k = 0; k < q; k++) {
            pc[k] = rk[k] * (zn * c->sk[k] + on * c->tk[k]);
            acc[k] = 0;
        }
        ws->zf[d] = zn;
        ws->of[d] = on;
        ws->cur[d] = acc;
        visit(c, ch, lvl + 1, gc);
        if (on != 0)
            for (size_t k = 0; k < q; k++) sum += c->wk[k] * (gc[k] - acc[k]) / (zn * c->sk[k] + c->tk[k]);
        else {
            for (size_t k = 0; k < q; k++) sum += c->wsk[k] * (gc[k] - acc[k]);
            sum /= zn;
        }
        for (size_t k = 0; k < q; k++) g[k] += gc[k];
        c->phi[d] += c->scale * (on - zn) * sum;
    }
    ws->zf[d] = zo;
    ws->of[d] = oo;
    ws->cur[d] = prev;
    if (prev)
        for (size_t k = 0; k < q; k++) prev[k] += g[k];
}

void ms_treeshap_add(const ms_shap_tree *t, const double *x, double scale, double *phi,
                     ms_shap_ws *ws)
{
    if (!t->n_nodes) return;
    size_t q = (t->unique_depth + 1) / 2;
    if (q < 1) q = 1;
    if (q > ws->qmax) q = ws->qmax; /* a workspace too small for t: the caller's bug (header) */
    size_t o = q * (q - 1) / 2;
    shap_call c = {t, x, ws->nodes + o, ws->weights + o, ws->comp + o, ws->wcomp + o, scale, phi,
                   q, ws};
    for (size_t k = 0; k < q; k++) ws->p[k] = 1;
    visit(&c, 0, 0, ws->g);
}
