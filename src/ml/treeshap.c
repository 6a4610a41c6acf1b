/* Exact TreeSHAP, algorithm 2 of Lundberg et al. 2020; see treeshap.h. The names follow the
 * paper: EXTEND, UNWIND, and the sum of UNWIND's weights (unwound_sum). */
#include "matscreen/treeshap.h"

#include <string.h>

#define FIELD(t, arr, k) (*(const int32_t *)((const char *)(t)->arr + (size_t)(k) * (t)->stride))
#define VALUE(t, k) (*(const double *)((const char *)(t)->value + (size_t)(k) * (t)->stride))

static size_t depth_of(const ms_shap_tree *t, int32_t k)
{
    if (FIELD(t, feature, k) < 0) return 0;
    size_t l = depth_of(t, FIELD(t, left, k)), r = depth_of(t, FIELD(t, right, k));
    return 1 + (l > r ? l : r);
}

size_t ms_treeshap_depth(const ms_shap_tree *t) { return t->n_nodes ? depth_of(t, 0) : 0; }

size_t ms_treeshap_path_size(size_t max_depth) { return (max_depth + 2) * (max_depth + 3) / 2; }

double ms_treeshap_expected(const ms_shap_tree *t)
{
    double s = 0;
    for (size_t k = 0; k < t->n_nodes; k++)
        if (FIELD(t, feature, k) < 0) s += VALUE(t, k) * (double)t->cover[k];
    return s / (double)t->cover[0];
}

/* EXTEND: adds feature fi with fractions (zf, of) to the path m of length depth (+1 after). */
static void extend(ms_shap_path *m, size_t depth, double zf, double of, int32_t fi)
{
    m[depth] = (ms_shap_path){fi, zf, of, depth == 0 ? 1.0 : 0.0};
    for (size_t i = depth; i-- > 0;) {
        m[i + 1].pweight += of * m[i].pweight * (double)(i + 1) / (double)(depth + 1);
        m[i].pweight = zf * m[i].pweight * (double)(depth - i) / (double)(depth + 1);
    }
}

/* UNWIND: removes element at of the path m whose last index is depth. */
static void unwind(ms_shap_path *m, size_t depth, size_t at)
{
    double of = m[at].one_fraction, zf = m[at].zero_fraction, next = m[depth].pweight;
    for (size_t i = depth; i-- > 0;) {
        if (of != 0) {
            double tmp = m[i].pweight;
            m[i].pweight = next * (double)(depth + 1) / ((double)(i + 1) * of);
            next = tmp - m[i].pweight * zf * (double)(depth - i) / (double)(depth + 1);
        } else {
            m[i].pweight = m[i].pweight * (double)(depth + 1) / (zf * (double)(depth - i));
        }
    }
    for (size_t i = at; i < depth; i++) {
        m[i].feature = m[i + 1].feature;
        m[i].zero_fraction = m[i + 1].zero_fraction;
        m[i].one_fraction = m[i + 1].one_fraction;
    }
}

/* The total weight of the path m after UNWIND(m, at), without changing m. */
static double unwound_sum(const ms_shap_path *m, size_t depth, size_t at)
{
    double of = m[at].one_fraction, zf = m[at].zero_fraction, next = m[depth].pweight, total = 0;
    for (size_t i = depth; i-- > 0;) {
        if (of != 0) {
            double tmp = next * (double)(depth + 1) / ((double)(i + 1) * of);
            total += tmp;
            next = m[i].pweight - tmp * zf * (double)(depth - i) / (double)(depth + 1);
        } else {
            total += m[i].pweight / zf / ((double)(depth - i) / (double)(depth + 1));
        }
    }
    return total;
}

typedef struct shap_call {
    const ms_shap_tree *t;
    const double *x;
    double scale, *phi;
} shap_call;

/* RECURSE: node j, the parent's path (depth + 1 entries used by the parent), and the fractions
 * and feature of the edge into j. The child's path is written after the parent's. */
static void recurse(const shap_call *c, int32_t j, ms_shap_path *parent, size_t depth, double zf,
                    double of, int32_t fi)
{
    const ms_shap_tree *t = c->t;
    ms_shap_path *m = parent + depth + 1;
    memcpy(m, parent, (depth + 1) * sizeof *m);
    extend(m, depth, zf, of, fi);
    int32_t d = FIELD(t, feature, j);
    if (d < 0) {
        for (size_t i = 1; i <= depth; i++) {
            double w = unwound_sum(m, depth, i);
            c->phi[m[i].feature] += c->scale * w * (m[i].one_fraction - m[i].zero_fraction) *
                                    VALUE(t, j);
        }
        return;
    }
    int32_t l = FIELD(t, left, j), r = FIELD(t, right, j);
    int32_t hot = c->x[d] <= VALUE(t, j) ? l : r, cold = hot == l ? r : l;
    double rj = (double)t->cover[j], izf = 1, iof = 1;
    size_t k = 0;
    while (k <= depth && m[k].feature != d) k++;
    if (k <= depth) { /* the feature was split on above: its earlier edge is undone */
        izf = m[k].zero_fraction;
        iof = m[k].one_fraction;
        unwind(m, depth, k);
        depth--;
    }
    recurse(c, hot, m, depth + 1, izf * (double)t->cover[hot] / rj, iof, d);
    recurse(c, cold, m, depth + 1, izf * (double)t->cover[cold] / rj, 0, d);
}

void ms_treeshap_add(const ms_shap_tree *t, const double *x, double scale, double *phi,
                     ms_shap_path *path)
{
    shap_call c = {t, x, scale, phi};
    recurse(&c, 0, path, 0, 1, 1, -1);
}
