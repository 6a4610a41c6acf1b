/*
 * Gaussian process regression; see matscreen/gp.h and docs/gp.md.
 *
 * Exact GP: the lower triangle of K = K_f + noise I is built block by block on the blocks' owners
 * (ms_dmatrix_fill; every rank holds the N x d training matrix), factorised with pdpotrf, and
 * alpha = K^-1 y comes from pdpotrs and is gathered exactly onto every rank. The log marginal
 * likelihood uses the diagonal of L (gathered exactly, summed in index order on every rank). Its
 * gradient is 1/2 tr((alpha alpha^T - K^-1) dK/dtheta) with K^-1 from pdpotri, accumulated over
 * the lower blocks (off-diagonal blocks twice) and summed over ranks; rank 0's values are then
 * broadcast so every rank takes the same optimiser decisions.
 *
 * Squared distances use |a|^2 + |b|^2 - 2 a.b with the dot products from dgemm on whole blocks
 * (clamped at 0, exactly 0 on the training diagonal). Block boundaries are global multiples of
 * the grid's block size, so every kernel block is computed identically for any number of ranks.
 *
 * Small dense matrices of the sparse GP (m x m) are LAPACK column-major, private to this file.
 */
#include "matscreen/gp.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "matscreen/rng.h"
#include "scalapack_impl.h"

#define LOG_2PI 1.8378770664093454836
#define SQRT5 2.2360679774997896964
#define PRED_CHUNK 64     /* test rows per mean chunk (fixed: results independent of ranks) */
#define VAR_CHUNK 256     /* test columns per variance solve */
#define SPARSE_CHUNK 1024 /* training rows per sparse accumulation step */

/* log-space bounds of the hyperparameters */
static const double S2_MIN = 1e-4, S2_MAX = 1e4;
static const double ELL_MIN = 1e-3, ELL_MAX = 1e4;
static const double NOISE_MIN = 1e-8, NOISE_MAX = 1e2;

typedef struct kparams {
    ms_gp_kernel kernel;
    int ard;
    size_t d;
    double s2, noise;
    double *ell; /* d values (all equal when isotropic) */
} kparams;

struct ms_gp {
    int sparse;
    ms_gp_sparse_method method;
    kparams kp;
    int normalize_y;
    double y_mean, y_std;
    size_t n, d;     /* training (exact) or inducing (sparse) rows */
    double *x;       /* n x d raw rows */
    double *w;       /* alpha (exact) or the inducing weights (sparse) */
    double lml;      /* fitted log marginal likelihood (exact) */
    const ms_grid *grid; /* borrowed; NULL after ms_gp_read until ms_gp_attach */
    ms_dmatrix *chol;    /* exact: lower Cholesky factor of K on grid */
    double *lm, *la;     /* sparse: m x m column-major lower factors of Kmm and A */
};

/* ---- kernels ---- */

static double kernel_of_r2(const kparams *kp, double r2)
{
    if (kp->kernel == MS_GP_KERNEL_SE) return kp->s2 * exp(-0.5 * r2);
    double r = sqrt(r2);
    return kp->s2 * (1.0 + SQRT5 * r + (5.0 / 3.0) * r2) * exp(-SQRT5 * r);
}

/* h = -2 dk/d(r^2): dk/dlog l_k = h (x_k - x'_k)^2 / l_k^2. */
static double kernel_h(const kparams *kp, double r2, double k)
{
    if (kp->kernel == MS_GP_KERNEL_SE) return k;
    double r = sqrt(r2);
    return kp->s2 * (5.0 / 3.0) * (1.0 + SQRT5 * r) * exp(-SQRT5 * r);
}

/* Scaled copy xs = x / l (per column) and squared row norms. */
static void scale_rows(const kparams *kp, const double *x, size_t n, double *xs, double *norms)
{
    const size_t d = kp->d;
    for (size_t i = 0; i < n; i++) {
        double s = 0;
        for (size_t k = 0; k < d; k++) {
            double v = x[i * d + k] / kp->ell[k];
            xs[i * d + k] = v;
            s += v * v;
        }
        norms[i] = s;
    }
}

/* c[i * ldc + j] = squared distance between rows a_i (na of them) and b_j (nb). same_origin:
 * a and b start at the same row of the same matrix, whose diagonal is then exactly 0. */
static void r2_block(const double *a, const double *an, size_t na, const double *b,
                     const double *bn, size_t nb, size_t d, double *c, size_t ldc,
                     int same_origin)
{
    const int m = (int)nb, n = (int)na, k = (int)d, ld = (int)d, lc = (int)ldc;
    const double one = 1.0, zero = 0.0;
    dgemm_("T", "N", &m, &n, &k, &one, b, &ld, a, &ld, &zero, c, &lc, 1, 1);
    for (size_t i = 0; i < na; i++)
        for (size_t j = 0; j < nb; j++) {
            double v = an[i] + bn[j] - 2.0 * c[i * ldc + j];
            c[i * ldc + j] = v > 0 ? v : 0;
        }
    if (same_origin)
        for (size_t i = 0; i < na && i < nb; i++) c[i * ldc + i] = 0;
}

/* Context of the kernel-block callbacks: rows come from a, columns from b (scaled). */
typedef struct kctx {
    const kparams *kp;
    const double *a, *an;
    const double *b, *bn;
    double diag_add; /* added where global row == global column (training noise) */
    int symmetric;   /* a == b: global diagonal has r^2 = 0 */
} kctx;

static void fill_kernel_block(void *vctx, size_t row0, size_t col0, size_t nr, size_t nc,
                              double *blk, size_t ld)
{
    const kctx *c = vctx;
    const size_t d = c->kp->d;
    r2_block(c->a + row0 * d, c->an + row0, nr, c->b + col0 * d, c->bn + col0, nc, d, blk, ld,
             c->symmetric && row0 == col0);
    for (size_t i = 0; i < nr; i++)
        for (size_t j = 0; j < nc; j++) blk[i * ld + j] = kernel_of_r2(c->kp, blk[i * ld + j]);
    if (c->symmetric && row0 == col0)
        for (size_t i = 0; i < nr && i < nc; i++) blk[i * ld + i] += c->diag_add;
}

/* ---- parameters ---- */

