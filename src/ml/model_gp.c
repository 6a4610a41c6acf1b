/*
 * The Gaussian-process learner of the model interface (model.h): `--kind gp` in train and
 * evaluate, and GP surrogates in the screen. A thin adapter over gp.h.
 *
 * Conventions
 *   - Regression only. Options (--param KEY=VALUE): kernel (0 squared exponential, default; 1
 *     Matern 5/2), ard (0 isotropic, default; 1 one lengthscale per feature), lengthscale (1),
 *     signal_var (1), noise_var (1e-2), normalize_y (1), optimize (1), max_iter (60), restarts
 *     (2), sparse (0: exact GP; m > 0: sparse FITC GP with m inducing points and the option
 *     values as hyperparameters, not optimised). The seed is the model's.
 *   - Fitting is collective on the fit communicator (ScaLAPACK grid over it). The fitted exact GP
 *     is then written to memory and read back onto a serial 1 x 1 grid owned by the state, so
 *     that prediction is local (Not collective) on every rank, as the screen's workers need; the
 *     same happens at load. Prediction recomputes nothing distributed: O(N) per row for the
 *     mean, one triangular solve against the N x N factor for the variance.
 *   - sigma is the latent standard deviation (gp.h: noise_var not added), what acquisition
 *     functions take for the unknown function value.
 *   - State in the model file: u64 length + the record of ms_gp_write ("MSGP", native byte order;
 *     ms_gp_read checks it).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "matscreen/gp.h"
#include "matscreen/model.h"
#include "matscreen/scalapack.h"

typedef struct gp_state {
    ms_gp *gp;
    ms_grid *grid; /* serial grid for local prediction */
} gp_state;

static void gp_free(void *state)
{
    gp_state *s = state;
    if (!s) return;
    ms_gp_destroy(&s->gp);
    ms_grid_destroy(&s->grid);
    free(s);
}

/* Reads a ms_gp_write record from memory onto a serial grid. */
static ms_status state_from_bytes(const unsigned char *data, size_t len, gp_state **out)
{
    *out = NULL;
    FILE *f = fmemopen((void *)data, len, "rb");
    MS_CHECK(f, MS_ERR_NOMEM, "gp: cannot open the state buffer");
    gp_state *s = calloc(1, sizeof *s);
    ms_status st = s ? ms_gp_read(f, &s->gp) : ms_error_set(MS_ERR_NOMEM, "gp: state");
    fclose(f);
    if (st == MS_SUCCESS) st = ms_grid_create_serial(MS_GRID_BLOCK_DEFAULT, &s->grid);
    if (st == MS_SUCCESS) st = ms_gp_attach(s->gp, s->grid);
    if (st != MS_SUCCESS) {
        gp_free(s);
        return st;
    }
    *out = s;
    return MS_SUCCESS;
}

static ms_status state_to_bytes(const ms_gp *gp, unsigned char **data, size_t *len)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    MS_CHECK(f, MS_ERR_NOMEM, "gp: cannot open a memory stream");
    ms_status st = ms_gp_write(gp, f);
    if (fclose(f) != 0 && st == MS_SUCCESS) st = ms_error_set(MS_ERR_IO, "gp: writing the state");
    if (st != MS_SUCCESS) {
        free(buf);
        return st;
    }
    *data = (unsigned char *)buf;
    *len = n;
    return MS_SUCCESS;
}

static const char *const gp_keys[] = {"kernel", "ard", "lengthscale", "signal_var", "noise_var",
                                      "normalize_y", "optimize", "max_iter", "restarts", "sparse",
                                      NULL};

