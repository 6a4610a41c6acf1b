/*
 * matscreen evaluate: cross-validation of a learner, or held-out metrics of a saved model.
 *
 * MPI is started by main.c (comm.h). Rank 0 reads and featurises the labelled data and every
 * rank gets it (bcast.h); model fits are collective (the forest spreads its trees over the
 * ranks); only rank 0 prints. Results do not depend on the number of ranks.
 */
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "model_args.h"
#include "matscreen/outfile.h"
#include "matscreen/calibration.h"
#include "matscreen/cv.h"
#include "matscreen/importance.h"
#include "matscreen/metrics.h"
#include "matscreen/model.h"
#include "matscreen/train.h"

static void evaluate_usage(FILE *out)
{
    fprintf(out,
            "usage: matscreen evaluate --kind KIND DATA [--cv K | --folds FOLDS.csv] [options]\n"
            "       matscreen evaluate -m MODEL DATA            held-out metrics of a saved model\n"
            "       mpirun -np N matscreen evaluate ...\n\n"
            MS_MODEL_DATA_HELP
            "with -t TARGET (column), --set NAME (descriptor set, default magpie; the model's own\n"
            "with -m), --log10 (learn log10 of the target), --threshold X (classify target >= X).\n\n"
            "  -k, --kind KIND         forest (default), logistic, naive_bayes, gp, gbm\n"
            "  -p, --param KEY=VALUE   learner parameter (repeatable), e.g. n_trees=200\n"
            "      --cv K              K-fold cross-validation (default 5; stratified for classes)\n"
            "      --repeats R         repeat the K-fold split R times with seeds S, S+1, ...\n"
            "      --select SPEC       feature selection inside every training fold (train --help)\n"
            "      --group G           grouped CV beside the random folds: every row of a group in\n"
            "                          one test fold. chemsys (chemical system, default), formula\n"
            "                          (reduced formula), column:NAME (a labels column), kmeans:K\n"
            "                          (k-means of the standardised features), none (random only)\n"
            "      --calibrate MODE    regression sigma of every fold's model: grouped (default:\n"
            "                          recalibrated on grouped CV of the fold's training rows, as\n"
            "                          train stores it; K + 1 fits per fold) or oob (the learner's\n"
            "                          own sigma, one fit per fold)\n"
            "      --calibration-fit C area, likelihood or coverage (train --help)\n"
            "      --folds FILE        fixed test folds (Matbench folds.csv: task,mbid,test_fold)\n"
            "      --task NAME         task name in FOLDS (default: the JSON file's base name)\n"
            "  -s, --seed S            seed of folds and learners (default 0)\n"
            "      --class-threshold X also score a regression as a classifier at target >= X\n"
            "                          (in the target's units before --log10)\n"
            "      --importance N      (-m only) print the N most important features\n"
            "                          (permutation importance, 5 repeats)\n"
            "      --predictions FILE  write id,target,y,mean,sigma,fold as CSV\n"
            "      --max-rows N        use only the first N rows\n"
            "  -h, --help              this text\n\n" MS_CLI_EXIT_HELP);
}


static void print_scores(const ms_cv_scores *s)
{
    printf("%-24s", "metric");
    for (size_t f = 0; f < s->k; f++) printf("  fold%-4zu", f);
    printf("  %-9s %-9s\n", "mean", "std");
    for (size_t q = 0; q < s->n_scores; q++) {
        printf("%-24s", s->name[q]);
        for (size_t f = 0; f < s->k; f++) printf("  %-8.4f", s->fold[q][f]);
        printf("  %-9.4f %-9.4f\n", s->mean[q], s->std[q]);
    }
}

/* Scores a regression as a classifier at yt: P(y >= yt) = Phi((mu - yt)/sigma). */
static void print_thresholded(const double *y, const double *mu, const double *sg, size_t n,
                              double yt, const char *label)
{
    double *lab = malloc((n + 1) * sizeof *lab), *pr = malloc((n + 1) * sizeof *pr);
    if (!lab || !pr) {
        free(lab);
        free(pr);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        lab[i] = y[i] >= yt;
        double s = sg && sg[i] > 0 ? sg[i] : 1e-12;
        pr[i] = 0.5 * erfc(-(mu[i] - yt) / (s * M_SQRT2));
    }
    ms_class_metrics c;
    if (ms_metrics_classification(lab, pr, n, &c) == MS_SUCCESS)
        printf("classification at %s (pooled out-of-fold, P = Phi((mu - t)/sigma)):\n"
               "  positives %zu of %zu; accuracy %.4f precision %.4f recall %.4f f1 %.4f mcc %.4f\n"
               "  roc_auc %.4f log_loss %.4f; confusion tn %zu fp %zu fn %zu tp %zu\n",
               label, c.tp + c.fn, n, c.accuracy, c.precision, c.recall, c.f1, c.mcc, c.roc_auc,
               c.log_loss, c.tn, c.fp, c.fn, c.tp);
    free(lab);
    free(pr);
}

