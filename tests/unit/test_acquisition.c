/*
 * Tests of the acquisition, batch and campaign modules (suite "acquisition").
 *
 * Reference values of phi, Phi, EI and PI were computed once with /usr/bin/python3 (Debian 12,
 * scipy 1.10.1):
 *   from scipy.stats import norm
 *   d = mu - best - xi; z = d / s
 *   ei = d * norm.cdf(z) + s * norm.pdf(z); pi = norm.cdf(z)
 *   norm.pdf(z), norm.cdf(z)
 * printed with repr(). glibc erfc and scipy's ndtr differ by ~1e-14 relative in the tails.
 */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "matscreen/acquisition.h"
#include "matscreen/batch.h"
#include "matscreen/campaign.h"
#include "matscreen/rng.h"
#include "test_util.h"

/* Speed-ups under censoring: a campaign that hit its budget counts the budget (a lower bound),
 * so its speed-up over random is at most the ratio; random censored makes it at least; both
 * censored has no speed-up. Hand-made results, two seeds each. */
static void test_summary_censoring(void)
{
    const ms_acq_kind acq[] = {MS_ACQ_EI, MS_ACQ_PI, MS_ACQ_UCB, MS_ACQ_RANDOM};
    ms_campaign_result r[8];
    memset(r, 0, sizeof r);
    /* to_best / found_best per (function, seed); to_top found at 5 everywhere */
    const size_t to[8] = {10, 20, 40, 40, 30, 40, 60, 40};
    const int found[8] = {1, 1, 0, 0, 1, 0, 1, 1};
    for (size_t i = 0; i < 8; i++) {
        r[i].to_best = to[i];
        r[i].found_best = found[i];
        r[i].to_top = 5;
        r[i].found_top = 1;
    }
    ms_campaign_summary sum[4];
    CU_ASSERT_EQUAL_FATAL(ms_campaign_summarise(acq, 4, 2, r, sum), MS_SUCCESS);
    CU_ASSERT_STRING_EQUAL(sum[0].speedup_best_bound, "exact");
    CU_ASSERT_DOUBLE_EQUAL(sum[0].speedup_best, 50.0 / 15.0, 1e-12);
    CU_ASSERT_STRING_EQUAL(sum[1].speedup_best_bound, "at_most"); /* PI never found it */
    CU_ASSERT_DOUBLE_EQUAL(sum[1].speedup_best, 50.0 / 40.0, 1e-12);
    CU_ASSERT_STRING_EQUAL(sum[2].speedup_best_bound, "at_most");
    CU_ASSERT_STRING_EQUAL(sum[0].speedup_top_bound, "exact");
    CU_ASSERT_DOUBLE_EQUAL(sum[0].speedup_top, 1.0, 1e-12);
    /* random censored too: UCB's speed-up is unknown, EI's at least */
    r[6].found_best = 0;
    CU_ASSERT_EQUAL_FATAL(ms_campaign_summarise(acq, 4, 2, r, sum), MS_SUCCESS);
    CU_ASSERT_STRING_EQUAL(sum[0].speedup_best_bound, "at_least");
    CU_ASSERT_STRING_EQUAL(sum[2].speedup_best_bound, "unknown");
    CU_ASSERT(isnan(sum[2].speedup_best));
}

int ms_suite_acquisition(void); /* until tests/unit/suites.h lists it */

static const double normal_ref[][3] = {
    /* z, pdf, cdf */
    {-7.5, 2.43432053302901e-13, 3.1908916729108844e-14},
    {-1.2345, 0.18620004765500958, 0.10850832336267019},
    {0.0, 0.3989422804014327, 0.5},
    {0.6745, 0.31777437576236456, 0.7500032571363009},
    {2.385, 0.023212809171636133, 0.991460439323318},
};

static const double acq_ref[][6] = {
    /* mu, sigma, best, xi, EI, PI */
    {1.385, 0.742, 0.913, 0.0, 0.5899652848423786, 0.7376504378959456},
    {0.217, 1.931, 1.604, 0.05, 0.2558427591315799, 0.22838560673195624},
    {-2.385, 0.318, 1.127, 0.0, 3.3199829652640624e-30, 1.171484301398718e-28},
    {3.71, 0.0625, 3.52, 0.013, 0.17704270353082127, 0.9976871075665683},
    {0.5, 4.2, -1.3, 0.25, 2.5633822209013197, 0.6439538844098889},
    {-40.0, 1.0, 0.0, 0.0, 0.0, 0.0},
};

