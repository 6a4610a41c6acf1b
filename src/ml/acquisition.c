/*
 * Acquisition functions (see include/matscreen/acquisition.h and docs/active-learning.md).
 */
#include "matscreen/acquisition.h"

#include <math.h>
#include <string.h>

static const char *const acq_names[MS_ACQ_COUNT] = {"ei", "pi", "mu", "ucb", "mean", "random"};

void ms_acq_params_default(ms_acq_params *p)
{
    p->kind = MS_ACQ_EI;
    p->xi = 0.0;
    p->kappa = MS_ACQ_DEFAULT_KAPPA;
    p->minimize = 0;
}

const char *ms_acq_name(ms_acq_kind kind)
{
    return (int)kind >= 0 && kind < MS_ACQ_COUNT ? acq_names[kind] : "?";
}

ms_status ms_acq_lookup(const char *name, ms_acq_kind *out)
{
    for (int k = 0; k < MS_ACQ_COUNT; k++) {
        if (strcmp(name, acq_names[k]) == 0) {
            *out = (ms_acq_kind)k;
            return MS_SUCCESS;
        }
    }
    if (strcmp(name, "mei") == 0) {
        *out = MS_ACQ_EI;
        return MS_SUCCESS;
    }
    if (strcmp(name, "mli") == 0) {
        *out = MS_ACQ_PI;
        return MS_SUCCESS;
    }
    return ms_error_set(MS_ERR_NOT_FOUND,
                        "unknown acquisition function '%s' (valid: ei, pi, mu, ucb, mean, random;"
                        " mei = ei, mli = pi)",
                        name);
}

double ms_acq_phi(double z)
{
    return exp(-0.5 * z * z) / sqrt(2.0 * M_PI);
}

double ms_acq_Phi(double z)
{
    return 0.5 * erfc(-z / M_SQRT2);
}

double ms_acq_ei(double mu, double sigma, double best, double xi)
{
    if (isnan(mu) || isnan(sigma) || isnan(best) || isnan(xi) || sigma < 0) return NAN;
    double d = mu - best - xi;
    if (sigma == 0) return d > 0 ? d : 0.0;
    if (isinf(sigma)) return INFINITY;
    double z = d / sigma;
    double ei = d * ms_acq_Phi(z) + sigma * ms_acq_phi(z);
    return ei > 0 ? ei : 0.0; /* rounding can leave -1e-17 far in the lower tail */
}

double ms_acq_pi(double mu, double sigma, double best, double xi)
{
    if (isnan(mu) || isnan(sigma) || isnan(best) || isnan(xi) || sigma < 0) return NAN;
    double d = mu - best - xi;
    if (sigma == 0) return d > 0 ? 1.0 : d < 0 ? 0.0 : 0.5;
    if (isinf(sigma)) return 0.5;
    return ms_acq_Phi(d / sigma);
}

double ms_acq_ucb(double mu, double sigma, double kappa)
{
    if (isnan(mu) || isnan(sigma) || sigma < 0) return NAN;
    return mu + kappa * sigma;
}

double ms_acq_value(const ms_acq_params *p, double mu, double sigma, double best)
{
    double m = p->minimize ? -mu : mu, b = p->minimize ? -best : best;
    switch (p->kind) {
    case MS_ACQ_EI: return ms_acq_ei(m, sigma, b, p->xi);
    case MS_ACQ_PI: return ms_acq_pi(m, sigma, b, p->xi);
    case MS_ACQ_MU: return isnan(sigma) || sigma < 0 ? NAN : sigma;
    case MS_ACQ_UCB: return ms_acq_ucb(m, sigma, p->kappa);
    case MS_ACQ_MEAN: return m;
    case MS_ACQ_RANDOM: return 0.0;
    default: return NAN;
    }
}

ms_status ms_acq_score(const ms_acq_params *p, const double *mean, const double *sigma,
                       const double *gate, size_t n, double best, double *score)
{
    MS_CHECK((int)p->kind >= 0 && p->kind < MS_ACQ_COUNT, MS_ERR_USAGE,
             "acquisition: kind %d out of range", (int)p->kind);
    int needs_sigma = p->kind != MS_ACQ_MEAN && p->kind != MS_ACQ_RANDOM;
    MS_CHECK(sigma || !needs_sigma, MS_ERR_USAGE, "acquisition %s needs sigma",
             ms_acq_name(p->kind));
    MS_CHECK(!gate || (p->kind != MS_ACQ_MEAN && p->kind != MS_ACQ_UCB), MS_ERR_USAGE,
             "acquisition %s can be negative and cannot be gated (use ei, pi or mu)",
             ms_acq_name(p->kind));
    MS_CHECK(isfinite(best) || (p->kind != MS_ACQ_EI && p->kind != MS_ACQ_PI), MS_ERR_USAGE,
             "acquisition %s needs a finite best-so-far label", ms_acq_name(p->kind));
    for (size_t i = 0; i < n; i++) {
        double s = ms_acq_value(p, mean[i], sigma ? sigma[i] : NAN, best);
        if (gate) {
            double g = gate[i];
            s = isnan(g) || g < 0 || g > 1 ? NAN : g * s;
        }
        score[i] = s;
    }
    return MS_SUCCESS;
}

double ms_acq_domain_weight(double score, double threshold)
{
    if (isnan(score) || !(threshold > 0)) return 0;
    double q = score / threshold;
    if (q > 1e38) return 0; /* q^8 would overflow; the weight is 0 to double precision */
    double q2 = q * q, q4 = q2 * q2;
    return 1 / (1 + q4 * q4);
}

double ms_acq_domain_gate(int unseen_elements, double score, double threshold)
{
    if (unseen_elements) return 0;
    return isnan(threshold) ? 1 : ms_acq_domain_weight(score, threshold);
}