/* Out-of-fold predictions of one fold scheme (random, file or grouped). */
typedef struct cv_run {
    const char *label; /* "random", "grouped by chemsys", "official folds" */
    int *fold;
    double *mu, *sg, secs;
    size_t k;
    const ms_train_cv_sigma *how; /* each fold's model recalibrated as train does (NULL: the
                                     learner's own sigma) */
    size_t n_recal;           /* folds recalibrated */
    ms_cv_scores sc;
} cv_run;

static void write_predictions(const char *path, const ms_dataset *d, const double *mu,
                              const double *sg, const int *fold, const cv_run *g)
{
    ms_atomic_file *af = NULL; /* written beside and renamed (outfile.h) */
    if (ms_atomic_open(path, &af) != MS_SUCCESS) {
        fprintf(stderr, "matscreen evaluate: %s\n", ms_error_message());
        return;
    }
    FILE *f = ms_atomic_stream(af);
    fprintf(f, "id,target,y,mean,sigma,fold%s\n", g ? ",chemsys,gmean,gsigma,gfold" : "");
    for (size_t i = 0; i < d->n; i++) {
        fprintf(f, "%s,%.17g,%.17g,%.17g,%.17g,%d", d->ids[i], d->target[i], d->y[i], mu[i],
                sg ? sg[i] : NAN, fold ? fold[i] : -1);
        if (g)
            fprintf(f, ",%s,%.17g,%.17g,%d", d->chemsys[i], g->mu[i], g->sg[i], g->fold[i]);
        fprintf(f, "\n");
    }
    if (ms_atomic_commit(&af) != MS_SUCCESS)
        fprintf(stderr, "matscreen evaluate: %s\n", ms_error_message());
}

static const char *task_from_path(const char *path, char *buf, size_t n)
{
    const char *b = strrchr(path, '/');
    snprintf(buf, n, "%s", b ? b + 1 : path);
    char *dot = strstr(buf, ".json");
    if (dot) *dot = 0;
    return buf;
}

static int cv_run_alloc(cv_run *r, size_t n, const char *label)
{
    memset(r, 0, sizeof *r);
    r->label = label;
    r->fold = malloc((n + 1) * sizeof *r->fold);
    r->mu = malloc((n + 1) * sizeof *r->mu);
    r->sg = malloc((n + 1) * sizeof *r->sg);
    return r->fold && r->mu && r->sg;
}

static void cv_run_free(cv_run *r)
{
    free(r->fold);
    free(r->mu);
    free(r->sg);
}

/* Folds of run r (random: the file's or ms_train_folds without groups; grouped: a->group),
 * out-of-fold predictions and scores. */
static ms_status cv_once(const ms_model_args *a, const ms_dataset *d, const ms_model_spec *spec,
                         int grouped, int rep, cv_run *r)
{
    ms_status st = MS_SUCCESS;
    r->k = a->cv ? a->cv : 5;
    if (!grouped && a->folds) {
        char tb[256];
        const char *task = a->task ? a->task : task_from_path(a->matbench ? a->matbench : "", tb, sizeof tb);
        st = ms_folds_read(a->folds, task, d->ids, d->n, r->fold, &r->k);
    } else {
        st = ms_train_folds(d, grouped ? &a->group : NULL, r->k, a->seed + (uint64_t)rep, r->fold);
    }
    double t0 = MPI_Wtime();
    if (st == MS_SUCCESS)
        st = ms_train_cv_predict(spec, d, r->fold, r->k, r->how, MPI_COMM_WORLD, r->mu, r->sg,
                                 NULL, &r->n_recal);
    r->secs = MPI_Wtime() - t0;
    if (st == MS_SUCCESS)
        st = ms_cv_score(d->classification, d->y, r->mu, d->classification ? NULL : r->sg, r->fold,
                         d->n, r->k, &r->sc);
    return st;
}

