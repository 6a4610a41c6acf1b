/*
 * Simulated sequential learning ("campaigns") on a labelled pool, and the surrogate interface it
 * trains.
 *
 * Conventions
 *   - A surrogate is anything that fits (x, y) and predicts a mean and a standard deviation per
 *     row: an ms_surrogate_type (fit, predict, free) with its state. Implementations here: a
 *     Gaussian process (gp.h, serial LAPACK path, own hyperparameter schedule below) and a random
 *     forest (forest.h, on MPI_COMM_SELF). x is always row-major, standardised and NaN-free (the
 *     caller imputes and scales; ms_campaign_prepare does both for a pool).
 *   - The pool is n rows of features x with labels y, all known to the simulation and revealed to
 *     the learner one batch at a time. Campaign s (0-based seed index) with base seed S:
 *       1. n0 initial labels drawn uniformly without replacement from stream (S, 2 s);
 *       2. repeat until the budget is spent or (stop_when_found) a best material is labelled:
 *          fit the surrogate on the labelled rows, predict the unlabelled ones, score them with
 *          the acquisition (acquisition.h; best = best label so far), choose `batch` of them with
 *          ms_batch_select (distance penalty of radius `radius` in the standardised features),
 *          reveal their labels. RANDOM draws uniformly from stream (S, 2 s + 1) instead;
 *       3. a "best" material is one whose label equals the pool's best label (the largest, or
 *          the smallest with minimize); a "top" material one whose label is at least as good as
 *          the ceil(top_frac n)-th best (ties at the boundary included).
 *     Acquisitions count labels revealed after the initial n0, in whole batches (a batch is one
 *     round of experiments): to_best = labels acquired up to and including the batch that
 *     revealed a best material; 0 when the initial set already holds one. A campaign that spends
 *     its budget without finding one reports found_best = 0 and to_best = the labels acquired
 *     (a lower bound).
 *   - The same (S, s) gives the same initial set for every acquisition function (paired
 *     comparison with random picking), and the same result bit for bit: everything is serial
 *     and seeded from (S, s), never from an MPI rank. Surrogate seeds come from stream
 *     (S, 2^32 + s).
 *   - GP hyperparameter schedule: the GP surrogate maximises the log marginal likelihood at the
 *     first fit and again whenever the training set has grown by the factor `regrow` (default 1.5)
 *     since the last optimisation, warm-started from the last optimum; in between it refits at
 *     fixed hyperparameters (one Cholesky per step). A kernel matrix that is not positive
 *     definite is retried with the noise multiplied by 10, up to 4 times.
 *   - Every function is Not collective except ms_campaign_gather (campaigns are distributed by
 *     the caller, one whole campaign per task; see src/cli/cmd_campaign.c and the workflow stage
 *     campaign in src/workflow/stages.c).
 *   - A set of campaigns compares n_acq acquisition functions acq[0..n_acq) over `seeds` seed
 *     indices: task t = q * seeds + s runs acq[q] with seed index s, and its result is res[t]
 *     (res has n_acq * seeds entries). The files of `matscreen campaign` and of the workflow
 *     stage campaign are written from such a set: campaign.csv (ms_campaign_write_runs) and
 *     summary.csv (ms_campaign_write_summary).
 */
#ifndef MATSCREEN_CAMPAIGN_H
#define MATSCREEN_CAMPAIGN_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "matscreen/acquisition.h"
#include "matscreen/error.h"
#include "matscreen/forest.h"
#include "matscreen/gp.h"
#include "matscreen/matrix.h"

/* ---- surrogates ------------------------------------------------------------------------------ */

typedef struct ms_surrogate_type {
    const char *name; /* "gp", "forest" */
    /* Fits on x (rows x d) and y, replacing any earlier fit; seed makes randomised learners
     * reproducible. */
    ms_status (*fit)(void *state, const ms_matrix *x, const double *y, uint64_t seed);
    /* Predicts the rows of x into mean and sigma (standard deviation, target units); both have
     * x->rows entries. Fails with MS_ERR_USAGE before the first successful fit. */
    ms_status (*predict)(void *state, const ms_matrix *x, double *mean, double *sigma);
    void (*free)(void *state);
} ms_surrogate_type;

