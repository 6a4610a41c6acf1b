/* Uncertainty calibration metrics; see calibration.h. */
#include "matscreen/calibration.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

double ms_normal_quantile(double p)
{
    if (!(p > 0)) return -INFINITY;
    if (!(p < 1)) return INFINITY;
    /* bisection then Newton on Phi(x) = 0.5 erfc(-x / sqrt 2) */
    double lo = -40, hi = 40;
    for (int it = 0; it < 200 && hi - lo > 1e-15; it++) {
        double mid = 0.5 * (lo + hi);
        if (0.5 * erfc(-mid / M_SQRT2) < p) lo = mid; else hi = mid;
    }
    return 0.5 * (lo + hi);
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

ms_status ms_calibration_compute(const double *y, const double *mu, const double *sigma, size_t n,
                                 ms_calibration *out)
{
    out->within1 = out->within2 = out->miscal_area = out->nll = out->z_rms = NAN;
    out->n_used = 0;
    double *az = malloc((n + 1) * sizeof *az);
    MS_CHECK(az, MS_ERR_NOMEM, "calibration: out of memory");
    size_t m = 0;
    double w1 = 0, w2 = 0, nll = 0, z2 = 0;
    for (size_t i = 0; i < n; i++) {
        if (!(sigma[i] > 0) || !isfinite(sigma[i]) || !isfinite(mu[i]) || !isfinite(y[i])) continue;
        double z = (y[i] - mu[i]) / sigma[i];
        az[m++] = fabs(z);
        w1 += fabs(z) <= 1;
        w2 += fabs(z) <= 2;
        nll += 0.5 * log(2 * M_PI * sigma[i] * sigma[i]) + 0.5 * z * z;
        z2 += z * z;
    }
    if (m) {
        qsort(az, m, sizeof *az, cmp_d);
        double area = 0, prev = 0;
        for (int k = 0; k <= 100; k++) {
            double p = k / 100.0;
            double q = k == 100 ? INFINITY : ms_normal_quantile(0.5 + p / 2);
            /* observed: fraction of |z| <= q (binary search in sorted az) */
            size_t lo = 0, hi = m;
            while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                if (az[mid] <= q) lo = mid + 1; else hi = mid;
            }
            double d = fabs((double)lo / (double)m - p);
            if (k) area += 0.005 * (d + prev);
            prev = d;
        }
        out->within1 = w1 / (double)m;
        out->within2 = w2 / (double)m;
        out->miscal_area = area;
        out->nll = nll / (double)m;
        out->z_rms = sqrt(z2 / (double)m);
        out->n_used = m;
    }
    free(az);
    return MS_SUCCESS;
}

/* ---- noise-floor recalibration (shared by the forest and the gbm ensemble) ---------------- */

/* Workspace and data of the noise-floor fit: |residual| r and unscaled OOB sigma s of the m
 * recalibration rows, |z| scratch, and the 101 half-normal quantiles of the area criterion. */
typedef struct floor_fit {
    const double *r, *s;
    const double *d;   /* clipped domain scores of the rows, NULL: no distance term */
    size_t m;
    int by_area;       /* 1: miscalibration area; 0: Gaussian likelihood; 2: 1- and 2-sigma coverage */
    double *az;        /* m */
    double q[101];     /* q[k] = Phi^-1(0.5 + k / 200): |z| quantile of probability k / 100 */
} floor_fit;

/* Criterion of (lk, ls, lc) = (log k, log s0, log c), smaller is better, summed in row order;
 * lc = -INFINITY (c = 0) is the fit without a distance term, computed as before it existed.
 * v = k^2 s^2 + s0^2 (1 + c d)^2. Likelihood: sum of log v + r^2 / v (twice the Gaussian negative log
 * likelihood less its constant). Area: the miscalibration area of z = r / sqrt(v) (as
 * ms_calibration_compute: |observed - expected| share of |z| inside the central interval of
 * probability p, trapezoids over p = 0, 0.01, ..., 1). */
