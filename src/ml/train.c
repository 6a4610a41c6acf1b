/* Training and cross-validating a model on a labelled dataset; see train.h. */
#include "matscreen/train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "matscreen/calibration.h"
#include "matscreen/comm.h"
#include "matscreen/cv.h"
#include "matscreen/domain.h"
#include "matscreen/forest.h"
#include "ml_impl.h"

/* The training rows' element sets: elements seen, and the requirement (spec->requires, else the
 * elements present in at least MS_TRAIN_REQUIRE_FRACTION of the rows; train.h). Nothing when the
 * dataset has no element sets. */
static void record_elements(ms_model *m, const ms_model_spec *spec, const ms_dataset *d)
{
    if (!d->elements) return;
    m->has_elements = 1;
    for (int z = 1; z <= MS_MAX_Z; z++) {
        size_t count = 0;
        for (size_t i = 0; i < d->n; i++) count += (size_t)ms_dataset_has_element(d, i, z);
        m->elem_seen[z] = count > 0;
        int common = d->n > 0 && (double)count >= MS_TRAIN_REQUIRE_FRACTION * (double)d->n;
        m->elem_required[z] = (unsigned char)(spec->requires ? spec->requires[z] != 0 : common);
    }
}

/* The groups of the rows of a model's domain (record_domain): chemical systems, else each row
 * its own; NULL when out of memory. */
static uint64_t *domain_groups(const ms_dataset *d)
{
    uint64_t *g = malloc((d->n + 1) * sizeof *g);
    for (size_t i = 0; g && i < d->n; i++)
        g[i] = d->elements ? ms_dataset_chemical_system(d, i) : (uint64_t)i;
    return g;
}

/* The domain of applicability over the standardised training rows, grouped by chemical system. */
static ms_status record_domain(ms_model *m, const ms_dataset *d)
{
    ms_matrix z = {0};
    uint64_t *g = domain_groups(d);
    ms_status st = g ? ms_model_standardize(m, &d->x, &z)
                     : ms_error_set(MS_ERR_NOMEM, "domain: out of memory");
    if (st == MS_SUCCESS) st = ms_domain_build(&z, g, MS_DOMAIN_K, MS_DOMAIN_QUANTILE, &m->domain);
    ms_matrix_free(&z);
    free(g);
    return st;
}

ms_status ms_train_fit(const ms_model_spec *spec, const ms_dataset *d, int log10_target,
                       double threshold, unsigned flags, MPI_Comm comm, ms_model **out)
{
    *out = NULL;
    ms_model *m = NULL;
    ms_status st = ms_model_fit(spec, &d->x, d->y, (const char *const *)d->feature_names, comm, &m);
    if (st == MS_SUCCESS)
        st = ms_model_set_meta(m, d->target_name, log10_target, threshold, d->set_name,
                               d->set_version, d->set_signature);
    if (st == MS_SUCCESS && !d->classification) ms_model_set_labels(m, d->y, d->n, spec->goal);
    if (st == MS_SUCCESS) record_elements(m, spec, d);
    if (st == MS_SUCCESS && spec->domain) st = record_domain(m, d);
    if (st == MS_SUCCESS && !d->classification) {
        double s = 0;
        for (size_t i = 0; i < d->n; i++) s += d->y[i];
        st = ms_model_add_metric(m, "train_mean", s / (double)d->n);
    }
    if (st == MS_SUCCESS && m->type == &ms_model_type_forest) {
        /* informative only: a full metric table is not an error */
        ms_forest_oob o;
        ms_forest_oob_summary(m->state, &o);
        if (d->classification) {
            ms_model_add_metric(m, "oob_roc_auc", o.roc_auc);
            if (flags & MS_TRAIN_OOB_ALL) ms_model_add_metric(m, "oob_accuracy", o.accuracy);
        } else {
            ms_model_add_metric(m, "oob_mae", o.mae);
            ms_model_add_metric(m, "oob_r2", o.r2);
            if (flags & MS_TRAIN_OOB_ALL) {
                ms_model_add_metric(m, "oob_sigma_scale", o.sigma_scale);
                ms_model_add_metric(m, "oob_noise_sd", o.noise_sd);
                ms_model_add_metric(m, "oob_within1", o.within1);
            }
        }
    }
    if (st != MS_SUCCESS) {
        ms_model_free(m);
        return st;
    }
    *out = m;
    return MS_SUCCESS;
}

