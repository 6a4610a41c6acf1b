/*
 * Tests of the gp and pca modules (suite "gp"), serial: a serial grid (LAPACK path; the unit
 * runner does not initialise MPI). tests/integration/gp_mpi.sh covers ScaLAPACK on 1, 2 and 4
 * ranks.
 *
 * Data: the first 208 formulas of ../shared/data/labeled/crabnet/mp_bulk_modulus/train.csv whose
 * magpie features are all finite, constant columns dropped, standardised (ms_test_load_magpie,
 * tests/common/gp_data.h); rows 0..199 train, rows 200..207 are test points. Targets are bulk
 * moduli in GPa.
 *
 * The scikit-learn and numpy values were computed once with /usr/bin/python3 (Debian 12,
 * scikit-learn 1.2.1, numpy 1.24.2) on the matrix this file writes when run as
 *   MS_GP_DUMP=/tmp/gp_dump.csv build/tests/unit/run_tests gp
 * (one row per sample: 17-digit features, then the target), with
 *   X, y = D[:, :-1], D[:, -1]; Xtr, ytr, Xte = X[:200], y[:200], X[200:208]
 *   k = ConstantKernel(1.7, "fixed") * RBF(6.3, "fixed")                       (SE case)
 *   k = ConstantKernel(1.3, "fixed") * Matern(4.1, "fixed", nu=2.5)           (Matern case)
 *   g = GaussianProcessRegressor(k, alpha=0.05, normalize_y=True, optimizer=None).fit(Xtr, ytr)
 *   m, s = g.predict(Xte, return_std=True); var = s**2; g.log_marginal_likelihood_value_
 * and for PCA (components sign-fixed as pca.h documents):
 *   C = np.cov(Xtr, rowvar=False); w, V = np.linalg.eigh(C); top 5 by decreasing w;
 *   ratio = w / np.trace(C)
 * printed with repr().
 */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/ml/scalapack_impl.h" /* dposv_ for the reference solve */
#include "../common/gp_data.h"
#include "matscreen/element.h"
#include "matscreen/gp.h"
#include "matscreen/pca.h"
#include "test_util.h"

int ms_suite_gp(void);

#define NTRAIN 200
#define NTEST 8

static ms_matrix data_x; /* NTRAIN + NTEST rows */
static double *data_y;
static ms_matrix xtr, xte; /* views */
static ms_grid *grid;

static int suite_init(void)
{
    if (ms_test_suite_needs_shared("gp")) return 0;
    if (ms_test_load_magpie(ms_test_elements(),
                            ms_test_data("labeled/crabnet/mp_bulk_modulus/train.csv"),
                            NTRAIN + NTEST, &data_x, &data_y) != 0 ||
        data_x.rows != NTRAIN + NTEST)
        return 1;
    ms_matrix_wrap(&xtr, data_x.data, NTRAIN, data_x.cols);
    ms_matrix_wrap(&xte, data_x.data + NTRAIN * data_x.cols, NTEST, data_x.cols);
    const char *dump = getenv("MS_GP_DUMP");
    if (dump) {
        FILE *f = fopen(dump, "w");
        if (!f) return 1;
        for (size_t i = 0; i < data_x.rows; i++) {
            for (size_t j = 0; j < data_x.cols; j++) fprintf(f, "%.17g,", MS_AT(&data_x, i, j));
            fprintf(f, "%.17g\n", data_y[i]);
        }
        fclose(f);
    }
    return ms_grid_create_serial(0, &grid) == MS_SUCCESS ? 0 : 1;
}

static int suite_cleanup(void)
{
    ms_matrix_free(&data_x);
    free(data_y);
    ms_grid_destroy(&grid);
    return 0;
}

static void options(ms_gp_options *o, ms_gp_kernel kernel, double s2, double ell, double noise)
{
    ms_gp_options_default(o);
    o->kernel = kernel;
    o->signal_var = s2;
    o->lengthscale = ell;
    o->noise_var = noise;
    o->optimize = 0;
}

