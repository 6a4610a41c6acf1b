/*
 * matscreen campaign: simulated sequential learning on a labelled set against random picking
 * (campaign.h, docs/active-learning.md).
 *
 * MPI: every rank reads and featurises the same data (deterministic). The campaigns (one per
 * acquisition function and seed index, task t = a * seeds + s) are dealt round-robin, task t to
 * rank t % size; each is serial and seeded from (seed, s) only, so the results are the same bits
 * for any number of ranks. Rank 0 gathers them (ms_campaign_gather: one MPI_Reduce(SUM) where
 * every task has exactly one non-zero contributor) and writes every file; campaign.csv and
 * summary.csv come from the campaign library, as in the workflow stage campaign.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "al_args.h"
#include "commands.h"
#include "matscreen/number.h"
#include "matscreen/outfile.h"
#include "matscreen/bcast.h"
#include "matscreen/campaign.h"
#include "matscreen/cv.h"
#include "matscreen/dataset.h"

/* A speed-up as the table shows it: "2.10x", "<= 2.10x", ">= 2.10x" or "n/a" (both censored,
 * or no random campaign). */
static void speedup_text(double v, const char *bound, char *out, size_t n)
{
    if (isnan(v)) snprintf(out, n, "n/a");
    else snprintf(out, n, "%s%.2fx", !strcmp(bound, "at_most") ? "<= " : !strcmp(bound, "at_least") ? ">= " : "", v);
}

/* The default --acq: the acquisition docs/active-learning.md measured best for a GP campaign on
 * unseen chemical systems (grouped campaigns, two disjoint 50-seed sets), with random picking as
 * the paired baseline; --help prints this string, and tests/integration/campaign.sh checks that a
 * run without --acq does what it says. */
#define CAMPAIGN_DEFAULT_ACQ "ucb,random"
#define CAMPAIGN_ALL_ACQ "ei,pi,mu,ucb,mean,random"

static void campaign_usage(FILE *out)
{
    fprintf(out,
            "usage: matscreen campaign DATA -t TARGET -o DIR [options]\n"
            "       mpirun -np N matscreen campaign ...\n\n"
            "Simulated sequential learning: from n0 random labels, repeatedly train a surrogate,\n"
            "acquire a batch by an acquisition function and reveal its labels; count the\n"
            "acquisitions until the best (and a top-fraction) material is found; repeat over\n"
            "seeds; compare with random picking from the same initial sets.\n\n"
            "DATA is one of\n"
            "  --matbench FILE.json             Matbench composition task (target: last column)\n"
            "  -l LABELS.csv --formula-column C CSV with formulas in column C\n"
            "Features: composition descriptors (--set, default magpie), median-imputed and z-scored\n"
            "over the pool.\n\n"
            "  -t, --target COL        target column (Matbench: default the last)\n"
            "      --log10             campaign on log10(target) (rows with target <= 0 dropped)\n"
            "      --minimize          the best material has the smallest target\n"
            "      --acq LIST          comma list of ei, pi, mu, ucb, mean, random (mei = ei,\n"
            "                          mli = pi), or all: every one of them\n"
            "                          (default " CAMPAIGN_DEFAULT_ACQ ": upper confidence bound,\n"
            "                          the best measured with the GP, docs/active-learning.md;\n"
            "                          against random picking)\n"
            "      --seeds S           campaigns per acquisition function (default 20)\n"
            "      --n0 N              initial random labels (default 10)\n"
            "      --batch B           labels per round (default 1)\n"
            "      --budget N          most labels a model-based campaign acquires after n0\n"
            "                          (default: the whole pool); random picking always runs\n"
            "                          until it finds the best, as it costs nothing\n"
            "      --top F             top fraction (default 0.01)\n"
            "      --radius R          batch diversity radius, sd units (default 0.25)\n"
            "      --xi X              EI / PI margin (default 0)\n"
            "      --kappa K           UCB weight of sigma (default 1 with --group, 2 without:\n"
            "                          each the best measured in its mode)\n"
            "      --surrogate NAME    gp (default) or forest\n"
            "      --trees N           forest trees (default 100)\n"
            "      --set NAME          descriptor set (default magpie)\n"
            "      --group G           grouped mode: the pool is a set of whole groups (chemsys:\n"
            "                          chemical systems; formula; kmeans:K) never seen in training,\n"
            "                          every other row is labelled from the start (--n0 ignored)\n"
            "      --pool-frac F       grouped mode: pool share of the rows (default 0.2)\n"
            "  -s, --seed S            base seed (default 0)\n"
            "      --max-rows N        use only the first N rows\n"
            "  -o, --output DIR        writes DIR/campaign.csv (one row per campaign),\n"
            "                          DIR/summary.csv and DIR/campaign.svg\n"
            "  -h, --help              this text\n\n" MS_CLI_EXIT_HELP);
}