/* The per-fold table, pooled figures and thresholded classification of one run (rank 0). */
static void print_run(const ms_model_args *a, const ms_dataset *d, const cv_run *r, uint64_t seed)
{
    printf("%s on %s: %zu rows, %zu features (%s v%d), %zu folds, %s%s, seed %llu, %.1f s\n",
           a->kind, d->target_name, d->n, d->n_features, d->set_name, d->set_version, r->k,
           r->label, d->classification && strcmp(r->label, "random") == 0 ? " (stratified)" : "",
           (unsigned long long)seed, r->secs);
    print_scores(&r->sc);
    if (d->classification) return;
    if (r->how)
        printf("sigma: each fold's model recalibrated on grouped CV of its training rows, as train "
               "stores it (%zu inner folds, by %s; %zu of %zu folds recalibrated, the others keep "
               "the learner's own)\n",
               r->how->k, ms_calibration_criterion_name(r->how->criterion), r->n_recal, r->k);
    else
        printf("sigma: the learner's own (--calibrate oob or --group none; train stores the "
               "same)\n");
    ms_reg_metrics rm;
    ms_calibration cal;
    ms_metrics_regression(d->y, r->mu, d->n, &rm);
    ms_calibration_compute(d->y, r->mu, r->sg, d->n, &cal);
    printf("pooled: mae %.4f rmse %.4f r2 %.4f spearman %.4f; calibration: "
           "within1 %.3f within2 %.3f miscal_area %.4f nll %.4f z_rms %.3f\n",
           rm.mae, rm.rmse, rm.r2, rm.spearman, cal.within1, cal.within2, cal.miscal_area, cal.nll,
           cal.z_rms);
    if (!isnan(a->class_threshold)) {
        char lab[128];
        snprintf(lab, sizeof lab, "%s >= %g", d->target_name, a->class_threshold);
        print_thresholded(d->y, r->mu, r->sg, d->n,
                          a->log10 ? log10(a->class_threshold) : a->class_threshold, lab);
    }
}

/* Random (or file) and grouped CV side by side: mean +- fold std of each score. */
static void print_side_by_side(const cv_run *r, const cv_run *g, size_t n_groups)
{
    printf("side by side (mean +- std over folds; grouped: %zu groups, every group in one fold):\n",
           n_groups);
    printf("  %-24s %-22s %-22s\n", "metric", r->label, g->label);
    for (size_t q = 0; q < r->sc.n_scores && q < g->sc.n_scores; q++)
        printf("  %-24s %9.4f +- %-9.4f %9.4f +- %-9.4f\n", r->sc.name[q], r->sc.mean[q],
               r->sc.std[q], g->sc.mean[q], g->sc.std[q]);
    printf("  time: %s %.2f s, %s %.2f s, ratio grouped/random %.3f\n", r->label, r->secs,
           g->label, g->secs, r->secs > 0 ? g->secs / r->secs : NAN);
}

/* Each score's fold mean over the repeats of --repeats: sum and sum of squares per scheme. */
typedef struct repeat_pool {
    size_t n;
    double sum[2][MS_CV_MAX_SCORES], sq[2][MS_CV_MAX_SCORES];
} repeat_pool;

static void pool_add(repeat_pool *p, int scheme, const ms_cv_scores *sc)
{
    for (size_t q = 0; q < sc->n_scores; q++) {
        p->sum[scheme][q] += sc->mean[q];
        p->sq[scheme][q] += sc->mean[q] * sc->mean[q];
    }
}

/* The pooled figure of --repeats R: mean and spread (sample std, ddof 1) of each repeat's fold
 * mean, for random folds and, when grouped, grouped folds. */
static void print_repeats(const repeat_pool *p, const cv_run *r, const cv_run *g, int grouped)
{
    double n = (double)p->n;
    printf("over %zu repeats (mean +- std of each repeat's fold mean):\n", p->n);
    printf("  %-24s %-22s %-22s\n", "metric", r->label, grouped ? g->label : "");
    for (size_t q = 0; q < r->sc.n_scores; q++) {
        printf("  %-24s", r->sc.name[q]);
        for (int s = 0; s <= grouped; s++) {
            double m = p->sum[s][q] / n;
            double v = (p->sq[s][q] - n * m * m) / (n - 1);
            printf(" %9.4f +- %-9.4f", m, sqrt(v > 0 ? v : 0));
        }
        printf("\n");
    }
}

