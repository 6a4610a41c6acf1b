/*
 * Exact TreeSHAP: the Shapley values of one tree's prediction for one row with the "path-
 * dependent" feature perturbation (a missing feature follows both children weighted by the
 * training cover, as Lundberg et al., Nat. Mach. Intell. 2 (2020) 56, algorithm 2, and shap's
 * TreeExplainer(feature_perturbation="tree_path_dependent")).
 *
 * Algorithm (treeshap.c): not the paper's O(L D^2) path bookkeeping but the polynomial form of
 * Linear TreeSHAP (Yu et al., NeurIPS 2022): a leaf l reached through the distinct features j of
 * its path, each with zero fraction z_j (product of the cover ratios of its splits) and one
 * fraction o_j (1 if x follows all of them, else 0), gives feature i
 *     phi_i += v_l (o_i - z_i) * integral_0^1 prod_{j != i} (z_j (1 - t) + o_j t) dt,
 * the Shapley weights |S|! (d - |S| - 1)! / d! being that Beta integral. The integrand is a
 * polynomial of degree < d, so Gauss-Legendre quadrature on ceil(d / 2) nodes is exact; the
 * products are carried down the tree and the leaf sums up it, so a row costs O(nodes x q).
 *
 * Conventions
 *   - A tree is read through ms_shap_tree: parallel, strided node fields (feature < 0 marks a
 *     leaf; children come after their parent), the split sends x[feature] <= threshold left (the
 *     forest's convention), and cover[k] is the training weight reaching node k (in-bag counts),
 *     which must be > 0 for every node and equal the sum of its children's.
 *   - unique_depth: the largest number of distinct features on a root-to-leaf path
 *     (ms_treeshap_unique_depth, computed once per tree by the caller).
 *   - Additivity: sum_j phi_j = f(x) - E[f], E[f] = cover-weighted mean of the leaf values
 *     (ms_treeshap_expected), up to rounding.
 *   - Not collective; no allocation in ms_treeshap_add (the caller owns the workspace).
 */
#ifndef MATSCREEN_TREESHAP_H
#define MATSCREEN_TREESHAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct ms_shap_tree {
    size_t n_nodes;
    const int32_t *feature;   /* < 0: leaf */
    const int32_t *left, *right;
    const double *value;      /* threshold of an internal node, value of a leaf */
    size_t stride;            /* bytes from one node's field to the next node's (all four) */
    const uint32_t *cover;    /* n_nodes, contiguous */
    size_t unique_depth;      /* ms_treeshap_unique_depth of this tree */
} ms_shap_tree;

typedef struct ms_shap_ws ms_shap_ws;

/* Depth of t (a single leaf is depth 0). */
size_t ms_treeshap_depth(const ms_shap_tree *t);

/* Largest number of distinct features on one root-to-leaf path of t (n_features bounds them). */
size_t ms_treeshap_unique_depth(const ms_shap_tree *t, size_t n_features);

/* Workspace for trees of depth <= max_depth over n_features features; NULL when out of memory. */
ms_shap_ws *ms_treeshap_ws_new(size_t max_depth, size_t n_features);
void ms_treeshap_ws_free(ms_shap_ws *ws);

/* E[f] of t: the cover-weighted mean of its leaf values. */
double ms_treeshap_expected(const ms_shap_tree *t);

/* Adds scale * phi_j(x) of tree t to phi[j] for every feature j. */
void ms_treeshap_add(const ms_shap_tree *t, const double *x, double scale, double *phi,
                     ms_shap_ws *ws);

/* Rows explained together by ms_treeshap_add_rows. */
#define MS_TREESHAP_BATCH 16

/* The same for n <= MS_TREESHAP_BATCH rows at once: row r is x + r ldx, its contributions
 * phi + r ldphi. One traversal of t serves every row (what does not depend on the row is
 * computed once per node), so it is faster per row than n calls of ms_treeshap_add; the values
 * agree with those calls up to rounding. */
void ms_treeshap_add_rows(const ms_shap_tree *t, const double *x, size_t ldx, size_t n,
                          double scale, double *phi, size_t ldphi, ms_shap_ws *ws);

#endif /* MATSCREEN_TREESHAP_H */