static void test_normal_against_scipy(void)
{
    for (size_t i = 0; i < sizeof normal_ref / sizeof normal_ref[0]; i++) {
        CU_ASSERT(ms_test_close(ms_acq_phi(normal_ref[i][0]), normal_ref[i][1], 1e-14, 0));
        CU_ASSERT(ms_test_close(ms_acq_Phi(normal_ref[i][0]), normal_ref[i][2], 1e-13, 0));
    }
}

static void test_ei_pi_against_scipy(void)
{
    for (size_t i = 0; i < sizeof acq_ref / sizeof acq_ref[0]; i++) {
        const double *r = acq_ref[i];
        /* row 2 sits at z = -11: d Phi + s phi cancels to 1%, so both sides lose ~2 digits */
        double rtol = i == 2 ? 1e-9 : 1e-13;
        CU_ASSERT(ms_test_close(ms_acq_ei(r[0], r[1], r[2], r[3]), r[4], rtol, 0));
        CU_ASSERT(ms_test_close(ms_acq_pi(r[0], r[1], r[2], r[3]), r[5], 1e-13, 0));
    }
    CU_ASSERT(ms_acq_ei(-40.0, 1.0, 0.0, 0.0) == 0.0);
}

static void test_degenerate_inputs(void)
{
    /* sigma = 0: max(mu - best - xi, 0) and the step of PI */
    CU_ASSERT_DOUBLE_EQUAL(ms_acq_ei(2.385, 0.0, 1.25, 0.1), 1.035, 1e-15);
    CU_ASSERT(ms_acq_ei(1.0, 0.0, 1.25, 0.0) == 0.0);
    CU_ASSERT(ms_acq_pi(2.385, 0.0, 1.25, 0.0) == 1.0);
    CU_ASSERT(ms_acq_pi(1.25, 0.0, 1.25, 0.0) == 0.5);
    CU_ASSERT(ms_acq_pi(1.0, 0.0, 1.25, 0.0) == 0.0);
    CU_ASSERT(ms_acq_ucb(1.5, 0.0, 2.0) == 1.5);
    /* NaN and negative sigma give NaN */
    CU_ASSERT(isnan(ms_acq_ei(NAN, 1.0, 0.0, 0.0)));
    CU_ASSERT(isnan(ms_acq_ei(1.0, NAN, 0.0, 0.0)));
    CU_ASSERT(isnan(ms_acq_ei(1.0, 1.0, NAN, 0.0)));
    CU_ASSERT(isnan(ms_acq_pi(1.0, -0.5, 0.0, 0.0)));
    CU_ASSERT(isnan(ms_acq_ucb(1.0, -0.5, 2.0)));
    /* infinite sigma */
    CU_ASSERT(ms_acq_ei(1.0, INFINITY, 0.0, 0.0) == INFINITY);
    CU_ASSERT(ms_acq_pi(1.0, INFINITY, 0.0, 0.0) == 0.5);
    /* UCB, MU, MEAN through ms_acq_value */
    ms_acq_params p;
    ms_acq_params_default(&p);
    p.kind = MS_ACQ_UCB;
    p.kappa = 1.7;
    CU_ASSERT_DOUBLE_EQUAL(ms_acq_value(&p, 0.413, 0.25, 0.0), 0.413 + 1.7 * 0.25, 1e-15);
    p.kind = MS_ACQ_MU;
    CU_ASSERT(ms_acq_value(&p, 0.413, 0.25, 0.0) == 0.25);
    p.kind = MS_ACQ_MEAN;
    CU_ASSERT(ms_acq_value(&p, 0.413, 0.25, 0.0) == 0.413);
    /* minimise = maximise the negated target */
    p.kind = MS_ACQ_EI;
    p.minimize = 1;
    CU_ASSERT(ms_acq_value(&p, 0.517, 0.3, 0.913) == ms_acq_ei(-0.517, 0.3, -0.913, 0.0));
    p.kind = MS_ACQ_UCB;
    CU_ASSERT_DOUBLE_EQUAL(ms_acq_value(&p, 0.517, 0.3, 0.913), -0.517 + 1.7 * 0.3, 1e-15);
}

