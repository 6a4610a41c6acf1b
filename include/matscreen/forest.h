/*
 * Random forests (Breiman 2001) for regression and binary classification, with uncertainty.
 *
 * Conventions
 *   - Input x is an ms_matrix (row-major, leading dimension n_features) without NaN: the model
 *     layer (model.h) imputes missing values with training medians before the forest sees them.
 *   - Regression: y is any finite double. Classification (binary): y is 0 or 1, and the tree
 *     leaves store the in-bag fraction of class 1, so the forest's probability is the mean of the
 *     trees' probabilities, as scikit-learn's predict_proba.
 *   - Splits. CART, best split over max_features features drawn without replacement per node
 *     (features that are constant in the node do not count, as in scikit-learn). Regression uses
 *     the MSE criterion; classification uses Gini. For two classes the weighted Gini decrease is
 *     exactly the variance decrease of the 0/1 label (Gini = 2p(1-p) = 2 Var), so both use one
 *     code path: maximise S_L^2/W_L + S_R^2/W_R (S = weighted sum of y, W = weight).
 *   - Split search is histogram based (as LightGBM and scikit-learn's HistGradientBoosting): each
 *     feature is cut once, before training, into at most max_bins (default 255) bins at
 *     midpoints between consecutive distinct training values (quantile bins when there are more
 *     distinct values than bins). A feature with <= 255 distinct values (most Magpie features)
 *     is split exactly as by a presorted CART. Small nodes are searched by sorting instead of by
 *     histogram. Thresholds are the bin edges in the original units: x <= threshold goes left.
 *   - Bootstrap is done with weights: N_bi in {0, 1, 2, ...} copies of training row i in tree b
 *     (capped at 255), as scikit-learn's sample_weight; min_samples_leaf counts distinct rows.
 *   - Determinism. Tree b draws its bootstrap sample and its features from the stream
 *     ms_rng_seed(seed, b), never from the rank, and forest sums run over trees in index order.
 *     Predictions are therefore bit-identical for any number of MPI ranks.
 *
 * Uncertainty (regression mean and class-1 probability), for a row x with tree predictions
 * t_b(x), b = 1..B, tbar = mean_b t_b, d_b = t_b - tbar, D = sum_b d_b^2, n training rows and
 * in-bag counts N_bi:
 *   - Infinitesimal jackknife (Wager, Hastie and Efron, JMLR 15 (2014) 1625, eq. 5 and 7):
 *       V_IJ   = sum_i C_i^2,   C_i = (1/B) sum_b (N_bi - Nbar_i) d_b = (1/B) sum_b N_bi d_b
 *       V_IJ-U = V_IJ - (n/B^2) D                                  (bias correction)
 *   - Jackknife after bootstrap (same paper, eq. 6 and 8):
 *       V_J    = ((n-1)/n) sum_i (tbar_(-i) - tbar)^2,  tbar_(-i) = mean of t_b over b with N_bi = 0
 *       V_J-U  = V_J - (e - 1)(n/B^2) D
 *   - As lolo (Citrine's Bagger), sigma^2 = mean of the two bias-corrected estimates, floored at
 *     D/B^2 (the Monte-Carlo variance of the forest mean) so it is never zero or negative.
 *   - Sparse evaluation: the term of a training row that shares no leaf with x in any tree has
 *     expectation exactly its share of the bias correction (its N_bi are independent of d_b), so
 *     both sums run only over the "neighbours" of x (rows in x's leaves) and subtract the
 *     correction per neighbour. Prediction costs O(B x neighbours) instead of O(B x n).
 *   - Out-of-bag recalibration (lolo): for up to 4096 training rows (an even stride), the OOB
 *     prediction and OOB sigma (the same estimator over the trees that did not see the row) give
 *     standardised residuals z_i = (y_i - oob_i) / sigma_i; the scale factor is the robust
 *     k = median |z_i| / 0.6745 (the median |z| of a standard normal), so that about 68% of OOB
 *     errors fall inside 1 sigma; every predicted sigma is multiplied by k. (The mean-square
 *     version sqrt(mean z^2) is dominated by the heavy tails of materials errors: on CrabNet
 *     e_hull it put 99% of errors inside 1 sigma.) Regression only; for
 *     classification k = 1 (the sigma of a probability is reported unscaled).
 *   - Noise floor (noise_floor = 1, the default): sigma^2 = k^2 s^2 + s0^2, s the jackknife sigma
 *     above. Where every tree agrees (many exact targets, e.g. e_hull = 0) s is 0 or tiny however
 *     wrong the mean is, and no scale factor helps; s0 is the error the trees cannot see. (k, s0)
 *     minimise the miscalibration area (calibration.h) of the same OOB rows' z = r / sigma,
 *     including the rows with s = 0; noise_floor = 2 maximises their Gaussian likelihood instead
 *     (lower NLL, but on heavy-tailed errors it widens every interval: docs/models.md). The
 *     search is a fixed grid in (log k, log s0) refined by a compass search: deterministic, and
 *     rank-independent since it reads the gathered OOB rows. noise_floor = 0 keeps the median
 *     scale alone. Model files of format version 1 have no floor and predict as before.
 *
 * MPI: ms_forest_fit is Collective on comm; rank r grows trees b with b % size == r, then all
 * ranks gather every tree (MPI_Allgatherv) in tree-index order. The out-of-bag pass (OOB
 * predictions, OOB sigmas, recalibration) is split by rows: rank r scores one contiguous block
 * of training rows, the per-row figures are gathered, and every rank sums them in row order, so
 * the OOB summary and the sigma scale are bit-identical for any number of ranks (no
 * floating-point sum is reduced across ranks). All other functions are Not collective.
 */
