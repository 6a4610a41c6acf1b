/* Random forests with histogram split search and jackknife uncertainty; see forest.h. */
#include "matscreen/forest.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "matscreen/array.h"
#include "matscreen/calibration.h"
#include "matscreen/comm.h"
#include "matscreen/metrics.h"
#include "matscreen/model.h"
#include "matscreen/rng.h"
#include "matscreen/treeshap.h"
#include "ml_impl.h"

#define MAX_BINS 255
#define SMALL_NODE 40   /* nodes with fewer rows are searched by sorting, not by histogram */
#define OOB_CAL_MAX 4096

typedef struct node {
    int32_t feature; /* -1 for a leaf */
    int32_t left;    /* internal: left child; leaf: start in leaf_rows */
    int32_t right;   /* internal: right child; leaf: number of rows */
    double v;        /* internal: threshold; leaf: value */
} node;

typedef struct tree {
    size_t n_nodes, cap;
    node *nodes;
    size_t n_rows;       /* distinct in-bag rows */
    uint32_t *rows;      /* in-bag rows ordered by leaf */
    uint32_t *cover;     /* n_nodes in-bag weights reaching each node (TreeSHAP; make_inbag) */
    size_t depth, unique_depth; /* TreeSHAP: tree depth, most distinct features on a path */
} tree;

struct ms_forest {
    ms_forest_params params;
    int classification;
    size_t n_features, n_train;
    tree *trees;         /* params.n_trees */
    unsigned char *inbag;/* n_train x n_trees, row-major (row i: counts of row i in each tree) */
    ms_forest_oob oob;
    double shap_base;    /* TreeSHAP: E[f], the mean over trees of ms_treeshap_expected */
    size_t shap_depth;   /* TreeSHAP: the deepest tree's depth (its workspace's size) */
};

void ms_forest_params_default(ms_forest_params *p)
{
    memset(p, 0, sizeof *p);
    p->n_trees = 100;
    p->min_samples_leaf = 1;
    p->bootstrap = 1;
    p->max_bins = MAX_BINS;
    p->recalibrate = 1;
    p->noise_floor = 1;
}

/* ---- binning --------------------------------------------------------------------------------- */

typedef struct binned {
    size_t n, p;
    unsigned char *code; /* column-major: code[f * n + i] */
    double *upper;       /* p x MAX_BINS upper edges: bin c holds x <= upper[c] (> upper[c-1]) */
    int *n_bins;         /* p */
} binned;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static ms_status bin_matrix(const ms_matrix *x, int max_bins, binned *b)
{
    size_t n = x->rows, p = x->cols;
    b->n = n;
    b->p = p;
    b->code = malloc(n * p + 1);
    b->upper = malloc(p * MAX_BINS * sizeof *b->upper + 1);
    b->n_bins = calloc(p + 1, sizeof *b->n_bins);
    double *col = malloc((n + 1) * sizeof *col);
    double *uniq = malloc((n + 1) * sizeof *uniq);
    if (!b->code || !b->upper || !b->n_bins || !col || !uniq) {
        free(col);
        free(uniq);
        return ms_error_set(MS_ERR_NOMEM, "forest: cannot allocate the binned matrix");
    }
    for (size_t f = 0; f < p; f++) {
        for (size_t i = 0; i < n; i++) col[i] = x->data[i * p + f];
        qsort(col, n, sizeof *col, cmp_double);
        size_t nu = 0;
        for (size_t i = 0; i < n; i++)
            if (nu == 0 || col[i] != uniq[nu - 1]) uniq[nu++] = col[i];
        double *up = b->upper + f * MAX_BINS;
        int nb = 0;
        if (nu <= (size_t)max_bins) {
            for (size_t k = 0; k + 1 < nu; k++) up[nb++] = uniq[k] + (uniq[k + 1] - uniq[k]) / 2;
        } else {
            /* quantile cuts over the sorted column, moved to midpoints of distinct values */
            for (int k = 1; k < max_bins; k++) {
                size_t pos = (size_t)((double)k * (double)n / max_bins);
                if (pos == 0 || pos >= n) continue;
                double lo = col[pos - 1], hi = col[pos];
                if (lo == hi) {
                    /* move to the next distinct value above */
                    while (pos < n && col[pos] == lo) pos++;
                    if (pos >= n) continue;
                    hi = col[pos];
                }
                double cut = lo + (hi - lo) / 2;
                if (nb == 0 || cut > up[nb - 1]) up[nb++] = cut;
            }
        }
        up[nb++] = INFINITY; /* the last bin */
        b->n_bins[f] = nb;
        for (size_t i = 0; i < n; i++) {
            double v = x->data[i * p + f];
            int lo = 0, hi = nb - 1; /* first c with v <= up[c] */
            while (lo < hi) {
                int mid = (lo + hi) / 2;
                if (v <= up[mid]) hi = mid; else lo = mid + 1;
            }
            b->code[f * n + i] = (unsigned char)lo;
        }
    }
    free(col);
    free(uniq);
    return MS_SUCCESS;
}

static void binned_free(binned *b)
{
    free(b->code);
    free(b->upper);
    free(b->n_bins);
}

/* ---- growing one tree ------------------------------------------------------------------------ */

typedef struct grow_ws {
    uint32_t *idx, *tmp_idx;   /* node rows (ascending inside a node) */
    double *w, *wy, *tmp_w, *tmp_wy, *y, *tmp_y;
    size_t *feat;              /* feature permutation */
    double hw[MAX_BINS], hs[MAX_BINS];
    uint32_t hn[MAX_BINS];
    struct small { uint32_t code; double w, wy; } *sm;
    struct frame { size_t start, end, depth; int32_t node; } *stack;
} grow_ws;

static ms_status tree_push(tree *t, int32_t *id)
{
    if (ms_array_reserve(&t->nodes, &t->cap, t->n_nodes + 1, sizeof *t->nodes, 256) != MS_SUCCESS)
        return ms_error_set(MS_ERR_NOMEM, "forest: cannot grow a tree");
    if (t->n_nodes >= (size_t)INT32_MAX) return ms_error_set(MS_ERR_LIMIT, "forest: tree too large");
    *id = (int32_t)t->n_nodes++;
    memset(&t->nodes[*id], 0, sizeof(node));
    return MS_SUCCESS;
}

/* Bootstrap counts of tree b: the first n draws of stream (seed, b). */
static void bootstrap_counts(const ms_forest_params *prm, size_t b, size_t n, unsigned char *cnt,
                             ms_rng *rng)
{
    ms_rng_seed(rng, prm->seed, (uint64_t)b);
    if (!prm->bootstrap) {
        memset(cnt, 1, n);
        return;
    }
    memset(cnt, 0, n);
    for (size_t k = 0; k < n; k++) {
        uint64_t i = ms_rng_below(rng, n);
        if (cnt[i] < 255) cnt[i]++;
    }
}

typedef struct best_split {
    double gain;
    int feature, bin;
} best_split;

/* Best split of feature f over rows [s, e) of the workspace; updates *best. Returns 1 when the
 * feature is not constant in the node. */
