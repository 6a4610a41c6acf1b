/*
 * matscreen suggest: the next batch of candidates for an active-learning loop, with reasons.
 *
 * The surrogate is either a model file (-m MODEL, model.h: its own imputation and scaling, mean
 * and sigma in the target's units) or a Gaussian process trained here on a labelled set (-l or
 * --matbench; campaign.h's GP surrogate with the same schedule as campaigns). Pool rows are
 * formulas from CSV files, featurised with the model's (or --set's) descriptor set. Acquisition
 * scores (acquisition.h) are optionally gated by a classifier model's probability (--gate) or,
 * with --pareto-target, combined with a second target's acquisition by Pareto ranking (batch.h);
 * the batch is chosen greedily with the distance penalty in z-scored pool features (batch.h).
 *
 * MPI: the work is small and serial, so rank 0 does all of it and the other ranks only take part
 * in MPI_Init / MPI_Finalize; the output is therefore identical for any number of ranks. The GP
 * is seeded with --seed (restarts of its hyperparameter search).
 */
#include <getopt.h>
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "al_args.h"
#include "commands.h"
#include "matscreen/number.h"
#include "matscreen/file_read.h"
#include "matscreen/batch.h"
#include "matscreen/campaign.h"
#include "matscreen/composition.h"
#include "matscreen/csv.h"
#include "matscreen/dataset.h"
#include "matscreen/descriptor.h"
#include "matscreen/element.h"
#include "matscreen/model.h"

static void suggest_usage(FILE *out)
{
    fprintf(out,
            "usage: matscreen suggest SURROGATE -i POOL.csv... -n N [options]\n\n"
            "SURROGATE is one of\n"
            "  -m MODEL                         a regression model file (matscreen train)\n"
            "  -l LABELS.csv --formula-column C -t TARGET   train a GP on these labels\n"
            "  --matbench FILE.json             train a GP on a Matbench composition task\n"
            "POOL files are CSVs with a formula column (--pool-column, default the\n"
            "--formula-column, else \"formula\"). Pool rows whose features equal a labelled row's\n"
            "are skipped (GP mode).\n\n"
            "  -n, --count N           suggestions (default 10)\n"
            "  -a, --acq NAME          ei (default), pi, mu, ucb, mean\n"
            "      --xi X, --kappa K   EI/PI margin (0), UCB weight (2)\n"
            "      --minimize          smaller targets are better\n"
            "      --best X            best label so far (required for ei/pi with -m; GP mode\n"
            "                          takes the best training label)\n"
            "      --log10             GP mode: learn log10(target) (model files record it)\n"
            "      --gate MODEL        multiply scores by this classifier's P(class 1) (ei, pi, mu)\n"
            "      --pareto-target T2  GP mode: also train on column T2 and rank by Pareto fronts\n"
            "                          of the two acquisition scores\n"
            "      --minimize2         T2 is better when smaller\n"
            "      --radius R          diversity radius in sd units (default 0.25; 0: top scores)\n"
            "      --set NAME          GP mode descriptor set (default magpie)\n"
            "  -s, --seed S            GP hyperparameter-search seed (default 0)\n"
            "  -o, --output FILE       CSV to write (default standard output)\n"
            "  -h, --help              this text\n\n" MS_CLI_EXIT_HELP);
}

typedef struct suggest_args {
    ms_al_args al; /* data, --acq name, --minimize, --xi, --kappa, --radius, --set, -s, -o FILE */
    const char *model, *pool_col, *target2, *gate;
    const char *pool[64];
    size_t n_pool_files, count;
    int minimize2;
    double best;
} suggest_args;