#ifndef MATSCREEN_FOREST_H
#define MATSCREEN_FOREST_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

#include "matscreen/error.h"
#include "matscreen/matrix.h"

typedef struct ms_forest_params {
    size_t n_trees;          /* default 100 */
    size_t max_features;     /* features tried per split; 0 = default: sqrt(p) for classification,
                                p (all, scikit-learn's RandomForestRegressor default) for
                                regression */
    double max_features_frac;/* used when max_features == 0 and > 0: ceil(frac * p) (e.g. 1/3) */
    size_t min_samples_leaf; /* default 1 (scikit-learn) */
    size_t max_depth;        /* 0 = unlimited (default) */
    int bootstrap;           /* 1 (default): bootstrap samples; 0: every tree sees every row */
    int max_bins;            /* 2..255, default 255 */
    int recalibrate;         /* 1 (default): OOB recalibration of sigma (regression) */
    int noise_floor;         /* with recalibrate: 1 (default) fit k and a noise floor s0 on the
                                OOB miscalibration area; 2 on the OOB likelihood; 0 no floor,
                                k = median |z| / 0.6745 (see above) */
    uint64_t seed;           /* default 0 */
} ms_forest_params;

typedef struct ms_forest ms_forest;

/* Fills p with the defaults above. */
void ms_forest_params_default(ms_forest_params *p);

/* Grows a forest on x (n x p, no NaN) and y (n). classification: 0 regression, 1 binary with
 * y in {0, 1}. Collective on comm (every rank passes the same x, y, params). On success *out is
 * a new forest freed with ms_forest_free; on failure *out is NULL. */
ms_status ms_forest_fit(const ms_forest_params *params, const ms_matrix *x, const double *y,
                        int classification, MPI_Comm comm, ms_forest **out);

/* Predicts rows of x (x->cols must equal the training p): mean[i] is the regression mean or the
 * class-1 probability; sigma (may be NULL) the uncertainty described above. Not collective. */
ms_status ms_forest_predict(const ms_forest *f, const ms_matrix *x, double *mean, double *sigma);

/* Exact TreeSHAP contributions (treeshap.h) of every row of x: phi is x->rows x p (row-major),
 * base[i] the expected value E[f] (the in-bag-cover-weighted mean of the trees' leaves), so that
 * sum_j phi[i][j] = mean[i] - base[i]. Not collective. */
ms_status ms_forest_contributions(const ms_forest *f, const ms_matrix *x, double *phi,
                                  double *base);

/* Releases f; NULL is a no-op. */
void ms_forest_free(ms_forest *f);

/* Out-of-bag summary computed at fit: for regression MAE, RMSE, R^2 of the OOB predictions; for
 * classification accuracy (threshold 0.5), ROC-AUC and log loss. NaN where undefined. */
typedef struct ms_forest_oob {
    double mae, rmse, r2;
    double accuracy, roc_auc, log_loss;
    double sigma_scale;  /* the recalibration factor k (1 when not recalibrated) */
    double noise_sd;     /* the noise floor s0 (0 when off or not recalibrated) */
    double within1;      /* share of the OOB recalibration rows whose |error| <= their recalibrated
                            OOB sigma (0.683 when calibrated); NaN when not recalibrated and in
                            loaded models (not stored in model files) */
    size_t n_scored;     /* rows with at least one OOB tree */
} ms_forest_oob;

void ms_forest_oob_summary(const ms_forest *f, ms_forest_oob *out);

/* Number of trees, features, training rows; the parameters used. */
size_t ms_forest_n_trees(const ms_forest *f);
size_t ms_forest_n_features(const ms_forest *f);
const ms_forest_params *ms_forest_get_params(const ms_forest *f);
/* Total number of nodes over all trees (for model info). */
size_t ms_forest_n_nodes(const ms_forest *f);

/* Serialisation for model files (model.h): forest payload into / out of a byte stream. The
 * loader bounds-checks every length and index (children after parents, features < p, leaf ranges
 * inside the tree) so a hostile payload gives MS_ERR_PARSE, never a crash. */
struct ms_model_writer;
struct ms_model_reader;
ms_status ms_forest_save(const ms_forest *f, struct ms_model_writer *w);
ms_status ms_forest_load(struct ms_model_reader *r, size_t n_features, ms_forest **out);

#endif /* MATSCREEN_FOREST_H */