void ms_gp_options_default(ms_gp_options *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->kernel = MS_GP_KERNEL_SE;
    opt->ard = 0;
    opt->signal_var = 1.0;
    opt->lengthscale = 1.0;
    opt->lengthscales = NULL;
    opt->noise_var = 1e-2;
    opt->normalize_y = 1;
    opt->optimize = 1;
    opt->max_iter = 60;
    opt->restarts = 2;
    opt->seed = 42;
}

size_t ms_gp_n_params(const ms_gp_options *opt, size_t d)
{
    return 2 + (opt->ard ? d : 1);
}

static size_t kp_n_params(const kparams *kp) { return 2 + (kp->ard ? kp->d : 1); }

static void kp_to_theta(const kparams *kp, double *theta)
{
    size_t p = kp->ard ? kp->d : 1;
    theta[0] = log(kp->s2);
    for (size_t k = 0; k < p; k++) theta[1 + k] = log(kp->ell[k]);
    theta[1 + p] = log(kp->noise);
}

static void kp_from_theta(kparams *kp, const double *theta)
{
    size_t p = kp->ard ? kp->d : 1;
    kp->s2 = exp(theta[0]);
    for (size_t k = 0; k < kp->d; k++) kp->ell[k] = exp(theta[1 + (kp->ard ? k : 0)]);
    kp->noise = exp(theta[1 + p]);
}

static void theta_bounds(const kparams *kp, size_t i, double *lo, double *hi)
{
    size_t np = kp_n_params(kp);
    if (i == 0) {
        *lo = log(S2_MIN);
        *hi = log(S2_MAX);
    } else if (i == np - 1) {
        *lo = log(NOISE_MIN);
        *hi = log(NOISE_MAX);
    } else {
        *lo = log(ELL_MIN);
        *hi = log(ELL_MAX);
    }
}

static ms_status kp_init(kparams *kp, const ms_gp_options *opt, size_t d)
{
    memset(kp, 0, sizeof *kp);
    MS_CHECK(opt->kernel == MS_GP_KERNEL_SE || opt->kernel == MS_GP_KERNEL_MATERN52, MS_ERR_USAGE,
             "gp: unknown kernel %d", (int)opt->kernel);
    MS_CHECK(opt->signal_var > 0 && opt->noise_var > 0 && opt->lengthscale > 0 &&
                 isfinite(opt->signal_var) && isfinite(opt->noise_var) &&
                 isfinite(opt->lengthscale),
             MS_ERR_USAGE, "gp: signal_var, noise_var and lengthscale must be positive and finite");
    kp->kernel = opt->kernel;
    kp->ard = opt->ard ? 1 : 0;
    kp->d = d;
    kp->s2 = opt->signal_var;
    kp->noise = opt->noise_var;
    kp->ell = malloc(d * sizeof *kp->ell);
    MS_CHECK(kp->ell != NULL, MS_ERR_NOMEM, "gp: out of memory");
    for (size_t k = 0; k < d; k++) {
        double l = (kp->ard && opt->lengthscales) ? opt->lengthscales[k] : opt->lengthscale;
        if (!(l > 0) || !isfinite(l)) {
            free(kp->ell);
            kp->ell = NULL;
            return ms_error_set(MS_ERR_USAGE, "gp: lengthscale %zu is not positive", k);
        }
        kp->ell[k] = l;
    }
    return MS_SUCCESS;
}

/* Local input checks (every rank sees the same data, so every rank reaches the same verdict;
 * callers still agree on it before the first collective). */
static ms_status check_inputs(const ms_matrix *x, const double *y, const ms_gp_options *opt)
{
    MS_CHECK(x && y && opt && x->data, MS_ERR_USAGE, "gp: NULL argument");
    MS_CHECK(x->rows >= 2 && x->cols >= 1, MS_ERR_USAGE, "gp: need at least 2 rows and 1 column");
    MS_CHECK(x->rows <= (size_t)1 << 26 && x->cols <= (size_t)1 << 20, MS_ERR_LIMIT,
             "gp: %zu x %zu training matrix is too large", x->rows, x->cols);
    for (size_t i = 0; i < x->rows * x->cols; i++)
        MS_CHECK(isfinite(x->data[i]), MS_ERR_INVALID, "gp: feature (%zu, %zu) is not finite",
                 i / x->cols, i % x->cols);
    for (size_t i = 0; i < x->rows; i++)
        MS_CHECK(isfinite(y[i]), MS_ERR_INVALID, "gp: target %zu is not finite", i);
    return MS_SUCCESS;
}

static void normalise_targets(int normalize, const double *y, size_t n, double *yn,
                              double *mean, double *std)
{
    *mean = 0;
    *std = 1;
    if (normalize) {
        double s = 0;
        for (size_t i = 0; i < n; i++) s += y[i];
        *mean = s / (double)n;
        double v = 0;
        for (size_t i = 0; i < n; i++) v += (y[i] - *mean) * (y[i] - *mean);
        *std = sqrt(v / (double)n);
        if (!(*std > 0)) *std = 1; /* constant targets: as scikit-learn, do not scale */
    }
    for (size_t i = 0; i < n; i++) yn[i] = (y[i] - *mean) / *std;
}

/* ---- exact GP: one evaluation ---- */

/* Work arrays of one fit, allocated once. */
typedef struct exact_ws {
    const ms_grid *grid;
    size_t n, d;
    const double *x;  /* raw training rows */
    const double *y;  /* normalised targets */
    double *xs, *xn;  /* scaled rows and norms */
    double *alpha;    /* n */
    double *diag;     /* n */
    double *tmp;      /* block x d (gradient) */
    double *rblk;     /* block x block (gradient: squared distances) */
    double *rows, *cols; /* block sums (gradient) */
    ms_dmatrix *k;    /* n x n */
    ms_dmatrix *b;    /* n x 1 */
} exact_ws;

static void exact_ws_free(exact_ws *w)
{
    free(w->xs);
    free(w->xn);
    free(w->alpha);
    free(w->diag);
    free(w->tmp);
    free(w->rblk);
    free(w->rows);
    free(w->cols);
    ms_dmatrix_destroy(&w->k);
    ms_dmatrix_destroy(&w->b);
    memset(w, 0, sizeof *w);
}

