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
 * MPI: the work is small and serial, so rank 0 does all of it and the other ranks only wait for
 * its exit code (MPI is started and ended by main.c); the output is therefore identical for any number of ranks. The GP
 * is seeded with --seed (restarts of its hyperparameter search).
 */
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "al_args.h"
#include "commands.h"
#include "matscreen/number.h"
#include "matscreen/outfile.h"
#include "matscreen/file_read.h"
#include "matscreen/acquisition.h"
#include "matscreen/batch.h"
#include "matscreen/campaign.h"
#include "matscreen/composition.h"
#include "matscreen/csv.h"
#include "matscreen/dataset.h"
#include "matscreen/descriptor.h"
#include "matscreen/domain.h"
#include "matscreen/element.h"
#include "matscreen/model.h"

static void suggest_usage(FILE *out)
{
    fprintf(out,
            "usage: matscreen suggest SURROGATE -i POOL.csv... -n N [options]\n"
            "       matscreen suggest --from SCREEN-DIR -n N [options]\n\n"
            "SURROGATE is one of\n"
            "  -m MODEL                         a regression model file (matscreen train)\n"
            "  -l LABELS.csv --formula-column C -t TARGET   train a GP on these labels\n"
            "  --matbench FILE.json             train a GP on a Matbench composition task\n"
            "POOL files are CSVs with a formula column (--pool-column, default the\n"
            "--formula-column, else \"formula\"). Pool rows whose features equal a labelled row's\n"
            "are skipped (GP mode). A model whose descriptor set has structure features cannot\n"
            "predict a formula pool (a formula has no structure): use --from.\n"
            "--from SCREEN-DIR takes the pool and its predictions from a screen's output\n"
            "(DIR/ranked.jsonl: surrogate_mean, surrogate_sigma of every candidate), so the\n"
            "suggestions carry the screen's own predictions for the same structures, and its\n"
            "domain of applicability (in_domain, domain_score of every candidate).\n\n"
            "  -n, --count N           suggestions (default 10)\n"
            "  -a, --acq NAME          ei (default), pi, mu, ucb, mean\n"
            "      --xi X, --kappa K   EI/PI margin (0), UCB weight (1: what grouped campaigns,\n"
            "                          a pool of unseen chemical systems, measure best)\n"
            "      --minimize          smaller targets are better\n"
            "      --best X            best label so far (required for ei/pi with -m; GP mode\n"
            "                          takes the best training label)\n"
            "      --log10             GP mode: learn log10(target) (model files record it)\n"
            "      --gate MODEL        multiply scores by this classifier's P(class 1) (ei, pi, mu)\n"
            "      --pareto-target T2  GP mode: also train on column T2 and rank by Pareto fronts\n"
            "                          of the two acquisition scores\n"
            "      --minimize2         T2 is better when smaller\n"
            "      --radius R          diversity radius in sd units (default 0.25; 0: top scores)\n"
            "      --domain MODE       --from or -m: out-of-domain candidates (the screen's\n"
            "                          in_domain 0, or the model's verdict on the formula)\n"
            "                          rank: suggested only after every in-domain one (default);\n"
            "                          gate: scores times the screen's smooth domain weight (0 for\n"
            "                          elements never seen in training; ei, pi, mu); off: ignored\n"
            "      --set NAME          GP mode descriptor set (default magpie)\n"
            "  -s, --seed S            GP hyperparameter-search seed (default 0)\n"
            "  -o, --output FILE       CSV to write (default standard output)\n"
            "  -h, --help              this text\n\n" MS_CLI_EXIT_HELP);
}

typedef struct suggest_args {
    ms_al_args al; /* data, --acq name, --minimize, --xi, --kappa, --radius, --set, -s, -o FILE */
    const char *model, *pool_col, *target2, *gate, *from;
    const char *pool[64];
    size_t n_pool_files, count;
    int minimize2;
    int domain; /* --domain: DOMAIN_RANK (default), DOMAIN_GATE, DOMAIN_OFF */
    double best;
} suggest_args;

enum { DOMAIN_RANK, DOMAIN_GATE, DOMAIN_OFF };