static int search_feature(const binned *bx, grow_ws *ws, size_t s, size_t e, size_t f,
                          size_t msl, double W, double S, best_split *best)
{
    const unsigned char *col = bx->code + f * bx->n;
    size_t m = e - s;
    double parent = S * S / W;
    if (m < SMALL_NODE) {
        struct small *sm = ws->sm;
        for (size_t k = 0; k < m; k++) {
            sm[k].code = col[ws->idx[s + k]];
            sm[k].w = ws->w[s + k];
            sm[k].wy = ws->wy[s + k];
        }
        for (size_t k = 1; k < m; k++) { /* stable insertion sort by code */
            struct small v = sm[k];
            size_t j = k;
            while (j > 0 && sm[j - 1].code > v.code) {
                sm[j] = sm[j - 1];
                j--;
            }
            sm[j] = v;
        }
        if (sm[0].code == sm[m - 1].code) return 0;
        double wl = 0, sl = 0;
        for (size_t k = 0; k + 1 < m; k++) {
            wl += sm[k].w;
            sl += sm[k].wy;
            if (sm[k].code == sm[k + 1].code) continue;
            size_t nl = k + 1;
            if (nl < msl || m - nl < msl) continue;
            double wr = W - wl, sr = S - sl;
            double g = sl * sl / wl + sr * sr / wr - parent;
            if (g > best->gain) {
                best->gain = g;
                best->feature = (int)f;
                best->bin = (int)sm[k].code;
            }
        }
        return 1;
    }
    int nb = bx->n_bins[f];
    double *hw = ws->hw, *hs = ws->hs;
    uint32_t *hn = ws->hn;
    memset(hw, 0, (size_t)nb * sizeof *hw);
    memset(hs, 0, (size_t)nb * sizeof *hs);
    memset(hn, 0, (size_t)nb * sizeof *hn);
    const uint32_t *idx = ws->idx + s;
    const double *w = ws->w + s, *wy = ws->wy + s;
    for (size_t k = 0; k < m; k++) {
        unsigned c = col[idx[k]];
        hw[c] += w[k];
        hs[c] += wy[k];
        hn[c]++;
    }
    double wl = 0, sl = 0;
    size_t nl = 0;
    int nonconst = 0;
    for (int c = 0; c + 1 < nb; c++) {
        if (!hn[c]) continue;
        wl += hw[c];
        sl += hs[c];
        nl += hn[c];
        if (nl == m) break;
        nonconst = 1;
        if (nl < msl || m - nl < msl) continue;
        double wr = W - wl, sr = S - sl;
        double g = sl * sl / wl + sr * sr / wr - parent;
        if (g > best->gain) {
            best->gain = g;
            best->feature = (int)f;
            best->bin = c;
        }
    }
    return nonconst;
}

static ms_status grow_tree(const ms_forest_params *prm, const binned *bx, const double *y,
                           size_t b, size_t mtry, grow_ws *ws, unsigned char *cnt, tree *t)
{
    size_t n = bx->n, p = bx->p;
    ms_rng rng;
    bootstrap_counts(prm, b, n, cnt, &rng);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (!cnt[i]) continue;
        ws->idx[m] = (uint32_t)i;
        ws->w[m] = cnt[i];
        ws->wy[m] = cnt[i] * y[i];
        ws->y[m] = y[i];
        m++;
    }
    memset(t, 0, sizeof *t);
    size_t msl = prm->min_samples_leaf ? prm->min_samples_leaf : 1;
    size_t top = 0;
    int32_t root;
    MS_CALL(tree_push(t, &root));
    ws->stack[top++] = (struct frame){0, m, 0, root};
    for (size_t f = 0; f < p; f++) ws->feat[f] = f;
    while (top) {
        struct frame fr = ws->stack[--top];
        size_t s = fr.start, e = fr.end, cnt_rows = e - s;
        double W = 0, S = 0, ymin = INFINITY, ymax = -INFINITY;
        for (size_t k = s; k < e; k++) {
            W += ws->w[k];
            S += ws->wy[k];
            if (ws->y[k] < ymin) ymin = ws->y[k];
            if (ws->y[k] > ymax) ymax = ws->y[k];
        }
        best_split best = {1e-12 * fabs(S * S / W) + 1e-300, -1, -1};
        int can_split = cnt_rows >= 2 * msl && cnt_rows >= 2 && ymax > ymin &&
                        (prm->max_depth == 0 || fr.depth < prm->max_depth);
        if (can_split) {
            /* draw features without replacement until mtry non-constant ones were searched */
            size_t tried = 0;
            for (size_t k = 0; k < p && tried < mtry; k++) {
                size_t j = k + (size_t)ms_rng_below(&rng, p - k);
                size_t tmp = ws->feat[k];
                ws->feat[k] = ws->feat[j];
                ws->feat[j] = tmp;
                tried += (size_t)search_feature(bx, ws, s, e, ws->feat[k], msl, W, S, &best);
            }
        }
        node *nd = &t->nodes[fr.node];
        if (best.feature < 0) {
            nd->feature = -1;
            nd->left = (int32_t)s;
            nd->right = (int32_t)cnt_rows;
            nd->v = S / W;
            continue;
        }
        /* stable partition of [s, e) on code <= bin */
        const unsigned char *col = bx->code + (size_t)best.feature * n;
        size_t l = s, r = 0;
        for (size_t k = s; k < e; k++) {
            if (col[ws->idx[k]] <= best.bin) {
                ws->idx[l] = ws->idx[k];
                ws->w[l] = ws->w[k];
                ws->wy[l] = ws->wy[k];
                ws->y[l] = ws->y[k];
                l++;
            } else {
                ws->tmp_idx[r] = ws->idx[k];
                ws->tmp_w[r] = ws->w[k];
                ws->tmp_wy[r] = ws->wy[k];
                ws->tmp_y[r] = ws->y[k];
                r++;
            }
        }
        for (size_t k = 0; k < r; k++) {
            ws->idx[l + k] = ws->tmp_idx[k];
            ws->w[l + k] = ws->tmp_w[k];
            ws->wy[l + k] = ws->tmp_wy[k];
            ws->y[l + k] = ws->tmp_y[k];
        }
        int32_t li, ri;
        MS_CALL(tree_push(t, &li));
        MS_CALL(tree_push(t, &ri));
        nd = &t->nodes[fr.node];
        nd->feature = best.feature;
        nd->v = bx->upper[(size_t)best.feature * MAX_BINS + (size_t)best.bin];
        nd->left = li;
        nd->right = ri;
        /* right pushed first so the left subtree is grown first (depth-first, left to right) */
        ws->stack[top++] = (struct frame){l, e, fr.depth + 1, ri};
        ws->stack[top++] = (struct frame){s, l, fr.depth + 1, li};
    }
    t->n_rows = m;
    t->rows = malloc((m ? m : 1) * sizeof *t->rows);
    if (!t->rows) return ms_error_set(MS_ERR_NOMEM, "forest: cannot store leaf rows");
    memcpy(t->rows, ws->idx, m * sizeof *t->rows);
    return MS_SUCCESS;
}

static void tree_free(tree *t)
{
    free(t->nodes);
    free(t->rows);
    free(t->cover);
    memset(t, 0, sizeof *t);
}

void ms_forest_free(ms_forest *f)
{
    if (!f) return;
    if (f->trees)
        for (size_t b = 0; b < f->params.n_trees; b++) tree_free(&f->trees[b]);
    free(f->trees);
    free(f->inbag);
    free(f);
}

/* ---- tree (de)serialisation ------------------------------------------------------------------ */