static double floor_cost(floor_fit *ff, double lk, double ls, double lc)
{
    double a = exp(2 * lk), c = exp(2 * ls), e = exp(lc), sum = 0;
    int dist = ff->d && e > 0;
    for (size_t i = 0; i < ff->m; i++) {
        double g = dist ? 1 + e * ff->d[i] : 1;
        double v = dist ? a * ff->s[i] * ff->s[i] + c * g * g : a * ff->s[i] * ff->s[i] + c;
        if (ff->by_area) ff->az[i] = ff->r[i] / sqrt(v);
        else sum += log(v) + ff->r[i] * ff->r[i] / v;
    }
    if (!ff->by_area) return sum;
    if (ff->by_area == 2) {
        /* squared misses of the Gaussian 1- and 2-sigma coverage (0.6827, 0.9545) */
        double w1 = 0, w2 = 0;
        for (size_t i = 0; i < ff->m; i++) {
            w1 += ff->az[i] <= 1;
            w2 += ff->az[i] <= 2;
        }
        w1 = w1 / (double)ff->m - 0.6826894921370859;
        w2 = w2 / (double)ff->m - 0.9544997361036416;
        return w1 * w1 + w2 * w2;
    }
    /* the count of |z| <= q[k] for each k, from a histogram over the 101 ascending q (the
     * first k with |z| <= q[k], by bisection): the counts of a sweep over sorted |z|, without
     * sorting m values for each of the ~2,000 points of the search */
    size_t hist[101] = {0};
    for (size_t i = 0; i < ff->m; i++) {
        int lo = 0, hi = 100; /* q[100] is infinite: every finite |z| lands */
        while (lo < hi) {
            int mid = (lo + hi) / 2;
            if (ff->az[i] <= ff->q[mid]) hi = mid; else lo = mid + 1;
        }
        hist[lo] += ff->az[i] <= ff->q[lo];
    }
    double area = 0, prev = 0;
    size_t at = 0;
    for (int k = 0; k <= 100; k++) {
        at += hist[k];
        double d = fabs((double)at / (double)ff->m - k / 100.0);
        if (k) area += 0.005 * (d + prev);
        prev = d;
    }
    return area;
}

/* Search in log space: a grid (k from 0.01 to 100, s0 from 1e-4 to 10 times the OOB rms
 * residual; with d, c = 0 then log c from log 1e-3 to log 100 in steps of 0.5), then a compass
 * search with halving steps; deterministic, no random starts. c = 0 comes first and wins ties,
 * and a compass step never leaves it, so without a better distance term the fit is the one of
 * (k, s0) alone, to the bit. s0 is kept >= 1e-4 rms so rows with r = s = 0 (exact targets every
 * tree gets right) cannot send the likelihood to infinity. Returns 0 (leaving k, s0 and c) when
 * there is nothing to fit, or MS_ERR_NOMEM as -1. */