/* Collective: allocation agreed over the grid. */
static ms_status exact_ws_alloc(exact_ws *w, const ms_grid *grid, const ms_matrix *x,
                                const double *y)
{
    memset(w, 0, sizeof *w);
    w->grid = grid;
    w->n = x->rows;
    w->d = x->cols;
    w->x = x->data;
    w->y = y;
    size_t nb = (size_t)ms_grid_block(grid);
    w->xs = malloc(w->n * w->d * sizeof *w->xs);
    w->xn = malloc(w->n * sizeof *w->xn);
    w->alpha = malloc(w->n * sizeof *w->alpha);
    w->diag = malloc(w->n * sizeof *w->diag);
    w->tmp = malloc(nb * w->d * sizeof *w->tmp);
    w->rblk = malloc(nb * nb * sizeof *w->rblk);
    w->rows = malloc(nb * sizeof *w->rows);
    w->cols = malloc(nb * sizeof *w->cols);
    ms_status st = (w->xs && w->xn && w->alpha && w->diag && w->tmp && w->rblk && w->rows &&
                    w->cols)
                       ? MS_SUCCESS
                       : ms_error_set(MS_ERR_NOMEM, "gp: out of memory for %zu rows", w->n);
    st = ms_grid_agree(grid, st);
    if (st == MS_SUCCESS) st = ms_dmatrix_create(grid, w->n, w->n, &w->k);
    if (st == MS_SUCCESS) st = ms_dmatrix_create(grid, w->n, 1, &w->b);
    if (st != MS_SUCCESS) exact_ws_free(w);
    return st;
}

/* Gradient accumulation over the lower blocks of K^-1. */
typedef struct gctx {
    const exact_ws *w;
    const kparams *kp;
    double *grad; /* n_params, local partial sums */
} gctx;

static void grad_block(void *vctx, size_t row0, size_t col0, size_t nr, size_t nc, double *blk,
                       size_t ld)
{
    const gctx *g = vctx;
    const exact_ws *w = g->w;
    const kparams *kp = g->kp;
    const size_t d = w->d;
    const int diag_block = row0 == col0;
    const double weight = diag_block ? 0.5 : 1.0; /* 1/2 of the trace, off-diagonal blocks twice */
    const double *a = w->xs + row0 * d, *b = w->xs + col0 * d;
    const double *al = w->alpha;
    double *r2 = w->rblk;
    r2_block(a, w->xn + row0, nr, b, w->xn + col0, nc, d, r2, nc, diag_block);
    if (diag_block) /* pdpotri leaves the strict upper triangle stale: mirror the lower */
        for (size_t i = 0; i < nr; i++)
            for (size_t j = i + 1; j < nc; j++) blk[i * ld + j] = blk[j * ld + i];
    double gs2 = 0, gnoise = 0;
    for (size_t i = 0; i < nr; i++) w->rows[i] = 0;
    for (size_t j = 0; j < nc; j++) w->cols[j] = 0;
    for (size_t i = 0; i < nr; i++) {
        for (size_t j = 0; j < nc; j++) {
            double wij = al[row0 + i] * al[col0 + j] - blk[i * ld + j];
            double k = kernel_of_r2(kp, r2[i * nc + j]);
            gs2 += wij * k;
            if (diag_block && i == j) gnoise += wij;
            double wh = wij * kernel_h(kp, r2[i * nc + j], k);
            blk[i * ld + j] = wh;
            w->rows[i] += wh;
            w->cols[j] += wh;
        }
    }
    /* T = W' B (nr x d, row-major) */
    {
        const int m = (int)d, n = (int)nr, kk = (int)nc, ldb = (int)d, ldw = (int)ld;
        const double one = 1.0, zero = 0.0;
        dgemm_("N", "N", &m, &n, &kk, &one, b, &ldb, blk, &ldw, &zero, w->tmp, &m, 1, 1);
    }
    double *grad = g->grad;
    grad[0] += weight * gs2;
    size_t p = kp->ard ? d : 1;
    grad[1 + p] += weight * gnoise * kp->noise;
    for (size_t k = 0; k < d; k++) {
        double s = 0;
        for (size_t i = 0; i < nr; i++) {
            double aik = a[i * d + k];
            s += aik * aik * w->rows[i] - 2.0 * aik * w->tmp[i * d + k];
        }
        for (size_t j = 0; j < nc; j++) s += b[j * d + k] * b[j * d + k] * w->cols[j];
        grad[1 + (kp->ard ? k : 0)] += weight * s;
    }
}

/* Builds and factorises K at kp, solves for alpha and returns the log marginal likelihood and,
 * when grad is not NULL, its gradient. Leaves the factor in w->k when grad is NULL. The values
 * are rank 0's, broadcast. Collective. */
static ms_status exact_eval(exact_ws *w, const kparams *kp, double *lml, double *grad)
{
    const size_t n = w->n;
    scale_rows(kp, w->x, n, w->xs, w->xn);
    kctx kc = {kp, w->xs, w->xn, w->xs, w->xn, kp->noise, 1};
    ms_dmatrix_fill(w->k, MS_DMATRIX_LOWER, fill_kernel_block, &kc);
    MS_CALL(ms_dmatrix_cholesky(w->k));
    ms_matrix ym;
    ms_matrix_wrap(&ym, (double *)w->y, n, 1);
    MS_CALL(ms_grid_agree(w->grid, ms_dmatrix_distribute(w->b, &ym)));
    MS_CALL(ms_dmatrix_cholesky_solve(w->k, w->b));
    ms_matrix al = {0, 0, NULL, 0};
    MS_CALL(ms_dmatrix_gather(w->b, &al));
    memcpy(w->alpha, al.data, n * sizeof *w->alpha);
    ms_matrix_free(&al);
    MS_CALL(ms_dmatrix_diagonal(w->k, w->diag));
    double fit = 0, logdet = 0;
    for (size_t i = 0; i < n; i++) {
        fit += w->y[i] * w->alpha[i];
        logdet += log(w->diag[i]);
    }
    double out[1 + 64];
    size_t np = kp_n_params(kp);
    double *vals = np + 1 <= 65 ? out : malloc((np + 1) * sizeof *vals);
    ms_status st = vals ? MS_SUCCESS : ms_error_set(MS_ERR_NOMEM, "gp: out of memory");
    st = ms_grid_agree(w->grid, st);
    if (st != MS_SUCCESS) return st;
    vals[0] = -0.5 * fit - logdet - 0.5 * (double)n * LOG_2PI;
    if (grad) {
        st = ms_dmatrix_cholesky_inverse(w->k);
        if (st == MS_SUCCESS) {
            memset(vals + 1, 0, np * sizeof *vals);
            gctx gc = {w, kp, vals + 1};
            ms_dmatrix_visit(w->k, MS_DMATRIX_LOWER, grad_block, &gc);
            st = ms_grid_sum(w->grid, vals + 1, np);
        }
    }
    if (st == MS_SUCCESS) st = ms_grid_bcast(w->grid, vals, grad ? np + 1 : 1);
    if (st == MS_SUCCESS) {
        *lml = vals[0];
        if (grad) memcpy(grad, vals + 1, np * sizeof *grad);
    }
    if (vals != out) free(vals);
    return st;
}