static void tree_write(const tree *t, ms_model_writer *w)
{
    ms_model_put_u64(w, t->n_nodes);
    for (size_t k = 0; k < t->n_nodes; k++) {
        const node *nd = &t->nodes[k];
        ms_model_put_u32(w, (uint32_t)nd->feature);
        ms_model_put_u32(w, (uint32_t)nd->left);
        ms_model_put_u32(w, (uint32_t)nd->right);
        ms_model_put_f64(w, nd->v);
    }
    ms_model_put_u32s(w, t->rows, t->n_rows);
}

static ms_status tree_read(ms_model_reader *r, size_t p, size_t n_train, tree *t)
{
    memset(t, 0, sizeof *t);
    uint64_t nn;
    MS_CALL(ms_model_get_u64(r, &nn));
    MS_CHECK(nn >= 1 && nn <= (r->len - r->pos) / 20, MS_ERR_PARSE,
             "forest: tree with %llu nodes does not fit in the file", (unsigned long long)nn);
    t->nodes = malloc(nn * sizeof *t->nodes);
    MS_CHECK(t->nodes, MS_ERR_NOMEM, "forest: cannot allocate a tree");
    t->n_nodes = t->cap = nn;
    for (size_t k = 0; k < nn; k++) {
        uint32_t a, l, rr;
        MS_CALL(ms_model_get_u32(r, &a));
        MS_CALL(ms_model_get_u32(r, &l));
        MS_CALL(ms_model_get_u32(r, &rr));
        MS_CALL(ms_model_get_f64(r, &t->nodes[k].v));
        t->nodes[k].feature = (int32_t)a;
        t->nodes[k].left = (int32_t)l;
        t->nodes[k].right = (int32_t)rr;
    }
    size_t nr;
    MS_CALL(ms_model_get_u32s(r, n_train, &t->rows, &nr));
    t->n_rows = nr;
    for (size_t k = 0; k < nr; k++)
        MS_CHECK(t->rows[k] < n_train, MS_ERR_PARSE, "forest: leaf row out of range");
    for (size_t k = 0; k < nn; k++) {
        const node *nd = &t->nodes[k];
        if (nd->feature == -1) {
            MS_CHECK(nd->left >= 0 && nd->right >= 0 && (size_t)nd->left <= nr &&
                         (size_t)nd->right <= nr - (size_t)nd->left,
                     MS_ERR_PARSE, "forest: leaf range out of bounds");
        } else {
            MS_CHECK(nd->feature >= 0 && (size_t)nd->feature < p, MS_ERR_PARSE,
                     "forest: split on feature %d of %zu", (int)nd->feature, p);
            /* children come after their parent: no cycles, every walk ends */
            MS_CHECK(nd->left > (int32_t)k && nd->right > (int32_t)k && (size_t)nd->left < nn &&
                         (size_t)nd->right < nn && !isnan(nd->v),
                     MS_ERR_PARSE, "forest: bad child index in node %zu", k);
        }
    }
    return MS_SUCCESS;
}

/* ---- prediction and uncertainty ---------------------------------------------------------------- */

static int32_t tree_leaf(const tree *t, const double *row)
{
    int32_t k = 0;
    while (t->nodes[k].feature >= 0) {
        const node *nd = &t->nodes[k];
        k = row[nd->feature] <= nd->v ? nd->left : nd->right;
    }
    return k;
}

/* Prediction workspace. The neighbours of a row (training rows sharing a leaf with it in some
 * tree) are collected in first-seen order through an open-addressing set sized to the total of
 * the row's leaves, so the work per row does not grow with n_train: screening one structure at a
 * time against a forest of 40,000 rows allocated and cleared two n_train arrays per structure. */
typedef struct unc_ws {
    double *t;         /* B tree predictions */
    int32_t *leaf;     /* B leaves */
    uint32_t *nbr;     /* neighbours, first-seen order */
    uint32_t *set;     /* row + 1 of each neighbour seen, 0 = empty slot */
    size_t nbr_cap, set_cap;
} unc_ws;

/* Collects the distinct training rows of the nu leaves in u->leaf into u->nbr, in the order
 * they are first met (the order of the sums in jackknife); *nn is their count. */
static ms_status collect_neighbours(const ms_forest *f, const size_t *use, size_t nu, unc_ws *u,
                                    size_t *nn)
{
    size_t m = 0;
    for (size_t q = 0; q < nu; q++) m += (size_t)f->trees[use ? use[q] : q].nodes[u->leaf[q]].right;
    unsigned lg = 6;
    while (((size_t)1 << lg) < 2 * m) lg++; /* load factor <= 1/2 */
    size_t sz = (size_t)1 << lg;
    MS_CALL(ms_array_reserve(&u->nbr, &u->nbr_cap, m, sizeof *u->nbr, 256));
    MS_CALL(ms_array_reserve(&u->set, &u->set_cap, sz, sizeof *u->set, 512));
    memset(u->set, 0, sz * sizeof *u->set);
    size_t n = 0;
    for (size_t q = 0; q < nu; q++) {
        const tree *t = &f->trees[use ? use[q] : q];
        const node *nd = &t->nodes[u->leaf[q]];
        for (int32_t k = 0; k < nd->right; k++) {
            uint32_t i = t->rows[nd->left + k], key = i + 1;
            size_t h = (uint32_t)(key * 2654435761u) >> (32 - lg); /* Fibonacci hashing */
            while (u->set[h] && u->set[h] != key) h = (h + 1) & (sz - 1);
            if (!u->set[h]) {
                u->set[h] = key;
                u->nbr[n++] = i;
            }
        }
    }
    *nn = n;
    return MS_SUCCESS;
}

/* For one training row with in-bag counts N: c = sum_q N_b d_q and, over the trees that did not
 * see the row, s0 = sum d_q and b0 their count (b = use[q], or q when use is NULL). Branch-free:
 * whether a tree saw a row is a coin toss, which a branch mispredicts a third of the time. */
static void row_terms(const unsigned char *N, const double *d, const size_t *use, size_t nu,
                      double *c, double *s0, double *b0)
{
    double cc = 0, ss = 0, bb = 0;
    if (use) {
        for (size_t q = 0; q < nu; q++) {
            double k = N[use[q]], z = k == 0;
            cc += k * d[q];
            ss += z * d[q];
            bb += z;
        }
    } else {
        for (size_t q = 0; q < nu; q++) {
            double k = N[q], z = k == 0;
            cc += k * d[q];
            ss += z * d[q];
            bb += z;
        }
    }
    *c = cc;
    *s0 = ss;
    *b0 = bb;
}

/* Mean and jackknife sigma over the trees listed in use (nu of them; use NULL: all B trees). */
static ms_status jackknife(const ms_forest *f, const double *row, const size_t *use, size_t nu,
                           unc_ws *u, double *mean, double *sigma)
{
    double sum = 0;
    for (size_t q = 0; q < nu; q++) {
        const tree *t = &f->trees[use ? use[q] : q];
        int32_t lf = tree_leaf(t, row);
        u->leaf[q] = lf;
        u->t[q] = t->nodes[lf].v;
        sum += u->t[q];
    }
    double tbar = sum / (double)nu;
    *mean = tbar;
    if (!sigma) return MS_SUCCESS;
    double D = 0;
    for (size_t q = 0; q < nu; q++) {
        u->t[q] -= tbar; /* now d_b */
        D += u->t[q] * u->t[q];
    }
    double B = (double)nu, n = (double)f->n_train;
    if (nu < 2 || !f->params.bootstrap) {
        *sigma = sqrt(D / B);
        return MS_SUCCESS;
    }
    size_t nn;
    MS_CALL(collect_neighbours(f, use, nu, u, &nn));
    double vij = 0, vj = 0;
    size_t ntree = f->params.n_trees;
    for (size_t a = 0; a < nn; a++) {
        double c, s0, b0;
        row_terms(f->inbag + (size_t)u->nbr[a] * ntree, u->t, use, nu, &c, &s0, &b0);
        c /= B;
        vij += c * c;
        if (b0 > 0) {
            double dj = s0 / b0; /* tbar_(-i) - tbar */
            vj += dj * dj;
        }
    }
    double corr = (double)nn * D / (B * B);
    double v_iju = vij - corr;
    double v_ju = (n - 1) / n * vj - (M_E - 1) * corr;
    double v = 0.5 * (v_iju + v_ju);
    double floor_v = D / (B * B);
    if (!(v > floor_v)) v = floor_v;
    *sigma = sqrt(v);
    return MS_SUCCESS;
}

