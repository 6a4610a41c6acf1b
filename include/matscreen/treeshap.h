/*
 * Exact TreeSHAP (Lundberg et al., "From local explanations to global understanding with
 * explainable AI for trees", Nat. Mach. Intell. 2 (2020) 56, algorithm 2): the Shapley values of
 * one tree's prediction for one row, in O(L D^2) for L leaves and depth D, with the "path-
 * dependent" feature perturbation (a missing feature follows both children weighted by the
 * training cover, as the paper and shap's TreeExplainer(feature_perturbation="tree_path_dependent")).
 *
 * Conventions
 *   - A tree is read through ms_shap_tree: parallel, strided node fields (feature < 0 marks a
 *     leaf; children come after their parent), the split sends x[feature] <= threshold left (the
 *     forest's convention), and cover[k] is the training weight reaching node k (in-bag counts),
 *     which must be > 0 for every node reached and equal the sum of its children's.
 *   - Additivity: sum_j phi_j = f(x) - E[f], E[f] = cover-weighted mean of the leaf values
 *     (ms_treeshap_expected), up to rounding.
 *   - Not collective; no allocation in ms_treeshap_add (the caller owns the path workspace).
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
} ms_shap_tree;

/* One element of the path of unique features (the paper's m). */
typedef struct ms_shap_path {
    int32_t feature;
    double zero_fraction, one_fraction, pweight;
} ms_shap_path;

/* Depth of t (a single leaf is depth 0). */
size_t ms_treeshap_depth(const ms_shap_tree *t);

/* Path workspace entries for trees of depth up to max_depth: (D + 2)(D + 3) / 2. */
size_t ms_treeshap_path_size(size_t max_depth);

/* E[f] of t: the cover-weighted mean of its leaf values. */
double ms_treeshap_expected(const ms_shap_tree *t);

/* Adds scale * phi_j(x) of tree t to phi[j] for every feature j; path holds
 * ms_treeshap_path_size(depth of t) entries. */
void ms_treeshap_add(const ms_shap_tree *t, const double *x, double scale, double *phi,
                     ms_shap_path *path);

#endif /* MATSCREEN_TREESHAP_H */