static int parse(int argc, char **argv, suggest_args *a, int rank)
{
    memset(a, 0, sizeof *a);
    ms_al_args_default(&a->al, "ei");
    a->count = 10;
    a->best = NAN;
    static const struct option longopts[] = {
        MS_AL_LONGOPTS,
        {"model", required_argument, 0, 'm'}, {"pool-column", required_argument, 0, 'P'},
        {"pareto-target", required_argument, 0, 'T'}, {"gate", required_argument, 0, 'g'},
        {"input", required_argument, 0, 'i'}, {"count", required_argument, 0, 'n'},
        {"minimize2", no_argument, 0, 'Z'}, {"best", required_argument, 0, 'b'},
        {0, 0, 0, 0}};
    optind = 1;
    opterr = rank == 0;
    int c;
    while ((c = getopt_long(argc, argv, "m:l:t:o:a:i:n:s:h", longopts, NULL)) != -1) {
        ms_status st = MS_SUCCESS;
        int r = 1;
        switch (c) {
        case 'm': a->model = optarg; break;
        case 'P': a->pool_col = optarg; break;
        case 'T': a->target2 = optarg; break;
        case 'g': a->gate = optarg; break;
        case 'i':
            if (a->n_pool_files == 64) return 2;
            a->pool[a->n_pool_files++] = optarg;
            break;
        case 'n': st = ms_parse_size("-n", optarg, 1, MS_COUNT_MAX, &a->count); break;
        case 'Z': a->minimize2 = 1; break;
        case 'b': st = ms_parse_double("--best", optarg, -MS_NUM_MAX, MS_NUM_MAX, &a->best); break;
        default:
            r = ms_al_args_option(&a->al, c, optarg);
            if (r == 0) return 2;
            if (a->al.help) return 0;
        }
        if (st != MS_SUCCESS || r < 0) {
            if (rank == 0) fprintf(stderr, "matscreen suggest: %s\n", ms_error_message());
            return 2;
        }
    }
    for (; optind < argc && a->n_pool_files < 64; optind++) a->pool[a->n_pool_files++] = argv[optind];
    const char *err = NULL;
    int sources = !!a->model + !!a->al.labels + !!a->al.matbench;
    if (sources != 1) err = "give exactly one of -m MODEL, -l LABELS.csv, --matbench FILE";
    else if (a->al.labels && (!a->al.formula_col || !a->al.target))
        err = "-l needs --formula-column and -t TARGET";
    else if (!a->n_pool_files) err = "give the pool with -i POOL.csv";
    else if (a->count < 1) err = "-n must be >= 1";
    else if (a->target2 && a->model) err = "--pareto-target needs a labelled set (GP mode)";
    else if (a->target2 && a->gate) err = "--pareto-target and --gate do not combine";
    if (err) {
        if (rank == 0) fprintf(stderr, "matscreen suggest: %s (see --help)\n", err);
        return 2;
    }
    return 0;
}

/* The pool: formulas with their source, and raw features for one descriptor set. */
typedef struct pool {
    size_t n, cap;
    char **formula, **source;
} pool;

static void pool_free(pool *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free(p->formula[i]);
        free(p->source[i]);
    }
    free(p->formula);
    free(p->source);
    memset(p, 0, sizeof *p);
}

static ms_status pool_read(pool *p, const char *path, const char *column)
{
    FILE *f;
    MS_CALL(ms_open_regular(path, 0, &f, NULL));
    char *line = NULL, *fields[256];
    size_t cap = 0, lineno = 0;
    int col = -1;
    ms_status st = MS_SUCCESS;
    while (st == MS_SUCCESS && getline(&line, &cap, f) > 0) {
        lineno++;
        int nf = ms_csv_split(line, fields, 256);
        if (lineno == 1) {
            col = ms_csv_column(fields, nf, column);
            if (col < 0) st = ms_error_set(MS_ERR_NOT_FOUND, "%s: no column '%s'", path, column);
            continue;
        }
        if (col >= nf || !fields[col][0]) continue;
        if (p->n == p->cap) {
            size_t nc = p->cap ? 2 * p->cap : 256;
            char **a = realloc(p->formula, nc * sizeof *a), **b = a ? realloc(p->source, nc * sizeof *b) : NULL;
            if (a) p->formula = a;
            if (b) p->source = b;
            if (!a || !b) {
                st = ms_error_set(MS_ERR_NOMEM, "suggest: out of memory");
                break;
            }
            p->cap = nc;
        }
        char src[4200];
        snprintf(src, sizeof src, "%s:%zu", path, lineno);
        p->formula[p->n] = strdup(fields[col]);
        p->source[p->n] = strdup(src);
        if (!p->formula[p->n] || !p->source[p->n]) {
            free(p->formula[p->n]);
            free(p->source[p->n]);
            st = ms_error_set(MS_ERR_NOMEM, "suggest: out of memory");
            break;
        }
        p->n++;
    }
    free(line);
    fclose(f);
    return st;
}

