/*
 * matscreen compare: several learners x descriptor sets x feature selections under the SAME
 * folds (grouped by --group, default chemical system; ms_train_folds, the folds evaluate uses),
 * one table, and the best row chosen by a stated rule: the lowest mean out-of-fold MAE (the
 * highest ROC-AUC for a classification); rows within one standard error (fold sd / sqrt(K)) of
 * it are listed as ties. Every learner runs with its defaults (-p would not mean the same to
 * each kind). Data options are evaluate's. Fold models are built as evaluate builds them
 * (ms_train_cv_predict: sigma recalibrated as train stores it, unless --calibrate oob), so the
 * within1 column is evaluate's on the same folds.
 */
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "model_args.h"
#include "matscreen/cv.h"
#include "matscreen/dataset.h"
#include "matscreen/model.h"
#include "matscreen/select.h"
#include "matscreen/train.h"

#define MAX_ITEMS 8
#define MAX_ROWS (MAX_ITEMS * MAX_ITEMS * MAX_ITEMS)

typedef struct row {
    char kind[32], set[32], select[96];
    double mean, sd, within1, secs;
    size_t columns;
} row;

static void compare_usage(FILE *out)
{
    fprintf(out,
            "usage: matscreen compare DATA [--kinds K1,K2] [--sets S1,S2] [--selects 'A;B']\n"
            "                         [--cv K] [--group G] [-s SEED]\n\n"
            MS_MODEL_DATA_HELP
            "with -t TARGET (column), --log10 (learn log10 of the target), --threshold X\n"
            "(classify target >= X), --max-rows N (use only the first N rows).\n\n"
            "Cross-validates every kind x set x selection on the same folds (K folds, default 5,\n"
            "of whole groups of --group: chemsys by default) and prints one table: out-of-fold\n"
            "MAE (regression; ROC-AUC for a classification), its fold sd, coverage within 1\n"
            "sigma, the columns the model kept, the time.\n"
            "  --kinds LIST     learners (default forest,gbm), each with its defaults\n"
            "  --sets LIST      descriptor sets (default magpie)\n"
            "  --selects LIST   selection specs separated by ';' (none = no selection; default\n"
            "                   none), see matscreen select --help\n"
            "  --calibrate MODE regression sigma of every fold's model, as evaluate: grouped\n"
            "                   (default: recalibrated on grouped CV of the fold's training rows,\n"
            "                   as train stores it; K + 1 fits per fold) or oob (the learner's\n"
            "                   own, one fit per fold)\n"
            "  --calibration-fit C  area, likelihood or coverage (train --help)\n"
            "Best: lowest mean MAE (highest mean ROC-AUC); rows within one standard error\n"
            "(fold sd / sqrt(K)) of the best are marked as ties.\n\n" MS_CLI_EXIT_HELP);
}

/* Splits list at sep into at most MAX_ITEMS items (pointers into buf). */
static size_t split(char *buf, char sep, char **items)
{
    size_t n = 0;
    for (char *s = buf; s && n < MAX_ITEMS;) {
        char *e = strchr(s, sep);
        if (e) *e = 0;
        if (*s) items[n++] = s;
        s = e ? e + 1 : NULL;
    }
    return n;
}