/* Direct kernel (no dgemm trick) for the reference. */
static double kernel_ref(ms_gp_kernel kernel, double s2, double ell, const double *a,
                         const double *b, size_t d)
{
    double r2 = 0;
    for (size_t k = 0; k < d; k++) r2 += (a[k] - b[k]) * (a[k] - b[k]) / (ell * ell);
    if (kernel == MS_GP_KERNEL_SE) return s2 * exp(-0.5 * r2);
    double r = sqrt(r2);
    return s2 * (1 + sqrt(5.0) * r + 5.0 / 3.0 * r2) * exp(-sqrt(5.0) * r);
}

/* Exact GP with dposv on the full K; the same formulas as scikit-learn (normalize_y). */
static void lapack_reference(ms_gp_kernel kernel, double s2, double ell, double noise,
                             double *mean, double *var, double *lml)
{
    const size_t n = NTRAIN, d = xtr.cols;
    double *k = malloc(n * n * sizeof *k), *b = malloc(n * (NTEST + 1) * sizeof *b);
    double ym = 0, ys = 0;
    for (size_t i = 0; i < n; i++) ym += data_y[i];
    ym /= (double)n;
    for (size_t i = 0; i < n; i++) ys += (data_y[i] - ym) * (data_y[i] - ym);
    ys = sqrt(ys / (double)n);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < n; j++)
            k[i * n + j] = kernel_ref(kernel, s2, ell, &MS_AT(&xtr, i, 0), &MS_AT(&xtr, j, 0), d);
        k[i * n + i] += noise;
        b[i] = (data_y[i] - ym) / ys;
        for (size_t t = 0; t < NTEST; t++)
            b[(t + 1) * n + i] =
                kernel_ref(kernel, s2, ell, &MS_AT(&xtr, i, 0), &MS_AT(&xte, t, 0), d);
    }
    double *kstar = malloc(n * NTEST * sizeof *kstar);
    memcpy(kstar, b + n, n * NTEST * sizeof *kstar);
    const int ni = (int)n, nrhs = NTEST + 1;
    int info = 0;
    dposv_("L", &ni, &nrhs, k, &ni, b, &ni, &info, 1);
    CU_ASSERT_EQUAL_FATAL(info, 0);
    double fit = 0, logdet = 0;
    for (size_t i = 0; i < n; i++) {
        fit += (data_y[i] - ym) / ys * b[i];
        logdet += log(k[i * n + i]);
    }
    *lml = -0.5 * fit - logdet - 0.5 * (double)n * log(2 * M_PI);
    for (size_t t = 0; t < NTEST; t++) {
        double m = 0, q = 0;
        for (size_t i = 0; i < n; i++) {
            m += kstar[t * n + i] * b[i];
            q += kstar[t * n + i] * b[(t + 1) * n + i];
        }
        mean[t] = m * ys + ym;
        var[t] = (s2 - q) * ys * ys;
    }
    free(k);
    free(b);
    free(kstar);
}

static void test_vs_lapack(void)
{
    const ms_gp_kernel kernels[2] = {MS_GP_KERNEL_SE, MS_GP_KERNEL_MATERN52};
    for (int kk = 0; kk < 2; kk++) {
        ms_gp_options o;
        options(&o, kernels[kk], 1.7, 6.3, 0.05);
        ms_gp *gp = NULL;
        CU_ASSERT_EQUAL_FATAL(ms_gp_fit(grid, &xtr, data_y, &o, &gp), MS_SUCCESS);
        double mean[NTEST], var[NTEST], rmean[NTEST], rvar[NTEST], rlml;
        CU_ASSERT_EQUAL(ms_gp_predict(gp, &xte, mean, var), MS_SUCCESS);
        lapack_reference(kernels[kk], 1.7, 6.3, 0.05, rmean, rvar, &rlml);
        for (int t = 0; t < NTEST; t++) {
            CU_ASSERT(ms_test_close(mean[t], rmean[t], 1e-10, 1e-10));
            CU_ASSERT(ms_test_close(var[t], rvar[t], 1e-8, 1e-10));
        }
        CU_ASSERT(ms_test_close(ms_gp_log_marginal_likelihood(gp), rlml, 1e-11, 0));
        double lml;
        CU_ASSERT_EQUAL(ms_gp_evaluate(grid, &xtr, data_y, &o, &lml, NULL), MS_SUCCESS);
        CU_ASSERT_EQUAL(lml, ms_gp_log_marginal_likelihood(gp));
        ms_gp_destroy(&gp);
        CU_ASSERT_PTR_NULL(gp);
    }
}