ms_status ms_train_folds(const ms_dataset *d, const ms_group_spec *g, size_t k, uint64_t seed,
                         int *fold)
{
    size_t n = d->n;
    if (!g || g->kind == MS_GROUP_NONE) {
        if (d->classification) ms_folds_stratified(d->y, n, k, seed, fold);
        else ms_folds_kfold(n, k, seed, fold);
        return MS_SUCCESS;
    }
    int *group = malloc((n + 1) * sizeof *group);
    MS_CHECK(group, MS_ERR_NOMEM, "out of memory");
    size_t ng = 0;
    ms_status st = ms_cv_groups(d, g, seed, group, &ng);
    if (st == MS_SUCCESS) st = ms_folds_grouped(group, n, k, seed, fold);
    free(group);
    return st;
}

/* Broadcasts from owner the predictions of fold f's test rows (rows i with fold[i] == f) in the
 * n_arr arrays arr (each d->n entries); buf holds 3 n doubles. Collective on comm. */
static void bcast_fold(const int *fold, size_t n, int f, int owner, int rank, MPI_Comm comm,
                       double *buf, double *const *arr, size_t n_arr)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++) m += fold[i] == f;
    size_t q = 0;
    for (size_t i = 0; rank == owner && i < n; i++)
        if (fold[i] == f) {
            for (size_t a = 0; a < n_arr; a++) buf[a * m + q] = arr[a][i];
            q++;
        }
    MPI_Bcast(buf, (int)(n_arr * m), MPI_DOUBLE, owner, comm);
    q = 0;
    for (size_t i = 0; rank != owner && i < n; i++)
        if (fold[i] == f) {
            for (size_t a = 0; a < n_arr; a++) arr[a][i] = buf[a * m + q];
            q++;
        }
}

/* ms_cv_predict_recalibrated (rc NULL: plain fits) with the folds spread over the ranks. Of k
 * folds on size ranks, the first size * floor(k / size) are fitted one rank each, fold f by rank
 * f % size alone (MPI_COMM_SELF): then every part of a fit runs in parallel (binning, trees,
 * out-of-bag pass, test predictions, a fold's inner recalibration CV), where a fit spread over
 * the ranks shares only its trees and repeats the rest on every rank. The k % size folds left
 * over are fitted by all ranks together, as before. A fold's model does not depend on the
 * communicator that fits it (forest trees and gbm members are seeded by their index; the GP is
 * equal to rounding, as it is for any rank count), so the predictions are the same bytes for any
 * number of ranks. Collective on comm. */
static ms_status cv_predict_spread(const ms_model_spec *spec, const ms_dataset *d,
                                   const int *fold, size_t k, const ms_cv_recal *rc,
                                   const uint64_t *dgroup, MPI_Comm comm, double *mean,
                                   double *sigma, double *sigma_own, double *dist,
                                   size_t *n_recal)
{
    int rank, size;
    ms_mpi_rank_size(comm, &rank, &size);
    size_t nloc = (size_t)size * (k / (size_t)size);
    if (size < 2 || nloc == 0)
        return ms_cv_predict_recalibrated(spec, &d->x, d->y, fold, k, rc, dgroup, comm, mean,
                                          sigma, sigma_own, dist, n_recal);
    size_t n = d->n, n_arr = 0, mine = 0, rest = 0;
    double *arr[4];
    arr[n_arr++] = mean;
    if (sigma) arr[n_arr++] = sigma;
    if (sigma_own) arr[n_arr++] = sigma_own;
    if (dist) arr[n_arr++] = dist;
    int *part = malloc((n + 1) * sizeof *part);
    double *buf = malloc((4 * n + 1) * sizeof *buf);
    ms_status st = part && buf ? MS_SUCCESS : ms_error_set(MS_ERR_NOMEM, "cv: out of memory");
    /* rows of the folds this rank does not fit get label k: training rows, never tested */
    for (size_t i = 0; st == MS_SUCCESS && i < n; i++)
        part[i] = (size_t)fold[i] < nloc && fold[i] % size == rank ? fold[i] : (int)k;
    if (st == MS_SUCCESS)
        st = ms_cv_predict_recalibrated(spec, &d->x, d->y, part, k, rc, dgroup, MPI_COMM_SELF,
                                        mean, sigma, sigma_own, dist, &mine);
    st = ms_comm_agree(comm, st, MS_ERR_INTERNAL, "cv: a fold failed on another rank");
    for (size_t f = 0; st == MS_SUCCESS && f < nloc; f++)
        bcast_fold(fold, n, (int)f, (int)(f % (size_t)size), rank, comm, buf, arr, n_arr);
    unsigned long long cnt = mine, all = 0; /* folds recalibrated, over the ranks */
    if (st == MS_SUCCESS) MPI_Allreduce(&cnt, &all, 1, MPI_UNSIGNED_LONG_LONG, MPI_SUM, comm);
    for (size_t i = 0; st == MS_SUCCESS && nloc < k && i < n; i++)
        part[i] = (size_t)fold[i] >= nloc ? fold[i] : (int)k;
    if (st == MS_SUCCESS && nloc < k)
        st = ms_cv_predict_recalibrated(spec, &d->x, d->y, part, k, rc, dgroup, comm, mean,
                                        sigma, sigma_own, dist, &rest);
    if (n_recal) *n_recal = (size_t)all + rest;
    free(part);
    free(buf);
    return st;
}

