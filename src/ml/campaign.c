/*
 * Surrogates and simulated sequential-learning campaigns (see include/matscreen/campaign.h and
 * docs/active-learning.md).
 */
#include "matscreen/campaign.h"

#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "matscreen/batch.h"
#include "matscreen/comm.h"
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

ms_status ms_surrogate_create(const char *name, size_t d, const ms_forest_params *forest,
                              ms_surrogate *out)
{
    out->type = NULL;
    out->state = NULL;
    if (strcmp(name, "gp") == 0) {
        ms_gp_options go;
        ms_surrogate_gp_defaults(&go, d);
        return ms_surrogate_gp_create(&go, 1.5, out);
    }
    MS_CHECK(strcmp(name, "forest") == 0, MS_ERR_USAGE, "surrogate '%s': gp or forest", name);
    ms_forest_params fp;
    if (forest) fp = *forest;
    else ms_forest_params_default(&fp);
    return ms_surrogate_forest_create(&fp, out);
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

double ms_campaign_default_kappa(int grouped) { return grouped ? 1.0 : MS_ACQ_DEFAULT_KAPPA; }

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
    o->group = NULL;
    o->pool_frac = 0.2;
}

/* Grouped mode: in_pool[i] = 1 for the rows of the groups campaign s holds out (groups in an order
 * drawn from rng, taken until the pool holds >= frac n rows). Returns the pool size, 0 when out
 * of memory. */
