/* Uncertainty calibration metrics; see calibration.h. */
#include "matscreen/calibration.h"

#include <math.h>
#include <stdlib.h>

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