/* scikit-learn 1.2.1 values (see the header comment). */
static const double SK_SE_MEAN[NTEST] = {131.4068716660222, 77.25955158384485, 27.190784275701674, 121.4521419133644, 121.34481470231667, 95.49836028655155, 119.84570707102881, 131.67939062240362};
static const double SK_SE_VAR[NTEST] = {6339.895426807352, 6029.176096480906, 5188.097213547429, 4777.059800536634, 6120.765090457395, 3965.7114959493565, 2582.0616320583745, 2635.3937689083327};
static const double SK_SE_LML = -231.96817923852745;
static const double SK_M52_MEAN[NTEST] = {116.67782896484186, 92.55096447545294, 67.45104866557207, 113.4025662931631, 107.10289713846699, 104.75964428192927, 111.1901967229659, 117.71336427945317};
static const double SK_M52_VAR[NTEST] = {5473.144085600635, 5459.755931569913, 5376.030268131645, 5307.136251857388, 5463.809280046743, 5155.159157571735, 4280.952444075455, 4659.533283529879};
static const double SK_M52_LML = -255.19601182939934;

static void test_vs_sklearn(void)
{
    struct {
        ms_gp_kernel kernel;
        double s2, ell;
        const double *mean, *var;
        double lml;
    } cases[2] = {{MS_GP_KERNEL_SE, 1.7, 6.3, SK_SE_MEAN, SK_SE_VAR, SK_SE_LML},
                  {MS_GP_KERNEL_MATERN52, 1.3, 4.1, SK_M52_MEAN, SK_M52_VAR, SK_M52_LML}};
    for (int c = 0; c < 2; c++) {
        ms_gp_options o;
        options(&o, cases[c].kernel, cases[c].s2, cases[c].ell, 0.05);
        ms_gp *gp = NULL;
        CU_ASSERT_EQUAL_FATAL(ms_gp_fit(grid, &xtr, data_y, &o, &gp), MS_SUCCESS);
        double mean[NTEST], var[NTEST];
        CU_ASSERT_EQUAL(ms_gp_predict(gp, &xte, mean, var), MS_SUCCESS);
        for (int t = 0; t < NTEST; t++) {
            CU_ASSERT(ms_test_close(mean[t], cases[c].mean[t], 1e-9, 1e-9));
            CU_ASSERT(ms_test_close(var[t], cases[c].var[t], 1e-7, 1e-9));
        }
        CU_ASSERT(ms_test_close(ms_gp_log_marginal_likelihood(gp), cases[c].lml, 1e-10, 0));
        ms_gp_destroy(&gp);
    }
}

/* Analytic gradient against central differences of the log marginal likelihood. */
static void test_gradient(void)
{
    ms_matrix small;
    ms_matrix_wrap(&small, data_x.data, 60, data_x.cols);
    for (int c = 0; c < 2; c++) {
        ms_gp_options o;
        options(&o, c ? MS_GP_KERNEL_MATERN52 : MS_GP_KERNEL_SE, 1.385, 5.2, 0.0731);
        o.ard = c == 0;
        const size_t np = ms_gp_n_params(&o, small.cols);
        double *ell = malloc(small.cols * sizeof *ell), *grad = malloc(np * sizeof *grad);
        for (size_t k = 0; k < small.cols; k++) ell[k] = 4.0 + 0.037 * (double)k;
        o.lengthscales = ell;
        double lml;
        CU_ASSERT_EQUAL_FATAL(ms_gp_evaluate(grid, &small, data_y, &o, &lml, grad), MS_SUCCESS);
        size_t checked = 0, bad = 0;
        for (size_t i = 0; i < np; i += (np > 12 ? 7 : 1)) {
            const double h = 1e-5;
            double lp, lm;
            ms_gp_options op = o, om = o;
            double *ep = malloc(small.cols * sizeof *ep), *em = malloc(small.cols * sizeof *em);
            memcpy(ep, ell, small.cols * sizeof *ep);
            memcpy(em, ell, small.cols * sizeof *em);
            op.lengthscales = ep;
            om.lengthscales = em;
            if (i == 0) {
                op.signal_var *= exp(h);
                om.signal_var *= exp(-h);
            } else if (i == np - 1) {
                op.noise_var *= exp(h);
                om.noise_var *= exp(-h);
            } else if (o.ard) {
                ep[i - 1] *= exp(h);
                em[i - 1] *= exp(-h);
            } else {
                op.lengthscale *= exp(h);
                om.lengthscale *= exp(-h);
            }
            ms_gp_evaluate(grid, &small, data_y, &op, &lp, NULL);
            ms_gp_evaluate(grid, &small, data_y, &om, &lm, NULL);
            double fd = (lp - lm) / (2 * h);
            checked++;
            if (!ms_test_close(grad[i], fd, 1e-5, 1e-6)) {
                bad++;
                fprintf(stderr, "gradient %zu: %.10g vs %.10g\n", i, grad[i], fd);
            }
            free(ep);
            free(em);
        }
        CU_ASSERT(checked >= 3);
        CU_ASSERT_EQUAL(bad, 0);
        free(ell);
        free(grad);
    }
}

