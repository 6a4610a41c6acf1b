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
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#define SHAP_AVX2 1
#else
#define SHAP_AVX2 0
#endif

/* GCC vectors (also clang): a lane is a row of a batch, or a quadrature node of one row.
 * Element-wise IEEE operations in source order and no contraction into FMA (the AVX2 copy is not
 * built with FMA), so every variant gives the bits of the former scalar loops. */
typedef double v4d __attribute__((vector_size(32)));
#define SHAP_ALIGN 32
/* The loops over a batch's vectors are short and constant: unrolled, their sums stay in
 * registers instead of going through memory at every quadrature node. */
#if defined(__clang__)
#define SHAP_UNROLL _Pragma("unroll 8")
#else
#define SHAP_UNROLL _Pragma("GCC unroll 8")
#endif

struct ms_shap_ws {
    size_t qmax, qpad, levels, n_features;
    /* Gauss-Legendre on [0, 1] for q = 1..qmax, row q - 1 of qpad (a multiple of 4: the padding
       is t = 0, w = 0, 1 - t = 1, so vector loops over 4 nodes stay finite and add nothing) */
    double *nodes, *weights;
    double *comp, *wcomp;    /* 1 - node, weight / (1 - node), same layout */
    double *rcomp;           /* 1 / (1 - node), same layout */
    double *p, *g, *acc;     /* levels x qmax x SHAP_BATCH each: P of a node, G of an edge, acc
                                of an edge (a batch of B rows: [k * B + r] in each level) */
    double *zf;              /* per feature: zero fraction of its deepest split so far (1: none) */
    double *of;              /* per feature x SHAP_BATCH rows: one fraction of that split (1) */
    double **cur;            /* per feature: acc of its deepest split so far (NULL: none) */
    unsigned char **cur_set; /* per feature: that acc's flag in acc_set */
    unsigned char *acc_set;  /* levels: acc of the level holds a sum (0: it is 0, not written) */
    double *w0, *w1;         /* qpad: a node's quadrature weights over f (o = 0, o = 1) */
    double *term;            /* qpad: one row's terms of an edge's share (treeshap_row.h) */
    double *phit;            /* n_features x SHAP_BATCH: the batch's phi, [feature * B + row],
                                so a node adds to all rows' phi_d in vector operations */
};

/* n doubles aligned for the vector loads, rounded up to whole vectors. */
static double *alloc_aligned(size_t n)
{
    size_t bytes = (n * sizeof(double) + SHAP_ALIGN - 1) / SHAP_ALIGN * SHAP_ALIGN;
    return aligned_alloc(SHAP_ALIGN, bytes ? bytes : SHAP_ALIGN);
}

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
    ws->qpad = (ws->qmax + 3) / 4 * 4;
    ws->levels = max_depth + 2;
    ws->n_features = n_features;
    size_t tab = ws->qmax * ws->qpad, lv = ws->levels * ws->qmax * SHAP_BATCH;
    ws->nodes = alloc_aligned(tab);
    ws->weights = alloc_aligned(tab);
    ws->comp = alloc_aligned(tab);
    ws->wcomp = alloc_aligned(tab);
    ws->rcomp = alloc_aligned(tab);
    ws->p = alloc_aligned(lv);
    ws->g = alloc_aligned(lv);
    ws->acc = alloc_aligned(lv);
    ws->zf = malloc((n_features + 1) * sizeof *ws->zf);
    ws->of = alloc_aligned((n_features + 1) * SHAP_BATCH);
    ws->cur = calloc(n_features + 1, sizeof *ws->cur);
    ws->cur_set = calloc(n_features + 1, sizeof *ws->cur_set);
    ws->acc_set = calloc(ws->levels, 1);
    ws->w0 = alloc_aligned(ws->qpad);
    ws->w1 = alloc_aligned(ws->qpad);
    ws->term = alloc_aligned(ws->qpad);
    ws->phit = alloc_aligned((n_features + 1) * SHAP_BATCH);
    if (!ws->nodes || !ws->weights || !ws->comp || !ws->wcomp || !ws->rcomp || !ws->p || !ws->g ||
        !ws->acc || !ws->zf || !ws->of || !ws->cur || !ws->cur_set || !ws->acc_set || !ws->w0 || !ws->w1 || !ws->term || !ws->phit) {
        ms_treeshap_ws_free(ws);
        return NULL;
    }
    for (size_t k = 0; k < tab; k++) ws->nodes[k] = ws->weights[k] = 0;
    for (size_t q = 1; q <= ws->qmax; q++)
        gauss_legendre(q, ws->nodes + (q - 1) * ws->qpad, ws->weights + (q - 1) * ws->qpad);
    for (size_t k = 0; k < tab; k++) {
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
    free(ws->cur_set);
    free(ws->acc_set);
    free(ws->w0);
    free(ws->w1);
    free(ws->term);
    free(ws->phit);
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
    double *phi[SHAP_BATCH];               /* their contributions (pad rows: NULL) */
    const double *tk, *wk, *sk, *wsk, *rsk; /* quadrature: t_k, w_k, 1 - t_k, w_k / (1 - t_k),
                                               1 / (1 - t_k) */
    double scale;
    size_t q;
    ms_shap_ws *ws;
} shap_call;