typedef struct campaign_args {
    ms_al_args al; /* data, --acq list, --minimize, --xi, --kappa, --radius, --set, -s, -o DIR */
    const char *surrogate;
    size_t seeds, n0, batch, budget, max_rows, trees;
    double top, pool_frac;
    ms_group_spec group; /* --group: grouped mode (campaign.h); kind NONE: classic */
    ms_acq_kind kinds[MS_ACQ_COUNT];
    size_t n_kinds;
} campaign_args;

static int parse_acq_list(const char *list, campaign_args *a)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", strcmp(list, "all") ? list : CAMPAIGN_ALL_ACQ);
    a->n_kinds = 0;
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        ms_acq_kind k;
        if (ms_acq_lookup(tok, &k) != MS_SUCCESS) return -1;
        for (size_t i = 0; i < a->n_kinds; i++)
            if (a->kinds[i] == k) return -1;
        if (a->n_kinds == MS_ACQ_COUNT) return -1;
        a->kinds[a->n_kinds++] = k;
    }
    return a->n_kinds ? 0 : -1;
}

static int parse(int argc, char **argv, campaign_args *a, int rank)
{
    memset(a, 0, sizeof *a);
    ms_al_args_default(&a->al, CAMPAIGN_DEFAULT_ACQ);
    a->al.kappa = NAN; /* set after the options: its default depends on --group */
    a->seeds = 20;
    a->n0 = 10;
    a->batch = 1;
    a->top = 0.01;
    a->trees = 100;
    a->surrogate = "gp";
    a->pool_frac = 0.2;
    static const struct option longopts[] = {
        MS_AL_LONGOPTS,
        {"seeds", required_argument, 0, 'S'}, {"n0", required_argument, 0, 'n'},
        {"batch", required_argument, 0, 'b'}, {"budget", required_argument, 0, 'B'},
        {"top", required_argument, 0, 'T'}, {"surrogate", required_argument, 0, 'g'},
        {"trees", required_argument, 0, 'e'}, {"max-rows", required_argument, 0, 'N'},
        {"group", required_argument, 0, 'G'}, {"pool-frac", required_argument, 0, 'P'},
        {0, 0, 0, 0}};
    optind = 1;
    opterr = rank == 0;
    int c;
    while ((c = getopt_long(argc, argv, "l:t:s:o:h", longopts, NULL)) != -1) {
        ms_status st = MS_SUCCESS;
        int r = 1;
        switch (c) {
        case 'S': st = ms_parse_size("--seeds", optarg, 1, 100000, &a->seeds); break;
        case 'n': st = ms_parse_size("--n0", optarg, 1, MS_COUNT_MAX, &a->n0); break;
        case 'b': st = ms_parse_size("--batch", optarg, 1, MS_COUNT_MAX, &a->batch); break;
        case 'B': st = ms_parse_size("--budget", optarg, 0, MS_COUNT_MAX, &a->budget); break;
        case 'T': st = ms_parse_double("--top", optarg, 1e-12, 1, &a->top); break;
        case 'g': a->surrogate = optarg; break;
        case 'e': st = ms_parse_size("--trees", optarg, 1, 100000, &a->trees); break;
        case 'N': st = ms_parse_size("--max-rows", optarg, 0, MS_COUNT_MAX, &a->max_rows); break;
        case 'G':
            if (ms_group_spec_parse(optarg, &a->group) != MS_SUCCESS) {
                if (rank == 0) fprintf(stderr, "matscreen campaign: %s\n", ms_error_message());
                return 2;
            }
            if (a->group.kind == MS_GROUP_COLUMN) {
                if (rank == 0)
                    fprintf(stderr, "matscreen campaign: --group column:NAME is not available "
                                    "here; use chemsys, formula or kmeans:K\n");
                return 2;
            }
            break;
        case 'P': st = ms_parse_double("--pool-frac", optarg, 1e-9, 1 - 1e-9, &a->pool_frac); break;
        default:
            r = ms_al_args_option(&a->al, c, optarg);
            if (r == 0) return 2;
            if (a->al.help) return 0;
        }
        if (st != MS_SUCCESS || r < 0) {
            if (rank == 0) fprintf(stderr, "matscreen campaign: %s\n", ms_error_message());
            return 2;
        }
    }
    if (isnan(a->al.kappa))
        a->al.kappa = ms_campaign_default_kappa(a->group.kind != MS_GROUP_NONE); /* by the mode */
    const char *err = NULL;
    if (optind < argc) err = "unexpected argument";
    else if (!a->al.matbench && !a->al.labels) err = "give --matbench FILE or -l LABELS.csv";
    else if (a->al.labels && !a->al.formula_col) err = "-l needs --formula-column";
    else if (!a->al.output) err = "-o DIR is required";
    else if (parse_acq_list(a->al.acq, a) != 0) err = "bad or repeated name in --acq";
    else if (a->seeds < 1 || a->seeds > 100000) err = "--seeds must be 1..100000";
    else if (a->batch < 1) err = "--batch must be >= 1";
    else if (!(a->top > 0 && a->top <= 1)) err = "--top must be in (0, 1]";
    else if (!(a->pool_frac > 0 && a->pool_frac < 1)) err = "--pool-frac must be in (0, 1)";
    else if (strcmp(a->surrogate, "gp") != 0 && strcmp(a->surrogate, "forest") != 0)
        err = "--surrogate must be gp or forest";
    if (err) {
        if (rank == 0) fprintf(stderr, "matscreen campaign: %s (see --help)\n", err);
        return 2;
    }
    return 0;
}

