/*
 * Gaussian process regression: exact GP on ScaLAPACK and a sparse GP with inducing points.
 *
 * Conventions
 *   - Training and test features are row-major ms_matrix objects (one row per sample, leading
 *     dimension = cols = d). Every rank of the grid holds the full training matrix and targets
 *     (N x d is small); only the N x N kernel matrix is distributed (see matscreen/scalapack.h).
 *     Standardise the features first: lengthscales are in the units of the columns.
 *   - Kernels: k(x, x') = s2 * f(r) with r^2 = sum_k ((x_k - x'_k) / l_k)^2, one lengthscale per
 *     feature (ARD) or one for all (isotropic); f(r) = exp(-r^2 / 2) (squared exponential) or
 *     (1 + sqrt5 r + 5 r^2 / 3) exp(-sqrt5 r) (Matern 5/2). White noise noise_var is added to the
 *     diagonal of the training kernel only, so predictive variances are those of the latent
 *     function (add noise_var for the variance of a new observation), as scikit-learn's
 *     GaussianProcessRegressor with alpha = noise_var.
 *   - Hyperparameters live in log space: theta = [log s2, log l_1 .. log l_p, log noise_var],
 *     p = d (ARD) or 1.
 *   - normalize_y subtracts the mean of y and divides by its standard deviation (ddof 0) before
 *     fitting and undoes it on prediction, as scikit-learn's normalize_y = True; the log marginal
 *     likelihood is then that of the normalised targets.
 *   - Collectivity: functions taking an ms_grid, and prediction with a model that holds a grid,
 *     are collective on the grid's communicator and return the same status on every rank. The
 *     model object is replicated: every rank holds the same hyperparameters, training data and
 *     weights, and the Cholesky factor distributed over the grid.
 *   - Determinism: results do not depend on the number of ranks beyond rounding (the
 *     factorisation's summation order changes with the grid); see docs/gp.md.
 */
#ifndef MATSCREEN_GP_H
#define MATSCREEN_GP_H

#include <stdint.h>
#include <stdio.h>

#include "matscreen/error.h"
#include "matscreen/matrix.h"
#include "matscreen/scalapack.h"

typedef enum ms_gp_kernel {
    MS_GP_KERNEL_SE = 0,      /* squared exponential (RBF) */
    MS_GP_KERNEL_MATERN52 = 1 /* Matern, nu = 5/2 */
} ms_gp_kernel;

typedef enum ms_gp_sparse_method {
    MS_GP_SPARSE_FITC = 0, /* fully independent training conditional (Snelson and Ghahramani) */
    MS_GP_SPARSE_DTC = 1   /* deterministic training conditional / subset of regressors mean */
} ms_gp_sparse_method;

/* Fit options. Initialise with ms_gp_options_default, then override. */
typedef struct ms_gp_options {
    ms_gp_kernel kernel;
    int ard;                     /* 1: one lengthscale per feature; 0: isotropic */
    double signal_var;           /* s2 (initial value when optimising); > 0 */
    double lengthscale;          /* every l_k (initial value when optimising); > 0 */
    const double *lengthscales;  /* optional, d values overriding lengthscale when ard (borrowed) */
    double noise_var;            /* white noise on the training diagonal; > 0 */
    int normalize_y;             /* see the conventions */
    int optimize;                /* 1: maximise the log marginal likelihood; 0: fixed values */
    int max_iter;                /* Rprop iterations per start (default 60) */
    int restarts;                /* random starts after the one from the values above (default 2) */
    uint64_t seed;               /* seeds the restarts: stream (seed, restart index) */
} ms_gp_options;

typedef struct ms_gp ms_gp; /* a fitted model (exact or sparse) */

/* Default options: squared exponential, isotropic, s2 = 1, l = 1, noise 1e-2, normalize_y,
 * optimise with 60 iterations and 2 restarts, seed 42. Not collective. */
void ms_gp_options_default(ms_gp_options *opt);

/* Number of hyperparameters (length of theta) for d features. Not collective. */
size_t ms_gp_n_params(const ms_gp_options *opt, size_t d);