/* Raw features of every pool formula with set_name into x (allocated); a formula that does not
 * parse gives a row of NaN and ok[i] = 0. */
static ms_status pool_features(const pool *p, const char *set_name, const ms_element_table *table,
                               ms_matrix *x, unsigned char *ok)
{
    const ms_descriptor_set *set;
    ms_featurizer *fz = NULL;
    MS_CALL(ms_descriptor_set_lookup(set_name, &set));
    MS_CALL(ms_featurizer_create(set, table, &fz));
    ms_status st = ms_matrix_alloc(x, p->n, ms_featurizer_n_features(fz));
    for (size_t i = 0; st == MS_SUCCESS && i < p->n; i++) {
        ms_composition c;
        double *row = x->data + i * x->cols;
        ok[i] = ms_composition_parse(p->formula[i], &c) == MS_SUCCESS &&
                ms_featurizer_compute_composition(fz, &c, row, NULL) == MS_SUCCESS;
        if (!ok[i])
            for (size_t j = 0; j < x->cols; j++) row[j] = NAN;
    }
    ms_error_clear();
    ms_featurizer_destroy(&fz);
    return st;
}

/* Trains the campaign GP on a labelled set and predicts the pool rows (raw features xp, the
 * same set) after imputing and z-scoring training and pool together. best gets the best label. */
static ms_status gp_predict(const suggest_args *a, const char *target, int minimize,
                            const ms_element_table *table, const ms_matrix *xp,
                            unsigned char *eligible, double *mean, double *sigma, double *best)
{
    ms_dataset_spec ds;
    ms_al_args_data_spec(&a->al, target, &ds);
    ms_dataset d;
    MS_CALL(ms_dataset_load(&ds, table, &d));
    size_t n = d.n, m = xp->rows, p = d.x.cols;
    ms_matrix all = {0}, xt, xq;
    ms_surrogate sur = {0};
    ms_status st = p == xp->cols ? MS_SUCCESS : ms_error_set(MS_ERR_INTERNAL, "feature count");
    if (st == MS_SUCCESS) st = ms_matrix_alloc(&all, n + m, p);
    if (st == MS_SUCCESS) {
        memcpy(all.data, d.x.data, n * p * sizeof(double));
        memcpy(all.data + n * p, xp->data, m * p * sizeof(double));
        /* skip pool rows identical to a labelled row (the same composition, up to scaling) */
        for (size_t i = 0; i < m; i++)
            for (size_t t = 0; eligible[i] && t < n; t++)
                if (memcmp(xp->data + i * p, d.x.data + t * p, p * sizeof(double)) == 0)
                    eligible[i] = 0;
        st = ms_campaign_prepare(&all);
    }
    if (st == MS_SUCCESS) {
        ms_gp_options go;
        ms_surrogate_gp_defaults(&go, p);
        go.seed = a->al.seed;
        st = ms_surrogate_gp_create(&go, 1.5, &sur);
    }
    if (st == MS_SUCCESS) {
        ms_matrix_wrap(&xt, all.data, n, p);
        ms_matrix_wrap(&xq, all.data + n * p, m, p);
        st = sur.type->fit(sur.state, &xt, d.y, a->al.seed);
    }
    if (st == MS_SUCCESS) st = sur.type->predict(sur.state, &xq, mean, sigma);
    *best = minimize ? INFINITY : -INFINITY;
    for (size_t i = 0; i < n; i++)
        if (minimize ? d.y[i] < *best : d.y[i] > *best) *best = d.y[i];
    ms_surrogate_free(&sur);
    ms_matrix_free(&all);
    ms_dataset_free(&d);
    return st;
}