/* ---- optimiser: iRprop- (Igel and Huesken 2000) on theta, ascent ---- */

static ms_status optimise(exact_ws *w, kparams *kp, const ms_gp_options *opt)
{
    const size_t np = kp_n_params(kp);
    double *buf = malloc(6 * np * sizeof *buf);
    ms_status st = buf ? MS_SUCCESS : ms_error_set(MS_ERR_NOMEM, "gp: out of memory");
    MS_CALL(ms_grid_agree(w->grid, st));
    double *theta = buf, *g = buf + np, *gprev = buf + 2 * np, *step = buf + 3 * np;
    double *best = buf + 4 * np, *start = buf + 5 * np;
    double best_lml = -INFINITY;
    kp_to_theta(kp, start);
    const int iters = opt->max_iter > 0 ? opt->max_iter : 60;
    const int starts = 1 + (opt->restarts > 0 ? opt->restarts : 0);
    for (int r = 0; r < starts; r++) {
        if (r == 0) {
            memcpy(theta, start, np * sizeof *theta);
        } else {
            /* same stream on every rank: (seed, restart index), never the rank */
            ms_rng rng;
            ms_rng_seed(&rng, opt->seed, (uint64_t)r);
            for (size_t i = 0; i < np; i++) {
                double lo, hi;
                theta_bounds(kp, i, &lo, &hi);
                /* a start within four e-folds of the first guess, inside the bounds */
                double t = start[i] + 4.0 * (ms_rng_uniform(&rng) - 0.5) * 2.0;
                theta[i] = t < lo ? lo : (t > hi ? hi : t);
            }
        }
        for (size_t i = 0; i < np; i++) {
            step[i] = 0.1;
            gprev[i] = 0;
        }
        double lml;
        kp_from_theta(kp, theta);
        st = exact_eval(w, kp, &lml, g);
        if (st == MS_ERR_INVALID) continue; /* not positive definite at this start */
        if (st != MS_SUCCESS) break;
        if (lml > best_lml) {
            best_lml = lml;
            memcpy(best, theta, np * sizeof *best);
        }
        for (int it = 0; it < iters; it++) {
            double gmax = 0, smax = 0;
            for (size_t i = 0; i < np; i++) {
                double lo, hi;
                theta_bounds(kp, i, &lo, &hi);
                double s = gprev[i] * g[i];
                gmax = fmax(gmax, fabs(g[i]));
                if (s > 0)
                    step[i] = fmin(step[i] * 1.2, 1.0);
                else if (s < 0) {
                    step[i] = fmax(step[i] * 0.5, 1e-6);
                    g[i] = 0;
                }
                if (g[i] > 0) theta[i] = fmin(theta[i] + step[i], hi);
                if (g[i] < 0) theta[i] = fmax(theta[i] - step[i], lo);
                gprev[i] = g[i];
                smax = fmax(smax, step[i]);
            }
            if (gmax < 1e-4 || smax < 1e-5) break;
            kp_from_theta(kp, theta);
            st = exact_eval(w, kp, &lml, g);
            if (st == MS_ERR_INVALID) { /* stepped into an indefinite K: back off */
                for (size_t i = 0; i < np; i++) {
                    theta[i] = best[i];
                    step[i] *= 0.25;
                    g[i] = gprev[i] = 0;
                }
                st = MS_SUCCESS;
                continue;
            }
            if (st != MS_SUCCESS) break;
            if (lml > best_lml) {
                best_lml = lml;
                memcpy(best, theta, np * sizeof *best);
            }
        }
        if (st != MS_SUCCESS && st != MS_ERR_INVALID) break;
        st = MS_SUCCESS;
    }
    if (st == MS_SUCCESS && !(best_lml > -INFINITY))
        st = ms_error_set(MS_ERR_INVALID, "gp: the kernel matrix is not positive definite at any "
                          "start of the hyperparameter search");
    if (st == MS_SUCCESS) kp_from_theta(kp, best);
    free(buf);
    return st;
}

/* ---- public: exact GP ---- */

static ms_gp *gp_new(void)
{
    ms_gp *gp = calloc(1, sizeof *gp);
    if (gp) gp->lml = NAN;
    return gp;
}

void ms_gp_destroy(ms_gp **gp)
{
    if (!gp || !*gp) return;
    ms_gp *p = *gp;
    free(p->kp.ell);
    free(p->x);
    free(p->w);
    free(p->lm);
    free(p->la);
    ms_dmatrix_destroy(&p->chol);
    free(p);
    *gp = NULL;
}

ms_status ms_gp_evaluate(const ms_grid *grid, const ms_matrix *x, const double *y,
                         const ms_gp_options *opt, double *lml, double *grad)
{
    MS_CHECK(grid != NULL, MS_ERR_USAGE, "ms_gp_evaluate: NULL grid");
    ms_status st = check_inputs(x, y, opt);
    kparams kp = {0};
    double *yn = NULL;
    double ym, ys;
    if (st == MS_SUCCESS) st = kp_init(&kp, opt, x->cols);
    if (st == MS_SUCCESS) {
        yn = malloc(x->rows * sizeof *yn);
        if (!yn) st = ms_error_set(MS_ERR_NOMEM, "gp: out of memory");
    }
    st = ms_grid_agree(grid, st);
    exact_ws w;
    if (st == MS_SUCCESS) {
        normalise_targets(opt->normalize_y, y, x->rows, yn, &ym, &ys);
        st = exact_ws_alloc(&w, grid, x, yn);
        if (st == MS_SUCCESS) {
            st = exact_eval(&w, &kp, lml, grad);
            exact_ws_free(&w);
        }
    }
    free(yn);
    free(kp.ell);
    return st;
}

