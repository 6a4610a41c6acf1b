/*
 * Surrogates and simulated sequential-learning campaigns (see include/matscreen/campaign.h and
 * docs/active-learning.md).
 */
#include "matscreen/campaign.h"

#include <math.h>
#include <mpi.h>
#include <stdlib.h>
#include <string.h>

#include "matscreen/batch.h"
#include "matscreen/rng.h"
#include "matscreen/scaling.h"

/* ---- GP surrogate ---------------------------------------------------------------------------- */

typedef struct gp_surrogate {
    ms_gp_options opt;
    double regrow;
    ms_grid *grid;
    ms_gp *gp;
    double *theta;   /* last fitted log hyperparameters (n_theta) */
    double *ls;      /* exp of the ARD lengthscales, for opt.lengthscales */
    size_t n_theta;
    size_t n_opt;    /* training size at the last optimisation (0: never) */
} gp_surrogate;

static void gp_sur_free(void *state)
{
    gp_surrogate *g = state;
    if (!g) return;
    ms_gp_destroy(&g->gp);
    ms_grid_destroy(&g->grid);
    free(g->theta);
    free(g->ls);
    free(g);
}

static ms_status gp_sur_fit(void *state, const ms_matrix *x, const double *y, uint64_t seed)
{
    gp_surrogate *g = state;
    size_t d = x->cols, np = ms_gp_n_params(&g->opt, d);
    if (g->theta && g->n_theta != np) {
        free(g->theta);
        free(g->ls);
        g->theta = g->ls = NULL;
        g->n_opt = 0;
    }
    if (!g->theta) {
        g->theta = calloc(np, sizeof *g->theta);
        g->ls = calloc(d + 1, sizeof *g->ls);
        MS_CHECK(g->theta && g->ls, MS_ERR_NOMEM, "gp surrogate: out of memory");
        g->n_theta = np;
    }
    ms_gp_options o = g->opt;
    o.seed = seed;
    o.optimize = g->opt.optimize && (g->n_opt == 0 || (double)x->rows >= g->regrow * (double)g->n_opt);
    if (g->n_opt > 0) { /* warm start, or fixed at the last optimum */
        o.signal_var = exp(g->theta[0]);
        if (o.ard) {
            for (size_t k = 0; k < d; k++) g->ls[k] = exp(g->theta[1 + k]);
            o.lengthscales = g->ls;
        } else {
            o.lengthscale = exp(g->theta[1]);
        }
        o.noise_var = exp(g->theta[np - 1]);
    }
    ms_status st = MS_ERR_INVALID;
    for (int attempt = 0; attempt < 5; attempt++) {
        ms_gp_destroy(&g->gp);
        st = ms_gp_fit(g->grid, x, y, &o, &g->gp);
        if (st != MS_ERR_INVALID) break;
        o.noise_var *= 10.0;
    }
    if (st != MS_SUCCESS) return st;
    ms_error_clear();
    if (o.optimize) {
        ms_gp_params(g->gp, g->theta, np);
        g->n_opt = x->rows;
    } else if (g->n_opt > 0) {
        g->theta[np - 1] = log(o.noise_var); /* keep a raised noise */
    }
    return MS_SUCCESS;
}

static ms_status gp_sur_predict(void *state, const ms_matrix *x, double *mean, double *sigma)
{
    gp_surrogate *g = state;
    MS_CHECK(g->gp, MS_ERR_USAGE, "gp surrogate: predict before fit");
    MS_CALL(ms_gp_predict(g->gp, x, mean, sigma));
    for (size_t i = 0; i < x->rows; i++) sigma[i] = sigma[i] > 0 ? sqrt(sigma[i]) : 0.0;
    return MS_SUCCESS;
}

static const ms_surrogate_type gp_surrogate_type = {"gp", gp_sur_fit, gp_sur_predict, gp_sur_free};

void ms_surrogate_gp_defaults(ms_gp_options *opt, size_t d)
{
    ms_gp_options_default(opt);
    opt->kernel = MS_GP_KERNEL_MATERN52;
    opt->ard = 0;
    opt->signal_var = 1.0;
    opt->lengthscale = d > 0 ? sqrt((double)d) : 1.0;
    opt->noise_var = 0.1;
    opt->normalize_y = 1;
    opt->optimize = 1;
    opt->max_iter = 40;
    opt->restarts = 1;
}