static ms_status model_predict(const char *path, const pool *p, const ms_element_table *table,
                               int want_classifier, double *mean, double *sigma,
                               unsigned char *eligible, char *set_out, size_t set_n)
{
    ms_model *m = NULL;
    MS_CALL(ms_model_load(path, &m));
    ms_status st = MS_SUCCESS;
    if ((m->task == MS_MODEL_CLASSIFICATION) != want_classifier)
        st = ms_error_set(MS_ERR_USAGE, "%s: is a %s model; %s needs a %s", path,
                          m->task == MS_MODEL_CLASSIFICATION ? "classification" : "regression",
                          want_classifier ? "--gate" : "-m",
                          want_classifier ? "classifier" : "regression model");
    if (st == MS_SUCCESS && !m->descriptor_set[0])
        st = ms_error_set(MS_ERR_USAGE, "%s: records no descriptor set", path);
    ms_matrix x = {0};
    unsigned char *ok = malloc(p->n + 1);
    if (st == MS_SUCCESS && !ok) st = ms_error_set(MS_ERR_NOMEM, "suggest: out of memory");
    if (st == MS_SUCCESS) st = pool_features(p, m->descriptor_set, table, &x, ok);
    if (st == MS_SUCCESS && x.cols != m->n_raw)
        st = ms_error_set(MS_ERR_INVALID, "%s: expects %zu features, set %s has %zu", path,
                          m->n_raw, m->descriptor_set, x.cols);
    if (st == MS_SUCCESS) st = ms_model_predict(m, &x, mean, sigma);
    for (size_t i = 0; st == MS_SUCCESS && i < p->n; i++)
        if (!ok[i]) eligible[i] = 0;
    if (st == MS_SUCCESS && set_out) snprintf(set_out, set_n, "%s", m->descriptor_set);
    free(ok);
    ms_matrix_free(&x);
    ms_model_free(m);
    return st;
}