ms_status ms_gp_fit(const ms_grid *grid, const ms_matrix *x, const double *y,
                    const ms_gp_options *opt, ms_gp **out)
{
    MS_CHECK(grid != NULL && out != NULL, MS_ERR_USAGE, "ms_gp_fit: NULL grid or output");
    *out = NULL;
    ms_status st = check_inputs(x, y, opt);
    ms_gp *gp = NULL;
    if (st == MS_SUCCESS) {
        gp = gp_new();
        if (!gp) st = ms_error_set(MS_ERR_NOMEM, "gp: out of memory");
    }
    if (st == MS_SUCCESS) st = kp_init(&gp->kp, opt, x->cols);
    if (st == MS_SUCCESS) {
        gp->n = x->rows;
        gp->d = x->cols;
        gp->x = malloc(gp->n * gp->d * sizeof *gp->x);
        gp->w = malloc(gp->n * sizeof *gp->w);
        if (!gp->x || !gp->w) st = ms_error_set(MS_ERR_NOMEM, "gp: out of memory");
    }
    st = ms_grid_agree(grid, st);
    if (st != MS_SUCCESS) {
        ms_gp_destroy(&gp);
        return st;
    }
    memcpy(gp->x, x->data, gp->n * gp->d * sizeof *gp->x);
    gp->normalize_y = opt->normalize_y ? 1 : 0;
    gp->grid = grid;
    /* gp->w holds the normalised targets until alpha replaces them */
    normalise_targets(gp->normalize_y, y, gp->n, gp->w, &gp->y_mean, &gp->y_std);
    exact_ws w;
    st = exact_ws_alloc(&w, grid, x, gp->w);
    if (st == MS_SUCCESS && opt->optimize) st = optimise(&w, &gp->kp, opt);
    if (st == MS_SUCCESS) st = exact_eval(&w, &gp->kp, &gp->lml, NULL);
    if (st == MS_SUCCESS) {
        memcpy(gp->w, w.alpha, gp->n * sizeof *gp->w);
        gp->chol = w.k; /* keep the factor */
        w.k = NULL;
    }
    if (w.grid) exact_ws_free(&w);
    if (st != MS_SUCCESS) {
        ms_gp_destroy(&gp);
        return st;
    }
    *out = gp;
    return MS_SUCCESS;
}

ms_status ms_gp_attach(ms_gp *gp, const ms_grid *grid)
{
    MS_CHECK(gp && grid && !gp->sparse, MS_ERR_USAGE, "ms_gp_attach: needs an exact GP and a grid");
    ms_dmatrix_destroy(&gp->chol);
    gp->grid = NULL;
    exact_ws w;
    double *dummy = calloc(gp->n, sizeof *dummy);
    ms_status st = ms_grid_agree(grid, dummy ? MS_SUCCESS
                                             : ms_error_set(MS_ERR_NOMEM, "gp: out of memory"));
    if (st != MS_SUCCESS) {
        free(dummy);
        return st;
    }
    ms_matrix xm;
    ms_matrix_wrap(&xm, gp->x, gp->n, gp->d);
    st = exact_ws_alloc(&w, grid, &xm, dummy);
    if (st == MS_SUCCESS) {
        scale_rows(&gp->kp, w.x, w.n, w.xs, w.xn);
        kctx kc = {&gp->kp, w.xs, w.xn, w.xs, w.xn, gp->kp.noise, 1};
        ms_dmatrix_fill(w.k, MS_DMATRIX_LOWER, fill_kernel_block, &kc);
        st = ms_dmatrix_cholesky(w.k);
        if (st == MS_SUCCESS) {
            gp->chol = w.k;
            w.k = NULL;
            gp->grid = grid;
        }
        exact_ws_free(&w);
    }
    free(dummy);
    return st;
}

/* ---- prediction ---- */

static ms_status predict_exact(const ms_gp *gp, const ms_matrix *xs, double *mean, double *var)
{
    const size_t n = gp->n, d = gp->d, ns = xs->rows;
    const ms_grid *grid = gp->grid;
    const int rank = grid ? ms_grid_rank(grid) : 0, size = grid ? ms_grid_size(grid) : 1;
    double *ts = malloc((ns * d + ns) * sizeof *ts);
    double *trs = malloc((n * d + n) * sizeof *trs);
    double *blk = malloc((size_t)PRED_CHUNK * n * sizeof *blk);
    ms_status st = (ts && trs && blk) ? MS_SUCCESS
                                      : ms_error_set(MS_ERR_NOMEM, "gp: out of memory");
    if (grid) st = ms_grid_agree(grid, st);
    if (st != MS_SUCCESS) goto done;
    double *tn = ts + ns * d, *trn = trs + n * d;
    scale_rows(&gp->kp, xs->data, ns, ts, tn);
    scale_rows(&gp->kp, gp->x, n, trs, trn);
    /* means: fixed chunks, round-robin; exact exchange (one owner per value, others add 0) */
    memset(mean, 0, ns * sizeof *mean);
    for (size_t c = 0, chunk = 0; c < ns; c += PRED_CHUNK, chunk++) {
        if ((int)(chunk % (size_t)size) != rank) continue;
        size_t nc = ns - c < PRED_CHUNK ? ns - c : PRED_CHUNK;
        r2_block(ts + c * d, tn + c, nc, trs, trn, n, d, blk, n, 0);
        for (size_t i = 0; i < nc; i++) {
            double s = 0;
            for (size_t j = 0; j < n; j++) s += kernel_of_r2(&gp->kp, blk[i * n + j]) * gp->w[j];
            mean[c + i] = s;
        }
    }
    if (grid) st = ms_grid_sum(grid, mean, ns);
    if (st != MS_SUCCESS) goto done;
    for (size_t i = 0; i < ns; i++) mean[i] = mean[i] * gp->y_std + gp->y_mean;
    if (var) {
        ms_dmatrix *ks = NULL;
        for (size_t c = 0; c < ns && st == MS_SUCCESS; c += VAR_CHUNK) {
            size_t nc = ns - c < VAR_CHUNK ? ns - c : VAR_CHUNK;
            if (!ks || ms_dmatrix_cols(ks) != nc) {
                ms_dmatrix_destroy(&ks);
                st = ms_dmatrix_create(grid, n, nc, &ks);
                if (st != MS_SUCCESS) break;
            }
            kctx kc = {&gp->kp, trs, trn, ts + c * d, tn + c, 0.0, 0};
            ms_dmatrix_fill(ks, MS_DMATRIX_ALL, fill_kernel_block, &kc);
            st = ms_dmatrix_lower_solve(gp->chol, ks);
            if (st == MS_SUCCESS) st = ms_dmatrix_column_sumsq(ks, var + c);
            if (st == MS_SUCCESS)
                for (size_t i = 0; i < nc; i++) {
                    double v = gp->kp.s2 - var[c + i];
                    var[c + i] = (v > 0 ? v : 0) * gp->y_std * gp->y_std;
                }
        }
        ms_dmatrix_destroy(&ks);
    }
done:
    free(ts);
    free(trs);
    free(blk);
    return st;
}