static const char *const palette[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e",
                                      "#555555"};

/* One panel: fraction of campaigns that have found the material after t acquisitions (the
 * empirical distribution of the counts), with a band of +-1 binomial standard error. */
static void svg_panel(FILE *f, double ox, double oy, double w, double h, const char *title,
                      const campaign_args *a, const ms_campaign_result *res, int top, size_t xmax)
{
    fprintf(f, "<g transform=\"translate(%.1f,%.1f)\">\n", ox, oy);
    fprintf(f, "<text x=\"%.1f\" y=\"-12\" text-anchor=\"middle\" font-size=\"14\">%s</text>\n",
            w / 2, title);
    fprintf(f, "<rect x=\"0\" y=\"0\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" "
               "stroke=\"#333\"/>\n", w, h);
    for (int k = 0; k <= 4; k++) {
        double y = h - h * k / 4.0;
        fprintf(f, "<line x1=\"0\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                   "<text x=\"-6\" y=\"%.1f\" text-anchor=\"end\" font-size=\"11\">%.2f</text>\n",
                w, y, y, y + 4, k / 4.0);
    }
    for (int k = 0; k <= 5; k++) {
        double x = w * k / 5.0;
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"11\">%.0f"
                   "</text>\n", x, h + 16, (double)xmax * k / 5.0);
    }
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"12\">acquisitions"
               " after the initial %zu labels</text>\n", w / 2, h + 34, a->n0);
    fprintf(f, "<text transform=\"rotate(-90)\" x=\"%.1f\" y=\"-36\" text-anchor=\"middle\" "
               "font-size=\"12\">fraction of %zu campaigns that found it</text>\n", -h / 2,
            a->seeds);
    size_t S = a->seeds, npts = xmax + 1;
    double *F = malloc(npts * sizeof *F);
    if (!F) return;
    for (size_t q = 0; q < a->n_kinds; q++) {
        const char *col = palette[a->kinds[q] % 6];
        for (size_t t = 0; t < npts; t++) {
            size_t c = 0;
            for (size_t s = 0; s < S; s++) {
                const ms_campaign_result *r = res + q * S + s;
                c += top ? r->found_top && r->to_top <= t : r->found_best && r->to_best <= t;
            }
            F[t] = (double)c / (double)S;
        }
        /* band */
        fprintf(f, "<polygon fill=\"%s\" fill-opacity=\"0.15\" stroke=\"none\" points=\"", col);
        for (size_t t = 0; t < npts; t++) {
            double e = sqrt(F[t] * (1 - F[t]) / (double)S), v = fmin(1, F[t] + e);
            fprintf(f, "%.1f,%.1f ", w * (double)t / (double)xmax, h - h * v);
        }
        for (size_t t = npts; t-- > 0;) {
            double e = sqrt(F[t] * (1 - F[t]) / (double)S), v = fmax(0, F[t] - e);
            fprintf(f, "%.1f,%.1f ", w * (double)t / (double)xmax, h - h * v);
        }
        fprintf(f, "\"/>\n<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s points=\"",
                col, a->kinds[q] == MS_ACQ_RANDOM ? " stroke-dasharray=\"6,4\"" : "");
        for (size_t t = 0; t < npts; t++)
            fprintf(f, "%.1f,%.1f ", w * (double)t / (double)xmax, h - h * F[t]);
        fprintf(f, "\"/>\n");
        fprintf(f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                   "stroke-width=\"2\"/><text x=\"%.1f\" y=\"%.1f\" font-size=\"12\">%s</text>\n",
                w - 110, w - 85, h - 20 - 16.0 * q, h - 20 - 16.0 * q, col, w - 80,
                h - 16 - 16.0 * q, ms_acq_name(a->kinds[q]));
    }
    free(F);
    fprintf(f, "</g>\n");
}