/* Fits an exact GP to x (N x d, N >= 2) and y (N values), identical on every rank. The kernel
 * matrix is built block by block on its owners, factorised with pdpotrf and solved with pdpotrs;
 * when opt->optimize, the hyperparameters maximise the log marginal likelihood (Rprop on theta,
 * gradients from pdpotri; see docs/gp.md). grid is borrowed and must outlive the model (it is
 * used by prediction). Fails with MS_ERR_INVALID when the kernel matrix is not positive definite
 * at the given hyperparameters. Collective on the grid's communicator. The caller frees *out with
 * ms_gp_destroy. */
ms_status ms_gp_fit(const ms_grid *grid, const ms_matrix *x, const double *y,
                    const ms_gp_options *opt, ms_gp **out);

/* Log marginal likelihood and its gradient with respect to theta (grad may be NULL; it has
 * ms_gp_n_params entries) at the hyperparameters of opt, without keeping a model: one
 * factorisation, one solve and, with grad, one inverse. Identical on every rank. Collective. */
ms_status ms_gp_evaluate(const ms_grid *grid, const ms_matrix *x, const double *y,
                         const ms_gp_options *opt, double *lml, double *grad);

/* Fits a sparse GP with m inducing points, a subset of the training rows drawn without
 * replacement from the stream (opt->seed, 0) and kept in row order (all rows when m >= N).
 * The hyperparameters are those of opt and are not optimised (take them from an exact GP on a
 * subset). Serial LAPACK on m x m matrices; memory O(m^2 + m * 1024). Not collective. */
ms_status ms_gp_fit_sparse(const ms_matrix *x, const double *y, const ms_gp_options *opt,
                           size_t m, ms_gp_sparse_method method, ms_gp **out);

/* Predicts for the rows of xs (n x d): mean (n values) and, when var is not NULL, the latent
 * variance (n values). For an exact GP this is collective on the model's grid: means are
 * computed in fixed 64-row chunks shared round-robin, so every rank gets the same bits whatever
 * the number of ranks; variances solve L V = K(X, xs) with pdtrsm. A model read from a file has
 * no grid: its mean is computed locally (not collective), and var needs ms_gp_attach first
 * (MS_ERR_USAGE otherwise). A sparse GP is never collective. */
ms_status ms_gp_predict(const ms_gp *gp, const ms_matrix *xs, double *mean, double *var);

/* Attaches an exact model read from a file to grid and rebuilds its Cholesky factor (needed
 * for variances). Collective on the grid's communicator. */
ms_status ms_gp_attach(ms_gp *gp, const ms_grid *grid);

/* The fitted log marginal likelihood (exact GP; NaN for a sparse GP). Not collective. */
double ms_gp_log_marginal_likelihood(const ms_gp *gp);

/* Copies up to n entries of the fitted theta into theta and returns their number. Not
 * collective. */
size_t ms_gp_params(const ms_gp *gp, double *theta, size_t n);

/* Number of features the model expects. Not collective. */
size_t ms_gp_n_features(const ms_gp *gp);

/* Frees the model (its distributed factor is local memory) and sets *gp to NULL; NULL-safe.
 * Not collective. */
void ms_gp_destroy(ms_gp **gp);

/* Writes the fitted state (kind, kernel, theta, normalisation, training or inducing rows, weights
 * and, for a sparse GP, its m x m factors) in a native-endian binary record starting with "MSGP"
 * and a byte-order mark, so that a model file can embed it. The exact GP's N x N factor is not
 * written (ms_gp_attach rebuilds it). Call on one rank. Not collective. */
ms_status ms_gp_write(const ms_gp *gp, FILE *f);

/* Reads a record written by ms_gp_write into a new model (free with ms_gp_destroy). Checks the
 * magic, version, byte order, every size against fixed limits (N <= 2^26, d <= 2^20, N d <= 2^31,
 * sparse m <= 2^15) and that every value is finite, failing with MS_ERR_PARSE or MS_ERR_LIMIT
 * and leaving *out NULL. Not collective. */
ms_status ms_gp_read(FILE *f, ms_gp **out);

#endif /* MATSCREEN_GP_H */