static ms_status unc_alloc(const ms_forest *f, unc_ws *u)
{
    size_t B = f->params.n_trees;
    *u = (unc_ws){0};
    u->t = malloc((B + 1) * sizeof *u->t);
    u->leaf = malloc((B + 1) * sizeof *u->leaf);
    if (!u->t || !u->leaf)
        return ms_error_set(MS_ERR_NOMEM, "forest: cannot allocate prediction workspace");
    return MS_SUCCESS;
}

static void unc_free(unc_ws *u)
{
    free(u->t);
    free(u->leaf);
    free(u->nbr);
    free(u->set);
}

/* The TreeSHAP view of a tree (treeshap.h). */
static ms_shap_tree shap_view(const tree *t)
{
    return (ms_shap_tree){t->n_nodes, &t->nodes[0].feature, &t->nodes[0].left, &t->nodes[0].right,
                          &t->nodes[0].v, sizeof(node), t->cover, t->unique_depth};
}

/* cover[k] of tree b: the in-bag weight of its leaves' rows, summed up the tree (children come
 * after their parent, so one backward pass). */
static ms_status tree_covers(const ms_forest *f, size_t b, tree *t)
{
    size_t B = f->params.n_trees;
    free(t->cover);
    t->cover = calloc(t->n_nodes + 1, sizeof *t->cover);
    MS_CHECK(t->cover, MS_ERR_NOMEM, "forest: cannot allocate the node covers");
    for (size_t k = t->n_nodes; k-- > 0;) {
        const node *nd = &t->nodes[k];
        if (nd->feature >= 0) {
            t->cover[k] = t->cover[nd->left] + t->cover[nd->right];
            continue;
        }
        for (int32_t q = 0; q < nd->right; q++) t->cover[k] += f->inbag[t->rows[nd->left + q] * B + b];
    }
    ms_shap_tree v = shap_view(t);
    t->depth = ms_treeshap_depth(&v);
    t->unique_depth = ms_treeshap_unique_depth(&v, f->n_features);
    return MS_SUCCESS;
}

/* The in-bag table, every tree's covers and the forest's TreeSHAP base and depth, which depend
 * only on the trees: computed here, once, at fit and at load (not stored in the model file), so
 * an explanation does not walk every node of every tree again. */
static ms_status make_inbag(ms_forest *f)
{
    size_t n = f->n_train, B = f->params.n_trees;
    free(f->inbag);
    f->inbag = malloc(n * B + 1);
    unsigned char *cnt = malloc(n + 1);
    if (!f->inbag || !cnt) {
        free(cnt);
        return ms_error_set(MS_ERR_NOMEM, "forest: cannot allocate the in-bag table");
    }
    ms_rng rng;
    for (size_t b = 0; b < B && cnt; b++) {
        bootstrap_counts(&f->params, b, n, cnt, &rng);
        for (size_t i = 0; i < n; i++) f->inbag[i * B + b] = cnt[i];
    }
    free(cnt);
    double e = 0;
    f->shap_depth = 0;
    for (size_t b = 0; b < B; b++) {
        tree *t = &f->trees[b];
        MS_CALL(tree_covers(f, b, t));
        ms_shap_tree v = shap_view(t);
        e += ms_treeshap_expected(&v);
        if (t->depth > f->shap_depth) f->shap_depth = t->depth;
    }
    f->shap_base = e / (double)B;
    return MS_SUCCESS;
}

/* ms_forest_contributions with the caller's TreeSHAP workspace ws, made by forest_shap_ws_new
 * for f (its tables depend only on f's depth and features; each kernel call leaves it as it
 * found it, which is why one workspace already serves every tree and batch of a call). */
static ms_status forest_contributions_ws(const ms_forest *f, const ms_matrix *x, ms_shap_ws *ws,
                                         double *phi, double *base)
{
    MS_CHECK(x->cols == f->n_features, MS_ERR_USAGE, "forest: rows have %zu features, model %zu",
             x->cols, f->n_features);
    size_t B = f->params.n_trees;
    memset(phi, 0, x->rows * x->cols * sizeof *phi);
    for (size_t i = 0; i < x->rows; i += MS_TREESHAP_BATCH) { /* a batch per tree traversal */
        size_t n = x->rows - i < MS_TREESHAP_BATCH ? x->rows - i : MS_TREESHAP_BATCH;
        for (size_t b = 0; b < B; b++) {
            ms_shap_tree v = shap_view(&f->trees[b]);
            ms_treeshap_add_rows(&v, x->data + i * x->cols, x->cols, n, 1.0 / (double)B,
                                 phi + i * x->cols, x->cols, ws);
        }
        for (size_t r = 0; r < n; r++) base[i + r] = f->shap_base;
    }
    return MS_SUCCESS;
}

static void *forest_shap_ws_new(const void *state)
{
    const ms_forest *f = state;
    return ms_treeshap_ws_new(f->shap_depth, f->n_features);
}

static void forest_shap_ws_free(void *ws) { ms_treeshap_ws_free(ws); }

ms_status ms_forest_contributions(const ms_forest *f, const ms_matrix *x, double *phi,
                                  double *base)
{
    ms_shap_ws *ws = forest_shap_ws_new(f);
    MS_CHECK(ws, MS_ERR_NOMEM, "forest: out of memory");
    ms_status st = forest_contributions_ws(f, x, ws, phi, base);
    ms_treeshap_ws_free(ws);
    return st;
}

/* sigma = sqrt(k^2 s^2 + s0^2); without a floor exactly k s, as before the floor existed, so
 * forests fitted with noise_floor=0 and files of format version 1 predict the same bytes. */
static double scaled_sigma(const ms_forest_oob *o, double s)
{
    return o->noise_sd > 0 ? hypot(o->sigma_scale * s, o->noise_sd) : s * o->sigma_scale;
}

ms_status ms_forest_predict(const ms_forest *f, const ms_matrix *x, double *mean, double *sigma)
{
    MS_CHECK(x->cols == f->n_features, MS_ERR_USAGE, "forest: rows have %zu features, model %zu",
             x->cols, f->n_features);
    unc_ws u;
    ms_status st = unc_alloc(f, &u);
    for (size_t i = 0; st == MS_SUCCESS && i < x->rows; i++) {
        double s = NAN;
        st = jackknife(f, x->data + i * x->cols, NULL, f->params.n_trees, &u, &mean[i],
                       sigma ? &s : NULL);
        if (sigma) sigma[i] = scaled_sigma(&f->oob, s);
    }
    unc_free(&u);
    return st;
}