/* Opens DIR/NAME for writing beside its final name; NULL (said on stderr) when it cannot. */
static FILE *out_open(const char *dir, const char *name, ms_atomic_file **af)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (ms_atomic_open(path, af) != MS_SUCCESS) {
        fprintf(stderr, "matscreen campaign: %s\n", ms_error_message());
        return NULL;
    }
    return ms_atomic_stream(*af);
}

/* With ok, syncs every file of the set and renames them all into place only when every one
 * synced; otherwise (or on failure) removes them all. Returns the exit status (0 or 1). */
static int out_finish(ms_atomic_file **af, size_t n, int ok)
{
    for (size_t i = 0; ok && i < n; i++)
        if (ms_atomic_sync(af[i]) != MS_SUCCESS) {
            fprintf(stderr, "matscreen campaign: %s\n", ms_error_message());
            ok = 0;
        }
    for (size_t i = 0; i < n; i++) {
        if (!ok) ms_atomic_abort(&af[i]);
        else if (ms_atomic_commit(&af[i]) != MS_SUCCESS) {
            fprintf(stderr, "matscreen campaign: %s\n", ms_error_message());
            ok = 0;
        }
    }
    return !ok;
}

static int write_outputs(const campaign_args *a, const ms_dataset *d,
                         const ms_campaign_result *res)
{
    if (mkdir(a->al.output, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "matscreen campaign: cannot create %s: %s\n", a->al.output,
                strerror(errno));
        return 1;
    }
    size_t S = a->seeds;
    /* The three outputs are written beside and renamed into place together (outfile.h): a run
     * that fails keeps the previous complete set. */
    ms_atomic_file *af[3] = {NULL, NULL, NULL};
    FILE *f = out_open(a->al.output, "campaign.csv", &af[0]);
    if (!f) return 1;
    ms_campaign_write_runs(f, a->kinds, a->n_kinds, S, res);
    f = out_open(a->al.output, "summary.csv", &af[1]);
    ms_campaign_summary sum[MS_ACQ_COUNT];
    if (!f || ms_campaign_summarise(a->kinds, a->n_kinds, S, res, sum) != MS_SUCCESS)
        return out_finish(af, 3, 0);
    ms_campaign_write_summary(f, a->kinds, a->n_kinds, S, sum);
    printf("pool %zu rows (%zu dropped), target %s%s (%s), best set %zu, top set %zu "
           "(top %.3g), n0 %zu, batch %zu, %zu seeds, surrogate %s, kappa %g, xi %g\n",
           d->n, d->n_dropped, a->al.log10 ? "log10 " : "", d->target_name,
           a->al.minimize ? "minimise" : "maximise", res[0].n_best, res[0].n_top, a->top, a->n0,
           a->batch, S, a->surrogate, a->al.kappa, a->al.xi);
    if (a->group.kind != MS_GROUP_NONE) {
        char gname[300];
        printf("grouped by %s: each campaign's pool is whole groups never seen in training, "
               "%zu rows in campaign 0 (--pool-frac %.3g); the other rows are labelled from the "
               "start (n0 ignored)\n",
               ms_group_spec_format(&a->group, gname, sizeof gname), res[0].n_pool, a->pool_frac);
    }
    printf("| acquisition | found best | to best: mean ± std | median [min, max] | to top %.3g%%: "
           "mean ± std | median [min, max] | speed-up vs random (best / top) |\n"
           "|---|---|---|---|---|---|---|\n",
           100 * a->top);
    for (size_t q = 0; q < a->n_kinds; q++) {
        const ms_campaign_stats *sb = &sum[q].best, *st = &sum[q].top;
        char spb[48], spt[48];
        speedup_text(sum[q].speedup_best, sum[q].speedup_best_bound, spb, sizeof spb);
        speedup_text(sum[q].speedup_top, sum[q].speedup_top_bound, spt, sizeof spt);
        printf("| %s | %zu of %zu | %s%.1f ± %.1f | %.1f [%zu, %zu]%s | %s%.1f ± %.1f | %.1f [%zu, %zu] | "
               "%s / %s |\n",
               ms_acq_name(a->kinds[q]), S - sb->not_found, S, sb->not_found ? ">= " : "", sb->mean, sb->std,
               sb->median, sb->min, sb->max, sb->not_found ? " (budget hit)" : "",
               st->not_found ? ">= " : "", st->mean, st->std, st->median, st->min, st->max, spb, spt);
    }
    printf("(a campaign that spent its budget before finding the material counts its budget, a lower "
           "bound: a speed-up is then \"<=\" when this function hit the budget, \">=\" when random "
           "did, and \"n/a\" when both did)\n");

    size_t xmax = 1;
    for (size_t t = 0; t < a->n_kinds * S; t++)
        if (res[t].acquired > xmax) xmax = res[t].acquired;
    f = out_open(a->al.output, "campaign.svg", &af[2]);
    if (!f) return out_finish(af, 3, 0);
    double W = 460, H = 300;
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
               "font-family=\"sans-serif\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
            2 * W + 200, H + 110);
    fprintf(f, "<text x=\"%.0f\" y=\"18\" text-anchor=\"middle\" font-size=\"13\">%s%s, %zu rows, "
               "n0 %zu, batch %zu, surrogate %s, %zu seeds (band: +-1 binomial s.e.)</text>\n",
            W + 100, a->al.log10 ? "log10 " : "", d->target_name, d->n, a->n0, a->batch,
            a->surrogate, S);
    char title[128];
    svg_panel(f, 70, 50, W, H, "best material found", a, res, 0, xmax);
    snprintf(title, sizeof title, "a top-%.3g%% material found", 100 * a->top);
    svg_panel(f, W + 170, 50, W, H, title, a, res, 1, xmax);
    fprintf(f, "</svg>\n");
    return out_finish(af, 3, 1);
}