static void test_optimise(void)
{
    ms_matrix small;
    ms_matrix_wrap(&small, data_x.data, 100, data_x.cols);
    ms_gp_options o;
    options(&o, MS_GP_KERNEL_SE, 1.0, 3.0, 0.3);
    double lml0;
    CU_ASSERT_EQUAL_FATAL(ms_gp_evaluate(grid, &small, data_y, &o, &lml0, NULL), MS_SUCCESS);
    o.optimize = 1;
    o.max_iter = 40;
    o.restarts = 1;
    o.seed = 2385;
    ms_gp *a = NULL, *b = NULL;
    CU_ASSERT_EQUAL_FATAL(ms_gp_fit(grid, &small, data_y, &o, &a), MS_SUCCESS);
    CU_ASSERT_EQUAL_FATAL(ms_gp_fit(grid, &small, data_y, &o, &b), MS_SUCCESS);
    CU_ASSERT(ms_gp_log_marginal_likelihood(a) > lml0 + 1.0);
    double ta[3], tb[3];
    CU_ASSERT_EQUAL(ms_gp_params(a, ta, 3), 3);
    CU_ASSERT_EQUAL(ms_gp_params(b, tb, 3), 3);
    for (int i = 0; i < 3; i++) CU_ASSERT_EQUAL(ta[i], tb[i]); /* deterministic */
    /* the optimum is stationary: the gradient there is small */
    ms_gp_options f = o;
    f.optimize = 0;
    f.signal_var = exp(ta[0]);
    f.lengthscale = exp(ta[1]);
    f.noise_var = exp(ta[2]);
    double lml, g[3];
    CU_ASSERT_EQUAL(ms_gp_evaluate(grid, &small, data_y, &f, &lml, g), MS_SUCCESS);
    CU_ASSERT(ms_test_close(lml, ms_gp_log_marginal_likelihood(a), 1e-12, 0));
    for (int i = 0; i < 3; i++) CU_ASSERT(fabs(g[i]) < 0.2);
    ms_gp_destroy(&a);
    ms_gp_destroy(&b);
}

static double rms_diff(const double *a, const double *b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (a[i] - b[i]) * (a[i] - b[i]);
    return sqrt(s / (double)n);
}