/* ---- out-of-bag summary and recalibration ------------------------------------------------------ */

/* 1 when ok is true on every rank of comm. Collective on comm when size > 1: every failure path
 * before a collective phase goes through here, so no rank waits alone in a collective. */
static int ranks_agree(int ok, int size, MPI_Comm comm)
{
    return size > 1 ? ms_comm_all_ok(comm, ok) : ok;
}

/* Rows whose OOB sigma feeds the recalibration: an even stride, at most OOB_CAL_MAX of them. */
static size_t oob_cal_stride(size_t n)
{
    return n > OOB_CAL_MAX ? (n + OOB_CAL_MAX - 1) / OOB_CAL_MAX : 1;
}

/* OOB prediction pred[i] of training rows i in [lo, hi) (NaN when every tree saw the row) and,
 * for the recalibration rows, the unscaled OOB jackknife sigma sig[i] (NaN for the other rows).
 * Each row's figures depend on that row and the forest alone, so any split of the rows over
 * ranks gives the same bytes. */
static ms_status oob_rows(const ms_forest *f, const ms_matrix *x, size_t lo, size_t hi,
                          double *pred, double *sig)
{
    size_t B = f->params.n_trees, stride = oob_cal_stride(f->n_train);
    unc_ws u;
    size_t *use = malloc((B + 1) * sizeof *use);
    ms_status st = unc_alloc(f, &u);
    if (st == MS_SUCCESS && !use) st = ms_error_set(MS_ERR_NOMEM, "forest: out of memory");
    for (size_t i = lo; st == MS_SUCCESS && i < hi; i++) {
        pred[i] = sig[i] = NAN;
        size_t nu = 0;
        for (size_t b = 0; b < B; b++)
            if (!f->inbag[i * B + b]) use[nu++] = b;
        if (!nu) continue;
        int cal = !f->classification && f->params.recalibrate && i % stride == 0 && nu >= 2;
        st = jackknife(f, x->data + i * x->cols, use, nu, &u, &pred[i], cal ? &sig[i] : NULL);
    }
    free(use);
    unc_free(&u);
    return st;
}

/* The OOB summary and the sigma scale from every row's pred and sig (oob_rows), in row order. */
static ms_status oob_finish(ms_forest *f, const double *y, const double *pred, const double *sig)
{
    size_t n = f->n_train;
    ms_forest_oob *o = &f->oob;
    double *pr = malloc((n + 1) * sizeof *pr), *ys = malloc((n + 1) * sizeof *ys);
    double *az = malloc((OOB_CAL_MAX + 2) * sizeof *az);
    double *ra = malloc((OOB_CAL_MAX + 2) * sizeof *ra), *sa = malloc((OOB_CAL_MAX + 2) * sizeof *sa);
    if (!pr || !ys || !az || !ra || !sa) {
        free(pr);
        free(ys);
        free(az);
        free(ra);
        free(sa);
        return ms_error_set(MS_ERR_NOMEM, "forest: out of memory");
    }
    ms_status st = MS_SUCCESS;
    size_t m = 0, nz = 0, nf = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(pred[i])) continue;
        pr[m] = pred[i];
        ys[m] = y[i];
        m++;
        if (sig[i] > 0 && nz <= OOB_CAL_MAX) az[nz++] = fabs(y[i] - pred[i]) / sig[i];
        /* the floor fit keeps the rows with sigma 0: they are the ones that need it */
        if (sig[i] >= 0 && nf <= OOB_CAL_MAX) {
            ra[nf] = fabs(y[i] - pred[i]);
            sa[nf] = sig[i];
            nf++;
        }
    }
    if (m) {
        o->n_scored = m;
        if (!f->classification) {
            ms_reg_metrics rm;
            st = ms_metrics_regression(ys, pr, m, &rm);
            o->mae = rm.mae;
            o->rmse = rm.rmse;
            o->r2 = rm.r2;
            if (nz) {
                /* robust: the median |z| of a standard normal is 0.6744897502 */
                qsort(az, nz, sizeof *az, cmp_double);
                double med = nz % 2 ? az[nz / 2] : 0.5 * (az[nz / 2 - 1] + az[nz / 2]);
                if (med > 0 && isfinite(med)) o->sigma_scale = med / 0.6744897501960817;
            }
            int fit = 0;
            if (st == MS_SUCCESS && f->params.noise_floor)
                st = ms_calibration_fit_floor(ra, sa, nf, f->params.noise_floor == 1,
                                              &o->sigma_scale, &o->noise_sd, &fit);
            if (!fit) o->noise_sd = 0; /* nothing to fit: the median scale alone */
            if (nf) {
                size_t in1 = 0;
                for (size_t k = 0; k < nf; k++) in1 += ra[k] <= scaled_sigma(o, sa[k]);
                o->within1 = (double)in1 / (double)nf;
            }
        } else {
            ms_class_metrics cm;
            st = ms_metrics_classification(ys, pr, m, &cm);
            o->accuracy = cm.accuracy;
            o->log_loss = cm.log_loss;
            o->roc_auc = cm.roc_auc;
        }
    }
    free(pr);
    free(ys);
    free(az);
    free(ra);
    free(sa);
    return st;
}

/* OOB pass. Collective on comm. The training rows are split into one contiguous block per rank;
 * each rank scores its block (oob_rows) and MPI_Allgatherv hands every rank all rows' figures,
 * which oob_finish sums in row order. Every per-row figure is computed by the same code from the
 * same trees and every sum runs over rows in the same order, so the summary and the sigma scale
 * are bit-identical for any number of ranks (no floating-point sum is reduced across ranks). */
static ms_status oob_summary(ms_forest *f, const ms_matrix *x, const double *y, int rank,
                             int size, MPI_Comm comm)
{
    size_t n = f->n_train;
    ms_forest_oob *o = &f->oob;
    o->mae = o->rmse = o->r2 = o->accuracy = o->roc_auc = o->log_loss = NAN;
    o->sigma_scale = 1.0;
    o->noise_sd = 0;
    o->within1 = NAN;
    o->n_scored = 0;
    if (!f->params.bootstrap) return MS_SUCCESS;
    double *pred = malloc((n + 1) * sizeof *pred), *sig = malloc((n + 1) * sizeof *sig);
    int *counts = malloc((size_t)size * sizeof *counts), *displs = malloc((size_t)size * sizeof *displs);
    ms_status st = MS_SUCCESS;
    if (!pred || !sig || !counts || !displs) st = ms_error_set(MS_ERR_NOMEM, "forest: out of memory");
    if (st == MS_SUCCESS) {
        for (int r = 0; r < size; r++) {
            displs[r] = (int)(n * (size_t)r / (size_t)size);
            counts[r] = (int)(n * (size_t)(r + 1) / (size_t)size) - displs[r];
        }
        st = oob_rows(f, x, (size_t)displs[rank], (size_t)displs[rank] + (size_t)counts[rank], pred, sig);
    }
    if (!ranks_agree(st == MS_SUCCESS, size, comm)) {
        if (st == MS_SUCCESS) st = ms_error_set(MS_ERR_NOMEM, "forest: another rank ran out of memory");
    } else {
        if (size > 1) {
            MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, pred, counts, displs, MPI_DOUBLE, comm);
            MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, sig, counts, displs, MPI_DOUBLE, comm);
        }
        st = oob_finish(f, y, pred, sig);
    }
    free(pred);
    free(sig);
    free(counts);
    free(displs);
    return st;
}