static int fit_floor(const double *r, const double *s, const double *dd, size_t m, int by_area,
                     double *k, double *s0, double *cd)
{
    double ms = 0;
    for (size_t i = 0; i < m; i++) ms += r[i] * r[i];
    if (m < 2 || !(ms > 0) || !isfinite(ms)) return 0;
    floor_fit ff = {r, s, dd, m, by_area, malloc(m * sizeof(double)), {0}};
    if (!ff.az) return -1;
    for (int q = 0; q < 100; q++) ff.q[q] = ms_normal_quantile(0.5 + q / 200.0);
    ff.q[100] = INFINITY;
    double ls_lo = log(sqrt(ms / (double)m)) + log(1e-4), ls_hi = ls_lo + log(1e5);
    double lk_lo = log(0.01), lk_hi = log(100), step = 0.25;
    double lc_lo = log(1e-3), lc_hi = log(100), lc_step = 0.5;
    double bk = 0, bs = ls_hi, bc = -INFINITY, best = INFINITY;
    int nk = (int)((lk_hi - lk_lo) / step + 0.5), ns = (int)((ls_hi - ls_lo) / step + 0.5);
    int nc = dd ? (int)((lc_hi - lc_lo) / lc_step + 0.5) + 1 : 0;
    for (int e = 0; e <= nc; e++) {
        double lc = e == 0 ? -INFINITY : lc_lo + lc_step * (e - 1);
        for (int a = 0; a <= nk; a++)
            for (int c = 0; c <= ns; c++) {
                double lk = lk_lo + step * a, ls = ls_lo + step * c;
                double v = floor_cost(&ff, lk, ls, lc);
                if (v < best) {
                    best = v;
                    bk = lk;
                    bs = ls;
                    bc = lc;
                }
            }
    }
    for (double h = step / 2; h > 1e-6 && isfinite(best); h /= 2) {
        int moved = 1;
        while (moved) {
            moved = 0;
            const double dk[6] = {h, -h, 0, 0, 0, 0}, ds[6] = {0, 0, h, -h, 0, 0};
            const double dc[6] = {0, 0, 0, 0, h, -h};
            for (int d = 0; d < (dd ? 6 : 4); d++) {
                double lk = bk + dk[d], ls = bs + ds[d], lc = bc + dc[d];
                if (lk < lk_lo || lk > lk_hi || ls < ls_lo || ls > ls_hi) continue;
                if (d >= 4 && !(lc >= lc_lo && lc <= lc_hi)) continue; /* c = 0 stays 0 */
                double v = floor_cost(&ff, lk, ls, lc);
                if (v < best) {
                    best = v;
                    bk = lk;
                    bs = ls;
                    bc = lc;
                    moved = 1;
                }
            }
        }
    }
    free(ff.az);
    if (!isfinite(best)) return 0;
    *k = exp(bk);
    *s0 = exp(bs);
    if (cd) *cd = exp(bc);
    return 1;
}

ms_status ms_calibration_fit_floor(const double *r, const double *s, size_t m, int by_area,
                                   double *k, double *s0, int *fitted)
{
    int fit = fit_floor(r, s, NULL, m, by_area, k, s0, NULL);
    *fitted = fit > 0;
    MS_CHECK(fit >= 0, MS_ERR_NOMEM, "calibration: out of memory");
    return MS_SUCCESS;
}

ms_status ms_calibration_fit_floor_dist(const double *r, const double *s, const double *d,
                                        size_t m, int by_area, double *k, double *s0, double *c,
                                        int *fitted)
{
    int fit = fit_floor(r, s, d, m, by_area, k, s0, c);
    *fitted = fit > 0;
    MS_CHECK(fit >= 0, MS_ERR_NOMEM, "calibration: out of memory");
    return MS_SUCCESS;
}

double ms_calibration_sigma(double s, double scale, double floor_sd, double c, double d)
{
    if (!(c > 0) || !isfinite(d)) return hypot(scale * s, floor_sd);
    return hypot(scale * s, floor_sd * (1 + c * d));
}

double ms_calibration_conformal_q(const double *z, size_t m, double alpha)
{
    if (!m || !(alpha > 0 && alpha < 1)) return NAN;
    double need = ceil((double)(m + 1) * (1 - alpha));
    if (need > (double)m) return INFINITY;
    double *a = malloc(m * sizeof *a);
    if (!a) return NAN;
    memcpy(a, z, m * sizeof *a);
    qsort(a, m, sizeof *a, cmp_d);
    double q = a[(size_t)need - 1];
    free(a);
    return q;
}

static const char *const criterion_names[] = {"likelihood", "area", "coverage"};

const char *ms_calibration_criterion_name(int by_area)
{
    return by_area >= 0 && by_area < 3 ? criterion_names[by_area] : "";
}

int ms_calibration_criterion_lookup(const char *name)
{
    for (int c = 0; c < 3; c++)
        if (name && !strcmp(name, criterion_names[c])) return c;
    return -1;
}