static int parse(int argc, char **argv, suggest_args *a, int rank)
{
    memset(a, 0, sizeof *a);
    ms_al_args_default(&a->al, "ei");
    /* a suggestion scores a pool the model was not trained on with a model that knows every
     * label given: the grouped campaign's situation, whose default kappa it takes (1; campaign.h,
     * docs/active-learning.md "suggest's kappa") */
    a->al.kappa = ms_campaign_default_kappa(1);
    a->count = 10;
    a->best = NAN;
    static const struct option longopts[] = {
        MS_AL_LONGOPTS,
        {"model", required_argument, 0, 'm'}, {"pool-column", required_argument, 0, 'P'},
        {"pareto-target", required_argument, 0, 'T'}, {"gate", required_argument, 0, 'g'},
        {"input", required_argument, 0, 'i'}, {"count", required_argument, 0, 'n'},
        {"minimize2", no_argument, 0, 'Z'}, {"best", required_argument, 0, 'b'},
        {"from", required_argument, 0, 1001}, {"domain", required_argument, 0, 1002},
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
        case 1001: a->from = optarg; break;
        case 1002:
            a->domain = !strcmp(optarg, "rank")   ? DOMAIN_RANK
                        : !strcmp(optarg, "gate") ? DOMAIN_GATE
                        : !strcmp(optarg, "off")  ? DOMAIN_OFF
                                                  : -1;
            if (a->domain < 0)
                st = ms_error_set(MS_ERR_USAGE, "--domain '%s': use rank, gate or off", optarg);
            break;
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
    int sources = !!a->model + !!a->al.labels + !!a->al.matbench + !!a->from;
    if (sources != 1) err = "give exactly one of -m MODEL, -l LABELS.csv, --matbench FILE, --from DIR";
    else if (a->al.labels && (!a->al.formula_col || !a->al.target))
        err = "-l needs --formula-column and -t TARGET";
    else if (a->from && a->n_pool_files)
        err = "--from takes the pool from the screen's output; -i does not combine with it";
    else if (a->from && (a->gate || a->target2))
        err = "--from uses the screen's predictions; --gate and --pareto-target do not combine "
              "with it (screen with --rank-by gated for a gated ranking)";
    else if (!a->n_pool_files && !a->from) err = "give the pool with -i POOL.csv";
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
    double *mean, *sigma; /* --from: the screen's predictions (NaN otherwise) */
    /* --from: the screen's domain of applicability: in_domain 1 / 0 (-1 not scored), its score
     * and, for a row out of the domain, the screen's reason (NULL otherwise) */
    signed char *in_domain;
    double *dscore;
    char **dreason;
    double threshold; /* the screen's domain threshold (manifest.json; NaN: none) */
} pool;

static void pool_free(pool *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free(p->formula[i]);
        free(p->source[i]);
    }
    for (size_t i = 0; p->dreason && i < p->n; i++) free(p->dreason[i]);
    free(p->formula);
    free(p->source);
    free(p->mean);
    free(p->sigma);
    free(p->in_domain);
    free(p->dscore);
    free(p->dreason);
    memset(p, 0, sizeof *p);
}

/* The screen's verdict on one candidate (pool_add; in -1: not scored). */
typedef struct domain_row {
    int in;
    double score;
    const char *reason;
} domain_row;

/* Grows p's per-row arrays to hold one more row. */
static ms_status pool_grow(pool *p)
{
    if (p->n < p->cap) return MS_SUCCESS;
    size_t nc = p->cap ? 2 * p->cap : 256;
    char **a = realloc(p->formula, nc * sizeof *a);
    if (a) p->formula = a;
    char **b = a ? realloc(p->source, nc * sizeof *b) : NULL;
    if (b) p->source = b;
    double *m = b ? realloc(p->mean, nc * sizeof *m) : NULL;
    if (m) p->mean = m;
    double *sd = m ? realloc(p->sigma, nc * sizeof *sd) : NULL;
    if (sd) p->sigma = sd;
    signed char *in = sd ? realloc(p->in_domain, nc * sizeof *in) : NULL;
    if (in) p->in_domain = in;
    double *ds = in ? realloc(p->dscore, nc * sizeof *ds) : NULL;
    if (ds) p->dscore = ds;
    char **dr = ds ? realloc(p->dreason, nc * sizeof *dr) : NULL;
    if (dr) p->dreason = dr;
    MS_CHECK(dr, MS_ERR_NOMEM, "suggest: out of memory");
    p->cap = nc;
    return MS_SUCCESS;
}