void ms_forest_oob_summary(const ms_forest *f, ms_forest_oob *out) { *out = f->oob; }
size_t ms_forest_n_trees(const ms_forest *f) { return f->params.n_trees; }
size_t ms_forest_n_features(const ms_forest *f) { return f->n_features; }
const ms_forest_params *ms_forest_get_params(const ms_forest *f) { return &f->params; }

size_t ms_forest_n_nodes(const ms_forest *f)
{
    size_t s = 0;
    for (size_t b = 0; b < f->params.n_trees; b++) s += f->trees[b].n_nodes;
    return s;
}

/* ---- fit ------------------------------------------------------------------------------------- */

static ms_status grow_local(ms_forest *f, const binned *bx, const double *y, size_t mtry,
                            int rank, int size)
{
    size_t n = bx->n, p = bx->p;
    grow_ws ws;
    memset(&ws, 0, sizeof ws);
    ws.idx = malloc((n + 1) * sizeof *ws.idx);
    ws.tmp_idx = malloc((n + 1) * sizeof *ws.tmp_idx);
    ws.w = malloc((n + 1) * sizeof(double));
    ws.wy = malloc((n + 1) * sizeof(double));
    ws.tmp_w = malloc((n + 1) * sizeof(double));
    ws.tmp_wy = malloc((n + 1) * sizeof(double));
    ws.y = malloc((n + 1) * sizeof(double));
    ws.tmp_y = malloc((n + 1) * sizeof(double));
    ws.feat = malloc((p + 1) * sizeof *ws.feat);
    ws.sm = malloc((n + SMALL_NODE + 1) * sizeof *ws.sm);
    ws.stack = malloc((2 * n + 8) * sizeof *ws.stack);
    unsigned char *cnt = malloc(n + 1);
    ms_status st = MS_SUCCESS;
    if (!ws.idx || !ws.tmp_idx || !ws.w || !ws.wy || !ws.tmp_w || !ws.tmp_wy || !ws.y || !ws.tmp_y ||
        !ws.feat || !ws.sm || !ws.stack || !cnt)
        st = ms_error_set(MS_ERR_NOMEM, "forest: cannot allocate the training workspace");
    for (size_t b = (size_t)rank; st == MS_SUCCESS && b < f->params.n_trees; b += (size_t)size)
        st = grow_tree(&f->params, bx, y, b, mtry, &ws, cnt, &f->trees[b]);
    free(ws.idx);
    free(ws.tmp_idx);
    free(ws.w);
    free(ws.wy);
    free(ws.tmp_w);
    free(ws.tmp_wy);
    free(ws.y);
    free(ws.tmp_y);
    free(ws.feat);
    free(ws.sm);
    free(ws.stack);
    free(cnt);
    return st;
}

/* Every rank sends its trees; all ranks end with all trees in index order. */
static ms_status gather_trees(ms_forest *f, int rank, int size, MPI_Comm comm)
{
    if (size == 1) return MS_SUCCESS;
    ms_model_writer w = {0};
    for (size_t b = (size_t)rank; b < f->params.n_trees; b += (size_t)size) tree_write(&f->trees[b], &w);
    if (!ranks_agree(w.status == MS_SUCCESS && w.len < (size_t)INT32_MAX, size, comm)) {
        free(w.data);
        return ms_error_set(MS_ERR_NOMEM, "forest: cannot serialise trees for the gather");
    }
    int len = (int)w.len;
    int *lens = malloc((size_t)size * sizeof *lens), *displs = malloc((size_t)size * sizeof *displs);
    ms_status st = MS_SUCCESS;
    if (!lens || !displs) st = ms_error_set(MS_ERR_NOMEM, "forest: out of memory");
    unsigned char *all = NULL;
    if (ranks_agree(st == MS_SUCCESS, size, comm)) {
        MPI_Allgather(&len, 1, MPI_INT, lens, 1, MPI_INT, comm);
        long long total = 0;
        for (int r = 0; r < size; r++) {
            displs[r] = (int)total;
            total += lens[r];
        }
        if (total >= INT32_MAX) st = ms_error_set(MS_ERR_LIMIT, "forest: trees exceed 2 GiB");
        else {
            all = malloc((size_t)total + 1);
            if (!all) st = ms_error_set(MS_ERR_NOMEM, "forest: out of memory");
        }
        if (ranks_agree(st == MS_SUCCESS, size, comm)) {
            MPI_Allgatherv(w.data, len, MPI_UNSIGNED_CHAR, all, lens, displs, MPI_UNSIGNED_CHAR, comm);
            for (int r = 0; r < size && st == MS_SUCCESS; r++) {
                if (r == rank) continue;
                ms_model_reader rd = {all + displs[r], (size_t)lens[r], 0, 0};
                for (size_t b = (size_t)r; b < f->params.n_trees && st == MS_SUCCESS; b += (size_t)size)
                    st = tree_read(&rd, f->n_features, f->n_train, &f->trees[b]);
            }
        } else if (st == MS_SUCCESS) {
            st = ms_error_set(MS_ERR_NOMEM, "forest: another rank ran out of memory");
        }
    } else if (st == MS_SUCCESS) {
        st = ms_error_set(MS_ERR_NOMEM, "forest: another rank ran out of memory");
    }
    free(all);
    free(lens);
    free(displs);
    free(w.data);
    return st;
}

static ms_forest *forest_new(const ms_forest_params *params, int classification, size_t p, size_t n)
{
    ms_forest *f = calloc(1, sizeof *f);
    if (!f) return NULL;
    f->params = *params;
    f->classification = classification;
    f->n_features = p;
    f->n_train = n;
    f->trees = calloc(params->n_trees + 1, sizeof *f->trees);
    f->oob.sigma_scale = 1;
    f->oob.within1 = NAN;
    if (!f->trees) {
        ms_forest_free(f);
        return NULL;
    }
    return f;
}