/* One kind x selection on d with fold; fills r. */
static ms_status run_one(const ms_model_args *a, const ms_dataset *d, const int *fold, size_t k,
                         const int *groups, row *r)
{
    ms_model_spec spec;
    ms_model_spec_default(&spec);
    spec.kind = r->kind;
    spec.task = d->classification ? MS_MODEL_CLASSIFICATION : MS_MODEL_REGRESSION;
    spec.seed = a->seed;
    spec.select = strcmp(r->select, "none") ? r->select : NULL;
    spec.group = spec.select ? groups : NULL;
    double *mu = malloc((d->n + 1) * sizeof *mu), *sg = malloc((d->n + 1) * sizeof *sg);
    ms_cv_scores sc;
    double t0 = MPI_Wtime();
    /* sigma of the model train would make (evaluate's fold models; train.h) */
    ms_train_cv_sigma how = {a->group, k,
                             a->cal_criterion >= 0 ? a->cal_criterion
                                                   : ms_train_calibration_criterion(r->kind),
                             a->seed};
    if (!a->calibrate) how.group.kind = MS_GROUP_NONE;
    ms_status st = mu && sg ? ms_train_cv_predict(&spec, d, fold, k, &how, MPI_COMM_WORLD, mu, sg,
                                                  NULL, NULL)
                            : ms_error_set(MS_ERR_NOMEM, "compare: out of memory");
    r->secs = MPI_Wtime() - t0;
    if (st == MS_SUCCESS)
        st = ms_cv_score(d->classification, d->y, mu, d->classification ? NULL : sg, fold, d->n,
                         k, &sc);
    r->within1 = NAN;
    for (size_t s = 0; st == MS_SUCCESS && s < sc.n_scores; s++) {
        if (!strcmp(sc.name[s], d->classification ? "roc_auc" : "mae"))
            r->mean = sc.mean[s], r->sd = sc.std[s];
        if (!strcmp(sc.name[s], "within1")) r->within1 = sc.mean[s];
    }
    ms_model *m = NULL; /* the columns a model on all rows keeps */
    if (st == MS_SUCCESS) st = ms_model_fit(&spec, &d->x, d->y, NULL, MPI_COMM_WORLD, &m);
    r->columns = m ? m->n_kept : 0;
    ms_model_free(m);
    free(mu);
    free(sg);
    return st;
}

static void print_table(const row *rows, size_t n, size_t k, int cls, int calibrated, int rank)
{
    if (rank != 0 || !n) return;
    size_t best = 0;
    for (size_t i = 1; i < n; i++)
        if (cls ? rows[i].mean > rows[best].mean : rows[i].mean < rows[best].mean) best = i;
    double se = rows[best].sd * sqrt((double)k / (double)(k - 1)) / sqrt((double)k);
    printf("%-8s %-12s %-24s %8s %10s %8s %8s %8s\n", "kind", "set", "select", "columns",
           cls ? "roc_auc" : "mae", "fold_sd", "within1", "seconds");
    for (size_t i = 0; i < n; i++) {
        const row *r = &rows[i];
        int tie = i != best && fabs(r->mean - rows[best].mean) <= se;
        printf("%-8s %-12s %-24s %8zu %10.4f %8.4f %8.3f %8.1f%s\n", r->kind, r->set, r->select,
               r->columns, r->mean, r->sd, r->within1, r->secs,
               i == best ? "  best" : tie ? "  within 1 SE" : "");
    }
    printf("best (rule: %s mean out-of-fold %s over the same %zu folds): %s / %s / %s\n",
           cls ? "highest" : "lowest", cls ? "ROC-AUC" : "MAE", k, rows[best].kind,
           rows[best].set, rows[best].select);
    if (!cls)
        printf("within1: %s\n", calibrated ? "each fold's model recalibrated on grouped CV of its "
                                             "training rows, as train stores it (evaluate's sigma)"
                                           : "the learner's own sigma (--calibrate oob or --group "
                                             "none)");
}