static void test_sparse(void)
{
    ms_gp_options o;
    options(&o, MS_GP_KERNEL_SE, 1.7, 6.3, 0.05);
    o.seed = 2385;
    ms_gp *exact = NULL;
    CU_ASSERT_EQUAL_FATAL(ms_gp_fit(grid, &xtr, data_y, &o, &exact), MS_SUCCESS);
    double em[NTEST], ev[NTEST];
    CU_ASSERT_EQUAL(ms_gp_predict(exact, &xte, em, ev), MS_SUCCESS);
    const size_t ms[3] = {20, 80, NTRAIN};
    double err[3];
    for (int k = 0; k < 3; k++) {
        ms_gp *s = NULL;
        CU_ASSERT_EQUAL_FATAL(ms_gp_fit_sparse(&xtr, data_y, &o, ms[k], MS_GP_SPARSE_FITC, &s),
                              MS_SUCCESS);
        double sm[NTEST], sv[NTEST];
        CU_ASSERT_EQUAL(ms_gp_predict(s, &xte, sm, sv), MS_SUCCESS);
        err[k] = rms_diff(sm, em, NTEST);
        if (ms[k] == NTRAIN)
            for (int t = 0; t < NTEST; t++) {
                CU_ASSERT(ms_test_close(sm[t], em[t], 1e-5, 1e-5));
                CU_ASSERT(ms_test_close(sv[t], ev[t], 1e-4, 1e-4));
            }
        CU_ASSERT(isnan(ms_gp_log_marginal_likelihood(s)));
        ms_gp_destroy(&s);
    }
    CU_ASSERT(err[1] < err[0]);
    CU_ASSERT(err[2] < 1e-5 * (1 + fabs(em[0])));
    /* DTC with every training row is the exact GP too */
    ms_gp *dtc = NULL;
    CU_ASSERT_EQUAL_FATAL(ms_gp_fit_sparse(&xtr, data_y, &o, NTRAIN + 5, MS_GP_SPARSE_DTC, &dtc),
                          MS_SUCCESS);
    double dm[NTEST];
    CU_ASSERT_EQUAL(ms_gp_predict(dtc, &xte, dm, NULL), MS_SUCCESS);
    for (int t = 0; t < NTEST; t++) CU_ASSERT(ms_test_close(dm[t], em[t], 1e-5, 1e-5));
    ms_gp_destroy(&dtc);
    ms_gp_destroy(&exact);
}

/* Writes gp into a memory buffer; returns its size. */
static size_t to_buffer(const ms_gp *gp, char **buf)
{
    size_t len = 0;
    FILE *f = open_memstream(buf, &len);
    CU_ASSERT_EQUAL(ms_gp_write(gp, f), MS_SUCCESS);
    fclose(f);
    return len;
}

static void test_write_read(void)
{
    ms_gp_options o;
    options(&o, MS_GP_KERNEL_MATERN52, 1.3, 4.1, 0.05);
    ms_gp *gp = NULL, *back = NULL, *sp = NULL, *spb = NULL;
    CU_ASSERT_EQUAL_FATAL(ms_gp_fit(grid, &xtr, data_y, &o, &gp), MS_SUCCESS);
    char *buf = NULL;
    size_t len = to_buffer(gp, &buf);
    FILE *f = fmemopen(buf, len, "r");
    CU_ASSERT_EQUAL_FATAL(ms_gp_read(f, &back), MS_SUCCESS);
    fclose(f);
    double m1[NTEST], m2[NTEST], v1[NTEST], v2[NTEST];
    CU_ASSERT_EQUAL(ms_gp_predict(gp, &xte, m1, v1), MS_SUCCESS);
    CU_ASSERT_EQUAL(ms_gp_predict(back, &xte, m2, NULL), MS_SUCCESS);
    CU_ASSERT_EQUAL(memcmp(m1, m2, sizeof m1), 0); /* bit for bit */
    CU_ASSERT_EQUAL(ms_gp_predict(back, &xte, m2, v2), MS_ERR_USAGE); /* no factor yet */
    CU_ASSERT_EQUAL(ms_gp_attach(back, grid), MS_SUCCESS);
    CU_ASSERT_EQUAL(ms_gp_predict(back, &xte, m2, v2), MS_SUCCESS);
    for (int t = 0; t < NTEST; t++) CU_ASSERT_EQUAL(v1[t], v2[t]);
    CU_ASSERT_EQUAL(ms_gp_log_marginal_likelihood(back), ms_gp_log_marginal_likelihood(gp));
    /* truncated records, a wrong magic and a huge size fail cleanly */
    size_t cuts[4] = {0, 10, len / 2, len - 1};
    for (int c = 0; c < 4; c++) {
        ms_gp *bad = (ms_gp *)buf; /* a non-NULL value that must be reset */
        f = fmemopen(buf, cuts[c] ? cuts[c] : 1, "r");
        if (cuts[c] == 0) fgetc(f);
        CU_ASSERT_EQUAL(ms_gp_read(f, &bad), MS_ERR_PARSE);
        CU_ASSERT_PTR_NULL(bad);
        fclose(f);
    }
    char saved = buf[0];
    buf[0] = 'X';
    ms_gp *tmp = NULL;
    f = fmemopen(buf, len, "r");
    CU_ASSERT_EQUAL(ms_gp_read(f, &tmp), MS_ERR_PARSE);
    fclose(f);
    buf[0] = saved;
    memset(buf + 36, 0xff, 8); /* n (uint64 after 4 chars and 8 uint32) */
    f = fmemopen(buf, len, "r");
    CU_ASSERT_EQUAL(ms_gp_read(f, &tmp), MS_ERR_LIMIT);
    CU_ASSERT_PTR_NULL(tmp);
    fclose(f);
    free(buf);
    /* sparse round trip, variances included */
    CU_ASSERT_EQUAL_FATAL(ms_gp_fit_sparse(&xtr, data_y, &o, 50, MS_GP_SPARSE_FITC, &sp),
                          MS_SUCCESS);
    len = to_buffer(sp, &buf);
    f = fmemopen(buf, len, "r");
    CU_ASSERT_EQUAL_FATAL(ms_gp_read(f, &spb), MS_SUCCESS);
    fclose(f);
    CU_ASSERT_EQUAL(ms_gp_predict(sp, &xte, m1, v1), MS_SUCCESS);
    CU_ASSERT_EQUAL(ms_gp_predict(spb, &xte, m2, v2), MS_SUCCESS);
    CU_ASSERT_EQUAL(memcmp(m1, m2, sizeof m1), 0);
    CU_ASSERT_EQUAL(memcmp(v1, v2, sizeof v1), 0);
    free(buf);
    ms_gp_destroy(&gp);
    ms_gp_destroy(&back);
    ms_gp_destroy(&sp);
    ms_gp_destroy(&spb);
}

