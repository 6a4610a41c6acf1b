/*
 * Workflow stages train, evaluate and campaign (docs/workflows.md): the models library driven by a
 * workflow's <models><training> element.
 *
 * The steps are those of `matscreen train` and `matscreen evaluate` (src/cli/cmd_train.c,
 * src/cli/cmd_evaluate.c), through the same library calls: ms_dataset_load_bcast (labels CSV +
 * structures, dataset.h, bcast.h), ms_train_fit and ms_train_cross_validate (train.h), ms_model_predict,
 * ms_model_save.
 *
 * Both stages cross-validate twice: random folds and folds of whole chemical systems (grouped CV,
 * cv.h); train stores the sigma recalibration fitted on the grouped out-of-fold residuals in the
 * model (model.h, ms_train_calibration_fit).
 *
 * Rank 0 loads and featurises the dataset and every rank gets it (ms_dataset_load_bcast, and
 * ms_model_load_bcast for a model), so every rank fits on the same bytes; the fits are collective;
 * rank 0 writes the model file and DIR/evaluation.csv (id, observed, predicted, sigma: the
 * out-of-fold predictions of the cross-validation, in the learner's units, so log10 S/cm for a
 * log10 target), which the report's parity and calibration plots read.
 */
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "matscreen/file_read.h"
#include "matscreen/acquisition.h"
#include "matscreen/bcast.h"
#include "matscreen/calibration.h"
#include "matscreen/campaign.h"
#include "matscreen/comm.h"
#include "matscreen/cv.h"
#include "matscreen/element.h"
#include "matscreen/hash.h"
#include "matscreen/metrics.h"
#include "matscreen/model.h"
#include "matscreen/outfile.h"
#include "matscreen/train.h"
#include "matscreen/workflow.h"

const char *ms_workflow_learner_name(const char *kind)
{
    if (!kind || !kind[0]) return "forest";
    if (!strcmp(kind, "naive-bayes")) return "naive_bayes";
    return kind;
}

ms_status ms_workflow_file_hash(const char *path, uint64_t *out)
{
    *out = 0;
    FILE *f;
    MS_CALL(ms_open_regular(path, 0, &f, NULL));
    unsigned char buf[65536];
    uint64_t h = ms_hash_bytes("", 0);
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, f)) > 0) h = ms_hash_update(h, buf, got);
    int bad = ferror(f);
    fclose(f);
    if (bad) return ms_error_set(MS_ERR_IO, "%s: read error", path);
    *out = h;
    return MS_SUCCESS;
}

static void dataset_spec(const ms_workflow *w, const ms_model *m, ms_dataset_spec *ds)
{
    const ms_workflow_training *t = &w->training;
    ms_dataset_spec_default(ds);
    ds->source = MS_DATASET_STRUCTURE_CSV;
    ds->path = t->labels;
    ds->structure_dir = t->n_structures ? t->structures[0].spec : NULL;
    ds->id_column = t->id_column[0] ? t->id_column : "ID";
    ds->target = t->target;
    ds->set = w->descriptor_set[0] ? w->descriptor_set : "default";
    ds->log10_target = !strcmp(t->transform, "log10");
    ds->threshold = t->threshold;
    if (m) {
        if (m->descriptor_set[0]) ds->set = m->descriptor_set;
        ds->log10_target = m->log10_target;
        ds->threshold = m->threshold;
    }
}

/* ms_comm_agree (comm.h) with this file's message for the ranks that did not fail. */
static ms_status agree(MPI_Comm comm, ms_status st)
{
    return ms_comm_agree(comm, st, MS_ERR_IO, "another rank failed (see its message)");
}

/* Grouped out-of-fold predictions written beside the random ones (NULL: none); sg_own is the
 * fold models' own sigma, before their recalibration (what train fits its own on). */
typedef struct grouped_cv {
    double *mu, *sg, *sg_own;
    double *dist; /* domain scores against the fold models' domains (the distance term's) */
    size_t groups;
} grouped_cv;

