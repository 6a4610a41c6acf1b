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

#define SHAP_BATCH MS_TREESHAP_BATCH

struct ms_shap_ws {
    size_t qmax, levels, n_features;
    double *nodes, *weights; /* Gauss-Legendre on [0, 1] for q = 1..qmax at q (q - 1) / 2 */
    double *comp, *wcomp;    /* 1 - node, weight / (1 - node), same layout */
    double *rcomp;           /* 1 / (1 - node), same layout */
    double *p, *g, *acc;     /* levels x qmax x SHAP_BATCH each: P of a node, G of an edge, acc
                                of an edge (a batch of B rows: [k * B + r] in each level) */
    double *zf;              /* per feature: zero fraction of its deepest split so far (1: none) */
    double *of;              /* per feature x SHAP_BATCH rows: one fraction of that split (1) */
    double **cur;            /* per feature: acc of its deepest split so far (NULL: none) */
    double *w0, *w1;         /* qmax: a node's quadrature weights over f (o = 0, o = 1) */
    double *pad;             /* n_features: phi of the rows that pad a short batch */
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
    ws->n_features = n_features;
    size_t tri = ws->qmax * (ws->qmax + 1) / 2, lv = ws->levels * ws->qmax * SHAP_BATCH;
    ws->nodes = malloc(tri * sizeof *ws->nodes);
    ws->weights = malloc(tri * sizeof *ws->weights);
    ws->comp = malloc(tri * sizeof *ws->comp);
    ws->wcomp = malloc(tri * sizeof *ws->wcomp);
    ws->rcomp = malloc(tri * sizeof *ws->rcomp);
    ws->p = malloc(lv * sizeof *ws->p);
    ws->g = malloc(lv * sizeof *ws->g);
    ws->acc = malloc(lv * sizeof *ws->acc);
    ws->zf = malloc((n_features + 1) * sizeof *ws->zf);
    ws->of = malloc((n_features + 1) * SHAP_BATCH * sizeof *ws->of);
    ws->cur = calloc(n_features + 1, sizeof *ws->cur);
    ws->w0 = malloc(ws->qmax * sizeof *ws->w0);
    ws->w1 = malloc(ws->qmax * sizeof *ws->w1);
    ws->pad = malloc((n_features + 1) * sizeof *ws->pad);
    if (!ws->nodes || !ws->weights || !ws->comp || !ws->wcomp || !ws->rcomp || !ws->p || !ws->g ||
        !ws->acc || !ws->zf || !ws->of || !ws->cur || !ws->w0 || !ws->w1 || !ws->pad) {
        ms_treeshap_ws_free(ws);
        return NULL;
    }
    for (size_t q = 1; q <= ws->qmax; q++)
        gauss_legendre(q, ws->nodes + q * (q - 1) / 2, ws->weights + q * (q - 1) / 2);
    for (size_t k = 0; k < tri; k++) {
        ws->comp[k] = 1 - ws->nodes[k];
        ws->wcomp[k] = ws->weights[k] / ws->comp[k];
        ws->rcomp[k] = 1 / ws->comp[k];
    }
    for (size_t j = 0; j <= n_features; j++) ws->zf[j] = 1;
    for (size_t j = 0; j < (n_features + 1) * SHAP_BATCH; j++) ws->of[j] = 1;
    return ws;
}

void ms_treeshap_ws_free(ms_shap_ws *ws)
{
    if (!ws) return;
    free(ws->nodes);
    free(ws->weights);
    free(ws->comp);
    free(ws->wcomp);
    free(ws->rcomp);
    free(ws->p);
    free(ws->g);
    free(ws->acc);
    free(ws->zf);
    free(ws->of);
    free(ws->cur);
    free(ws->w0);
    free(ws->w1);
    free(ws->pad);
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
    const double *x[SHAP_BATCH];           /* the batch's rows */
    double *phi[SHAP_BATCH];               /* their contributions (pad rows: ws->pad) */
    const double *tk, *wk, *sk, *wsk, *rsk; /* quadrature: t_k, w_k, 1 - t_k, w_k / (1 - t_k),
                                               1 / (1 - t_k) */
    double scale;
    size_t q;
    ms_shap_ws *ws;
} shap_call;

#define SHAP_B 1
#define SHAP_VISIT visit_1
#include "treeshap_visit.h"
#undef SHAP_B
#undef SHAP_VISIT
#define SHAP_B SHAP_BATCH
#define SHAP_VISIT visit_batch
#include "treeshap_visit.h"
#undef SHAP_B
#undef SHAP_VISIT

void ms_treeshap_add_rows(const ms_shap_tree *t, const double *x, size_t ldx, size_t n,
                          double scale, double *phi, size_t ldphi, ms_shap_ws *ws)
{
    if (!t->n_nodes || n == 0) return;
    size_t q = (t->unique_depth + 1) / 2;
    if (q < 1) q = 1;
    if (q > ws->qmax) q = ws->qmax; /* a workspace too small for t: the caller's bug (header) */
    if (n > SHAP_BATCH) n = SHAP_BATCH; /* likewise */
    size_t o = q * (q - 1) / 2, B = n == 1 ? 1 : SHAP_BATCH;
    shap_call c = {.t = t, .tk = ws->nodes + o, .wk = ws->weights + o, .sk = ws->comp + o,
                   .wsk = ws->wcomp + o, .rsk = ws->rcomp + o, .scale = scale, .q = q, .ws = ws};
    for (size_t r = 0; r < B; r++) { /* a short batch repeats its first row into ws->pad */
        c.x[r] = x + (r < n ? r : 0) * ldx;
        c.phi[r] = r < n ? phi + r * ldphi : ws->pad;
    }
    for (size_t k = 0; k < q * B; k++) ws->p[k] = 1;
    if (B == 1) visit_1(&c, 0, 0, ws->g);
    else visit_batch(&c, 0, 0, ws->g);
}

void ms_treeshap_add(const ms_shap_tree *t, const double *x, double scale, double *phi,
                     ms_shap_ws *ws)
{
    ms_treeshap_add_rows(t, x, 0, 1, scale, phi, 0, ws);
}