static ms_status predict_sparse(const ms_gp *gp, const ms_matrix *xs, double *mean, double *var)
{
    const size_t m = gp->n, d = gp->d, ns = xs->rows;
    const int mi = (int)m;
    double *zs = malloc((m * d + m) * sizeof *zs);
    double *ts = malloc((size_t)PRED_CHUNK * (d + 1) * sizeof *ts);
    double *kb = malloc((size_t)PRED_CHUNK * m * sizeof *kb);
    double *eb = malloc((size_t)PRED_CHUNK * m * sizeof *eb);
    if (!zs || !ts || !kb || !eb) {
        free(zs);
        free(ts);
        free(kb);
        free(eb);
        return ms_error_set(MS_ERR_NOMEM, "gp: out of memory");
    }
    double *zn = zs + m * d, *tn = ts + (size_t)PRED_CHUNK * d;
    scale_rows(&gp->kp, gp->x, m, zs, zn);
    for (size_t c = 0; c < ns; c += PRED_CHUNK) {
        size_t nc = ns - c < PRED_CHUNK ? ns - c : PRED_CHUNK;
        scale_rows(&gp->kp, xs->data + c * d, nc, ts, tn);
        /* row-major nc x m = column-major m x nc (ld m): column i is k(Z, x_i) */
        r2_block(ts, tn, nc, zs, zn, m, d, kb, m, 0);
        for (size_t t = 0; t < nc * m; t++) kb[t] = kernel_of_r2(&gp->kp, kb[t]);
        for (size_t i = 0; i < nc; i++) {
            double s = 0;
            for (size_t j = 0; j < m; j++) s += kb[i * m + j] * gp->w[j];
            mean[c + i] = s * gp->y_std + gp->y_mean;
        }
        if (var) {
            const int nci = (int)nc;
            const double done = 1.0;
            dtrsm_("L", "L", "N", "N", &mi, &nci, &done, gp->lm, &mi, kb, &mi, 1, 1, 1, 1);
            memcpy(eb, kb, nc * m * sizeof *eb);
            dtrsm_("L", "L", "N", "N", &mi, &nci, &done, gp->la, &mi, eb, &mi, 1, 1, 1, 1);
            for (size_t i = 0; i < nc; i++) {
                double q1 = 0, q2 = 0;
                for (size_t j = 0; j < m; j++) {
                    q1 += kb[i * m + j] * kb[i * m + j];
                    q2 += eb[i * m + j] * eb[i * m + j];
                }
                double v = gp->kp.s2 - q1 + q2;
                var[c + i] = (v > 0 ? v : 0) * gp->y_std * gp->y_std;
            }
        }
    }
    free(zs);
    free(ts);
    free(kb);
    free(eb);
    return MS_SUCCESS;
}

ms_status ms_gp_predict(const ms_gp *gp, const ms_matrix *xs, double *mean, double *var)
{
    ms_status st = MS_SUCCESS;
    if (!gp || !xs || !mean || (xs->rows > 0 && !xs->data))
        st = ms_error_set(MS_ERR_USAGE, "ms_gp_predict: NULL argument");
    else if (xs->cols != gp->d)
        st = ms_error_set(MS_ERR_USAGE, "ms_gp_predict: %zu features, the model has %zu",
                          xs->cols, gp->d);
    else if (var && !gp->sparse && !gp->chol)
        st = ms_error_set(MS_ERR_USAGE, "ms_gp_predict: variances need ms_gp_attach after "
                          "ms_gp_read");
    else
        for (size_t i = 0; i < xs->rows * xs->cols; i++)
            if (!isfinite(xs->data[i])) {
                st = ms_error_set(MS_ERR_INVALID, "ms_gp_predict: feature (%zu, %zu) is not "
                                  "finite", i / xs->cols, i % xs->cols);
                break;
            }
    if (gp && !gp->sparse && gp->grid) st = ms_grid_agree(gp->grid, st);
    if (st != MS_SUCCESS || xs->rows == 0) return st;
    return gp->sparse ? predict_sparse(gp, xs, mean, var) : predict_exact(gp, xs, mean, var);
}

double ms_gp_log_marginal_likelihood(const ms_gp *gp) { return gp->lml; }

size_t ms_gp_params(const ms_gp *gp, double *theta, size_t n)
{
    const size_t np = kp_n_params(&gp->kp);
    for (size_t i = 0; i < n && i < np; i++)
        theta[i] = i == 0 ? log(gp->kp.s2)
                          : (i == np - 1 ? log(gp->kp.noise) : log(gp->kp.ell[i - 1]));
    return np < n ? np : n;
}

size_t ms_gp_n_features(const ms_gp *gp) { return gp->d; }

/* ---- sparse GP ---- */