/* ms_train_cv_predict, and dist (may be NULL) the out-of-fold rows' clipped domain scores
 * against their fold model's domain (regression models, which keep a domain; cv.h). */
static ms_status train_cv_predict(const ms_model_spec *spec, const ms_dataset *d, const int *fold,
                                  size_t k, const ms_train_cv_sigma *how, MPI_Comm comm,
                                  double *mean, double *sigma, double *sigma_own, double *dist,
                                  size_t *n_recal)
{
    if (n_recal) *n_recal = 0;
    int recal = how && how->group.kind != MS_GROUP_NONE && !d->classification && sigma;
    /* the domain groups: for the distance term of recalibrated fold models and for dist, for
     * the learners whose recalibration has one (ms_train_calibration_distance) */
    int want = !d->classification && (recal || dist) && ms_train_calibration_distance(spec->kind);
    uint64_t *dg = want ? domain_groups(d) : NULL;
    if (want && !dg) return ms_error_set(MS_ERR_NOMEM, "cv: out of memory");
    for (size_t i = 0; dist && i < d->n; i++) dist[i] = NAN;
    if (!recal) {
        ms_status st0 = cv_predict_spread(spec, d, fold, k, NULL, dg, comm, mean, sigma,
                                          sigma_own, dist, n_recal);
        free(dg);
        return st0;
    }
    int *group = malloc((d->n + 1) * sizeof *group);
    size_t ng = 0;
    ms_status st = group ? ms_cv_groups(d, &how->group, how->seed, group, &ng)
                         : ms_error_set(MS_ERR_NOMEM, "cv: out of memory");
    ms_cv_recal rc = {group, how->k ? how->k : k,
                      how->criterion >= 0 ? how->criterion
                                          : ms_train_calibration_criterion(spec->kind)};
    if (st == MS_SUCCESS)
        st = cv_predict_spread(spec, d, fold, k, &rc, dg, comm, mean, sigma, sigma_own, dist,
                               n_recal);
    free(group);
    free(dg);
    return st;
}

ms_status ms_train_cv_predict(const ms_model_spec *spec, const ms_dataset *d, const int *fold,
                              size_t k, const ms_train_cv_sigma *how, MPI_Comm comm, double *mean,
                              double *sigma, double *sigma_own, size_t *n_recal)
{
    return train_cv_predict(spec, d, fold, k, how, comm, mean, sigma, sigma_own, NULL, n_recal);
}

ms_status ms_train_cross_validate(const ms_model_spec *spec, const ms_dataset *d,
                                  const ms_group_spec *g, size_t k, uint64_t seed,
                                  const ms_train_cv_sigma *how, MPI_Comm comm, ms_model *m,
                                  double *mean, double *sigma, double *sigma_own, double *dist)
{
    size_t n = d->n;
    int *fold = malloc((n + 1) * sizeof *fold);
    double *mu = mean ? mean : malloc((n + 1) * sizeof *mu);
    double *sg = sigma ? sigma : malloc((n + 1) * sizeof *sg);
    ms_status st = fold && mu && sg ? MS_SUCCESS : ms_error_set(MS_ERR_NOMEM, "out of memory");
    if (st == MS_SUCCESS) st = ms_train_folds(d, g, k, seed, fold);
    if (st == MS_SUCCESS)
        st = train_cv_predict(spec, d, fold, k, how, comm, mu, sg, sigma_own, dist, NULL);
    ms_cv_scores sc;
    if (st == MS_SUCCESS)
        st = ms_cv_score(d->classification, d->y, mu, d->classification ? NULL : sg, fold, n, k,
                         &sc);
    int grouped = g && g->kind != MS_GROUP_NONE;
    for (size_t q = 0; m && st == MS_SUCCESS && q < sc.n_scores; q++) {
        char name[64];
        snprintf(name, sizeof name, "%scv%zu_%s", grouped ? "g" : "", k, sc.name[q]);
        st = ms_model_add_metric(m, name, sc.mean[q]);
    }
    free(fold);
    if (mu != mean) free(mu);
    if (sg != sigma) free(sg);
    return st;
}