static size_t count_groups(const ms_model_args *a, const ms_dataset *d)
{
    int *grp = malloc((d->n + 1) * sizeof *grp);
    size_t ng = 0;
    if (grp && ms_cv_groups(d, &a->group, a->seed, grp, &ng) != MS_SUCCESS) ng = 0;
    free(grp);
    return ng;
}

static int run_cv(const ms_model_args *a, const ms_dataset *d, int rank)
{
    size_t n = d->n;
    int grouped = a->group.kind != MS_GROUP_NONE;
    char gname[300], glabel[320];
    snprintf(glabel, sizeof glabel, "grouped by %s", ms_group_spec_format(&a->group, gname, sizeof gname));
    cv_run r, g;
    int ok = cv_run_alloc(&r, n, a->folds ? "official folds" : "random");
    ok &= cv_run_alloc(&g, n, glabel);
    if (!ok) {
        cv_run_free(&r);
        cv_run_free(&g);
        fprintf(stderr, "matscreen evaluate: out of memory\n");
        return 2;
    }
    ms_model_spec spec; /* with --select, selected again inside every training fold */
    int *sel_groups = ms_model_args_spec(a, d, &spec);
    int code = 0;
    int reps = a->folds ? 1 : a->repeats;
    size_t ng = grouped ? count_groups(a, d) : 0;
    /* the sigma of the model train would make: recalibrated on grouped CV (its default) */
    ms_train_cv_sigma how = {a->group, a->cv ? a->cv : 5,
                             a->cal_criterion >= 0 ? a->cal_criterion
                                                   : ms_train_calibration_criterion(a->kind),
                             a->seed};
    if (grouped && a->calibrate && !d->classification) r.how = g.how = &how;
    repeat_pool pool;
    memset(&pool, 0, sizeof pool);
    for (int rep = 0; rep < reps && code == 0; rep++) {
        spec.seed = a->seed + (uint64_t)rep;
        ms_status st = cv_once(a, d, &spec, 0, rep, &r);
        if (st == MS_SUCCESS && grouped) st = cv_once(a, d, &spec, 1, rep, &g);
        if (st != MS_SUCCESS) {
            if (rank == 0) fprintf(stderr, "matscreen evaluate: %s\n", ms_error_message());
            code = 2;
            break;
        }
        if (rank == 0) {
            print_run(a, d, &r, spec.seed);
            if (grouped) print_run(a, d, &g, spec.seed);
            if (grouped) print_side_by_side(&r, &g, ng);
            if (a->predictions && rep == 0)
                write_predictions(a->predictions, d, r.mu, r.sg, r.fold, grouped ? &g : NULL);
            pool.n++;
            pool_add(&pool, 0, &r.sc);
            if (grouped) pool_add(&pool, 1, &g.sc);
            fflush(stdout);
        }
    }
    if (rank == 0 && code == 0 && pool.n > 1) print_repeats(&pool, &r, &g, grouped);
    cv_run_free(&r);
    cv_run_free(&g);
    free(sel_groups);
    return code;
}

/* Which sigma calibration the model carries, and the coverage of its conformal interval. */
static void print_model_calibration(const ms_model *m, const double *y, const double *mu,
                                    const double *sg, size_t n)
{
    const ms_model_calibration *c = &m->calibration;
    if (c->kind != MS_MODEL_CAL_GROUPED) {
        printf("sigma: the learner's own calibration%s\n",
               m->type == &ms_model_type_forest ? " (forest out-of-bag)" : "");
        return;
    }
    printf("sigma: recalibrated on grouped CV (%s, %zu folds): scale %.4g, floor %.4g", c->grouping,
           c->folds, c->scale, c->floor);
    if (c->dist_coef > 0)
        printf(" x (1 + %.4g min(domain score, %.4g))", c->dist_coef, c->dist_clip);
    printf("\n");
    if (!(c->alpha > 0)) return;
    size_t in = 0, used = 0;
    for (size_t i = 0; i < n; i++) {
        double h = ms_model_interval_half_width(m, sg[i]);
        if (isnan(h) || !isfinite(mu[i])) continue;
        used++;
        in += fabs(y[i] - mu[i]) <= h;
    }
    printf("conformal interval mean +- %.4g sigma: coverage %.3f of %zu rows (stated %.3f)\n",
           c->q, used ? (double)in / (double)used : NAN, used, 1 - c->alpha);
}