/* Appends one candidate (strings copied; mean, sigma and dom kept only for a --from pool). */
static ms_status pool_add(pool *p, const char *formula, const char *source, double mean,
                          double sigma, const domain_row *dom)
{
    MS_CALL(pool_grow(p));
    p->in_domain[p->n] = (signed char)(dom ? dom->in : -1);
    p->dscore[p->n] = dom ? dom->score : NAN;
    p->dreason[p->n] = dom && dom->in == 0 && dom->reason ? strdup(dom->reason) : NULL;
    p->formula[p->n] = strdup(formula);
    p->source[p->n] = strdup(source);
    if (!p->formula[p->n] || !p->source[p->n] ||
        (dom && dom->in == 0 && dom->reason && !p->dreason[p->n])) {
        free(p->formula[p->n]);
        free(p->source[p->n]);
        free(p->dreason[p->n]);
        return ms_error_set(MS_ERR_NOMEM, "suggest: out of memory");
    }
    p->mean[p->n] = mean;
    p->sigma[p->n] = sigma;
    p->n++;
    return MS_SUCCESS;
}

/* The number of a JSON value, NAN for null or a missing key. */
static double json_num(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

/* The domain threshold the screen scored with (DIR/manifest.json "domain": {"threshold"}), NaN
 * when the screen had no domain (then the elements alone decide, as in the screen's gate). */
static double screen_threshold(const char *dir)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    json_t *m = json_load_file(path, 0, NULL);
    double t = json_num(json_object_get(m, "domain"), "threshold");
    json_decref(m);
    return t;
}

/* The pool of a screen's output directory: every candidate of DIR/ranked.jsonl with the screen's
 * surrogate mean and sigma (the predictions made on the structure's own features, which a
 * formula cannot reproduce for a structure-feature model). */
static ms_status pool_read_screen(pool *p, const char *dir)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/ranked.jsonl", dir);
    FILE *f = fopen(path, "r");
    MS_CHECK(f, MS_ERR_IO, "%s: cannot open (is %s the output directory of matscreen screen?)",
             path, dir);
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    ms_status st = MS_SUCCESS;
    while (st == MS_SUCCESS && getline(&line, &cap, f) > 0) {
        lineno++;
        json_error_t jerr;
        json_t *o = json_loads(line, 0, &jerr);
        const char *formula = json_string_value(json_object_get(o, "formula"));
        const char *key = json_string_value(json_object_get(o, "key"));
        double mean = json_num(o, "surrogate_mean"), sigma = json_num(o, "surrogate_sigma");
        if (!o || !formula || !key)
            st = ms_error_set(MS_ERR_PARSE, "%s:%zu: not a ranked.jsonl record (%s)", path, lineno,
                              o ? "no formula or key" : jerr.text);
        else if (!isfinite(mean) || !(sigma >= 0))
            st = ms_error_set(MS_ERR_INVALID, "%s:%zu: no surrogate_mean / surrogate_sigma: the "
                              "screen ran without a regression model; screen with -m MODEL",
                              path, lineno);
        else {
            const json_t *in = json_object_get(o, "in_domain");
            domain_row dom = {json_is_boolean(in) ? json_is_true(in) : -1,
                              json_num(o, "domain_score"),
                              json_string_value(json_object_get(o, "domain_reason"))};
            st = pool_add(p, formula, key, mean, sigma, &dom);
        }
        json_decref(o);
    }
    free(line);
    fclose(f);
    if (st == MS_SUCCESS) p->threshold = screen_threshold(dir);
    return st;
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
        char src[4200];
        snprintf(src, sizeof src, "%s:%zu", path, lineno);
        st = pool_add(p, fields[col], src, NAN, NAN, NULL);
    }
    free(line);
    fclose(f);
    return st;
}

/* Raw features of every pool formula with set_name into x (allocated); a formula that does not
 * parse gives a row of NaN and ok[i] = 0. *structural (may be NULL) becomes 1 when the set has
 * features that need a structure (NaN for every formula). */