static int run(const campaign_args *a, int rank, int size)
{
    ms_dataset_spec ds;
    ms_al_args_data_spec(&a->al, a->al.target, &ds);
    ds.max_rows = a->max_rows;
    ms_dataset d;
    ms_status st = ms_dataset_load_bcast(MPI_COMM_WORLD, &ds, &d);
    if (st == MS_SUCCESS && d.classification)
        st = ms_error_set(MS_ERR_USAGE, "the target is a class label; campaigns need a number");
    if (st == MS_SUCCESS) st = ms_campaign_prepare(&d.x);
    if (st != MS_SUCCESS) {
        if (rank == 0) fprintf(stderr, "matscreen campaign: %s\n", ms_error_message());
        ms_dataset_free(&d);
        return 2;
    }
    size_t S = a->seeds, T = a->n_kinds * S, n_groups = 0;
    ms_campaign_result *res = calloc(T, sizeof *res);
    int *group = a->group.kind != MS_GROUP_NONE ? malloc((d.n + 1) * sizeof *group) : NULL;
    int local_fail = !res || (a->group.kind != MS_GROUP_NONE && !group);
    if (group && !local_fail && ms_cv_groups(&d, &a->group, a->al.seed, group, &n_groups) != MS_SUCCESS) {
        fprintf(stderr, "matscreen campaign: %s\n", ms_error_message());
        local_fail = 1;
    }
    ms_forest_params fp;
    ms_forest_params_default(&fp);
    fp.n_trees = a->trees;
    for (size_t t = (size_t)rank; !local_fail && t < T; t += (size_t)size) {
        size_t q = t / S, s = t % S;
        ms_campaign_options o;
        ms_campaign_options_default(&o);
        o.acq.kind = a->kinds[q];
        o.acq.minimize = a->al.minimize;
        o.acq.xi = a->al.xi;
        o.acq.kappa = a->al.kappa;
        o.n0 = a->n0;
        o.batch = a->batch;
        o.budget = o.acq.kind == MS_ACQ_RANDOM ? 0 : a->budget; /* random costs nothing */
        o.top_frac = a->top;
        o.radius = a->al.radius;
        o.seed = a->al.seed;
        o.group = group;
        o.pool_frac = a->pool_frac;
        ms_surrogate sur = {0};
        ms_status cs = MS_SUCCESS;
        if (o.acq.kind != MS_ACQ_RANDOM)
            cs = ms_surrogate_create(a->surrogate, d.x.cols, &fp, &sur);
        ms_campaign_result r;
        double t0 = MPI_Wtime();
        if (cs == MS_SUCCESS) cs = ms_campaign_run(&d.x, d.y, &o, &sur, s, &r);
        ms_surrogate_free(&sur);
        if (cs != MS_SUCCESS) {
            fprintf(stderr, "matscreen campaign: rank %d, %s seed %zu: %s\n", rank,
                    ms_acq_name(o.acq.kind), s, ms_error_message());
            local_fail = 1;
            break;
        }
        res[t] = r;
        fprintf(stderr, "campaign: %s seed %zu: best after %zu, top after %zu (%.1f s, rank %d)\n",
                ms_acq_name(o.acq.kind), s, r.to_best, r.to_top, MPI_Wtime() - t0, rank);
    }
    int any_fail = 0;
    MPI_Allreduce(&local_fail, &any_fail, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    int rc = 0;
    if (any_fail) {
        rc = 1;
    } else if (ms_campaign_gather(res, T, 0, MPI_COMM_WORLD) != MS_SUCCESS) {
        if (rank == 0) fprintf(stderr, "matscreen campaign: %s\n", ms_error_message());
        rc = 1;
    } else if (rank == 0) {
        rc = write_outputs(a, &d, res);
    }
    free(res);
    free(group);
    ms_dataset_free(&d);
    return rc;
}

int ms_cmd_campaign(int argc, char **argv)
{
    int rank = 0, size = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    campaign_args a;
    int rc = parse(argc, argv, &a, rank);
    if (rc == 0 && a.al.help) {
        if (rank == 0) campaign_usage(stdout);
    } else if (rc == 0) {
        rc = run(&a, rank, size);
    }
    return rc;
}