ms_status ms_surrogate_gp_create(const ms_gp_options *opt, double regrow, ms_surrogate *out)
{
    out->type = NULL;
    out->state = NULL;
    MS_CHECK(!opt->lengthscales, MS_ERR_USAGE, "gp surrogate: per-feature initial lengthscales are"
                                               " not supported");
    MS_CHECK(regrow > 1.0 || !opt->optimize, MS_ERR_USAGE, "gp surrogate: regrow must be > 1");
    gp_surrogate *g = calloc(1, sizeof *g);
    MS_CHECK(g, MS_ERR_NOMEM, "gp surrogate: out of memory");
    g->opt = *opt;
    g->regrow = regrow;
    ms_status st = ms_grid_create_serial(64, &g->grid);
    if (st != MS_SUCCESS) {
        free(g);
        return st;
    }
    out->type = &gp_surrogate_type;
    out->state = g;
    return MS_SUCCESS;
}

/* ---- forest surrogate ------------------------------------------------------------------------ */

typedef struct forest_surrogate {
    ms_forest_params params;
    ms_forest *forest;
} forest_surrogate;

static void forest_sur_free(void *state)
{
    forest_surrogate *f = state;
    if (!f) return;
    ms_forest_free(f->forest);
    free(f);
}

static ms_status forest_sur_fit(void *state, const ms_matrix *x, const double *y, uint64_t seed)
{
    forest_surrogate *f = state;
    int init = 0;
    MPI_Initialized(&init);
    MS_CHECK(init, MS_ERR_USAGE, "forest surrogate: MPI is not initialised");
    ms_forest_free(f->forest);
    f->forest = NULL;
    ms_forest_params p = f->params;
    p.seed = seed;
    return ms_forest_fit(&p, x, y, 0, MPI_COMM_SELF, &f->forest);
}

static ms_status forest_sur_predict(void *state, const ms_matrix *x, double *mean, double *sigma)
{
    forest_surrogate *f = state;
    MS_CHECK(f->forest, MS_ERR_USAGE, "forest surrogate: predict before fit");
    return ms_forest_predict(f->forest, x, mean, sigma);
}

static const ms_surrogate_type forest_surrogate_type = {"forest", forest_sur_fit,
                                                        forest_sur_predict, forest_sur_free};

ms_status ms_surrogate_forest_create(const ms_forest_params *params, ms_surrogate *out)
{
    out->type = NULL;
    out->state = NULL;
    forest_surrogate *f = calloc(1, sizeof *f);
    MS_CHECK(f, MS_ERR_NOMEM, "forest surrogate: out of memory");
    f->params = *params;
    out->type = &forest_surrogate_type;
    out->state = f;
    return MS_SUCCESS;
}

void ms_surrogate_free(ms_surrogate *s)
{
    if (s->type && s->type->free) s->type->free(s->state);
    s->type = NULL;
    s->state = NULL;
}

/* ---- pool preparation ------------------------------------------------------------------------ */

ms_status ms_campaign_prepare(ms_matrix *x)
{
    size_t p = x->cols;
    double *buf = malloc((3 * p + 1) * sizeof *buf);
    MS_CHECK(buf, MS_ERR_NOMEM, "campaign: out of memory");
    ms_status st = ms_scaling_medians(x, buf);
    if (st == MS_SUCCESS) {
        ms_scaling_impute(x, buf);
        ms_scaling_fit(x, buf + p, buf + 2 * p);
        ms_scaling_apply(x, buf + p, buf + 2 * p);
    }
    free(buf);
    return st;
}

/* ---- campaigns ------------------------------------------------------------------------------- */

void ms_campaign_options_default(ms_campaign_options *o)
{
    ms_acq_params_default(&o->acq);
    o->n0 = 10;
    o->batch = 1;
    o->budget = 0;
    o->top_frac = 0.01;
    o->radius = 0.25;
    o->stop_when_found = 1;
    o->seed = 0;
}

static int cmp_double_desc(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return a > b ? -1 : a < b;
}