static int run(const suggest_args *a)
{
    ms_element_table *table = NULL;
    pool p = {0};
    ms_matrix x = {0};
    size_t n = 0;
    double *mean = NULL, *sigma = NULL, *score = NULL, *gate = NULL, *mean2 = NULL,
           *sigma2 = NULL, *score2 = NULL, *crowd = NULL, *util = NULL, *pos = NULL;
    unsigned char *eligible = NULL;
    int *prank = NULL;
    size_t *chosen = NULL, *order = NULL;
    double best = a->best, best2 = NAN;
    char set_name[64];
    snprintf(set_name, sizeof set_name, "%s", a->al.set ? a->al.set : "magpie");
    const char *column = a->pool_col      ? a->pool_col
                         : a->al.formula_col ? a->al.formula_col
                                             : "formula";
    ms_acq_params acq;
    ms_acq_params_default(&acq);
    ms_status st = ms_acq_lookup(a->al.acq, &acq.kind);
    if (st == MS_SUCCESS && acq.kind == MS_ACQ_RANDOM)
        st = ms_error_set(MS_ERR_USAGE, "random is a campaign baseline, not a suggestion rule");
    acq.xi = a->al.xi;
    acq.kappa = a->al.kappa;
    acq.minimize = a->al.minimize;
    if (st == MS_SUCCESS) st = ms_element_table_load_default(&table);
    for (size_t i = 0; st == MS_SUCCESS && i < a->n_pool_files; i++) st = pool_read(&p, a->pool[i], column);
    n = p.n;
    if (st == MS_SUCCESS && n == 0) st = ms_error_set(MS_ERR_INVALID, "the pool is empty");
    if (st == MS_SUCCESS) {
        mean = calloc(n, sizeof *mean);
        sigma = calloc(n, sizeof *sigma);
        score = calloc(n, sizeof *score);
        util = calloc(a->count, sizeof *util);
        eligible = malloc(n);
        chosen = calloc(a->count, sizeof *chosen);
        if (!mean || !sigma || !score || !util || !eligible || !chosen)
            st = ms_error_set(MS_ERR_NOMEM, "suggest: out of memory");
        else
            memset(eligible, 1, n);
    }
    if (st == MS_SUCCESS && a->model) {
        st = model_predict(a->model, &p, table, 0, mean, sigma, eligible, set_name, sizeof set_name);
        if (st == MS_SUCCESS && isnan(best) && (acq.kind == MS_ACQ_EI || acq.kind == MS_ACQ_PI))
            st = ms_error_set(MS_ERR_USAGE, "%s with -m needs --best (the best label so far, in "
                                            "the model's target units)", a->al.acq);
    }
    /* features of the pool (for the GP and for the diversity distance) */
    unsigned char *ok = st == MS_SUCCESS ? malloc(n) : NULL;
    if (st == MS_SUCCESS && !ok) st = ms_error_set(MS_ERR_NOMEM, "suggest: out of memory");
    if (st == MS_SUCCESS) st = pool_features(&p, set_name, table, &x, ok);
    for (size_t i = 0; st == MS_SUCCESS && i < n; i++)
        if (!ok[i]) eligible[i] = 0;
    free(ok);
    if (st == MS_SUCCESS && !a->model) {
        double b;
        st = gp_predict(a, a->al.target, a->al.minimize, table, &x, eligible, mean, sigma, &b);
        if (isnan(best)) best = b;
    }
    if (st == MS_SUCCESS && a->target2) {
        mean2 = calloc(n, sizeof *mean2);
        sigma2 = calloc(n, sizeof *sigma2);
        score2 = calloc(n, sizeof *score2);
        if (!mean2 || !sigma2 || !score2) st = ms_error_set(MS_ERR_NOMEM, "suggest: out of memory");
        if (st == MS_SUCCESS)
            st = gp_predict(a, a->target2, a->minimize2, table, &x, eligible, mean2, sigma2, &best2);
    }
    if (st == MS_SUCCESS && a->gate) {
        gate = calloc(n, sizeof *gate);
        if (!gate) st = ms_error_set(MS_ERR_NOMEM, "suggest: out of memory");
        if (st == MS_SUCCESS) st = model_predict(a->gate, &p, table, 1, gate, NULL, eligible, NULL, 0);
    }
    if (st == MS_SUCCESS) st = ms_acq_score(&acq, mean, sigma, gate, n, best, score);
    if (st == MS_SUCCESS && a->target2) {
        ms_acq_params acq2 = acq;
        acq2.minimize = a->minimize2;
        st = ms_acq_score(&acq2, mean2, sigma2, NULL, n, best2, score2);
        double *f = st == MS_SUCCESS ? malloc(2 * n * sizeof *f) : NULL;
        prank = calloc(n, sizeof *prank);
        crowd = calloc(n, sizeof *crowd);
        order = calloc(n, sizeof *order);
        if (st == MS_SUCCESS && (!f || !prank || !crowd || !order))
            st = ms_error_set(MS_ERR_NOMEM, "suggest: out of memory");
        for (size_t i = 0; st == MS_SUCCESS && i < n; i++) {
            f[2 * i] = eligible[i] ? score[i] : NAN;
            f[2 * i + 1] = eligible[i] ? score2[i] : NAN;
        }
        if (st == MS_SUCCESS) st = ms_pareto_rank(f, n, 2, NULL, prank, crowd);
        if (st == MS_SUCCESS) st = ms_pareto_order(prank, crowd, n, order);
        /* the batch takes candidates in crowded-comparison order: score = -position */
        pos = f;
        for (size_t t = 0; st == MS_SUCCESS && t < n; t++)
            pos[order[t]] = prank[order[t]] < 0 ? NAN : -(double)t;
        if (st != MS_SUCCESS) {
            free(f);
            pos = NULL;
        }
    }
    /* diversity: z-scored pool features */
    if (st == MS_SUCCESS) st = ms_campaign_prepare(&x);
    size_t n_chosen = 0;
    if (st == MS_SUCCESS)
        st = ms_batch_select(a->target2 ? pos : score, eligible, n, &x, a->al.radius, a->count,
                             chosen, &n_chosen, util);
    int rc = 0;
    if (st != MS_SUCCESS) {
        fprintf(stderr, "matscreen suggest: %s\n", ms_error_message());
        rc = 2;
    } else {
        FILE *f = a->al.output ? fopen(a->al.output, "w") : stdout;
        if (!f) {
            fprintf(stderr, "matscreen suggest: cannot write %s\n", a->al.output);
            rc = 1;
        } else {
            fprintf(f, "rank,formula,source,mean,sigma,acquisition,best_so_far,utility,"
                       "nearest_pick_distance%s,reason\n",
                    a->target2 ? ",mean2,sigma2,acquisition2,best2,pareto_rank,crowding" : "");
            for (size_t t = 0; t < n_chosen; t++) {
                size_t i = chosen[t];
                double dmin = INFINITY;
                for (size_t u = 0; u < t; u++) {
                    double dd = ms_batch_distance(&x, i, chosen[u]);
                    if (dd < dmin) dmin = dd;
                }
                fprintf(f, "%zu,", t + 1);
                ms_csv_write_field(f, p.formula[i]);
                fputc(',', f);
                ms_csv_write_field(f, p.source[i]);
                fprintf(f, ",%.6g,%.6g,%.6g,%.6g,%.6g,", mean[i], sigma[i], score[i], best,
                        util[t]);
                if (t > 0) fprintf(f, "%.4g", dmin);
                if (a->target2)
                    fprintf(f, ",%.6g,%.6g,%.6g,%.6g,%d,%.4g", mean2[i], sigma2[i], score2[i],
                            best2, prank[i], crowd[i]);
                char why[512];
                int k = snprintf(why, sizeof why, "%s %.4g: predicted %.4g +- %.4g vs best %.4g",
                                 ms_acq_name(acq.kind), score[i], mean[i], sigma[i], best);
                if (gate && k > 0 && (size_t)k < sizeof why)
                    k += snprintf(why + k, sizeof why - (size_t)k, "; gate p = %.3g", gate[i]);
                if (a->target2 && k > 0 && (size_t)k < sizeof why)
                    k += snprintf(why + k, sizeof why - (size_t)k,
                                  "; %s predicted %.4g +- %.4g, Pareto front %d", a->target2,
                                  mean2[i], sigma2[i], prank[i]);
                if (t > 0 && k > 0 && (size_t)k < sizeof why)
                    snprintf(why + k, sizeof why - (size_t)k, "; %.3g sd from the nearest earlier"
                                                              " pick", dmin);
                fputc(',', f);
                ms_csv_write_field(f, why);
                fputc('\n', f);
            }
            if (a->al.output && fclose(f) != 0) rc = 1;
            size_t n_el = 0;
            for (size_t i = 0; i < n; i++) n_el += eligible[i] != 0;
            fprintf(stderr, "matscreen suggest: %zu of %zu pool rows eligible, %zu suggested "
                            "(%s, best so far %.6g)\n",
                    n_el, n, n_chosen, ms_acq_name(acq.kind), best);
        }
    }
    pool_free(&p);
    ms_matrix_free(&x);
    free(mean);
    free(sigma);
    free(score);
    free(gate);
    free(mean2);
    free(sigma2);
    free(score2);
    free(crowd);
    free(pos);
    free(util);
    free(eligible);
    free(prank);
    free(chosen);
    free(order);
    ms_element_table_free(table);
    return rc;
}

int ms_cmd_suggest(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    suggest_args a;
    int rc = parse(argc, argv, &a, rank);
    if (rc == 0 && a.al.help) {
        if (rank == 0) suggest_usage(stdout);
    } else if (rc == 0 && rank == 0) {
        rc = run(&a);
    }
    MPI_Bcast(&rc, 1, MPI_INT, 0, MPI_COMM_WORLD);
    MPI_Finalize();
    return rc;
}