static void test_errors(void)
{
    ms_gp_options o;
    options(&o, MS_GP_KERNEL_SE, 1.7, 6.3, 0.05);
    ms_gp *gp = (ms_gp *)&o;
    double y2[3] = {1.5, 2.5, 3.5}, x2[6] = {0.1, 0.2, 0.3, NAN, 0.5, 0.6};
    ms_matrix xm;
    ms_matrix_wrap(&xm, x2, 3, 2);
    CU_ASSERT_EQUAL(ms_gp_fit(grid, &xm, y2, &o, &gp), MS_ERR_INVALID);
    CU_ASSERT_PTR_NULL(gp);
    x2[3] = 0.4;
    ms_gp_options bad = o;
    bad.noise_var = 0;
    CU_ASSERT_EQUAL(ms_gp_fit(grid, &xm, y2, &bad, &gp), MS_ERR_USAGE);
    bad = o;
    bad.kernel = (ms_gp_kernel)7;
    CU_ASSERT_EQUAL(ms_gp_fit(grid, &xm, y2, &bad, &gp), MS_ERR_USAGE);
    ms_matrix one;
    ms_matrix_wrap(&one, x2, 1, 2);
    CU_ASSERT_EQUAL(ms_gp_fit(grid, &one, y2, &o, &gp), MS_ERR_USAGE);
    /* duplicated rows with negligible noise: K is singular */
    double xd[6] = {0.25, 0.5, 0.25, 0.5, 0.25, 0.5};
    ms_matrix_wrap(&xm, xd, 3, 2);
    bad = o;
    bad.noise_var = 1e-300;
    CU_ASSERT_EQUAL(ms_gp_fit(grid, &xm, y2, &bad, &gp), MS_ERR_INVALID);
    CU_ASSERT_EQUAL(ms_gp_fit_sparse(&xm, y2, &o, 0, MS_GP_SPARSE_FITC, &gp), MS_ERR_USAGE);
    /* wrong feature count at prediction */
    ms_matrix_wrap(&xm, x2, 3, 2);
    CU_ASSERT_EQUAL_FATAL(ms_gp_fit(grid, &xm, y2, &o, &gp), MS_SUCCESS);
    double m[2];
    ms_matrix wrong;
    ms_matrix_wrap(&wrong, x2, 2, 3);
    CU_ASSERT_EQUAL(ms_gp_predict(gp, &wrong, m, NULL), MS_ERR_USAGE);
    ms_gp_destroy(&gp);
    ms_gp_destroy(&gp); /* NULL-safe */
    ms_gp_destroy(NULL);
}