ms_status ms_forest_fit(const ms_forest_params *params, const ms_matrix *x, const double *y,
                        int classification, MPI_Comm comm, ms_forest **out)
{
    *out = NULL;
    size_t n = x->rows, p = x->cols;
    MS_CHECK(n >= 2 && p >= 1, MS_ERR_INVALID, "forest: need at least 2 rows and 1 feature");
    MS_CHECK(n < (size_t)INT32_MAX, MS_ERR_LIMIT, "forest: too many rows (%zu)", n);
    MS_CHECK(params->n_trees >= 1 && params->n_trees <= 100000, MS_ERR_USAGE,
             "forest: n_trees must be 1..100000");
    MS_CHECK(params->max_bins >= 2 && params->max_bins <= MAX_BINS, MS_ERR_USAGE,
             "forest: max_bins must be 2..255");
    for (size_t k = 0; k < n * p; k++)
        MS_CHECK(isfinite(x->data[k]), MS_ERR_INVALID,
                 "forest: row %zu feature %zu is not finite (impute first)", k / p, k % p);
    for (size_t i = 0; i < n; i++) {
        MS_CHECK(isfinite(y[i]), MS_ERR_INVALID, "forest: target of row %zu is not finite", i);
        MS_CHECK(!classification || y[i] == 0 || y[i] == 1, MS_ERR_INVALID,
                 "forest: class label of row %zu is %g, not 0 or 1", i, y[i]);
    }
    size_t mtry = params->max_features;
    if (mtry == 0) {
        if (params->max_features_frac > 0) mtry = (size_t)ceil(params->max_features_frac * (double)p);
        else mtry = classification ? (size_t)floor(sqrt((double)p)) : p;
    }
    if (mtry < 1) mtry = 1;
    if (mtry > p) mtry = p;
    int rank, size;
    ms_mpi_rank_size(comm, &rank, &size);
    ms_forest *f = forest_new(params, classification, p, n);
    MS_CHECK(f, MS_ERR_NOMEM, "forest: cannot allocate %zu trees", params->n_trees);
    f->params.max_features = mtry;
    binned bx;
    memset(&bx, 0, sizeof bx);
    double *yb = NULL;
    /* Rank 0 bins and broadcasts the binned matrix and y: every tree is grown from rank 0's
     * data, so the forest equals the one-rank forest even if ranks featurised differently. */
    ms_status st = MS_SUCCESS;
    if (rank == 0) st = bin_matrix(x, params->max_bins, &bx);
    else {
        bx.n = n;
        bx.p = p;
        bx.code = malloc(n * p + 1);
        bx.upper = malloc(p * MAX_BINS * sizeof *bx.upper + 1);
        bx.n_bins = calloc(p + 1, sizeof *bx.n_bins);
        if (!bx.code || !bx.upper || !bx.n_bins) st = ms_error_set(MS_ERR_NOMEM, "forest: out of memory");
    }
    yb = malloc((n + 1) * sizeof *yb);
    if (!yb && st == MS_SUCCESS) st = ms_error_set(MS_ERR_NOMEM, "forest: out of memory");
    if (ranks_agree(st == MS_SUCCESS, size, comm)) {
        memcpy(yb, y, n * sizeof *yb);
        if (size > 1) {
            MPI_Bcast(bx.n_bins, (int)p, MPI_INT, 0, comm);
            MPI_Bcast(bx.upper, (int)(p * MAX_BINS), MPI_DOUBLE, 0, comm);
            for (size_t off = 0; off < n * p; off += (size_t)1 << 30) {
                size_t len = n * p - off < ((size_t)1 << 30) ? n * p - off : (size_t)1 << 30;
                MPI_Bcast(bx.code + off, (int)len, MPI_UNSIGNED_CHAR, 0, comm);
            }
            MPI_Bcast(yb, (int)n, MPI_DOUBLE, 0, comm);
        }
        st = grow_local(f, &bx, yb, mtry, rank, size);
    } else if (st == MS_SUCCESS) {
        st = ms_error_set(MS_ERR_NOMEM, "forest: another rank ran out of memory");
    }
    binned_free(&bx);
    if (ranks_agree(st == MS_SUCCESS, size, comm)) st = gather_trees(f, rank, size, comm);
    else if (st == MS_SUCCESS) st = ms_error_set(MS_ERR_INTERNAL, "forest: another rank failed");
    if (st == MS_SUCCESS) {
        st = make_inbag(f);
        if (ranks_agree(st == MS_SUCCESS, size, comm)) st = oob_summary(f, x, yb, rank, size, comm);
        else if (st == MS_SUCCESS) st = ms_error_set(MS_ERR_NOMEM, "forest: another rank ran out of memory");
    }
    free(yb);
    if (st != MS_SUCCESS) {
        ms_forest_free(f);
        return st;
    }
    *out = f;
    return MS_SUCCESS;
}

/* ---- save / load ----------------------------------------------------------------------------- */

ms_status ms_forest_save(const ms_forest *f, ms_model_writer *w)
{
    const ms_forest_params *p = &f->params;
    ms_model_put_u64(w, p->n_trees);
    ms_model_put_u64(w, p->max_features);
    ms_model_put_f64(w, p->max_features_frac);
    ms_model_put_u64(w, p->min_samples_leaf);
    ms_model_put_u64(w, p->max_depth);
    ms_model_put_u32(w, (uint32_t)p->bootstrap);
    ms_model_put_u32(w, (uint32_t)p->max_bins);
    ms_model_put_u32(w, (uint32_t)p->recalibrate);
    ms_model_put_u64(w, p->seed);
    ms_model_put_u32(w, (uint32_t)f->classification);
    ms_model_put_u64(w, f->n_features);
    ms_model_put_u64(w, f->n_train);
    const ms_forest_oob *o = &f->oob;
    double ov[7] = {o->mae, o->rmse, o->r2, o->accuracy, o->roc_auc, o->log_loss, o->sigma_scale};
    ms_model_put_f64s(w, ov, 7);
    ms_model_put_u64(w, o->n_scored);
    /* format version 2 */
    ms_model_put_u32(w, (uint32_t)p->noise_floor);
    ms_model_put_f64(w, o->noise_sd);
    for (size_t b = 0; b < p->n_trees; b++) tree_write(&f->trees[b], w);
    return w->status;
}

ms_status ms_forest_load(ms_model_reader *r, size_t n_features, ms_forest **out)
{
    *out = NULL;
    ms_forest_params p;
    ms_forest_params_default(&p);
    uint64_t u64;
    uint32_t u32, cls;
    MS_CALL(ms_model_get_u64(r, &u64));
    MS_CHECK(u64 >= 1 && u64 <= 100000, MS_ERR_PARSE, "forest: bad number of trees");
    p.n_trees = u64;
    MS_CALL(ms_model_get_u64(r, &u64));
    p.max_features = u64;
    MS_CALL(ms_model_get_f64(r, &p.max_features_frac));
    MS_CALL(ms_model_get_u64(r, &u64));
    p.min_samples_leaf = u64;
    MS_CALL(ms_model_get_u64(r, &u64));
    p.max_depth = u64;
    MS_CALL(ms_model_get_u32(r, &u32));
    p.bootstrap = u32 != 0;
    MS_CALL(ms_model_get_u32(r, &u32));
    p.max_bins = (int)(u32 & 0xff);
    MS_CALL(ms_model_get_u32(r, &u32));
    p.recalibrate = u32 != 0;
    MS_CALL(ms_model_get_u64(r, &p.seed));
    MS_CALL(ms_model_get_u32(r, &cls));
    uint64_t nf, nt;
    MS_CALL(ms_model_get_u64(r, &nf));
    MS_CALL(ms_model_get_u64(r, &nt));
    MS_CHECK(nf == n_features, MS_ERR_PARSE, "forest: %llu features, model header says %zu",
             (unsigned long long)nf, n_features);
    /* every tree stores at least its in-bag rows' count, so n_train is bounded by the file */
    MS_CHECK(nt >= 2 && nt <= (uint64_t)INT32_MAX, MS_ERR_PARSE,
             "forest: bad number of training rows");
    MS_CHECK(p.n_trees <= (r->len - r->pos) / 28, MS_ERR_PARSE, "forest: %zu trees cannot fit",
             p.n_trees);
    MS_CHECK(nt <= SIZE_MAX / p.n_trees / 2, MS_ERR_PARSE, "forest: in-bag table too large");
    ms_forest *f = forest_new(&p, cls != 0, (size_t)nf, (size_t)nt);
    MS_CHECK(f, MS_ERR_NOMEM, "forest: cannot allocate the forest");
    double *ov = NULL;
    size_t nov = 0;
    ms_status st = ms_model_get_f64s(r, 7, &ov, &nov);
    if (st == MS_SUCCESS && nov != 7) st = ms_error_set(MS_ERR_PARSE, "forest: bad OOB block");
    if (st == MS_SUCCESS) {
        f->oob = (ms_forest_oob){.mae = ov[0], .rmse = ov[1], .r2 = ov[2], .accuracy = ov[3],
                                 .roc_auc = ov[4], .log_loss = ov[5], .sigma_scale = ov[6],
                                 .noise_sd = 0, .within1 = NAN, .n_scored = 0};
        if (!(f->oob.sigma_scale > 0) || !isfinite(f->oob.sigma_scale)) f->oob.sigma_scale = 1;
        st = ms_model_get_u64(r, &u64);
        f->oob.n_scored = u64;
    }
    free(ov);
    /* Version 1 files predate the noise floor: their forests predict as they did then (k s). */
    f->params.noise_floor = 0;
    f->oob.noise_sd = 0;
    if (st == MS_SUCCESS && (r->version == 0 || r->version >= 2)) {
        st = ms_model_get_u32(r, &u32);
        if (st == MS_SUCCESS) st = ms_model_get_f64(r, &f->oob.noise_sd);
        f->params.noise_floor = (int)(u32 % 3);
        if (st == MS_SUCCESS && !(f->oob.noise_sd >= 0 && isfinite(f->oob.noise_sd)))
            st = ms_error_set(MS_ERR_PARSE, "forest: noise floor %g is not a finite number >= 0",
                              f->oob.noise_sd);
    }
    size_t max_rows = 0;
    for (size_t b = 0; b < p.n_trees && st == MS_SUCCESS; b++) {
        st = tree_read(r, f->n_features, f->n_train, &f->trees[b]);
        if (f->trees[b].n_rows > max_rows) max_rows = f->trees[b].n_rows;
    }
    /* a bootstrap of n rows holds about 0.63 n distinct ones: n_train is bounded by the trees in
     * the file, so a hostile header cannot make us allocate or loop without bound */
    if (st == MS_SUCCESS && f->n_train > 16 * max_rows + 16)
        st = ms_error_set(MS_ERR_PARSE, "forest: %zu training rows but trees hold at most %zu",
                          f->n_train, max_rows);
    if (st == MS_SUCCESS) st = make_inbag(f);
    if (st != MS_SUCCESS) {
        ms_forest_free(f);
        return st;
    }
    *out = f;
    return MS_SUCCESS;
}