/* Every kind x selection on the dataset of one set; appends to rows. */
static int compare_set(const ms_model_args *a, const char *set, char **kinds, size_t nk,
                       char **sels, size_t nsel, int rank, row *rows, size_t *n, size_t *n_rows,
                       int *cls)
{
    ms_model_args as = *a;
    as.set = set;
    ms_model *none = NULL;
    ms_dataset d;
    int code = ms_model_args_load(&as, "compare", rank, &none, &d);
    size_t k = a->cv ? a->cv : 5;
    int *fold = code ? NULL : malloc((d.n + 1) * sizeof *fold);
    int *groups = code ? NULL : malloc((d.n + 1) * sizeof *groups);
    int grouped = a->group.kind != MS_GROUP_NONE;
    size_t ng = 0;
    ms_status st = code ? MS_ERR_USAGE : !fold || !groups ? ms_error_set(MS_ERR_NOMEM, "out of memory")
                   : ms_train_folds(&d, grouped ? &a->group : NULL, k, a->seed, fold);
    if (st == MS_SUCCESS && grouped) st = ms_cv_groups(&d, &a->group, a->seed, groups, &ng);
    if (st == MS_SUCCESS && *n_rows && *n_rows != d.n && rank == 0)
        fprintf(stderr, "matscreen compare: set %s has %zu rows, the first set %zu: its folds "
                        "differ\n", set, d.n, *n_rows);
    if (st == MS_SUCCESS) *n_rows = d.n, *cls = d.classification;
    for (size_t i = 0; st == MS_SUCCESS && i < nk; i++)
        for (size_t j = 0; st == MS_SUCCESS && j < nsel && *n < MAX_ROWS; j++) {
            row *r = &rows[*n];
            memset(r, 0, sizeof *r);
            snprintf(r->kind, sizeof r->kind, "%s", kinds[i]);
            snprintf(r->set, sizeof r->set, "%s", set);
            snprintf(r->select, sizeof r->select, "%s", sels[j]);
            st = run_one(a, &d, fold, k, grouped ? groups : NULL, r);
            if (st == MS_SUCCESS) (*n)++;
        }
    if (st != MS_SUCCESS && !code && rank == 0)
        fprintf(stderr, "matscreen compare: %s\n", ms_error_message());
    free(fold);
    free(groups);
    ms_dataset_free(&d);
    ms_model_free(none);
    return code ? code : st == MS_SUCCESS ? 0 : 2;
}

int ms_cmd_compare(int argc, char **argv)
{
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    char kb[256] = "forest,gbm", sb[256] = "magpie", selb[512] = "none";
    char **rest = malloc(((size_t)argc + 1) * sizeof *rest);
    int nrest = 0, code = rest ? 0 : 2;
    for (int i = 0; rest && i < argc; i++) {
        char *dst = !strcmp(argv[i], "--kinds") ? kb : !strcmp(argv[i], "--sets") ? sb
                    : !strcmp(argv[i], "--selects") ? selb : NULL;
        if (!dst) {
            rest[nrest++] = argv[i];
            continue;
        }
        if (i + 1 >= argc || strlen(argv[i + 1]) >= (dst == selb ? sizeof selb : sizeof kb)) {
            if (rank == 0) fprintf(stderr, "matscreen compare: %s needs a (short) list\n", argv[i]);
            code = 2;
            break;
        }
        strcpy(dst, argv[++i]);
    }
    ms_model_args a;
    /* compare's table has no -p, -m, --folds, --kind, --set: every kind runs with its defaults
     * on the same grouped folds, for the kinds and sets of --kinds and --sets */
    if (code == 0) code = ms_model_args_parse(nrest, rest, "compare", &a, rank);
    if (code == 0 && a.help && rank == 0) compare_usage(stdout);
    char *kinds[MAX_ITEMS], *sets[MAX_ITEMS], *sels[MAX_ITEMS];
    size_t nk = split(kb, ',', kinds), ns = split(sb, ',', sets), nsel = split(selb, ';', sels);
    for (size_t j = 0; code == 0 && !a.help && j < nsel; j++)
        if (strcmp(sels[j], "none") && ms_select_check(sels[j]) != MS_SUCCESS) {
            if (rank == 0) fprintf(stderr, "matscreen compare: %s\n", ms_error_message());
            code = 2;
        }
    row *rows = calloc(MAX_ROWS, sizeof *rows);
    size_t n = 0, n_rows = 0;
    int cls = 0;
    for (size_t s = 0; code == 0 && !a.help && rows && s < ns; s++)
        code = compare_set(&a, sets[s], kinds, nk, sels, nsel, rank, rows, &n, &n_rows, &cls);
    if (code == 0 && !a.help)
        print_table(rows, n, a.cv ? a.cv : 5, cls, a.calibrate && a.group.kind != MS_GROUP_NONE,
                    rank);
    free(rows);
    free(rest);
    MPI_Bcast(&code, 1, MPI_INT, 0, MPI_COMM_WORLD);
    return code;
}
