/* Training and cross-validating a model on a labelled dataset; see train.h. */
#include "matscreen/train.h"

#include <stdio.h>
#include <stdlib.h>

#include "matscreen/cv.h"
#include "matscreen/domain.h"
#include "matscreen/forest.h"

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

/* The domain of applicability over the standardised training rows, grouped by chemical system. */
static ms_status record_domain(ms_model *m, const ms_dataset *d)
{
    ms_matrix z = {0};
    uint64_t *g = malloc((d->n + 1) * sizeof *g);
    ms_status st = g ? ms_model_standardize(m, &d->x, &z)
                     : ms_error_set(MS_ERR_NOMEM, "domain: out of memory");
    for (size_t i = 0; st == MS_SUCCESS && i < d->n; i++)
        g[i] = d->elements ? ms_dataset_chemical_system(d, i) : (uint64_t)i;
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

ms_status ms_train_cross_validate(const ms_model_spec *spec, const ms_dataset *d, size_t k,
                                  uint64_t seed, MPI_Comm comm, ms_model *m, double *mean,
                                  double *sigma)
{
    size_t n = d->n;
    int *fold = malloc((n + 1) * sizeof *fold);
    double *mu = mean ? mean : malloc((n + 1) * sizeof *mu);
    double *sg = sigma ? sigma : malloc((n + 1) * sizeof *sg);
    ms_status st = fold && mu && sg ? MS_SUCCESS : ms_error_set(MS_ERR_NOMEM, "out of memory");
    if (st == MS_SUCCESS) {
        if (d->classification) ms_folds_stratified(d->y, n, k, seed, fold);
        else ms_folds_kfold(n, k, seed, fold);
        st = ms_cv_predict(spec, &d->x, d->y, fold, k, comm, mu, sg);
    }
    ms_cv_scores sc;
    if (st == MS_SUCCESS)
        st = ms_cv_score(d->classification, d->y, mu, d->classification ? NULL : sg, fold, n, k,
                         &sc);
    for (size_t q = 0; m && st == MS_SUCCESS && q < sc.n_scores; q++) {
        char name[64];
        snprintf(name, sizeof name, "cv%zu_%s", k, sc.name[q]);
        st = ms_model_add_metric(m, name, sc.mean[q]);
    }
    free(fold);
    if (mu != mean) free(mu);
    if (sg != sigma) free(sg);
    return st;
}