static size_t grouped_pool(const int *group, size_t n, double frac, ms_rng *rng,
                           unsigned char *in_pool)
{
    int gmax = -1;
    for (size_t i = 0; i < n; i++) gmax = group[i] > gmax ? group[i] : gmax;
    size_t ng = (size_t)(gmax + 1), *order = malloc((ng + 1) * sizeof *order);
    size_t *count = calloc(ng + 1, sizeof *count);
    unsigned char *take = calloc(ng + 1, 1);
    size_t pool = 0;
    if (order && count && take) {
        for (size_t i = 0; i < n; i++) count[group[i]]++;
        for (size_t g = 0; g < ng; g++) order[g] = g;
        for (size_t g = ng; g > 1; g--) {
            size_t j = (size_t)ms_rng_below(rng, g), t = order[g - 1];
            order[g - 1] = order[j];
            order[j] = t;
        }
        for (size_t g = 0; g < ng && (double)pool < frac * (double)n; g++) {
            take[order[g]] = 1;
            pool += count[order[g]];
        }
        for (size_t i = 0; i < n; i++) in_pool[i] = take[group[i]];
    }
    free(order);
    free(count);
    free(take);
    return pool;
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

/* One surrogate round: fits on the labelled rows, scores the unlabelled ones and puts the
 * batch of k (row indices) in w->chosen. */
static ms_status surrogate_pick(const ms_matrix *x, const double *y, const ms_campaign_options *opt,
                                ms_surrogate *sur, campaign_work *w, size_t n_lab, size_t n_unl,
                                size_t k, double best_so_far, uint64_t fit_seed, size_t *n_chosen)
{
    copy_rows(x, w->lab, n_lab, &w->xl);
    for (size_t a = 0; a < n_lab; a++) w->yl[a] = y[w->lab[a]];
    ms_status st = sur->type->fit(sur->state, &w->xl, w->yl, fit_seed);
    if (st == MS_SUCCESS) {
        copy_rows(x, w->unl, n_unl, &w->xu);
        st = sur->type->predict(sur->state, &w->xu, w->mean, w->sigma);
    }
    if (st == MS_SUCCESS)
        st = ms_acq_score(&opt->acq, w->mean, w->sigma, NULL, n_unl, best_so_far, w->score);
    if (st == MS_SUCCESS)
        st = ms_batch_select(w->score, NULL, n_unl, &w->xu, opt->radius, k, w->chosen, n_chosen,
                             NULL);
    if (st == MS_SUCCESS && *n_chosen == 0)
        st = ms_error_set(MS_ERR_INVALID, "campaign: the surrogate gave no finite score");
    for (size_t t = 0; st == MS_SUCCESS && t < *n_chosen; t++) w->chosen[t] = w->unl[w->chosen[t]];
    return st;
}

ms_status ms_campaign_run(const ms_matrix *x, const double *y, const ms_campaign_options *opt,
                          ms_surrogate *sur, size_t s, ms_campaign_result *res)
{
    memset(res, 0, sizeof *res);
    size_t n = x->rows, p = x->cols;
    int minimize = opt->acq.minimize;
    int random = opt->acq.kind == MS_ACQ_RANDOM;
    MS_CHECK(opt->group || (opt->n0 >= 2 && opt->n0 < n), MS_ERR_USAGE,
             "campaign: n0 = %zu must be in 2..%zu", opt->n0, n > 0 ? n - 1 : 0);
    MS_CHECK(opt->batch >= 1, MS_ERR_USAGE, "campaign: batch must be >= 1");
    MS_CHECK(opt->top_frac > 0 && opt->top_frac <= 1, MS_ERR_USAGE,
             "campaign: top fraction must be in (0, 1]");
    MS_CHECK(random || (sur && sur->type), MS_ERR_USAGE, "campaign: %s needs a surrogate",
             ms_acq_name(opt->acq.kind));
    for (size_t i = 0; i < n; i++)
        MS_CHECK(isfinite(y[i]), MS_ERR_USAGE, "campaign: label %zu is not finite", i);

    ms_rng rng_init, rng_pick, rng_fit;
    ms_rng_seed(&rng_init, opt->seed, 2 * (uint64_t)s);
    ms_rng_seed(&rng_pick, opt->seed, 2 * (uint64_t)s + 1);
    ms_rng_seed(&rng_fit, opt->seed, ((uint64_t)1 << 32) + (uint64_t)s);
    /* the pool: every row, or (grouped mode) the held-out groups' rows */
    unsigned char *in_pool = malloc(n + 1);
    double *sorted = malloc((n + 1) * sizeof *sorted);
    if (!in_pool || !sorted) {
        free(in_pool);
        free(sorted);
        return ms_error_set(MS_ERR_NOMEM, "campaign: out of memory");
    }
    memset(in_pool, 1, n);
    size_t n_pool = opt->group ? grouped_pool(opt->group, n, opt->pool_frac, &rng_init, in_pool) : n;
    if (!n_pool || n - n_pool < (opt->group ? 2 : 0)) {
        free(in_pool);
        free(sorted);
        return ms_error_set(n_pool ? MS_ERR_USAGE : MS_ERR_NOMEM,
                            "campaign: a grouped pool of %zu rows leaves %zu to learn from", n_pool,
                            n - n_pool);
    }
    /* best and top sets of the pool, in the orientation "larger is better" */
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (in_pool[i]) sorted[m++] = minimize ? -y[i] : y[i];
    qsort(sorted, m, sizeof *sorted, cmp_double_desc);
    size_t k_top = (size_t)ceil(opt->top_frac * (double)m - 1e-9);
    if (k_top < 1) k_top = 1;
    double best_v = sorted[0], top_v = sorted[k_top - 1];
    free(sorted);
    res->n_pool = n_pool;
    for (size_t i = 0; i < n; i++) {
        double v = minimize ? -y[i] : y[i];
        res->n_best += in_pool[i] && v == best_v;
        res->n_top += in_pool[i] && v >= top_v;
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
        free(in_pool);
        return st;
    }

    /* initial set: partial Fisher-Yates over 0..n-1 from stream (S, 2 s); grouped: every row
     * outside the pool */
    size_t n0 = opt->n0;
    if (opt->group) {
        n0 = 0;
        for (size_t i = 0; i < n; i++)
            if (!in_pool[i]) w.unl[n0++] = i;
    } else {
        for (size_t i = 0; i < n; i++) w.unl[i] = i;
    }
    for (size_t a = 0; !opt->group && a < n0; a++) {
        size_t j = a + (size_t)ms_rng_below(&rng_init, n - a);
        size_t t = w.unl[a];
        w.unl[a] = w.unl[j];
        w.unl[j] = t;
    }
    size_t n_lab = 0;
    res->best_initial = minimize ? INFINITY : -INFINITY;
    for (size_t a = 0; a < n0; a++) {
        size_t i = w.unl[a];
        w.labelled[i] = 1;
        w.lab[n_lab++] = i;
        double v = minimize ? -y[i] : y[i];
        if (in_pool[i] && v == best_v) res->found_best = 1;
        if (in_pool[i] && v >= top_v) res->found_top = 1;
        if (minimize ? y[i] < res->best_initial : y[i] > res->best_initial) res->best_initial = y[i];
    }
    size_t n_unl = rebuild_unlabelled(w.labelled, n, w.unl);
    size_t budget = opt->budget ? opt->budget : n - n0;
    free(in_pool);
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
            res->rounds++;
            st = surrogate_pick(x, y, opt, sur, &w, n_lab, n_unl, k, best_so_far,
                                ms_rng_next(&rng_fit), &n_chosen);
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

/* ---- sets of campaigns ----------------------------------------------------------------------- */

/* The integer fields of a result, in the order they are packed for the reduction. */
enum { P_TO_BEST, P_TO_TOP, P_FOUND_BEST, P_FOUND_TOP, P_ACQUIRED, P_ROUNDS, P_N_BEST, P_N_TOP,
       P_N_POOL, P_COUNT };

ms_status ms_campaign_gather(ms_campaign_result *res, size_t n, int root, MPI_Comm comm)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    long *p = calloc(n * P_COUNT + 1, sizeof *p), *all = calloc(n * P_COUNT + 1, sizeof *all);
    double *b = calloc(n + 1, sizeof *b), *b_all = calloc(n + 1, sizeof *b_all);
    int ok = p && all && b && b_all, all_ok = ms_comm_all_ok(comm, ok);
    ms_status st = MS_SUCCESS;
    if (!all_ok) {
        st = ms_error_set(MS_ERR_NOMEM, ok ? "campaign gather: out of memory on another rank"
                                           : "campaign gather: out of memory");
    } else {
        for (size_t t = 0; t < n; t++) {
            long *q = p + t * P_COUNT;
            const ms_campaign_result *r = res + t;
            q[P_TO_BEST] = (long)r->to_best;
            q[P_TO_TOP] = (long)r->to_top;
            q[P_FOUND_BEST] = r->found_best;
            q[P_FOUND_TOP] = r->found_top;
            q[P_ACQUIRED] = (long)r->acquired;
            q[P_ROUNDS] = (long)r->rounds;
            q[P_N_BEST] = (long)r->n_best;
            q[P_N_TOP] = (long)r->n_top;
            q[P_N_POOL] = (long)r->n_pool;
            b[t] = r->best_initial;
        }
        MPI_Reduce(p, all, (int)(n * P_COUNT), MPI_LONG, MPI_SUM, root, comm);
        MPI_Reduce(b, b_all, (int)n, MPI_DOUBLE, MPI_SUM, root, comm);
        for (size_t t = 0; rank == root && t < n; t++) {
            const long *q = all + t * P_COUNT;
            ms_campaign_result *r = res + t;
            r->to_best = (size_t)q[P_TO_BEST];
            r->to_top = (size_t)q[P_TO_TOP];
            r->found_best = (int)q[P_FOUND_BEST];
            r->found_top = (int)q[P_FOUND_TOP];
            r->acquired = (size_t)q[P_ACQUIRED];
            r->rounds = (size_t)q[P_ROUNDS];
            r->n_best = (size_t)q[P_N_BEST];
            r->n_top = (size_t)q[P_N_TOP];
            r->n_pool = (size_t)q[P_N_POOL];
            r->best_initial = b_all[t];
        }
    }
    free(p);
    free(all);
    free(b);
    free(b_all);
    return st;
}

static int cmp_size(const void *pa, const void *pb)
{
    size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
    return a < b ? -1 : a > b;
}

/* Statistics of the acquisitions to a best (top = 0) or top (top = 1) material over the seeds
 * results r[0..S); v is scratch of S entries. */
static void stats_of(const ms_campaign_result *r, size_t S, int top, size_t *v,
                     ms_campaign_stats *s)
{
    memset(s, 0, sizeof *s);
    double sum = 0, ss = 0;
    for (size_t i = 0; i < S; i++) {
        v[i] = top ? r[i].to_top : r[i].to_best;
        sum += (double)v[i];
        s->not_found += !(top ? r[i].found_top : r[i].found_best);
    }
    s->mean = sum / (double)S;
    for (size_t i = 0; i < S; i++) ss += ((double)v[i] - s->mean) * ((double)v[i] - s->mean);
    s->std = S > 1 ? sqrt(ss / (double)(S - 1)) : 0.0;
    qsort(v, S, sizeof *v, cmp_size);
    s->median = S % 2 ? (double)v[S / 2] : 0.5 * ((double)v[S / 2 - 1] + (double)v[S / 2]);
    s->min = v[0];
    s->max = v[S - 1];
}

/* random's mean / this mean, with what censoring makes of it (ms_campaign_summary). */
static double speedup(int have_random, const ms_campaign_stats *rnd, const ms_campaign_stats *s,
                      const char **bound)
{
    int cr = rnd->not_found > 0, cs = s->not_found > 0;
    *bound = cr && cs ? "unknown" : cs ? "at_most" : cr ? "at_least" : "exact";
    if (!have_random || !(s->mean > 0) || (cr && cs)) return NAN;
    return rnd->mean / s->mean;
}

ms_status ms_campaign_summarise(const ms_acq_kind *acq, size_t n_acq, size_t seeds,
                                const ms_campaign_result *res, ms_campaign_summary *out)
{
    size_t *v = malloc((seeds + 1) * sizeof *v);
    MS_CHECK(v, MS_ERR_NOMEM, "campaign summary: out of memory");
    ms_campaign_stats rnd_best = {0}, rnd_top = {0};
    int have_random = 0;
    for (size_t q = 0; q < n_acq; q++) {
        stats_of(res + q * seeds, seeds, 0, v, &out[q].best);
        stats_of(res + q * seeds, seeds, 1, v, &out[q].top);
        if (acq[q] == MS_ACQ_RANDOM) {
            rnd_best = out[q].best;
            rnd_top = out[q].top;
            have_random = 1;
        }
    }
    for (size_t q = 0; q < n_acq; q++) {
        ms_campaign_summary *s = out + q;
        s->speedup_best = speedup(have_random, &rnd_best, &s->best, &s->speedup_best_bound);
        s->speedup_top = speedup(have_random, &rnd_top, &s->top, &s->speedup_top_bound);
    }
    free(v);
    return MS_SUCCESS;
}

void ms_campaign_write_runs(FILE *f, const ms_acq_kind *acq, size_t n_acq, size_t seeds,
                            const ms_campaign_result *res)
{
    fprintf(f, "acquisition,seed_index,to_best,found_best,to_top,found_top,acquired,rounds,"
               "n_pool,n_best,n_top,best_initial\n");
    for (size_t q = 0; q < n_acq; q++)
        for (size_t s = 0; s < seeds; s++) {
            const ms_campaign_result *r = res + q * seeds + s;
            fprintf(f, "%s,%zu,%zu,%d,%zu,%d,%zu,%zu,%zu,%zu,%zu,%.17g\n", ms_acq_name(acq[q]), s,
                    r->to_best, r->found_best, r->to_top, r->found_top, r->acquired, r->rounds,
                    r->n_pool, r->n_best, r->n_top, r->best_initial);
        }
}

void ms_campaign_write_summary(FILE *f, const ms_acq_kind *acq, size_t n_acq, size_t seeds,
                               const ms_campaign_summary *sum)
{
    fprintf(f, "acquisition,seeds,best_mean,best_std,best_median,best_min,best_max,best_not_found,"
               "top_mean,top_std,top_median,top_min,top_max,top_not_found,speedup_best_vs_random,"
               "speedup_top_vs_random,speedup_best_bound,speedup_top_bound\n");
    for (size_t q = 0; q < n_acq; q++) {
        const ms_campaign_stats *b = &sum[q].best, *t = &sum[q].top;
        fprintf(f, "%s,%zu,%.6g,%.6g,%.6g,%zu,%zu,%zu,%.6g,%.6g,%.6g,%zu,%zu,%zu,%.4g,%.4g,%s,%s\n",
                ms_acq_name(acq[q]), seeds, b->mean, b->std, b->median, b->min, b->max,
                b->not_found, t->mean, t->std, t->median, t->min, t->max, t->not_found,
                sum[q].speedup_best, sum[q].speedup_top, sum[q].speedup_best_bound,
                sum[q].speedup_top_bound);
    }
}