/* ---- the learner of the model interface ------------------------------------------------------- */

static const char *const forest_keys[] = {"n_trees", "max_features", "max_features_frac",
                                          "min_samples_leaf", "max_depth", "bootstrap",
                                          "max_bins", "recalibrate", "noise_floor", NULL};

static ms_status forest_fit_op(const ms_model_fit_args *a, void **state)
{
    MS_CALL(ms_model_options_check(a->options, "forest", forest_keys));
    ms_forest_params p;
    ms_forest_params_default(&p);
    double v;
    v = (double)p.n_trees;
    MS_CALL(ms_model_option_double(a->options, "n_trees", &v));
    p.n_trees = v >= 1 ? (size_t)v : 0;
    v = 0;
    MS_CALL(ms_model_option_double(a->options, "max_features", &v));
    p.max_features = v >= 1 ? (size_t)v : 0;
    MS_CALL(ms_model_option_double(a->options, "max_features_frac", &p.max_features_frac));
    v = 1;
    MS_CALL(ms_model_option_double(a->options, "min_samples_leaf", &v));
    p.min_samples_leaf = v >= 1 ? (size_t)v : 1;
    v = 0;
    MS_CALL(ms_model_option_double(a->options, "max_depth", &v));
    p.max_depth = v >= 1 ? (size_t)v : 0;
    v = 1;
    MS_CALL(ms_model_option_double(a->options, "bootstrap", &v));
    p.bootstrap = v != 0;
    v = MAX_BINS;
    MS_CALL(ms_model_option_double(a->options, "max_bins", &v));
    p.max_bins = (int)v;
    v = 1;
    MS_CALL(ms_model_option_double(a->options, "recalibrate", &v));
    p.recalibrate = v != 0;
    v = 1;
    MS_CALL(ms_model_option_double(a->options, "noise_floor", &v));
    MS_CHECK(v == 0 || v == 1 || v == 2, MS_ERR_USAGE,
             "forest: noise_floor must be 0 (off), 1 (OOB calibration) or 2 (OOB likelihood)");
    p.noise_floor = (int)v;
    p.seed = a->seed;
    ms_forest *f;
    MS_CALL(ms_forest_fit(&p, a->x, a->y, a->task == MS_MODEL_CLASSIFICATION, a->comm, &f));
    *state = f;
    return MS_SUCCESS;
}

static ms_status forest_predict_op(const void *state, const ms_matrix *x, double *mean,
                                   double *sigma)
{
    return ms_forest_predict(state, x, mean, sigma);
}

static ms_status forest_save_op(const void *state, ms_model_writer *w)
{
    return ms_forest_save(state, w);
}

static ms_status forest_load_op(ms_model_reader *r, size_t n_features, ms_model_task task,
                                void **state)
{
    ms_forest *f;
    MS_CALL(ms_forest_load(r, n_features, &f));
    if ((task == MS_MODEL_CLASSIFICATION) != f->classification) {
        ms_forest_free(f);
        return ms_error_set(MS_ERR_PARSE, "forest: task does not match the model header");
    }
    *state = f;
    return MS_SUCCESS;
}

static void forest_free_op(void *state) { ms_forest_free(state); }

static void forest_describe_op(const void *state, FILE *out)
{
    const ms_forest *f = state;
    const ms_forest_params *p = &f->params;
    fprintf(out, "  trees: %zu (%zu nodes)\n  max_features: %zu of %zu\n  min_samples_leaf: %zu\n"
                 "  max_depth: %s\n  bootstrap: %s\n  max_bins: %d\n  training rows: %zu\n",
            p->n_trees, ms_forest_n_nodes(f), p->max_features, f->n_features, p->min_samples_leaf,
            p->max_depth ? "limited" : "unlimited", p->bootstrap ? "yes" : "no", p->max_bins,
            f->n_train);
    if (p->max_depth) fprintf(out, "  max_depth value: %zu\n", p->max_depth);
    const ms_forest_oob *o = &f->oob;
    if (f->classification)
        fprintf(out, "  oob accuracy: %.4f\n  oob roc_auc: %.4f\n  oob log_loss: %.4f\n",
                o->accuracy, o->roc_auc, o->log_loss);
    else
        fprintf(out, "  oob mae: %.6g\n  oob rmse: %.6g\n  oob r2: %.4f\n"
                     "  uncertainty: jackknife-after-bootstrap + infinitesimal jackknife, "
                     "OOB scale %.4f, noise floor %.4g\n",
                o->mae, o->rmse, o->r2, o->sigma_scale, o->noise_sd);
}

static ms_status forest_explain_op(const void *state, const ms_matrix *x, double *phi,
                                   double *base)
{
    return ms_forest_contributions(state, x, phi, base);
}

static ms_status forest_explain_with_op(const void *state, const ms_matrix *x, void *ws,
                                        double *phi, double *base)
{
    return forest_contributions_ws(state, x, ws, phi, base);
}

const ms_model_type ms_model_type_forest = {
    "forest",
    "random forest (CART, bootstrap), jackknife/IJ uncertainty with OOB recalibration",
    1, 1, forest_fit_op, forest_predict_op, forest_save_op, forest_load_op, forest_free_op,
    forest_describe_op, forest_explain_op, forest_shap_ws_new, forest_shap_ws_free,
    forest_explain_with_op};
