/*
 * Calibration of predicted uncertainties (regression: mean mu and standard deviation sigma).
 *
 *   within1, within2: fraction of |y - mu| <= 1 sigma and <= 2 sigma (0.683 and 0.954 expected
 *     for calibrated Gaussian errors);
 *   miscalibration area: area between the observed and the expected proportion of |z| =
 *     |y - mu|/sigma inside the centred Gaussian interval of probability p, for p on 101 points
 *     of [0, 1] (trapezoids), as uncertainty-toolbox's miscalibration_area (Tran et al., Mach.
 *     Learn.: Sci. Technol. 1 (2020) 025006); 0 is perfect, 0.5 the worst;
 *   nll: mean Gaussian negative log likelihood 0.5 log(2 pi sigma^2) + (y - mu)^2 / (2 sigma^2);
 *   z_rms: sqrt(mean z^2) (1 when calibrated on average).
 * Rows with sigma <= 0 or non-finite are skipped (n_used counts the others). Not collective.
 */
#ifndef MATSCREEN_CALIBRATION_H
#define MATSCREEN_CALIBRATION_H

#include <stddef.h>

#include "matscreen/error.h"

typedef struct ms_calibration {
    double within1, within2, miscal_area, nll, z_rms;
    size_t n_used;
} ms_calibration;

ms_status ms_calibration_compute(const double *y, const double *mu, const double *sigma, size_t n,
                                 ms_calibration *out);

/* Split-conformal factor: the ceil((m + 1)(1 - alpha))-th smallest of the m scores z (|residual|
 * / sigma of calibration rows that no model saw while fitting), so that mu +- q sigma covers a
 * new row with probability >= 1 - alpha when rows are exchangeable (Vovk et al. 2005; Lei et
 * al., JASA 2018). INFINITY when m is too small for alpha (ceil((m + 1)(1 - alpha)) > m), NaN
 * when m is 0 or out of memory. z is not modified. Not collective. */
double ms_calibration_conformal_q(const double *z, size_t m, double alpha);

/* Inverse of the standard normal CDF (|error| < 1e-12 on (1e-300, 1 - 1e-16)). */
double ms_normal_quantile(double p);

/* Fewest held-out rows a model-level recalibration is fitted on (train.h,
 * ms_train_calibration_fit). With fewer, the 2-sigma coverage the fit aims at rests on about one
 * row outside (4.6% of 30 is 1.4) and a 90% conformal quantile on the last few rows: the model
 * keeps the learner's own sigma instead, and train says so. */
#define MS_CALIBRATION_MIN_ROWS 30

/* Recalibration of an ensemble's spread s into sigma^2 = k^2 s^2 + s0^2 from held-out rows
 * (out-of-bag or cross-validated): r[i] = |y_i - held-out prediction_i| and s[i] the unscaled
 * spread of the same m rows. A scale factor alone cannot help rows where every member agrees
 * (s ~ 0) but the target does not; s0 is the error the members cannot see. (k, s0) minimise the
 * miscalibration area of z = r / sigma (by_area = 1), maximise the Gaussian likelihood
 * (by_area = 0), or minimise the squared misses of the Gaussian coverage at 1 and 2 sigma
 * (0.683, 0.954; by_area = 2; the model's grouped-CV recalibration, model.h) over a fixed log-space grid refined by a compass search: deterministic, and
 * rank-independent when every rank passes the same rows. *fitted = 0 leaves k and s0 untouched
 * (fewer than 2 rows or no residual). MS_ERR_NOMEM on allocation failure. Not collective. */
ms_status ms_calibration_fit_floor(const double *r, const double *s, size_t m, int by_area,
                                   double *k, double *s0, int *fitted);

/* ms_calibration_fit_floor with a distance term: sigma^2 = k^2 s^2 + (s0 (1 + c d))^2, d[i] >= 0
 * the row's domain score (domain.h) clipped at the domain's threshold, so that the noise floor
 * grows with the distance from the training rows up to where a row leaves the domain (errors on
 * unseen chemistry grow with distance to the training data: Janet et al., Chem. Sci. 10 (2019)
 * 7913; Tran et al. 2020). c >= 0 is fitted with (k, s0) by the same criterion and search (a
 * third log axis, c = 0 included and preferred on ties: then k and s0 are exactly those of
 * ms_calibration_fit_floor). d NULL: that function, *c = 0. Chosen by calibration CV on the
 * training parts of OBELiX (docs/models.md "Distance-aware recalibration"). Not collective. */
ms_status ms_calibration_fit_floor_dist(const double *r, const double *s, const double *d,
                                        size_t m, int by_area, double *k, double *s0, double *c,
                                        int *fitted);

/* The recalibrated sigma of spread s and clipped domain score d: sqrt((scale s)^2 + (floor_sd (1
 * + c d))^2); hypot(scale s, floor_sd) when c is 0 or d is not finite (no domain). */
double ms_calibration_sigma(double s, double scale, double floor_sd, double c, double d);

/* The criteria's names (`--calibration-fit`, evaluate's table): "likelihood" (by_area 0), "area"
 * (1), "coverage" (2). _name returns "" for another value; _lookup returns -1 for another name. */
const char *ms_calibration_criterion_name(int by_area);
int ms_calibration_criterion_lookup(const char *name);

#endif /* MATSCREEN_CALIBRATION_H */