static ms_status write_evaluation(const char *dir, const ms_dataset *d, const double *mu,
                                  const double *sg, const grouped_cv *g)
{
    char path[MS_WORKFLOW_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/evaluation.csv", dir);
    MS_CALL(ms_mkdir_parents(path));
    ms_atomic_file *af = NULL;
    MS_CALL(ms_atomic_open(path, &af));
    FILE *f = ms_atomic_stream(af);
    int has_g = g && g->groups;
    fprintf(f, "id,observed,predicted,sigma%s\n", has_g ? ",chemsys,grouped_predicted,grouped_sigma" : "");
    for (size_t i = 0; i < d->n; i++) {
        fprintf(f, "%s,%.10g,%.10g,", d->ids[i], d->y[i], mu[i]);
        if (sg && isfinite(sg[i])) fprintf(f, "%.10g", sg[i]);
        if (has_g) {
            fprintf(f, ",%s,%.10g,", d->chemsys[i], g->mu[i]);
            if (sg && isfinite(g->sg[i])) fprintf(f, "%.10g", g->sg[i]);
        }
        fputc('\n', f);
    }
    return ms_atomic_commit(&af);
}

/* Fills the summary's metrics from predictions mu, sg of d->y. */
static void summarize(const ms_dataset *d, const double *mu, const double *sg,
                      ms_workflow_model_summary *s)
{
    s->rows = d->n;
    s->dropped = d->n_dropped;
    s->features = d->n_features;
    s->classification = d->classification;
    snprintf(s->descriptor_set, sizeof s->descriptor_set, "%s", d->set_name);
    snprintf(s->target, sizeof s->target, "%s", d->target_name);
    if (d->classification) {
        ms_class_metrics c;
        if (ms_metrics_classification(d->y, mu, d->n, &c) == MS_SUCCESS) {
            s->accuracy = c.accuracy;
            s->roc_auc = c.roc_auc;
        }
        return;
    }
    ms_reg_metrics rm;
    ms_metrics_regression(d->y, mu, d->n, &rm);
    s->mae = rm.mae;
    s->rmse = rm.rmse;
    s->r2 = rm.r2;
    s->spearman = rm.spearman;
    if (sg) {
        ms_calibration cal;
        if (ms_calibration_compute(d->y, mu, sg, d->n, &cal) == MS_SUCCESS) {
            s->within1 = cal.within1;
            s->within2 = cal.within2;
            s->miscal_area = cal.miscal_area;
        }
    }
}

static void summary_init(ms_workflow_model_summary *s)
{
    memset(s, 0, sizeof *s);
    s->mae = s->rmse = s->r2 = s->spearman = NAN;
    s->within1 = s->within2 = s->miscal_area = s->accuracy = s->roc_auc = NAN;
    s->g_mae = s->g_rmse = s->g_r2 = s->g_spearman = s->g_within1 = s->g_within2 = NAN;
    s->g_miscal_area = s->g_accuracy = s->g_roc_auc = NAN;
}

/* The learner of <training kind> with default options, seeded from the workflow, for d's task. */
static void learner_spec(const ms_workflow *w, const ms_dataset *d, ms_model_spec *spec)
{
    ms_model_spec_default(spec);
    spec->kind = ms_workflow_learner_name(w->training.kind);
    spec->task = d->classification ? MS_MODEL_CLASSIFICATION : MS_MODEL_REGRESSION;
    spec->seed = w->seed;
}

/* Out-of-fold predictions of spec on d into mu, sg (ms_train_cross_validate, random folds), then
 * grouped by chemical system into g (ms_cv_groups, ms_folds_grouped; skipped, g->groups 0, when
 * there are fewer chemical systems than folds); adds cvK_* / gcvK_* metrics to m when given and
 * the grouped figures and both timings to s. Every fold's model is the model `train` makes, its
 * sigma recalibrated on grouped CV of the fold's training rows (chemical systems, K folds: K + 1
 * fits per fold), as `matscreen evaluate` scores it, so the coverage is that of the sigma a saved
 * model carries. A workflow with more folds than labelled rows is an error. Collective on comm. */
static ms_status cross_validate(const ms_model_spec *spec, const ms_dataset *d, size_t k,
                                uint64_t seed, MPI_Comm comm, ms_model *m, double *mu, double *sg,
                                grouped_cv *g, ms_workflow_model_summary *s)
{
    MS_CHECK(d->n >= k, MS_ERR_INVALID, "%zu labelled rows are too few for %zu folds", d->n, k);
    ms_group_spec gs = {.kind = MS_GROUP_CHEMSYS};
    int *grp = malloc((d->n + 1) * sizeof *grp);
    g->mu = malloc((d->n + 1) * sizeof *g->mu);
    g->sg = malloc((d->n + 1) * sizeof *g->sg);
    g->sg_own = malloc((d->n + 1) * sizeof *g->sg_own);
    g->dist = malloc((d->n + 1) * sizeof *g->dist);
    MS_CHECK(grp && g->mu && g->sg && g->sg_own && g->dist, MS_ERR_NOMEM, "out of memory");
    ms_status st = ms_cv_groups(d, &gs, seed, grp, &g->groups);
    free(grp);
    if (st != MS_SUCCESS) return st;
    /* fewer families than folds: train would not recalibrate, nor do the fold models */
    ms_train_cv_sigma how = {gs, k, -1, seed};
    if (g->groups < k) how.group.kind = MS_GROUP_NONE;
    double t0 = MPI_Wtime();
    MS_CALL(ms_train_cross_validate(spec, d, NULL, k, seed, &how, comm, m, mu, sg, NULL, NULL));
    s->r_seconds = MPI_Wtime() - t0;
    if (g->groups < k) {
        g->groups = 0; /* too few families to hold out: random folds only */
        return MS_SUCCESS;
    }
    t0 = MPI_Wtime();
    MS_CALL(ms_train_cross_validate(spec, d, &gs, k, seed, &how, comm, m, g->mu, g->sg,
                                    g->sg_own, g->dist));
    s->g_seconds = MPI_Wtime() - t0;
    ms_workflow_model_summary t;
    summary_init(&t);
    summarize(d, g->mu, d->classification ? NULL : g->sg, &t);
    s->g_groups = g->groups;
    s->g_mae = t.mae, s->g_rmse = t.rmse, s->g_r2 = t.r2, s->g_spearman = t.spearman;
    s->g_within1 = t.within1, s->g_within2 = t.within2, s->g_miscal_area = t.miscal_area;
    s->g_accuracy = t.accuracy, s->g_roc_auc = t.roc_auc;
    return MS_SUCCESS;
}

ms_status ms_workflow_train(const ms_workflow *w, MPI_Comm comm, const char *out_dir,
                            ms_workflow_model_summary *out)
{
    MS_CHECK(w && out_dir && out, MS_ERR_USAGE, "ms_workflow_train: arguments are required");
    summary_init(out);
    MS_CHECK(w->training.present, MS_ERR_USAGE, "the workflow has no <training>");
    int rank;
    MPI_Comm_rank(comm, &rank);
    double t0 = MPI_Wtime();
    ms_dataset d;
    ms_dataset_spec ds;
    dataset_spec(w, NULL, &ds);
    ms_status st = ms_dataset_load_bcast(comm, &ds, &d);
    ms_model_spec spec;
    learner_spec(w, &d, &spec);
    ms_model *m = NULL;
    if (st == MS_SUCCESS)
        st = agree(comm, ms_train_fit(&spec, &d, ds.log10_target, ds.threshold, 0, comm, &m));
    double *mu = NULL, *sg = NULL;
    if (st == MS_SUCCESS) {
        mu = malloc((d.n + 1) * sizeof *mu);
        sg = malloc((d.n + 1) * sizeof *sg);
        if (!mu || !sg) st = ms_error_set(MS_ERR_NOMEM, "out of memory");
        st = agree(comm, st);
    }
    size_t k = w->training.folds > 1 ? (size_t)w->training.folds : 5;
    grouped_cv g = {0};
    if (st == MS_SUCCESS)
        st = agree(comm, cross_validate(&spec, &d, k, w->seed, comm, m, mu, sg, &g, out));
    /* sigma recalibrated on the grouped out-of-fold residuals of the fold models' own sigma, as
     * `matscreen train` does (ms_train_calibrate) */
    ms_group_spec gs = {.kind = MS_GROUP_CHEMSYS};
    if (st == MS_SUCCESS && g.groups)
        st = agree(comm, ms_train_calibration_fit(&d, g.mu, g.sg_own, g.dist, &gs, k, g.groups, 0,
                                                  ms_train_calibration_criterion(spec.kind), m));
    if (st == MS_SUCCESS && rank == 0) {
        st = ms_mkdir_parents(w->training.output);
        if (st == MS_SUCCESS) st = ms_model_save(m, w->training.output);
        if (st == MS_SUCCESS) st = write_evaluation(out_dir, &d, mu, d.classification ? NULL : sg, &g);
    }
    free(g.mu);
    free(g.sg);
    free(g.sg_own);
    free(g.dist);
    st = agree(comm, st);
    if (st == MS_SUCCESS) {
        summarize(&d, mu, d.classification ? NULL : sg, out);
        out->folds = k;
        snprintf(out->model, sizeof out->model, "%s", w->training.output);
        snprintf(out->learner, sizeof out->learner, "%s", m->type->name);
    }
    out->seconds = MPI_Wtime() - t0;
    free(mu);
    free(sg);
    ms_model_free(m);
    ms_dataset_free(&d);
    return st;
}

ms_status ms_workflow_evaluate(const ms_workflow *w, MPI_Comm comm, const char *out_dir,
                               ms_workflow_model_summary *out)
{
    MS_CHECK(w && out_dir && out, MS_ERR_USAGE, "ms_workflow_evaluate: arguments are required");
    summary_init(out);
    MS_CHECK(w->training.present, MS_ERR_USAGE,
             "stage evaluate needs the labels: <models><training><labels .../>");
    int rank;
    MPI_Comm_rank(comm, &rank);
    double t0 = MPI_Wtime();
    ms_model *m = NULL;
    ms_status st = MS_SUCCESS;
    if (w->n_models) st = ms_model_load_bcast(comm, w->models[0], &m, NULL);
    ms_dataset d;
    memset(&d, 0, sizeof d);
    ms_dataset_spec ds;
    dataset_spec(w, m, &ds);
    if (st == MS_SUCCESS) st = ms_dataset_load_bcast(comm, &ds, &d);
    double *mu = NULL, *sg = NULL;
    if (st == MS_SUCCESS) {
        mu = malloc((d.n + 1) * sizeof *mu);
        sg = malloc((d.n + 1) * sizeof *sg);
        st = agree(comm, mu && sg ? MS_SUCCESS : ms_error_set(MS_ERR_NOMEM, "out of memory"));
    }
    size_t k = w->training.folds > 1 ? (size_t)w->training.folds : 5;
    grouped_cv g = {0};
    if (st == MS_SUCCESS && m) {
        /* held out: the model predicts every labelled row */
        st = agree(comm, ms_model_predict(m, &d.x, mu, sg));
        k = 0;
    } else if (st == MS_SUCCESS) {
        ms_model_spec spec;
        learner_spec(w, &d, &spec);
        st = agree(comm, cross_validate(&spec, &d, k, w->seed, comm, NULL, mu, sg, &g, out));
    }
    if (st == MS_SUCCESS && rank == 0)
        st = write_evaluation(out_dir, &d, mu, d.classification ? NULL : sg, &g);
    free(g.mu);
    free(g.sg);
    free(g.sg_own);
    free(g.dist);
    st = agree(comm, st);
    if (st == MS_SUCCESS) {
        summarize(&d, mu, d.classification ? NULL : sg, out);
        out->folds = k;
        snprintf(out->model, sizeof out->model, "%s", m ? w->models[0] : "");
        snprintf(out->learner, sizeof out->learner, "%s",
                 m ? m->type->name : ms_workflow_learner_name(w->training.kind));
    }
    out->seconds = MPI_Wtime() - t0;
    free(mu);
    free(sg);
    ms_model_free(m);
    ms_dataset_free(&d);
    return st;
}

ms_status ms_workflow_write_model_summary(const char *dir, const char *stage,
                                          const ms_workflow_model_summary *s)
{
    char path[MS_WORKFLOW_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/%s.json", dir, stage);
    ms_atomic_file *af = NULL;
    MS_CALL(ms_atomic_open(path, &af));
    FILE *f = ms_atomic_stream(af);
    fprintf(f, "{\"stage\": \"%s\", \"learner\": \"%s\", \"rows\": %zu, \"dropped\": %zu, "
               "\"features\": %zu, \"descriptor_set\": \"%s\", \"folds\": %zu, \"classification\": %d",
            stage, s->learner, s->rows, s->dropped, s->features, s->descriptor_set, s->folds,
            s->classification);
    const char *names[] = {"mae", "rmse", "r2", "spearman", "within1", "within2", "miscal_area",
                           "accuracy", "roc_auc"};
    const double vals[] = {s->mae, s->rmse, s->r2, s->spearman, s->within1, s->within2,
                           s->miscal_area, s->accuracy, s->roc_auc};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        if (isfinite(vals[i])) fprintf(f, ", \"%s\": %.10g", names[i], vals[i]);
        else fprintf(f, ", \"%s\": null", names[i]);
    }
    if (s->g_groups) {
        /* grouped CV beside the random folds (cross_validate) */
        fprintf(f, ", \"grouped\": {\"by\": \"chemsys\", \"groups\": %zu", s->g_groups);
        const double gv[] = {s->g_mae, s->g_rmse, s->g_r2, s->g_spearman, s->g_within1,
                             s->g_within2, s->g_miscal_area, s->g_accuracy, s->g_roc_auc};
        for (size_t i = 0; i < sizeof gv / sizeof gv[0]; i++) {
            if (isfinite(gv[i])) fprintf(f, ", \"%s\": %.10g", names[i], gv[i]);
            else fprintf(f, ", \"%s\": null", names[i]);
        }
        fprintf(f, ", \"seconds\": %.3f, \"random_seconds\": %.3f}", s->g_seconds, s->r_seconds);
    }
    fprintf(f, ", \"seconds\": %.3f}\n", s->seconds);
    return ms_atomic_commit(&af);
}

/* ---- stage campaign --------------------------------------------------------------------------
 * The steps of `matscreen campaign` (src/cli/cmd_campaign.c) through the campaign library:
 * ms_dataset_load (formula CSV), ms_campaign_prepare, one ms_campaign_run per (acquisition, seed
 * index), dealt round-robin over the ranks and gathered on rank 0 (ms_campaign_gather). The files
 * are that command's campaign.csv and summary.csv (ms_campaign_write_runs / _summary); its
 * campaign.svg and console table stay in cmd_campaign.c. */

static ms_status write_campaign_files(const char *dir, const ms_acq_kind *acq, size_t n_acq,
                                      size_t seeds, const ms_campaign_result *res)
{
    char path[MS_WORKFLOW_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/campaign.csv", dir);
    ms_atomic_file *af = NULL;
    MS_CALL(ms_atomic_open(path, &af));
    ms_campaign_write_runs(ms_atomic_stream(af), acq, n_acq, seeds, res);
    MS_CALL(ms_atomic_commit(&af));

    ms_campaign_summary sum[MS_WORKFLOW_MAX_ACQ];
    MS_CALL(ms_campaign_summarise(acq, n_acq, seeds, res, sum));
    snprintf(path, sizeof path, "%s/summary.csv", dir);
    MS_CALL(ms_atomic_open(path, &af));
    ms_campaign_write_summary(ms_atomic_stream(af), acq, n_acq, seeds, sum);
    return ms_atomic_commit(&af);
}

/* One campaign (task t = q * seeds + s) into r. */
static ms_status campaign_task(const ms_workflow *w, const ms_dataset *d, const int *group,
                               size_t q, size_t s, ms_campaign_result *r)
{
    const ms_workflow_campaign *cp = &w->campaign;
    ms_campaign_options o;
    ms_campaign_options_default(&o);
    o.group = group; /* grouped mode (group=): the pool is whole groups, n0 is ignored */
    o.pool_frac = cp->pool_frac;
    o.acq.kind = (ms_acq_kind)cp->acq[q];
    o.acq.xi = w->acq_xi;
    o.acq.kappa = isnan(w->acq_kappa) ? ms_campaign_default_kappa(group != NULL) : w->acq_kappa;
    o.n0 = cp->n0;
    o.batch = cp->batch;
    o.budget = o.acq.kind == MS_ACQ_RANDOM ? 0 : cp->budget; /* random costs nothing */
    o.seed = w->seed;
    ms_surrogate sur = {0};
    ms_status st = MS_SUCCESS;
    if (o.acq.kind != MS_ACQ_RANDOM)
        st = ms_surrogate_create(strcmp(ms_workflow_learner_name(w->training.kind), "gp") ? "forest"
                                                                                          : "gp",
                                 d->x.cols, NULL, &sur);
    if (st == MS_SUCCESS) st = ms_campaign_run(&d->x, d->y, &o, &sur, s, r);
    ms_surrogate_free(&sur);
    return st;
}

/* Group ids of d's rows for <campaign group=> into *group (malloc'd; the caller frees), as
 * `matscreen campaign --group` computes them (ms_cv_groups with the workflow's seed). */
static ms_status campaign_groups(const ms_workflow_campaign *cp, uint64_t seed, const ms_dataset *d,
                                 int **group)
{
    ms_group_spec gs;
    size_t ng = 0;
    MS_CALL(ms_group_spec_parse(cp->group, &gs));
    *group = malloc((d->n + 1) * sizeof **group);
    MS_CHECK(*group, MS_ERR_NOMEM, "out of memory");
    return ms_cv_groups(d, &gs, seed, *group, &ng);
}

ms_status ms_workflow_run_campaign(const ms_workflow *w, MPI_Comm comm, const char *out_dir,
                                   ms_workflow_campaign_summary *out)
{
    MS_CHECK(w && out_dir && out, MS_ERR_USAGE, "ms_workflow_run_campaign: arguments are required");
    memset(out, 0, sizeof *out);
    MS_CHECK(w->training.present, MS_ERR_USAGE,
             "stage campaign needs the labels: <models><training><labels .../>");
    const ms_workflow_campaign *cp = &w->campaign;
    MS_CHECK(cp->n_acq > 0 && cp->seeds > 0, MS_ERR_USAGE, "stage campaign: no campaigns to run");
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    double t0 = MPI_Wtime();
    const ms_workflow_training *t = &w->training;
    ms_dataset_spec ds;
    ms_dataset_spec_default(&ds);
    ds.source = MS_DATASET_FORMULA_CSV;
    ds.path = t->labels;
    if (t->formula_column[0]) ds.formula_column = t->formula_column;
    if (t->id_column[0]) ds.id_column = t->id_column;
    ds.target = t->target;
    ds.set = w->descriptor_set[0] && strcmp(w->descriptor_set, "default") != 0 ? w->descriptor_set
                                                                                : "magpie";
    ds.log10_target = !strcmp(t->transform, "log10");
    ms_dataset d;
    ms_status st = ms_dataset_load_bcast(comm, &ds, &d);
    if (st == MS_SUCCESS && d.classification)
        st = ms_error_set(MS_ERR_INVALID, "%s: the target is a class label; campaigns need a number",
                          t->labels);
    if (st == MS_SUCCESS && !cp->group[0] && d.n <= cp->n0)
        st = ms_error_set(MS_ERR_INVALID, "%s: %zu usable rows are too few for initial=\"%zu\"",
                          t->labels, d.n, cp->n0);
    if (st == MS_SUCCESS) st = ms_campaign_prepare(&d.x);
    int *group = NULL; /* group=: after prepare, as `matscreen campaign` computes them */
    if (st == MS_SUCCESS && cp->group[0]) st = campaign_groups(cp, w->seed, &d, &group);
    st = agree(comm, st);
    size_t S = cp->seeds, T = cp->n_acq * S;
    ms_acq_kind acq[MS_WORKFLOW_MAX_ACQ];
    for (size_t q = 0; q < cp->n_acq; q++) acq[q] = (ms_acq_kind)cp->acq[q];
    ms_campaign_result *res = NULL;
    if (st == MS_SUCCESS) {
        res = calloc(T, sizeof *res);
        st = agree(comm, res ? MS_SUCCESS : ms_error_set(MS_ERR_NOMEM, "out of memory"));
    }
    ms_status local = MS_SUCCESS;
    for (size_t k = (size_t)rank; st == MS_SUCCESS && local == MS_SUCCESS && k < T;
         k += (size_t)size) {
        size_t q = k / S, s = k % S;
        local = campaign_task(w, &d, group, q, s, &res[k]);
        if (local != MS_SUCCESS) {
            char msg[512];
            snprintf(msg, sizeof msg, "%s", ms_error_message());
            local = ms_error_set(local, "campaign %s, seed %zu: %s", ms_acq_name(acq[q]), s, msg);
            break;
        }
    }
    if (st == MS_SUCCESS) st = agree(comm, local);
    if (st == MS_SUCCESS) st = ms_campaign_gather(res, T, 0, comm);
    if (st == MS_SUCCESS) {
        if (rank == 0) {
            st = ms_mkdir_p(out_dir);
            if (st == MS_SUCCESS) st = write_campaign_files(out_dir, acq, cp->n_acq, S, res);
        }
        st = agree(comm, st);
    }
    if (st == MS_SUCCESS) {
        out->rows = d.n;
        out->dropped = d.n_dropped;
        out->features = d.n_features;
        out->seeds = S;
        out->n_acq = cp->n_acq;
        snprintf(out->surrogate, sizeof out->surrogate, "%s",
                 strcmp(ms_workflow_learner_name(t->kind), "gp") ? "forest" : "gp");
    }
    out->seconds = MPI_Wtime() - t0;
    free(res);
    free(group);
    ms_dataset_free(&d);
    return st;
}