static ms_status pool_features(const pool *p, const char *set_name, const ms_element_table *table,
                               ms_matrix *x, unsigned char *ok, int *structural)
{
    const ms_descriptor_set *set;
    ms_featurizer *fz = NULL;
    MS_CALL(ms_descriptor_set_lookup(set_name, &set));
    MS_CALL(ms_featurizer_create(set, table, &fz));
    size_t nf = ms_featurizer_n_features(fz);
    unsigned char *reason = malloc(nf + 1);
    ms_status st = reason ? ms_matrix_alloc(x, p->n, nf)
                          : ms_error_set(MS_ERR_NOMEM, "suggest: out of memory");
    if (structural) *structural = 0;
    for (size_t i = 0; st == MS_SUCCESS && i < p->n; i++) {
        ms_composition c;
        double *row = x->data + i * x->cols;
        ok[i] = ms_composition_parse(p->formula[i], &c) == MS_SUCCESS &&
                ms_featurizer_compute_composition(fz, &c, row, reason) == MS_SUCCESS;
        if (!ok[i])
            for (size_t j = 0; j < x->cols; j++) row[j] = NAN;
        for (size_t j = 0; ok[i] && structural && j < nf; j++)
            if (reason[j] == MS_NAN_NEEDS_STRUCTURE) *structural = 1;
    }
    free(reason);
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

/* -m: the model's domain of applicability on each formula row into p (in_domain, dscore,
 * dreason, threshold): ms_model_domain_verdict on the scores ms_model_predict_scored gave
 * (score), as the screen judges a structure. */
static ms_status model_domain(const ms_model *m, const double *score, const unsigned char *ok,
                              pool *p)
{
    p->threshold = m->domain ? m->domain->threshold : NAN;
    ms_status st = MS_SUCCESS;
    for (size_t i = 0; st == MS_SUCCESS && i < p->n; i++) {
        ms_composition c;
        char why[256];
        if (!ok[i]) continue;
        if (ms_composition_parse(p->formula[i], &c) != MS_SUCCESS)
            memset(&c, 0, sizeof c); /* then only the distance judges it */
        p->dscore[i] = score[i];
        p->in_domain[i] = (signed char)ms_model_domain_verdict(m, &c, score[i], why, sizeof why);
        if (!p->in_domain[i] && !(p->dreason[i] = strdup(why)))
            st = ms_error_set(MS_ERR_NOMEM, "suggest: out of memory");
    }
    ms_error_clear(); /* a formula that does not parse was already made ineligible */
    return st;
}

static ms_status model_predict(const char *path, pool *p, const ms_element_table *table,
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
    int structural = 0;
    if (st == MS_SUCCESS) st = pool_features(p, m->descriptor_set, table, &x, ok, &structural);
    if (st == MS_SUCCESS && structural)
        st = ms_error_set(MS_ERR_USAGE, "%s: uses descriptor set '%s', whose structure features "
                          "(symmetry, density, neighbours) a formula cannot give: its predictions "
                          "for a formula pool would not be the model's. Screen the structures "
                          "with -m %s, then run 'matscreen suggest --from SCREEN-DIR' to use the "
                          "screen's predictions", path, m->descriptor_set, path);
    if (st == MS_SUCCESS && x.cols != m->n_raw)
        st = ms_error_set(MS_ERR_INVALID, "%s: expects %zu features, set %s has %zu", path,
                          m->n_raw, m->descriptor_set, x.cols);
    /* the domain scores come with the predictions (one per row: a GP's sigma uses the same) */
    int judge = st == MS_SUCCESS && !want_classifier && (m->domain || m->has_elements);
    double *score = judge ? malloc((p->n + 1) * sizeof *score) : NULL;
    if (judge && !score) st = ms_error_set(MS_ERR_NOMEM, "suggest: out of memory");
    if (st == MS_SUCCESS) st = ms_model_predict_scored(m, &x, mean, sigma, score);
    if (st == MS_SUCCESS && judge) st = model_domain(m, score, ok, p);
    free(score);
    for (size_t i = 0; st == MS_SUCCESS && i < p->n; i++)
        if (!ok[i]) eligible[i] = 0;
    if (st == MS_SUCCESS && set_out) snprintf(set_out, set_n, "%s", m->descriptor_set);
    free(ok);
    ms_matrix_free(&x);
    ms_model_free(m);
    return st;
}

/* Everything one suggestion run computes, per pool row (n) or per pick (count). */
typedef struct suggest_state {
    ms_element_table *table;
    pool p;
    ms_matrix x; /* pool features: the GP's inputs, then z-scored for the diversity distance */
    size_t n, n_chosen;
    double *mean, *sigma, *score, *gate, *mean2, *sigma2, *score2, *crowd, *util, *pos;
    unsigned char *eligible;
    unsigned char *outside; /* --from: the screen put the row out of the domain (NULL: none) */
    size_t n_out, n_out_elements; /* eligible rows out of the domain; of them, unseen elements */
    int *prank;
    size_t *chosen, *order;
    double best, best2;
    ms_acq_params acq;
} suggest_state;

static void state_free(suggest_state *s)
{
    pool_free(&s->p);
    ms_matrix_free(&s->x);
    free(s->mean);
    free(s->sigma);
    free(s->score);
    free(s->gate);
    free(s->mean2);
    free(s->sigma2);
    free(s->score2);
    free(s->crowd);
    free(s->pos);
    free(s->util);
    free(s->eligible);
    free(s->outside);
    free(s->prank);
    free(s->chosen);
    free(s->order);
    ms_element_table_free(s->table);
}

/* The pool (CSV files or a screen's output) and the per-row arrays. */
static ms_status load_pool(const suggest_args *a, suggest_state *s)
{
    const char *column = a->pool_col      ? a->pool_col
                         : a->al.formula_col ? a->al.formula_col
                                             : "formula";
    MS_CALL(ms_element_table_load_default(&s->table));
    for (size_t i = 0; i < a->n_pool_files; i++) MS_CALL(pool_read(&s->p, a->pool[i], column));
    if (a->from) MS_CALL(pool_read_screen(&s->p, a->from));
    s->n = s->p.n;
    MS_CHECK(s->n > 0, MS_ERR_INVALID, "the pool is empty");
    s->mean = calloc(s->n, sizeof *s->mean);
    s->sigma = calloc(s->n, sizeof *s->sigma);
    s->score = calloc(s->n, sizeof *s->score);
    s->util = calloc(a->count, sizeof *s->util);
    s->eligible = malloc(s->n);
    s->chosen = calloc(a->count, sizeof *s->chosen);
    MS_CHECK(s->mean && s->sigma && s->score && s->util && s->eligible && s->chosen, MS_ERR_NOMEM,
             "suggest: out of memory");
    memset(s->eligible, 1, s->n);
    return MS_SUCCESS;
}

/* Mean and sigma of every pool row: the screen's (--from), the model's (-m) or the GP's. */
static ms_status predict_pool(const suggest_args *a, suggest_state *s, char *set_name, size_t set_n)
{
    int needs_best = s->acq.kind == MS_ACQ_EI || s->acq.kind == MS_ACQ_PI;
    if (a->from) {
        memcpy(s->mean, s->p.mean, s->n * sizeof *s->mean);
        memcpy(s->sigma, s->p.sigma, s->n * sizeof *s->sigma);
        MS_CHECK(!(isnan(s->best) && needs_best), MS_ERR_USAGE,
                 "%s with --from needs --best (the best label so far, in the screen's target units)",
                 a->al.acq);
    }
    if (a->model) {
        MS_CALL(model_predict(a->model, &s->p, s->table, 0, s->mean, s->sigma, s->eligible,
                              set_name, set_n));
        MS_CHECK(!(isnan(s->best) && needs_best), MS_ERR_USAGE,
                 "%s with -m needs --best (the best label so far, in the model's target units)",
                 a->al.acq);
    }
    /* features of the pool (for the GP and for the diversity distance) */
    unsigned char *ok = malloc(s->n);
    MS_CHECK(ok, MS_ERR_NOMEM, "suggest: out of memory");
    ms_status st = pool_features(&s->p, set_name, s->table, &s->x, ok, NULL);
    for (size_t i = 0; st == MS_SUCCESS && i < s->n; i++)
        if (!ok[i]) s->eligible[i] = 0;
    free(ok);
    MS_CALL(st);
    if (!a->model && !a->from) {
        double b;
        MS_CALL(gp_predict(a, a->al.target, a->al.minimize, s->table, &s->x, s->eligible, s->mean,
                           s->sigma, &b));
        if (isnan(s->best)) s->best = b;
    }
    if (a->target2) {
        s->mean2 = calloc(s->n, sizeof *s->mean2);
        s->sigma2 = calloc(s->n, sizeof *s->sigma2);
        s->score2 = calloc(s->n, sizeof *s->score2);
        MS_CHECK(s->mean2 && s->sigma2 && s->score2, MS_ERR_NOMEM, "suggest: out of memory");
        MS_CALL(gp_predict(a, a->target2, a->minimize2, s->table, &s->x, s->eligible, s->mean2,
                           s->sigma2, &s->best2));
    }
    if (a->gate) {
        s->gate = calloc(s->n, sizeof *s->gate);
        MS_CHECK(s->gate, MS_ERR_NOMEM, "suggest: out of memory");
        MS_CALL(model_predict(a->gate, &s->p, s->table, 1, s->gate, NULL, s->eligible, NULL, 0));
    }
    return MS_SUCCESS;
}

/* --pareto-target: the second acquisition, Pareto fronts and crowding, and s->pos, the score the
 * batch takes (minus the position in crowded-comparison order). */
static ms_status pareto_positions(const suggest_args *a, suggest_state *s)
{
    size_t n = s->n;
    ms_acq_params acq2 = s->acq;
    acq2.minimize = a->minimize2;
    MS_CALL(ms_acq_score(&acq2, s->mean2, s->sigma2, NULL, n, s->best2, s->score2));
    s->pos = malloc(2 * n * sizeof *s->pos);
    s->prank = calloc(n, sizeof *s->prank);
    s->crowd = calloc(n, sizeof *s->crowd);
    s->order = calloc(n, sizeof *s->order);
    MS_CHECK(s->pos && s->prank && s->crowd && s->order, MS_ERR_NOMEM, "suggest: out of memory");
    double *f = s->pos;
    for (size_t i = 0; i < n; i++) {
        f[2 * i] = s->eligible[i] ? s->score[i] : NAN;
        f[2 * i + 1] = s->eligible[i] ? s->score2[i] : NAN;
    }
    MS_CALL(ms_pareto_rank(f, n, 2, NULL, s->prank, s->crowd));
    MS_CALL(ms_pareto_order(s->prank, s->crowd, n, s->order));
    for (size_t t = 0; t < n; t++)
        s->pos[s->order[t]] = s->prank[s->order[t]] < 0 ? NAN : -(double)t;
    return MS_SUCCESS;
}

/* The domain verdicts of the pool (--from: the screen's; -m: the model's on each formula) under
 * --domain, as the screen's own: counts the
 * eligible rows it put out of the domain into s->outside; gate multiplies their scores by the
 * screen's weight (0 for elements never seen in training; ms_acq_domain_weight of the score at
 * the screen's threshold otherwise, 1 when the screen had no threshold). */
static ms_status domain_apply(const suggest_args *a, suggest_state *s)
{
    int scored = 0; /* by the screen (--from) or the model (-m); not in GP mode */
    for (size_t i = 0; i < s->n && !scored; i++) scored = s->p.in_domain[i] >= 0;
    if (!scored || a->domain == DOMAIN_OFF) return MS_SUCCESS;
    s->outside = calloc(s->n + 1, 1);
    MS_CHECK(s->outside, MS_ERR_NOMEM, "suggest: out of memory");
    for (size_t i = 0; i < s->n; i++) {
        if (!s->eligible[i] || s->p.in_domain[i] != 0) continue;
        s->outside[i] = 1;
        s->n_out++;
        s->n_out_elements += ms_domain_reason_is_elements(s->p.dreason[i]);
    }
    if (a->domain != DOMAIN_GATE) return MS_SUCCESS;
    MS_CHECK(s->acq.kind == MS_ACQ_EI || s->acq.kind == MS_ACQ_PI || s->acq.kind == MS_ACQ_MU,
             MS_ERR_USAGE, "--domain gate multiplies the score by a weight in [0, 1], which "
             "would raise a negative %s; use --domain rank with it", ms_acq_name(s->acq.kind));
    for (size_t i = 0; i < s->n; i++) {
        if (s->p.in_domain[i] < 0) continue; /* not scored by the screen */
        double w = ms_acq_domain_gate(ms_domain_reason_is_elements(s->p.dreason[i]),
                                      s->p.dscore[i], s->p.threshold > 0 ? s->p.threshold : NAN);
        s->score[i] *= w;
        if (s->score[i] == 0) s->score[i] = 0.0; /* no -0 in the output */
    }
    return MS_SUCCESS;
}

/* The batch: --domain rank chooses among the in-domain rows first and takes out-of-domain ones
 * only when those run out (each tier with its own diversity penalty); else one choice. */
static ms_status choose(const suggest_args *a, suggest_state *s, const double *score)
{
    if (!s->outside || a->domain != DOMAIN_RANK || !s->n_out)
        return ms_batch_select(score, s->eligible, s->n, &s->x, a->al.radius, a->count, s->chosen,
                               &s->n_chosen, s->util);
    unsigned char *tier = malloc(s->n + 1);
    MS_CHECK(tier, MS_ERR_NOMEM, "suggest: out of memory");
    for (size_t i = 0; i < s->n; i++) tier[i] = s->eligible[i] && !s->outside[i];
    ms_status st = ms_batch_select(score, tier, s->n, &s->x, a->al.radius, a->count, s->chosen,
                                   &s->n_chosen, s->util);
    size_t more = 0;
    for (size_t i = 0; i < s->n; i++) tier[i] = s->eligible[i] && s->outside[i];
    if (st == MS_SUCCESS && s->n_chosen < a->count)
        st = ms_batch_select(score, tier, s->n, &s->x, a->al.radius, a->count - s->n_chosen,
                             s->chosen + s->n_chosen, &more, s->util + s->n_chosen);
    s->n_chosen += more;
    free(tier);
    return st;
}

/* One CSV row per pick, with its reason. */
static void write_suggestions(FILE *f, const suggest_args *a, const suggest_state *s)
{
    fprintf(f, "rank,formula,source,mean,sigma,acquisition,best_so_far,utility,"
               "nearest_pick_distance%s,reason\n",
            a->target2 ? ",mean2,sigma2,acquisition2,best2,pareto_rank,crowding" : "");
    for (size_t t = 0; t < s->n_chosen; t++) {
        size_t i = s->chosen[t];
        double dmin = INFINITY;
        for (size_t u = 0; u < t; u++) {
            double dd = ms_batch_distance(&s->x, i, s->chosen[u]);
            if (dd < dmin) dmin = dd;
        }
        fprintf(f, "%zu,", t + 1);
        ms_csv_write_field(f, s->p.formula[i]);
        fputc(',', f);
        ms_csv_write_field(f, s->p.source[i]);
        fprintf(f, ",%.6g,%.6g,%.6g,%.6g,%.6g,", s->mean[i], s->sigma[i], s->score[i], s->best,
                s->util[t]);
        if (t > 0) fprintf(f, "%.4g", dmin);
        if (a->target2)
            fprintf(f, ",%.6g,%.6g,%.6g,%.6g,%d,%.4g", s->mean2[i], s->sigma2[i], s->score2[i],
                    s->best2, s->prank[i], s->crowd[i]);
        char why[512];
        int k = snprintf(why, sizeof why, "%s %.4g: predicted %.4g +- %.4g vs best %.4g",
                         ms_acq_name(s->acq.kind), s->score[i], s->mean[i], s->sigma[i], s->best);
        if (s->gate && k > 0 && (size_t)k < sizeof why)
            k += snprintf(why + k, sizeof why - (size_t)k, "; gate p = %.3g", s->gate[i]);
        if (a->target2 && k > 0 && (size_t)k < sizeof why)
            k += snprintf(why + k, sizeof why - (size_t)k,
                          "; %s predicted %.4g +- %.4g, Pareto front %d", a->target2, s->mean2[i],
                          s->sigma2[i], s->prank[i]);
        if (t > 0 && k > 0 && (size_t)k < sizeof why)
            k += snprintf(why + k, sizeof why - (size_t)k,
                          "; %.3g sd from the nearest earlier pick", dmin);
        if (s->outside && s->outside[i] && k > 0 && (size_t)k < sizeof why)
            snprintf(why + k, sizeof why - (size_t)k, "; out of the model's domain: %s",
                     s->p.dreason[i] ? s->p.dreason[i] : "(no reason given)");
        fputc(',', f);
        ms_csv_write_field(f, why);
        fputc('\n', f);
    }
}

/* The closing line of --domain: how many candidates the screen put out of the domain, why, and
 * what became of them. */
static void domain_summary(const suggest_args *a, const suggest_state *s)
{
    size_t picked = 0;
    for (size_t t = 0; t < s->n_chosen; t++) picked += s->outside[s->chosen[t]];
    fprintf(stderr, "matscreen suggest: domain of applicability (the %s): %zu eligible "
                    "candidates out of the model's domain (%zu with elements not in training, "
                    "%zu far from the training rows); %s; %zu of them suggested\n",
            a->from ? "screen's" : "model's", s->n_out, s->n_out_elements,
            s->n_out - s->n_out_elements,
            a->domain == DOMAIN_RANK ? "left out while in-domain candidates remain (--domain rank)"
                                     : "scores weighted by the domain (--domain gate)",
            picked);
}

static int run(const suggest_args *a)
{
    suggest_state s;
    memset(&s, 0, sizeof s);
    s.best = a->best;
    s.best2 = NAN;
    char set_name[64];
    snprintf(set_name, sizeof set_name, "%s", a->al.set ? a->al.set : "magpie");
    ms_acq_params_default(&s.acq);
    ms_status st = ms_acq_lookup(a->al.acq, &s.acq.kind);
    if (st == MS_SUCCESS && s.acq.kind == MS_ACQ_RANDOM)
        st = ms_error_set(MS_ERR_USAGE, "random is a campaign baseline, not a suggestion rule");
    s.acq.xi = a->al.xi;
    s.acq.kappa = a->al.kappa;
    s.acq.minimize = a->al.minimize;
    if (st == MS_SUCCESS) st = load_pool(a, &s);
    if (st == MS_SUCCESS) st = predict_pool(a, &s, set_name, sizeof set_name);
    if (st == MS_SUCCESS) st = ms_acq_score(&s.acq, s.mean, s.sigma, s.gate, s.n, s.best, s.score);
    if (st == MS_SUCCESS) st = domain_apply(a, &s);
    if (st == MS_SUCCESS && a->target2) st = pareto_positions(a, &s);
    /* diversity: z-scored pool features */
    if (st == MS_SUCCESS) st = ms_campaign_prepare(&s.x);
    if (st == MS_SUCCESS) st = choose(a, &s, a->target2 ? s.pos : s.score);
    int rc = 0;
    if (st != MS_SUCCESS) {
        fprintf(stderr, "matscreen suggest: %s\n", ms_error_message());
        rc = 2;
    } else {
        /* -o FILE is written beside and renamed into place (outfile.h). */
        ms_atomic_file *af = NULL;
        FILE *f = !a->al.output ? stdout
                  : ms_atomic_open(a->al.output, &af) == MS_SUCCESS ? ms_atomic_stream(af) : NULL;
        if (!f) {
            fprintf(stderr, "matscreen suggest: %s\n", ms_error_message());
            rc = 2;
        } else {
            write_suggestions(f, a, &s);
            if (af && ms_atomic_commit(&af) != MS_SUCCESS) {
                fprintf(stderr, "matscreen suggest: %s\n", ms_error_message());
                rc = 2;
            }
            size_t n_el = 0;
            for (size_t i = 0; i < s.n; i++) n_el += s.eligible[i] != 0;
            fprintf(stderr, "matscreen suggest: %zu of %zu pool rows eligible, %zu suggested "
                            "(%s, best so far %.6g)\n",
                    n_el, s.n, s.n_chosen, ms_acq_name(s.acq.kind), s.best);
            if (s.outside) domain_summary(a, &s);
        }
    }
    state_free(&s);
    return rc;
}

int ms_cmd_suggest(int argc, char **argv)
{
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
    return rc;
}