static ms_status gp_fit(const ms_model_fit_args *a, void **state)
{
    *state = NULL;
    MS_CHECK(a->task == MS_MODEL_REGRESSION, MS_ERR_USAGE, "gp does regression only");
    MS_CALL(ms_model_options_check(a->options, "gp", gp_keys));
    ms_gp_options o;
    ms_gp_options_default(&o);
    o.seed = a->seed;
    double kernel = 0, ard = 0, norm = 1, opt = 1, iter = o.max_iter, rst = o.restarts, sparse = 0;
    MS_CALL(ms_model_option_double(a->options, "kernel", &kernel));
    MS_CALL(ms_model_option_double(a->options, "ard", &ard));
    MS_CALL(ms_model_option_double(a->options, "lengthscale", &o.lengthscale));
    MS_CALL(ms_model_option_double(a->options, "signal_var", &o.signal_var));
    MS_CALL(ms_model_option_double(a->options, "noise_var", &o.noise_var));
    MS_CALL(ms_model_option_double(a->options, "normalize_y", &norm));
    MS_CALL(ms_model_option_double(a->options, "optimize", &opt));
    MS_CALL(ms_model_option_double(a->options, "max_iter", &iter));
    MS_CALL(ms_model_option_double(a->options, "restarts", &rst));
    MS_CALL(ms_model_option_double(a->options, "sparse", &sparse));
    MS_CHECK(kernel == 0 || kernel == 1, MS_ERR_USAGE, "gp: kernel is 0 (SE) or 1 (Matern 5/2)");
    MS_CHECK(iter >= 1 && iter <= 1e5 && rst >= 0 && rst <= 100 && sparse >= 0 && sparse <= 32768,
             MS_ERR_USAGE, "gp: max_iter in 1..1e5, restarts in 0..100, sparse in 0..32768");
    o.kernel = kernel == 1 ? MS_GP_KERNEL_MATERN52 : MS_GP_KERNEL_SE;
    o.ard = ard != 0;
    o.normalize_y = norm != 0;
    o.optimize = opt != 0;
    o.max_iter = (int)iter;
    o.restarts = (int)rst;
    ms_gp *gp = NULL;
    ms_grid *grid = NULL;
    ms_status st;
    if (sparse > 0) {
        st = ms_gp_fit_sparse(a->x, a->y, &o, (size_t)sparse, MS_GP_SPARSE_FITC, &gp);
    } else {
        st = ms_grid_create(a->comm, MS_GRID_BLOCK_DEFAULT, &grid);
        if (st == MS_SUCCESS) st = ms_gp_fit(grid, a->x, a->y, &o, &gp);
    }
    unsigned char *bytes = NULL;
    size_t len = 0;
    if (st == MS_SUCCESS) st = state_to_bytes(gp, &bytes, &len);
    ms_gp_destroy(&gp);
    ms_grid_destroy(&grid);
    gp_state *s = NULL;
    if (st == MS_SUCCESS) st = state_from_bytes(bytes, len, &s);
    free(bytes);
    if (st == MS_SUCCESS) *state = s;
    return st;
}

static ms_status gp_predict(const void *state, const ms_matrix *x, double *mean, double *sigma)
{
    const gp_state *s = state;
    double *var = NULL;
    if (sigma) {
        var = malloc((x->rows ? x->rows : 1) * sizeof *var);
        MS_CHECK(var, MS_ERR_NOMEM, "gp: prediction buffer");
    }
    ms_status st = ms_gp_predict(s->gp, x, mean, var);
    if (st == MS_SUCCESS && sigma)
        for (size_t i = 0; i < x->rows; i++) sigma[i] = var[i] > 0 ? sqrt(var[i]) : 0.0;
    free(var);
    return st;
}

static ms_status gp_save(const void *state, ms_model_writer *w)
{
    const gp_state *s = state;
    unsigned char *bytes = NULL;
    size_t len = 0;
    MS_CALL(state_to_bytes(s->gp, &bytes, &len));
    ms_model_put_u64(w, (uint64_t)len);
    ms_model_put_bytes(w, bytes, len);
    free(bytes);
    return w->status;
}

static ms_status gp_load(ms_model_reader *r, size_t n_features, ms_model_task task, void **state)
{
    *state = NULL;
    MS_CHECK(task == MS_MODEL_REGRESSION, MS_ERR_PARSE, "gp model is not a regression model");
    uint64_t len = 0;
    MS_CALL(ms_model_get_u64(r, &len));
    MS_CHECK(len <= r->len - r->pos, MS_ERR_PARSE, "truncated model: gp state of %llu bytes",
             (unsigned long long)len);
    gp_state *s = NULL;
    MS_CALL(state_from_bytes(r->data + r->pos, (size_t)len, &s));
    r->pos += (size_t)len;
    size_t d = ms_gp_n_features(s->gp);
    if (d != n_features) {
        gp_free(s);
        return ms_error_set(MS_ERR_PARSE, "gp state has %zu features, the model %zu", d,
                            n_features);
    }
    *state = s;
    return MS_SUCCESS;
}

static void gp_describe(const void *state, FILE *out)
{
    const gp_state *s = state;
    size_t d = ms_gp_n_features(s->gp);
    double *theta = malloc((d + 2) * sizeof *theta);
    size_t n = theta ? ms_gp_params(s->gp, theta, d + 2) : 0;
    fprintf(out, "  gp features: %zu\n", d);
    fprintf(out, "  gp log marginal likelihood: %.6g\n", ms_gp_log_marginal_likelihood(s->gp));
    if (n >= 3) {
        fprintf(out, "  gp signal variance: %.6g\n", exp(theta[0]));
        fprintf(out, "  gp lengthscales: %zu%s\n", n - 2, n == 3 ? " (isotropic)" : " (ARD)");
        fprintf(out, "  gp noise variance: %.6g\n", exp(theta[n - 1]));
    }
    free(theta);
}

const ms_model_type ms_model_type_gp = {
    "gp", "Gaussian process regression (exact on ScaLAPACK, or sparse FITC); mean and latent sigma",
    1, 0, gp_fit, gp_predict, gp_save, gp_load, gp_free, gp_describe, NULL,
    NULL, NULL, NULL};