typedef struct campaign_work {
    unsigned char *labelled;
    size_t *lab, *unl, *chosen;
    double *yl, *mean, *sigma, *score;
    ms_matrix xl, xu;
} campaign_work;

static void work_free(campaign_work *w)
{
    free(w->labelled);
    free(w->lab);
    free(w->unl);
    free(w->chosen);
    free(w->yl);
    free(w->mean);
    free(w->sigma);
    free(w->score);
    ms_matrix_free(&w->xl);
    ms_matrix_free(&w->xu);
}

/* Rebuilds the ascending list of unlabelled rows; returns its length. */
static size_t rebuild_unlabelled(const unsigned char *labelled, size_t n, size_t *unl)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (!labelled[i]) unl[m++] = i;
    return m;
}

static void copy_rows(const ms_matrix *x, const size_t *idx, size_t m, ms_matrix *dst)
{
    size_t p = x->cols;
    for (size_t a = 0; a < m; a++) memcpy(dst->data + a * p, x->data + idx[a] * p, p * sizeof(double));
    dst->rows = m;
}

ms_status ms_campaign_run(const ms_matrix *x, const double *y, const ms_campaign_options *opt,
                          ms_surrogate *sur, size_t s, ms_campaign_result *res)
{
    memset(res, 0, sizeof *res);
    size_t n = x->rows, p = x->cols;
    int minimize = opt->acq.minimize;
    int random = opt->acq.kind == MS_ACQ_RANDOM;
    MS_CHECK(opt->n0 >= 2 && opt->n0 < n, MS_ERR_USAGE, "campaign: n0 = %zu must be in 2..%zu",
             opt->n0, n > 0 ? n - 1 : 0);
    MS_CHECK(opt->batch >= 1, MS_ERR_USAGE, "campaign: batch must be >= 1");
    MS_CHECK(opt->top_frac > 0 && opt->top_frac <= 1, MS_ERR_USAGE,
             "campaign: top fraction must be in (0, 1]");
    MS_CHECK(random || (sur && sur->type), MS_ERR_USAGE, "campaign: %s needs a surrogate",
             ms_acq_name(opt->acq.kind));
    for (size_t i = 0; i < n; i++)
        MS_CHECK(isfinite(y[i]), MS_ERR_USAGE, "campaign: label %zu is not finite", i);

    /* best and top sets, in the orientation "larger is better" */
    double *sorted = malloc(n * sizeof *sorted);
    MS_CHECK(sorted, MS_ERR_NOMEM, "campaign: out of memory");
    for (size_t i = 0; i < n; i++) sorted[i] = minimize ? -y[i] : y[i];
    qsort(sorted, n, sizeof *sorted, cmp_double_desc);
    size_t k_top = (size_t)ceil(opt->top_frac * (double)n - 1e-9);
    if (k_top < 1) k_top = 1;
    double best_v = sorted[0], top_v = sorted[k_top - 1];
    free(sorted);
    res->n_pool = n;
    for (size_t i = 0; i < n; i++) {
        double v = minimize ? -y[i] : y[i];
        res->n_best += v == best_v;
        res->n_top += v >= top_v;
    }

    campaign_work w = {0};
    w.labelled = calloc(n, 1);
    w.lab = malloc(n * sizeof *w.lab);
    w.unl = malloc(n * sizeof *w.unl);
    w.chosen = malloc(opt->batch * sizeof *w.chosen);
    w.yl = malloc(n * sizeof *w.yl);
    w.mean = malloc(n * sizeof *w.mean);
    w.sigma = malloc(n * sizeof *w.sigma);
    w.score = malloc(n * sizeof *w.score);
    ms_status st = MS_SUCCESS;
    if (!w.labelled || !w.lab || !w.unl || !w.chosen || !w.yl || !w.mean || !w.sigma || !w.score)
        st = ms_error_set(MS_ERR_NOMEM, "campaign: out of memory");
    if (st == MS_SUCCESS && !random) st = ms_matrix_alloc(&w.xl, n, p);
    if (st == MS_SUCCESS && !random) st = ms_matrix_alloc(&w.xu, n, p);
    if (st != MS_SUCCESS) {
        work_free(&w);
        return st;
    }

    /* initial set: partial Fisher-Yates over 0..n-1 from stream (S, 2 s) */
    ms_rng rng_init, rng_pick, rng_fit;
    ms_rng_seed(&rng_init, opt->seed, 2 * (uint64_t)s);
    ms_rng_seed(&rng_pick, opt->seed, 2 * (uint64_t)s + 1);
    ms_rng_seed(&rng_fit, opt->seed, ((uint64_t)1 << 32) + (uint64_t)s);
    for (size_t i = 0; i < n; i++) w.unl[i] = i;
    for (size_t a = 0; a < opt->n0; a++) {
        size_t j = a + (size_t)ms_rng_below(&rng_init, n - a);
        size_t t = w.unl[a];
        w.unl[a] = w.unl[j];
        w.unl[j] = t;
    }
    size_t n_lab = 0;
    res->best_initial = minimize ? INFINITY : -INFINITY;
    for (size_t a = 0; a < opt->n0; a++) {
        size_t i = w.unl[a];
        w.labelled[i] = 1;
        w.lab[n_lab++] = i;
        double v = minimize ? -y[i] : y[i];
        if (v == best_v) res->found_best = 1;
        if (v >= top_v) res->found_top = 1;
        if (minimize ? y[i] < res->best_initial : y[i] > res->best_initial) res->best_initial = y[i];
    }
    size_t n_unl = rebuild_unlabelled(w.labelled, n, w.unl);
    size_t budget = opt->budget ? opt->budget : n - opt->n0;
    double best_so_far = res->best_initial;

    while (st == MS_SUCCESS && res->acquired < budget && n_unl > 0 &&
           !(opt->stop_when_found && res->found_best)) {
        size_t k = opt->batch;
        if (k > budget - res->acquired) k = budget - res->acquired;
        if (k > n_unl) k = n_unl;
        size_t n_chosen = 0;
        if (random) {
            for (size_t t = 0; t < k; t++) {
                size_t j = (size_t)ms_rng_below(&rng_pick, n_unl - t);
                w.chosen[t] = w.unl[j];
                w.unl[j] = w.unl[n_unl - t - 1]; /* swap-remove; the list is rebuilt below */
            }
            n_chosen = k;
        } else {
            copy_rows(x, w.lab, n_lab, &w.xl);
            for (size_t a = 0; a < n_lab; a++) w.yl[a] = y[w.lab[a]];
            st = sur->type->fit(sur->state, &w.xl, w.yl, ms_rng_next(&rng_fit));
            res->rounds++;
            if (st == MS_SUCCESS) {
                copy_rows(x, w.unl, n_unl, &w.xu);
                st = sur->type->predict(sur->state, &w.xu, w.mean, w.sigma);
            }
            if (st == MS_SUCCESS)
                st = ms_acq_score(&opt->acq, w.mean, w.sigma, NULL, n_unl, best_so_far, w.score);
            if (st == MS_SUCCESS)
                st = ms_batch_select(w.score, NULL, n_unl, &w.xu, opt->radius, k, w.chosen,
                                     &n_chosen, NULL);
            if (st == MS_SUCCESS && n_chosen == 0)
                st = ms_error_set(MS_ERR_INVALID, "campaign: the surrogate gave no finite score");
            for (size_t t = 0; st == MS_SUCCESS && t < n_chosen; t++) w.chosen[t] = w.unl[w.chosen[t]];
        }
        if (st != MS_SUCCESS) break;
        res->acquired += n_chosen;
        for (size_t t = 0; t < n_chosen; t++) {
            size_t i = w.chosen[t];
            w.labelled[i] = 1;
            w.lab[n_lab++] = i;
            double v = minimize ? -y[i] : y[i];
            if (minimize ? y[i] < best_so_far : y[i] > best_so_far) best_so_far = y[i];
            if (v >= top_v && !res->found_top) {
                res->found_top = 1;
                res->to_top = res->acquired;
            }
            if (v == best_v && !res->found_best) {
                res->found_best = 1;
                res->to_best = res->acquired;
            }
        }
        n_unl = rebuild_unlabelled(w.labelled, n, w.unl);
    }
    if (!res->found_best) res->to_best = res->acquired;
    if (!res->found_top) res->to_top = res->acquired;
    work_free(&w);
    return st;
}