static int run_heldout(const ms_model_args *a, const ms_model *m, const ms_dataset *d, int rank)
{
    size_t n = d->n;
    double *mu = malloc((n + 1) * sizeof *mu), *sg = malloc((n + 1) * sizeof *sg);
    int code = 0;
    ms_status st = mu && sg ? ms_model_predict(m, &d->x, mu, sg)
                            : ms_error_set(MS_ERR_NOMEM, "out of memory");
    if (st != MS_SUCCESS) {
        if (rank == 0) fprintf(stderr, "matscreen evaluate: %s\n", ms_error_message());
        code = 2;
    } else if (rank == 0) {
        printf("model %s (%s) on %s: %zu rows (%zu dropped)\n", a->model, m->type->name,
               d->target_name, n, d->n_dropped);
        if (d->n_dropped) fprintf(stderr, "matscreen evaluate: first dropped row: %s\n", d->first_dropped);
        if (m->task == MS_MODEL_CLASSIFICATION) {
            ms_class_metrics c;
            ms_metrics_classification(d->y, mu, n, &c);
            printf("accuracy %.4f precision %.4f recall %.4f f1 %.4f mcc %.4f balanced_accuracy "
                   "%.4f roc_auc %.4f log_loss %.4f\nconfusion tn %zu fp %zu fn %zu tp %zu\n",
                   c.accuracy, c.precision, c.recall, c.f1, c.mcc, c.balanced_accuracy, c.roc_auc,
                   c.log_loss, c.tn, c.fp, c.fn, c.tp);
        } else {
            ms_reg_metrics rm;
            ms_calibration cal;
            ms_metrics_regression(d->y, mu, n, &rm);
            ms_calibration_compute(d->y, mu, sg, n, &cal);
            double mean_tr = NAN;
            for (size_t k = 0; k < m->n_metrics; k++)
                if (strcmp(m->metric_name[k], "train_mean") == 0) mean_tr = m->metric_value[k];
            double bm = 0;
            for (size_t i = 0; i < n; i++) bm += fabs(d->y[i] - mean_tr);
            printf("mae %.4f rmse %.4f r2 %.4f spearman %.4f\n"
                   "calibration: within1 %.3f within2 %.3f miscal_area %.4f nll %.4f z_rms %.3f\n"
                   "baseline (training mean %.4f): mae %.4f\n",
                   rm.mae, rm.rmse, rm.r2, rm.spearman, cal.within1, cal.within2, cal.miscal_area,
                   cal.nll, cal.z_rms, mean_tr, bm / (double)n);
            print_model_calibration(m, d->y, mu, sg, n);
            if (!isnan(a->class_threshold)) {
                char lab[128];
                snprintf(lab, sizeof lab, "%s >= %g", d->target_name, a->class_threshold);
                print_thresholded(d->y, mu, sg, n,
                                  m->log10_target ? log10(a->class_threshold) : a->class_threshold,
                                  lab);
            }
        }
        if (a->predictions) write_predictions(a->predictions, d, mu, sg, NULL, NULL);
        if (a->importance > 0) {
            double *imp = malloc((m->n_raw + 1) * sizeof *imp);
            size_t *order = malloc((m->n_raw + 1) * sizeof *order);
            if (imp && order &&
                ms_permutation_importance(m, &d->x, d->y, 5, a->seed, imp) == MS_SUCCESS) {
                ms_importance_order(imp, m->n_raw, order);
                printf("permutation importance (%s increase, 5 repeats):\n",
                       m->task == MS_MODEL_CLASSIFICATION ? "1 - ROC-AUC" : "MAE");
                for (int q = 0; q < a->importance && (size_t)q < m->n_raw; q++)
                    printf("  %-48s %.5f\n", m->feature_names[order[q]], imp[order[q]]);
            }
            free(imp);
            free(order);
        }
    }
    free(mu);
    free(sg);
    return code;
}

int ms_cmd_evaluate(int argc, char **argv)
{
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    ms_model_args a;
    int code = ms_model_args_parse(argc, argv, "evaluate", &a, rank);
    if (code == 0 && a.help) {
        if (rank == 0) evaluate_usage(stdout);
    } else if (code == 0) {
        ms_model *m = NULL;
        ms_dataset d;
        code = ms_model_args_load(&a, "evaluate", rank, &m, &d);
        if (code == 0) code = m ? run_heldout(&a, m, &d, rank) : run_cv(&a, &d, rank);
        ms_dataset_free(&d);
        ms_model_free(m);
    }
    MPI_Bcast(&code, 1, MPI_INT, 0, MPI_COMM_WORLD);
    return code;
}