typedef struct ms_surrogate {
    const ms_surrogate_type *type;
    void *state; /* owned */
} ms_surrogate;

/* A GP surrogate with options opt (copied; opt->lengthscales is not supported and must be NULL)
 * and the re-optimisation growth factor regrow (> 1; see the conventions; ignored when
 * opt->optimize is 0). Free with ms_surrogate_free. */
ms_status ms_surrogate_gp_create(const ms_gp_options *opt, double regrow, ms_surrogate *out);

/* Default GP options for campaigns and suggestions on d standardised features: Matern 5/2,
 * isotropic, initial lengthscale sqrt(d), s2 = 1, noise 0.1, normalize_y, optimised with 40
 * Rprop iterations and 1 restart. */
void ms_surrogate_gp_defaults(ms_gp_options *opt, size_t d);

/* A random-forest surrogate (regression, params copied; params->seed is replaced by the fit
 * seed). fit trains on MPI_COMM_SELF and so needs MPI initialised (MS_ERR_USAGE otherwise).
 * sigma is the forest's jackknife / infinitesimal-jackknife estimate (forest.h). */
ms_status ms_surrogate_forest_create(const ms_forest_params *params, ms_surrogate *out);

/* The surrogate named name: "gp" (ms_surrogate_gp_defaults for d features, regrow 1.5) or
 * "forest" (with forest, or ms_forest_params_default when forest is NULL). Unknown names fail
 * with MS_ERR_USAGE. Free with ms_surrogate_free. */
ms_status ms_surrogate_create(const char *name, size_t d, const ms_forest_params *forest,
                              ms_surrogate *out);

/* Frees the state and empties s; safe on an empty surrogate. */
void ms_surrogate_free(ms_surrogate *s);

/* ---- pool preparation ------------------------------------------------------------------------ */

/* In place on x (n x p): NaN becomes the column median, then every column is z-scored (scaling.h:
 * population standard deviation, zero-spread columns only centred). Unsupervised: uses no label,
 * so it may see the whole pool. */
ms_status ms_campaign_prepare(ms_matrix *x);

/* ---- campaigns ------------------------------------------------------------------------------- */

typedef struct ms_campaign_options {
    ms_acq_params acq;     /* acquisition; acq.minimize also decides what "best" means */
    size_t n0;             /* initial random labels (default 10), >= 2 */
    size_t batch;          /* labels per round (default 1) */
    size_t budget;         /* most labels acquired after n0 (0: the whole pool) */
    double top_frac;       /* top set fraction (default 0.01) */
    double radius;         /* diversity radius of ms_batch_select (default 0.25; 0: top scores) */
    int stop_when_found;   /* 1 (default): stop once a best material is labelled */
    uint64_t seed;         /* base seed S */
    /* Grouped mode (group not NULL: n group ids, e.g. chemical systems from ms_cv_groups): the
     * pool is a set of whole groups the learner has never seen, and every other row is labelled
     * from the start (n0 is ignored). Campaign s orders the groups by stream (S, 2 s) and takes
     * them into the pool until it holds >= pool_frac of the rows (default 0.2); best and top
     * materials are those of the pool. This is screening new chemistry with a model trained on
     * the known families, not sampling a pool the model has siblings of. */
    const int *group;      /* borrowed; NULL: the classic mode above */
    double pool_frac;
} ms_campaign_options;

void ms_campaign_options_default(ms_campaign_options *o);

/* UCB's default kappa for a campaign: 1 in the grouped mode (grouped != 0), where kappa 1 beat 2
 * and 3 on the choosing and the confirming 50-seed sets, else MS_ACQ_DEFAULT_KAPPA (2), which beat
 * 1 by 2.5x in the classic mode (docs/active-learning.md). `matscreen campaign` and the
 * workflow's campaign stage both take it when no kappa is given. */