ms_status ms_train_calibration_fit(const ms_dataset *d, const double *mu, const double *sg,
                                   const double *dist, const ms_group_spec *g, size_t k,
                                   size_t n_groups, double alpha, int criterion, ms_model *m)
{
    if (m->task != MS_MODEL_REGRESSION) return MS_SUCCESS;
    size_t n = d->n, nr = 0;
    double *r = malloc((n + 1) * sizeof *r), *s = malloc((n + 1) * sizeof *s);
    double *yy = malloc((n + 1) * sizeof *yy), *mm = malloc((n + 1) * sizeof *mm);
    /* the distance term needs the model's domain (to apply it) and every fit row's score (NaN
     * for a learner without the term: train_cv_predict) */
    int use_d = dist && m->domain && ms_train_calibration_distance(m->type->name);
    double *dd = use_d ? malloc((n + 1) * sizeof *dd) : NULL;
    ms_status st = r && s && yy && mm && (!use_d || dd)
                       ? MS_SUCCESS
                       : ms_error_set(MS_ERR_NOMEM, "out of memory");
    for (size_t i = 0; st == MS_SUCCESS && i < n; i++)
        if (isfinite(sg[i]) && sg[i] >= 0 && isfinite(mu[i])) {
            r[nr] = fabs(d->y[i] - mu[i]);
            s[nr] = sg[i];
            yy[nr] = d->y[i];
            mm[nr] = mu[i];
            if (dd) {
                use_d &= isfinite(dist[i]);
                dd[nr] = dist[i];
            }
            nr++;
        }
    if (nr < MS_CALIBRATION_MIN_ROWS || st != MS_SUCCESS) { /* too few: the learner's own sigma */
        free(r);
        free(s);
        free(yy);
        free(mm);
        free(dd);
        return st;
    }
    ms_model_calibration c = {0};
    c.kind = MS_MODEL_CAL_GROUPED;
    ms_group_spec_format(g, c.grouping, sizeof c.grouping);
    c.folds = k, c.groups = n_groups, c.rows = nr, c.criterion = criterion;
    c.scale = 1, c.floor = 0;
    int fitted = 0;
    if (st == MS_SUCCESS)
        st = ms_calibration_fit_floor_dist(r, s, use_d ? dd : NULL, nr, c.criterion, &c.scale,
                                           &c.floor, &c.dist_coef, &fitted);
    if (c.dist_coef > 0) c.dist_clip = m->domain->threshold;
    for (size_t i = 0; st == MS_SUCCESS && i < nr; i++)
        s[i] = ms_calibration_sigma(s[i], c.scale, c.floor, c.dist_coef, use_d ? dd[i] : NAN);
    ms_calibration cal;
    if (st == MS_SUCCESS) st = ms_calibration_compute(yy, mm, s, nr, &cal);
    if (st == MS_SUCCESS) {
        c.within1 = cal.within1, c.within2 = cal.within2;
        if (alpha > 0 && alpha < 1) {
            for (size_t i = 0; i < nr; i++) r[i] = s[i] > 0 ? r[i] / s[i] : (r[i] > 0 ? INFINITY : 0);
            c.alpha = alpha;
            c.q = ms_calibration_conformal_q(r, nr, alpha);
            if (isnan(c.q)) st = ms_error_set(MS_ERR_INVALID, "conformal: no calibration rows");
        }
    }
    if (st == MS_SUCCESS) m->calibration = c;
    free(r);
    free(s);
    free(yy);
    free(mm);
    free(dd);
    return st;
}

ms_status ms_train_calibrate(const ms_model_spec *spec, const ms_dataset *d,
                             const ms_group_spec *g, size_t k, uint64_t seed, double alpha,
                             int criterion, MPI_Comm comm, ms_model *m)
{
    if (m->task != MS_MODEL_REGRESSION) return MS_SUCCESS;
    size_t n = d->n, ng = 0;
    double *mu = malloc((n + 1) * sizeof *mu), *sg = malloc((n + 1) * sizeof *sg);
    double *dist = malloc((n + 1) * sizeof *dist);
    int *grp = malloc((n + 1) * sizeof *grp);
    ms_status st = mu && sg && dist && grp ? MS_SUCCESS
                                           : ms_error_set(MS_ERR_NOMEM, "out of memory");
    if (st == MS_SUCCESS) st = ms_cv_groups(d, g, seed, grp, &ng);
    if (st == MS_SUCCESS)
        st = ms_train_cross_validate(spec, d, g, k, seed, NULL, comm, m, mu, sg, NULL, dist);
    if (st == MS_SUCCESS)
        st = ms_train_calibration_fit(d, mu, sg, dist, g, k, ng, alpha, criterion, m);
    free(mu);
    free(sg);
    free(dist);
    free(grp);
    return st;
}

int ms_train_calibration_criterion(const char *kind)
{
    return kind && !strcmp(kind, "gp") ? 0 : 2;
}

int ms_train_calibration_distance(const char *kind) { return kind && !strcmp(kind, "gp"); }