static void test_score_vector_and_errors(void)
{
    const double mu[3] = {1.385, 0.217, 3.71}, sg[3] = {0.742, 1.931, 0.0625};
    const double gate[3] = {0.5, 1.0, 0.0};
    double out[3];
    ms_acq_params p;
    ms_acq_params_default(&p);
    CU_ASSERT_EQUAL(ms_acq_score(&p, mu, sg, gate, 3, 0.913, out), MS_SUCCESS);
    CU_ASSERT(ms_test_close(out[0], 0.5 * ms_acq_ei(1.385, 0.742, 0.913, 0.0), 1e-15, 0));
    CU_ASSERT(out[2] == 0.0);
    CU_ASSERT_EQUAL(ms_acq_score(&p, mu, NULL, NULL, 3, 0.913, out), MS_ERR_USAGE);
    CU_ASSERT_EQUAL(ms_acq_score(&p, mu, sg, NULL, 3, NAN, out), MS_ERR_USAGE);
    p.kind = MS_ACQ_UCB;
    CU_ASSERT_EQUAL(ms_acq_score(&p, mu, sg, gate, 3, 0.913, out), MS_ERR_USAGE);
    p.kind = MS_ACQ_MEAN;
    CU_ASSERT_EQUAL(ms_acq_score(&p, mu, NULL, NULL, 3, NAN, out), MS_SUCCESS);
    CU_ASSERT(out[1] == 0.217);
    ms_acq_kind k;
    CU_ASSERT_EQUAL(ms_acq_lookup("mli", &k), MS_SUCCESS);
    CU_ASSERT_EQUAL(k, MS_ACQ_PI);
    CU_ASSERT_EQUAL(ms_acq_lookup("ucb", &k), MS_SUCCESS);
    CU_ASSERT_EQUAL(k, MS_ACQ_UCB);
    CU_ASSERT_EQUAL(ms_acq_lookup("thompson", &k), MS_ERR_NOT_FOUND);
    CU_ASSERT_PTR_NOT_NULL(strstr(ms_error_message(), "ei, pi, mu"));
    CU_ASSERT_STRING_EQUAL(ms_acq_name(MS_ACQ_RANDOM), "random");
    CU_ASSERT_STRING_EQUAL(ms_acq_name(MS_ACQ_COUNT), "?");
}

static void test_rank_nan_last_ties_by_index(void)
{
    const double s[6] = {0.25, NAN, 1.5, 0.25, -INFINITY, 1.5};
    size_t order[6];
    CU_ASSERT_EQUAL(ms_batch_rank(s, 6, order), MS_SUCCESS);
    const size_t want[6] = {2, 5, 0, 3, 4, 1};
    CU_ASSERT(memcmp(order, want, sizeof want) == 0);
}

/* Rows 0 and 1 are near-duplicates (distance 0.008 sd), row 2 an exact duplicate of row 0; the
 * greedy penalty must not put two of them in one batch, and picks the lower-scored but distinct
 * rows 3 and 4 instead. */