double ms_campaign_default_kappa(int grouped);

typedef struct ms_campaign_result {
    size_t n_pool;         /* rows in the pool (grouped mode: the held-out rows) */
    size_t n_best, n_top;  /* size of the best and top sets */
    int found_best, found_top;
    size_t to_best;        /* acquisitions (labels after n0) until a best material; see above */
    size_t to_top;         /* the same for a top material */
    size_t acquired;       /* labels acquired after n0 when the campaign stopped */
    size_t rounds;         /* surrogate fits (0 for random) */
    double best_initial;   /* best label of the initial set */
} ms_campaign_result;

/* Runs campaign s (seed index) on the pool (x standardised and NaN-free, n x p; y n finite
 * labels) with surrogate sur (may be NULL only for RANDOM). Fails with MS_ERR_USAGE on bad
 * options (n0 < 2 or >= n, batch 0, a non-finite label), or with the surrogate's error. Not
 * collective. */
ms_status ms_campaign_run(const ms_matrix *x, const double *y, const ms_campaign_options *opt,
                          ms_surrogate *sur, size_t s, ms_campaign_result *res);

/* ---- sets of campaigns ----------------------------------------------------------------------- */

/* Gathers on rank root the n results of tasks dealt over comm: every task was run by exactly one
 * rank, and the others left its entry zeroed (as calloc does). One MPI_Reduce(SUM) of the integer
 * fields and one of best_initial, so the gathered results are the computed ones bit for bit. On
 * root, res then holds every result; elsewhere it is unchanged. Collective on comm. */
ms_status ms_campaign_gather(ms_campaign_result *res, size_t n, int root, MPI_Comm comm);

/* The acquisitions needed to find a best (or top) material over the seeds of one function. */
typedef struct ms_campaign_stats {
    double mean, std, median; /* std: sample standard deviation (ddof 1; 0 for one seed) */
    size_t min, max;
    size_t not_found;         /* campaigns that spent their budget first (censored counts) */
} ms_campaign_stats;

typedef struct ms_campaign_summary {
    ms_campaign_stats best, top;
    double speedup_best, speedup_top; /* random's mean / this mean; NaN without a RANDOM entry
                                         in acq, when this mean is 0, or when both are censored */
    /* What a speed-up is when campaigns hit their budget (a censored count is a lower bound on
     * the acquisitions needed): "exact" (neither censored), "at_most" (this function's count is
     * censored, random's is not), "at_least" (random's is censored, this one's is not),
     * "unknown" (both censored: speed-up NaN). Static strings. */
    const char *speedup_best_bound, *speedup_top_bound;
} ms_campaign_summary;

/* Statistics of each acquisition function of a set (see the conventions) into out[0..n_acq).
 * Fails only with MS_ERR_NOMEM. */
ms_status ms_campaign_summarise(const ms_acq_kind *acq, size_t n_acq, size_t seeds,
                                const ms_campaign_result *res, ms_campaign_summary *out);

/* campaign.csv of a set: a header, then one row per campaign (acquisition, seed_index, to_best,
 * found_best, to_top, found_top, acquired, rounds, n_pool, n_best, n_top, best_initial with
 * %.17g). The caller opens and closes f (and checks fclose). */
void ms_campaign_write_runs(FILE *f, const ms_acq_kind *acq, size_t n_acq, size_t seeds,
                            const ms_campaign_result *res);

/* summary.csv of a set: a header, then one row per acquisition function with sum[q] (from
 * ms_campaign_summarise): seeds, best_* and top_* statistics, speed-ups against random. The
 * caller opens and closes f. */
void ms_campaign_write_summary(FILE *f, const ms_acq_kind *acq, size_t n_acq, size_t seeds,
                               const ms_campaign_summary *sum);

#endif /* MATSCREEN_CAMPAIGN_H */