/* Each variant twice: plain (SSE2 on x86-64: 2 doubles an instruction) and, where the compiler
 * can target it, AVX2 (4), chosen at run time by the CPU. */
#define SHAP_VT v4d
#define SHAP_VW 4
#define SHAP_NV (SHAP_BATCH / 4)
#define SHAP_ATTR
#define SHAP_WEIGHTS weights_plain
#define SHAP_SUMS sums_plain
#define SHAP_VISIT visit_plain
#define SHAP_ROW row_plain
#include "treeshap_visit.h"
#include "treeshap_row.h"
#undef SHAP_ATTR
#undef SHAP_WEIGHTS
#undef SHAP_SUMS
#undef SHAP_VISIT
#undef SHAP_ROW
#if SHAP_AVX2
#define SHAP_ATTR __attribute__((target("avx2")))
#define SHAP_WEIGHTS weights_avx2
#define SHAP_SUMS sums_avx2
#define SHAP_VISIT visit_avx2
#define SHAP_ROW row_avx2
#include "treeshap_visit.h"
#include "treeshap_row.h"
#undef SHAP_ATTR
#undef SHAP_WEIGHTS
#undef SHAP_SUMS
#undef SHAP_VISIT
#undef SHAP_ROW
#endif
#undef SHAP_VT
#undef SHAP_VW
#undef SHAP_NV

void ms_treeshap_add_rows(const ms_shap_tree *t, const double *x, size_t ldx, size_t n,
                          double scale, double *phi, size_t ldphi, ms_shap_ws *ws)
{
    if (!t->n_nodes || n == 0) return;
    size_t q = (t->unique_depth + 1) / 2;
    if (q < 1) q = 1;
    if (q > ws->qmax) q = ws->qmax; /* a workspace too small for t: the caller's bug (header) */
    if (n > SHAP_BATCH) n = SHAP_BATCH; /* likewise */
    size_t o = (q - 1) * ws->qpad, B = n == 1 ? 1 : SHAP_BATCH;
    shap_call c = {.t = t, .tk = ws->nodes + o, .wk = ws->weights + o, .sk = ws->comp + o,
                   .wsk = ws->wcomp + o, .rsk = ws->rcomp + o, .scale = scale, .q = q, .ws = ws};
    for (size_t r = 0; r < B; r++) { /* a short batch repeats its first row (phi not kept) */
        c.x[r] = x + (r < n ? r : 0) * ldx;
        c.phi[r] = r < n ? phi + r * ldphi : NULL;
    }
    for (size_t k = 0; k < (B == 1 ? ws->qpad : q * B); k++) ws->p[k] = 1;
    if (B > 1) /* the batch adds to its phi in place, transposed (pad rows from 0) */
        for (size_t j = 0; j < ws->n_features; j++)
            for (size_t r = 0; r < B; r++) ws->phit[j * B + r] = r < n ? c.phi[r][j] : 0;
    int avx2 = 0;
#if SHAP_AVX2
    avx2 = __builtin_cpu_supports("avx2");
    if (avx2 && B == 1) row_avx2(&c, 0, 0, (v4d *)ws->g);
    if (avx2 && B > 1) visit_avx2(&c, 0, 0, (v4d *)ws->g);
#endif
    if (!avx2 && B == 1) row_plain(&c, 0, 0, (v4d *)ws->g);
    if (!avx2 && B > 1) visit_plain(&c, 0, 0, (v4d *)ws->g);
    if (B > 1)
        for (size_t j = 0; j < ws->n_features; j++)
            for (size_t r = 0; r < n; r++) c.phi[r][j] = ws->phit[j * B + r];
}

void ms_treeshap_add(const ms_shap_tree *t, const double *x, double scale, double *phi,
                     ms_shap_ws *ws)
{
    ms_treeshap_add_rows(t, x, 0, 1, scale, phi, 0, ws);
}