ms_status ms_gp_fit_sparse(const ms_matrix *x, const double *y, const ms_gp_options *opt,
                           size_t m, ms_gp_sparse_method method, ms_gp **out)
{
    MS_CHECK(out != NULL, MS_ERR_USAGE, "ms_gp_fit_sparse: NULL output");
    *out = NULL;
    MS_CALL(check_inputs(x, y, opt));
    MS_CHECK(m >= 1 && (method == MS_GP_SPARSE_FITC || method == MS_GP_SPARSE_DTC), MS_ERR_USAGE,
             "ms_gp_fit_sparse: need m >= 1 and a known method");
    const size_t n = x->rows, d = x->cols;
    if (m > n) m = n;
    MS_CHECK(m <= (size_t)1 << 15, MS_ERR_LIMIT, "ms_gp_fit_sparse: %zu inducing points (max "
             "32768)", m);
    ms_gp *gp = gp_new();
    MS_CHECK(gp != NULL, MS_ERR_NOMEM, "gp: out of memory");
    ms_status st = kp_init(&gp->kp, opt, d);
    size_t *idx = malloc(n * sizeof *idx);
    double *yn = malloc(n * sizeof *yn);
    double *zs = malloc((m * d + m) * sizeof *zs);
    double *xs = malloc((size_t)SPARSE_CHUNK * (d + 1) * sizeof *xs);
    double *v = malloc((size_t)SPARSE_CHUNK * m * sizeof *v);
    double *bvec = calloc(m, sizeof *bvec);
    gp->x = malloc(m * d * sizeof *gp->x);
    gp->w = malloc(m * sizeof *gp->w);
    gp->lm = malloc(m * m * sizeof *gp->lm);
    gp->la = calloc(m * m, sizeof *gp->la);
    if (st == MS_SUCCESS && (!idx || !yn || !zs || !xs || !v || !bvec || !gp->x || !gp->w ||
                             !gp->lm || !gp->la))
        st = ms_error_set(MS_ERR_NOMEM, "gp: out of memory for %zu inducing points", m);
    if (st != MS_SUCCESS) goto done;
    gp->sparse = 1;
    gp->method = method;
    gp->n = m;
    gp->d = d;
    gp->normalize_y = opt->normalize_y ? 1 : 0;
    normalise_targets(gp->normalize_y, y, n, yn, &gp->y_mean, &gp->y_std);
    /* inducing subset: partial Fisher-Yates on the stream (seed, 0), then row order */
    for (size_t i = 0; i < n; i++) idx[i] = i;
    if (m < n) {
        ms_rng rng;
        ms_rng_seed(&rng, opt->seed, 0);
        for (size_t i = 0; i < m; i++) {
            size_t j = i + (size_t)ms_rng_below(&rng, (uint64_t)(n - i));
            size_t t = idx[i];
            idx[i] = idx[j];
            idx[j] = t;
        }
        /* insertion sort of the first m (m is small compared with n) */
        for (size_t i = 1; i < m; i++)
            for (size_t j = i; j > 0 && idx[j - 1] > idx[j]; j--) {
                size_t t = idx[j];
                idx[j] = idx[j - 1];
                idx[j - 1] = t;
            }
    }
    for (size_t i = 0; i < m; i++) memcpy(gp->x + i * d, x->data + idx[i] * d, d * sizeof(double));
    double *zn = zs + m * d;
    scale_rows(&gp->kp, gp->x, m, zs, zn);
    const int mi = (int)m;
    int info = 0;
    /* Kmm + jitter, Lm */
    r2_block(zs, zn, m, zs, zn, m, d, gp->lm, m, 1);
    for (size_t t = 0; t < m * m; t++) gp->lm[t] = kernel_of_r2(&gp->kp, gp->lm[t]);
    for (size_t i = 0; i < m; i++) gp->lm[i * m + i] += 1e-8 * gp->kp.s2;
    dpotrf_("L", &mi, gp->lm, &mi, &info, 1);
    if (info != 0) {
        st = ms_error_set(MS_ERR_INVALID, "ms_gp_fit_sparse: K(Z, Z) is not positive definite "
                          "(info %d); duplicate inducing rows?", info);
        goto done;
    }
    /* A = sum over chunks of V Lambda^-1 V^T, b = V Lambda^-1 y */
    double *xn = xs + (size_t)SPARSE_CHUNK * d;
    for (size_t c = 0; c < n; c += SPARSE_CHUNK) {
        size_t nc = n - c < SPARSE_CHUNK ? n - c : SPARSE_CHUNK;
        const int nci = (int)nc;
        const double done = 1.0;
        scale_rows(&gp->kp, x->data + c * d, nc, xs, xn);
        r2_block(xs, xn, nc, zs, zn, m, d, v, m, 0); /* column-major m x nc: Kmn */
        for (size_t t = 0; t < nc * m; t++) v[t] = kernel_of_r2(&gp->kp, v[t]);
        dtrsm_("L", "L", "N", "N", &mi, &nci, &done, gp->lm, &mi, v, &mi, 1, 1, 1, 1);
        for (size_t i = 0; i < nc; i++) {
            double q = 0;
            for (size_t j = 0; j < m; j++) q += v[i * m + j] * v[i * m + j];
            double lam = gp->kp.noise;
            if (method == MS_GP_SPARSE_FITC && gp->kp.s2 - q > 0) lam += gp->kp.s2 - q;
            double sc = 1.0 / sqrt(lam);
            for (size_t j = 0; j < m; j++) {
                v[i * m + j] *= sc;
                bvec[j] += v[i * m + j] * yn[c + i] * sc;
            }
        }
        dsyrk_("L", "N", &mi, &nci, &done, v, &mi, &done, gp->la, &mi, 1, 1);
    }
    for (size_t i = 0; i < m; i++) gp->la[i * m + i] += 1.0;
    dpotrf_("L", &mi, gp->la, &mi, &info, 1);
    if (info != 0) {
        st = ms_error_set(MS_ERR_INTERNAL, "ms_gp_fit_sparse: I + V V^T not positive definite");
        goto done;
    }
    /* w = Lm^-T La^-T La^-1 b */
    {
        const int one = 1;
        dtrsv_("L", "N", "N", &mi, gp->la, &mi, bvec, &one, 1, 1, 1);
        dtrsv_("L", "T", "N", &mi, gp->la, &mi, bvec, &one, 1, 1, 1);
        dtrsv_("L", "T", "N", &mi, gp->lm, &mi, bvec, &one, 1, 1, 1);
        memcpy(gp->w, bvec, m * sizeof *gp->w);
    }
done:
    free(idx);
    free(yn);
    free(zs);
    free(xs);
    free(v);
    free(bvec);
    if (st != MS_SUCCESS) {
        ms_gp_destroy(&gp);
        return st;
    }
    *out = gp;
    return MS_SUCCESS;
}

/* ---- serialisation ---- */

#define GP_MAGIC "MSGP"
#define GP_VERSION 1u
#define GP_BOM 0x01020304u

typedef struct gp_header {
    char magic[4];
    uint32_t version, bom, sparse, method, kernel, ard, normalize_y;
    uint64_t n, d;
} gp_header;

static int write_doubles(FILE *f, const double *v, size_t n)
{
    return fwrite(v, sizeof *v, n, f) == n;
}

