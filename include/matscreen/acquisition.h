/*
 * Acquisition functions for sequential learning: turn a surrogate's prediction (mean mu,
 * standard deviation sigma) and the best label seen so far into one score per candidate.
 *
 * Conventions
 *   - A score is always "larger is better". With minimize = 1 the target is negated first
 *     (mu -> -mu, best -> -best, where best is then the SMALLEST label so far), so every function
 *     below reads as maximisation.
 *   - phi and Phi are the standard normal density and distribution; Phi(z) = erfc(-z / sqrt 2) / 2,
 *     which keeps full relative precision in the lower tail (1 - erf would not).
 *   - Definitions, with d = mu - best - xi and z = d / sigma (docs/active-learning.md):
 *       EI   expected improvement     d Phi(z) + sigma phi(z)      ("MEI" in the FUELS papers
 *                                                                   when ranked by it)
 *       PI   probability of improvement Phi(z)                     ("MLI", likelihood of improvement)
 *       MU   maximum uncertainty      sigma
 *       UCB  upper confidence bound   mu + kappa sigma
 *       MEAN pure exploitation        mu                            (FUELS' MEI as its authors
 *                                                                   implemented it: largest mean)
 *       RANDOM                        no score: the caller draws uniformly (campaign.h)
 *     A gate p in [0, 1] (for example a classifier's probability of being a fast conductor)
 *     multiplies the score: gated = p * score. It is allowed only for the non-negative scores
 *     EI, PI and MU (constrained EI of Gardner et al. 2014); MEAN and UCB can be negative, where a
 *     product would reward a low gate, so ms_acq_score refuses a gate for them.
 *   - Degenerate inputs, decided here once so that every caller ranks the same way:
 *       sigma == 0: EI = max(d, 0); PI = 1 if d > 0, 1/2 if d == 0, 0 if d < 0 (the limits
 *                   sigma -> 0+); MU = 0; UCB = mu.
 *       sigma < 0, or NaN mu, sigma (where the function reads it), best (EI, PI) or gate:
 *                   the score is NaN. Rankings (batch.h) put NaN scores last.
 *       infinite sigma: EI, UCB = +inf, PI = 1/2, MU = +inf.
 *     EI underflows to 0 for z below about -38 (phi(z) < 1e-308); such candidates tie at 0 and
 *     keep their input order.
 *   - Every function is Not collective, allocates nothing and is thread safe.
 */
#ifndef MATSCREEN_ACQUISITION_H
#define MATSCREEN_ACQUISITION_H

#include <stddef.h>

#include "matscreen/error.h"

typedef enum ms_acq_kind {
    MS_ACQ_EI = 0, /* expected improvement (MEI) */
    MS_ACQ_PI,     /* probability of improvement (MLI) */
    MS_ACQ_MU,     /* maximum uncertainty */
    MS_ACQ_UCB,    /* upper confidence bound mu + kappa sigma */
    MS_ACQ_MEAN,   /* largest predicted mean (pure exploitation) */
    MS_ACQ_RANDOM, /* uniform random picking: the baseline; ms_acq_score gives 0 everywhere */
    MS_ACQ_COUNT   /* number of kinds; not a kind */
} ms_acq_kind;

/* Parameters of an acquisition. Initialise with ms_acq_params_default, then override. */
typedef struct ms_acq_params {
    ms_acq_kind kind;
    double xi;    /* EI / PI margin in target units (default 0) */
    double kappa; /* UCB weight of sigma (default MS_ACQ_DEFAULT_KAPPA) */
    int minimize; /* 1: smaller targets are better (see the conventions) */
} ms_acq_params;

/* UCB's default weight of sigma: the screen, suggest, a workflow and a classic campaign (n0 random
 * labels, where a learner must explore: kappa 2 beat 1 by 2.5x). A grouped campaign (new
 * chemistry) defaults to 1 instead (ms_campaign_default_kappa; docs/active-learning.md). */
#define MS_ACQ_DEFAULT_KAPPA 2.0

/* EI, xi = 0, kappa = MS_ACQ_DEFAULT_KAPPA, maximise. Not collective. */
void ms_acq_params_default(ms_acq_params *p);

/* Name of kind as used on the command line ("ei", "pi", "mu", "ucb", "mean", "random"); "?" when
 * out of range. Static. */
const char *ms_acq_name(ms_acq_kind kind);

/* Parses a name of ms_acq_name (case-sensitive; "mei" and "mli" are accepted as aliases of "ei"
 * and "pi"). Unknown names fail with MS_ERR_NOT_FOUND and a message listing the valid names. */
ms_status ms_acq_lookup(const char *name, ms_acq_kind *out);

/* Standard normal density and distribution function (from erfc). */
double ms_acq_phi(double z);
double ms_acq_Phi(double z);

/* The scalar functions, for maximisation, with the degenerate cases of the conventions. */
double ms_acq_ei(double mu, double sigma, double best, double xi);
double ms_acq_pi(double mu, double sigma, double best, double xi);
double ms_acq_ucb(double mu, double sigma, double kappa);

/* Score of one candidate under p (minimize applied here); RANDOM gives 0. best is the best label
 * so far in target units (the largest, or the smallest when p->minimize). */
double ms_acq_value(const ms_acq_params *p, double mu, double sigma, double best);

/* Scores n candidates: score[i] = ms_acq_value(p, mean[i], sigma[i], best), times gate[i] when
 * gate is not NULL. sigma may be NULL only for MEAN and RANDOM. Fails with MS_ERR_USAGE when
 * p->kind is out of range, when sigma is NULL but needed, when a gate is given for MEAN or UCB,
 * or when best is not finite for EI or PI (no label yet). Not collective. */
ms_status ms_acq_score(const ms_acq_params *p, const double *mean, const double *sigma,
                       const double *gate, size_t n, double best, double *score);

/* The smooth weight of a candidate's domain of applicability (domain.h) for screen --domain gate:
 * w = 1 / (1 + (score / threshold)^8): 1 well inside (0.996 at half the threshold), 1/2 at the
 * threshold, 0.004 at twice it; 0 for a NaN score or a non-positive threshold. It multiplies a
 * non-negative acquisition (EI, PI, MU, a probability), as a classifier's gate does. */
double ms_acq_domain_weight(double score, double threshold);

/* The weight `--domain gate` multiplies a candidate's score by, in the screen and in suggest: 0
 * when it holds elements never seen in training (unseen_elements), else ms_acq_domain_weight of
 * its score at threshold, and 1 when threshold is NaN (a model without stored rows: the elements
 * alone decide). */
double ms_acq_domain_gate(int unseen_elements, double score, double threshold);

#endif /* MATSCREEN_ACQUISITION_H */