static void test_batch_skips_near_duplicates(void)
{
    double xd[6 * 3] = {0.31, -1.2, 0.85,  0.32, -1.2, 0.84,  0.31, -1.2, 0.85,
                        -1.7, 0.9, 0.2,    2.1, 1.4, -0.6,   0.9, 2.2, 1.3};
    ms_matrix x;
    ms_matrix_wrap(&x, xd, 6, 3);
    const double s[6] = {1.0, 0.99, 0.98, 0.4, 0.3, 0.05};
    size_t chosen[3], n;
    double u[3];
    CU_ASSERT_EQUAL(ms_batch_select(s, NULL, 6, &x, 0.25, 3, chosen, &n, u), MS_SUCCESS);
    CU_ASSERT_EQUAL(n, 3);
    CU_ASSERT_EQUAL(chosen[0], 0);
    CU_ASSERT_EQUAL(chosen[1], 3);
    CU_ASSERT_EQUAL(chosen[2], 4);
    CU_ASSERT_DOUBLE_EQUAL(u[0], 1.0, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(ms_batch_distance(&x, 0, 1), sqrt(0.0002 / 3.0), 1e-15);
    CU_ASSERT(ms_batch_distance(&x, 0, 2) == 0.0);
    /* without the penalty the batch is the top three */
    CU_ASSERT_EQUAL(ms_batch_select(s, NULL, 6, &x, 0.0, 3, chosen, &n, NULL), MS_SUCCESS);
    CU_ASSERT(chosen[0] == 0 && chosen[1] == 1 && chosen[2] == 2);
    /* eligibility and NaN: only rows 1 and 4 may be chosen, NaN never */
    const unsigned char el[6] = {0, 1, 0, 1, 1, 0};
    const double s2[6] = {1.0, 0.5, 0.9, NAN, 0.7, 0.8};
    CU_ASSERT_EQUAL(ms_batch_select(s2, el, 6, &x, 0.25, 3, chosen, &n, NULL), MS_SUCCESS);
    CU_ASSERT_EQUAL(n, 2);
    CU_ASSERT(chosen[0] == 4 && chosen[1] == 1);
    CU_ASSERT_EQUAL(ms_batch_select(s, NULL, 5, &x, 0.25, 3, chosen, &n, NULL), MS_ERR_USAGE);
}

static void test_pareto_hand_example(void)
{
    /* maximise both: fronts {0,1,2,5}, {3}, {4}; row 6 has a NaN */
    const double f[7 * 2] = {1, 5, 2, 4, 3, 3, 2, 2, 1, 1, 3, 3, NAN, 1};
    int rank[7];
    double cd[7];
    CU_ASSERT_EQUAL(ms_pareto_rank(f, 7, 2, NULL, rank, cd), MS_SUCCESS);
    const int want[7] = {0, 0, 0, 1, 2, 0, -1};
    CU_ASSERT(memcmp(rank, want, sizeof want) == 0);
    /* crowding in front 0: objective 1 order 0,1,2,5 (span 2), objective 2 order 2,5,1,0 (span 2):
     * row 1 gets (3 - 1) / 2 + (5 - 3) / 2 */
    CU_ASSERT(isinf(cd[0]) && isinf(cd[2]) && isinf(cd[5]));
    CU_ASSERT_DOUBLE_EQUAL(cd[1], 2.0, 1e-15);
    CU_ASSERT(isinf(cd[3]) && isinf(cd[4]));
    CU_ASSERT(isnan(cd[6]));
    size_t order[7];
    CU_ASSERT_EQUAL(ms_pareto_order(rank, cd, 7, order), MS_SUCCESS);
    const size_t want_order[7] = {0, 2, 5, 1, 3, 4, 6};
    CU_ASSERT(memcmp(order, want_order, sizeof want_order) == 0);
    /* minimise the second objective: (1,1) now dominates (1,5), and (3,3) ties with itself */
    const int maxi[2] = {1, 0};
    CU_ASSERT_EQUAL(ms_pareto_rank(f, 6, 2, maxi, rank, NULL), MS_SUCCESS);
    /* oriented (f1, -f2): front 0 = {2, 3, 4, 5}; 1 is dominated by 2 and 3; 0 by 1 */
    const int want2[6] = {2, 1, 0, 0, 0, 0};
    CU_ASSERT(memcmp(rank, want2, sizeof want2) == 0);
    CU_ASSERT_EQUAL(ms_pareto_rank(f, 7, 0, NULL, rank, NULL), MS_ERR_USAGE);
}

/* A synthetic pool: 80 rows, 3 features, y a smooth function with one clear maximum. */
static void make_pool(ms_matrix *x, double *y)
{
    ms_rng r;
    ms_rng_seed(&r, 2385, 7);
    ms_matrix_alloc(x, 80, 3);
    for (size_t i = 0; i < 80; i++) {
        double a = 4 * ms_rng_uniform(&r) - 2, b = 4 * ms_rng_uniform(&r) - 2;
        MS_AT(x, i, 0) = a;
        MS_AT(x, i, 1) = b;
        MS_AT(x, i, 2) = a * b;
        y[i] = -(a - 0.7) * (a - 0.7) - 0.5 * (b + 0.3) * (b + 0.3) + 0.1 * sin(7 * a);
    }
}

static void test_campaign_deterministic(void)
{
    ms_matrix x;
    double y[80];
    make_pool(&x, y);
    CU_ASSERT_EQUAL(ms_campaign_prepare(&x), MS_SUCCESS);
    ms_gp_options go;
    ms_surrogate_gp_defaults(&go, 3);
    ms_campaign_options o;
    ms_campaign_options_default(&o);
    o.n0 = 5;
    o.seed = 11;
    o.top_frac = 0.05;
    ms_campaign_result r1[3], r2[3];
    const ms_acq_kind kinds[3] = {MS_ACQ_EI, MS_ACQ_PI, MS_ACQ_RANDOM};
    for (int pass = 0; pass < 2; pass++) {
        for (int k = 0; k < 3; k++) {
            ms_surrogate sur;
            CU_ASSERT_EQUAL_FATAL(ms_surrogate_gp_create(&go, 1.5, &sur), MS_SUCCESS);
            o.acq.kind = kinds[k];
            ms_status st = ms_campaign_run(&x, y, &o, &sur, 3, pass ? &r2[k] : &r1[k]);
            CU_ASSERT_EQUAL(st, MS_SUCCESS);
            if (st != MS_SUCCESS) fprintf(stderr, "%s\n", ms_error_message());
            ms_surrogate_free(&sur);
        }
    }
    for (int k = 0; k < 3; k++) {
        CU_ASSERT(memcmp(&r1[k], &r2[k], sizeof r1[k]) == 0);
        CU_ASSERT(r1[k].found_best && r1[k].found_top);
        CU_ASSERT(r1[k].to_top <= r1[k].to_best);
        CU_ASSERT_EQUAL(r1[k].n_pool, 80);
        CU_ASSERT_EQUAL(r1[k].n_best, 1);
        CU_ASSERT_EQUAL(r1[k].n_top, 4);
        /* paired comparison: same initial set for every acquisition function */
        CU_ASSERT(r1[k].best_initial == r1[0].best_initial);
    }
    CU_ASSERT_EQUAL(r1[2].rounds, 0);
    /* on a smooth bowl EI finds the maximum well before exhausting the pool */
    CU_ASSERT(r1[0].to_best < 40);
    /* another seed index gives another initial set */
    ms_campaign_result r3;
    o.acq.kind = MS_ACQ_RANDOM;
    CU_ASSERT_EQUAL(ms_campaign_run(&x, y, &o, NULL, 4, &r3), MS_SUCCESS);
    CU_ASSERT(r3.best_initial != r1[2].best_initial || r3.to_best != r1[2].to_best);
    /* batches of 4 count whole rounds */
    o.batch = 4;
    CU_ASSERT_EQUAL(ms_campaign_run(&x, y, &o, NULL, 3, &r3), MS_SUCCESS);
    CU_ASSERT_EQUAL(r3.to_best % 4, 0);
    /* errors */
    o.n0 = 1;
    CU_ASSERT_EQUAL(ms_campaign_run(&x, y, &o, NULL, 3, &r3), MS_ERR_USAGE);
    o.n0 = 5;
    o.acq.kind = MS_ACQ_EI;
    CU_ASSERT_EQUAL(ms_campaign_run(&x, y, &o, NULL, 3, &r3), MS_ERR_USAGE);
    ms_matrix_free(&x);
}

int ms_suite_acquisition(void)
{
    CU_pSuite s = CU_add_suite("acquisition", NULL, NULL);
    if (!s) return CU_get_error();
    CU_add_test(s, "phi and Phi against scipy", test_normal_against_scipy);
    CU_add_test(s, "EI and PI against scipy", test_ei_pi_against_scipy);
    CU_add_test(s, "zero, NaN and infinite sigma; minimise", test_degenerate_inputs);
    CU_add_test(s, "vector scores, gates and errors", test_score_vector_and_errors);
    CU_add_test(s, "rank puts NaN last, ties by index", test_rank_nan_last_ties_by_index);
    CU_add_test(s, "batch skips near-duplicates", test_batch_skips_near_duplicates);
    CU_add_test(s, "Pareto fronts and crowding, hand example", test_pareto_hand_example);
    CU_add_test(s, "campaigns are deterministic and paired", test_campaign_deterministic);
    CU_add_test(s, "campaign speed-ups state censoring", test_summary_censoring);
    return CU_get_error();
}