/* numpy values (see the header comment). */
static const double NP_VAR[5] = {25.73732343287333, 15.266476577440752, 13.812341603761663, 10.585194476457085, 8.835097527498917};
static const double NP_RATIO[5] = {0.19867637674920882, 0.11784785080870297, 0.10662281924594678, 0.0817112195544822, 0.0682015427737667};
static const double NP_COMP[5][3] = {{0.13118656592719716, 0.086230130290463, 0.012364191202551056}, {0.05767970854030668, -0.10354798844151936, -0.1402105411861839}, {0.05774615630905, 0.1908769998392272, 0.162886859972241}, {0.05193391127042339, 0.02958963950238208, 0.00021318758891583633}, {0.15264376676954033, -0.07049153096246014, -0.16149336685396654}}; /* first three entries of each component */

static void test_pca(void)
{
    ms_pca *p = NULL;
    CU_ASSERT_EQUAL_FATAL(ms_pca_fit(grid, &xtr, 1, 5, &p), MS_SUCCESS);
    CU_ASSERT_EQUAL(ms_pca_n_components(p), 5);
    CU_ASSERT_EQUAL(ms_pca_n_features(p), xtr.cols);
    const double *v = ms_pca_explained_variance(p), *r = ms_pca_explained_variance_ratio(p);
    const double *c = ms_pca_components(p);
    for (int i = 0; i < 5; i++) {
        CU_ASSERT(ms_test_close(v[i], NP_VAR[i], 1e-10, 0));
        CU_ASSERT(ms_test_close(r[i], NP_RATIO[i], 1e-10, 0));
        for (int j = 0; j < 3; j++)
            CU_ASSERT(ms_test_close(c[i * xtr.cols + j], NP_COMP[i][j], 1e-8, 1e-10));
    }
    ms_matrix t = {0, 0, NULL, 0};
    CU_ASSERT_EQUAL(ms_pca_transform(p, &xtr, &t), MS_SUCCESS);
    /* the variance of each projection is its eigenvalue */
    for (int k = 0; k < 5; k++) {
        double s = 0, s2 = 0;
        for (size_t i = 0; i < t.rows; i++) s += MS_AT(&t, i, k);
        for (size_t i = 0; i < t.rows; i++)
            s2 += (MS_AT(&t, i, k) - s / (double)t.rows) * (MS_AT(&t, i, k) - s / (double)t.rows);
        CU_ASSERT(ms_test_close(s2 / (double)(t.rows - 1), v[k], 1e-10, 0));
    }
    ms_matrix_free(&t);
    ms_pca *q = NULL;
    CU_ASSERT_EQUAL(ms_pca_fit(grid, &xtr, 1, xtr.cols + 1, &q), MS_ERR_USAGE);
    CU_ASSERT_PTR_NULL(q);
    ms_pca_destroy(&p);
    ms_pca_destroy(&p);
}

int ms_suite_gp(void)
{
    CU_pSuite s = CU_add_suite("gp", suite_init, suite_cleanup);
    if (!s) return CU_get_error();
    if (!CU_add_test(s, "exact GP against a LAPACK dposv solve", test_vs_lapack) ||
        !CU_add_test(s, "exact GP against scikit-learn", test_vs_sklearn) ||
        !CU_add_test(s, "likelihood gradient against finite differences", test_gradient) ||
        !CU_add_test(s, "hyperparameter optimisation", test_optimise) ||
        !CU_add_test(s, "sparse GP approaches the exact GP", test_sparse) ||
        !CU_add_test(s, "write and read", test_write_read) ||
        !CU_add_test(s, "error paths", test_errors) ||
        !CU_add_test(s, "PCA against numpy", test_pca))
        return CU_get_error();
    return CUE_SUCCESS;
}