ms_status ms_gp_write(const ms_gp *gp, FILE *f)
{
    MS_CHECK(gp && f, MS_ERR_USAGE, "ms_gp_write: NULL argument");
    gp_header h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, GP_MAGIC, 4);
    h.version = GP_VERSION;
    h.bom = GP_BOM;
    h.sparse = (uint32_t)gp->sparse;
    h.method = (uint32_t)gp->method;
    h.kernel = (uint32_t)gp->kp.kernel;
    h.ard = (uint32_t)gp->kp.ard;
    h.normalize_y = (uint32_t)gp->normalize_y;
    h.n = gp->n;
    h.d = gp->d;
    double scal[5] = {gp->kp.s2, gp->kp.noise, gp->y_mean, gp->y_std, gp->lml};
    int ok = fwrite(&h, sizeof h, 1, f) == 1 && write_doubles(f, scal, 5) &&
             write_doubles(f, gp->kp.ell, gp->d) && write_doubles(f, gp->x, gp->n * gp->d) &&
             write_doubles(f, gp->w, gp->n);
    if (ok && gp->sparse)
        ok = write_doubles(f, gp->lm, gp->n * gp->n) && write_doubles(f, gp->la, gp->n * gp->n);
    MS_CHECK(ok, MS_ERR_IO, "ms_gp_write: write failed");
    return MS_SUCCESS;
}

static ms_status read_doubles(FILE *f, double *v, size_t n, const char *what, int allow_nan)
{
    MS_CHECK(fread(v, sizeof *v, n, f) == n, MS_ERR_PARSE, "ms_gp_read: truncated %s", what);
    for (size_t i = 0; i < n; i++)
        MS_CHECK(isfinite(v[i]) || (allow_nan && isnan(v[i])), MS_ERR_PARSE,
                 "ms_gp_read: %s value %zu is not finite", what, i);
    return MS_SUCCESS;
}

ms_status ms_gp_read(FILE *f, ms_gp **out)
{
    MS_CHECK(f && out, MS_ERR_USAGE, "ms_gp_read: NULL argument");
    *out = NULL;
    gp_header h;
    MS_CHECK(fread(&h, sizeof h, 1, f) == 1, MS_ERR_PARSE, "ms_gp_read: truncated header");
    MS_CHECK(memcmp(h.magic, GP_MAGIC, 4) == 0, MS_ERR_PARSE, "ms_gp_read: not a GP record");
    MS_CHECK(h.bom == GP_BOM, MS_ERR_UNSUPPORTED, "ms_gp_read: written with another byte order");
    MS_CHECK(h.version == GP_VERSION, MS_ERR_UNSUPPORTED, "ms_gp_read: version %u (expected %u)",
             h.version, GP_VERSION);
    MS_CHECK(h.sparse <= 1 && h.method <= 1 && h.kernel <= 1 && h.ard <= 1 && h.normalize_y <= 1,
             MS_ERR_PARSE, "ms_gp_read: bad flags");
    MS_CHECK(h.n >= 1 && h.d >= 1, MS_ERR_PARSE, "ms_gp_read: empty model");
    MS_CHECK(h.n <= (uint64_t)1 << 26 && h.d <= (uint64_t)1 << 20 &&
                 h.n * h.d <= (uint64_t)1 << 31 && (!h.sparse || h.n <= (uint64_t)1 << 15),
             MS_ERR_LIMIT, "ms_gp_read: %llu x %llu exceeds the limits",
             (unsigned long long)h.n, (unsigned long long)h.d);
    ms_gp *gp = gp_new();
    MS_CHECK(gp != NULL, MS_ERR_NOMEM, "gp: out of memory");
    gp->sparse = (int)h.sparse;
    gp->method = (ms_gp_sparse_method)h.method;
    gp->kp.kernel = (ms_gp_kernel)h.kernel;
    gp->kp.ard = (int)h.ard;
    gp->normalize_y = (int)h.normalize_y;
    gp->n = (size_t)h.n;
    gp->d = gp->kp.d = (size_t)h.d;
    gp->kp.ell = malloc(gp->d * sizeof *gp->kp.ell);
    gp->x = malloc(gp->n * gp->d * sizeof *gp->x);
    gp->w = malloc(gp->n * sizeof *gp->w);
    if (gp->sparse) {
        gp->lm = malloc(gp->n * gp->n * sizeof *gp->lm);
        gp->la = malloc(gp->n * gp->n * sizeof *gp->la);
    }
    ms_status st = MS_SUCCESS;
    if (!gp->kp.ell || !gp->x || !gp->w || (gp->sparse && (!gp->lm || !gp->la)))
        st = ms_error_set(MS_ERR_NOMEM, "gp: out of memory");
    double scal[5];
    if (st == MS_SUCCESS) st = read_doubles(f, scal, 4, "scalar", 0);
    if (st == MS_SUCCESS) st = read_doubles(f, scal + 4, 1, "likelihood", 1);
    if (st == MS_SUCCESS) {
        gp->kp.s2 = scal[0];
        gp->kp.noise = scal[1];
        gp->y_mean = scal[2];
        gp->y_std = scal[3];
        gp->lml = scal[4];
        if (!(gp->kp.s2 > 0 && gp->kp.noise > 0 && gp->y_std > 0))
            st = ms_error_set(MS_ERR_PARSE, "ms_gp_read: non-positive variance or scale");
    }
    if (st == MS_SUCCESS) st = read_doubles(f, gp->kp.ell, gp->d, "lengthscale", 0);
    for (size_t k = 0; st == MS_SUCCESS && k < gp->d; k++)
        if (!(gp->kp.ell[k] > 0)) st = ms_error_set(MS_ERR_PARSE, "ms_gp_read: lengthscale <= 0");
    if (st == MS_SUCCESS) st = read_doubles(f, gp->x, gp->n * gp->d, "row", 0);
    if (st == MS_SUCCESS) st = read_doubles(f, gp->w, gp->n, "weight", 0);
    if (st == MS_SUCCESS && gp->sparse) st = read_doubles(f, gp->lm, gp->n * gp->n, "factor", 0);
    if (st == MS_SUCCESS && gp->sparse) st = read_doubles(f, gp->la, gp->n * gp->n, "factor", 0);
    if (st != MS_SUCCESS) {
        ms_gp_destroy(&gp);
        return st;
    }
    *out = gp;
    return MS_SUCCESS;
}
