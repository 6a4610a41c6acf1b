/*
 * Gradient-boosted trees (--kind gbm) through XGBoost's C API (Debian libxgboost-dev, 1.7.x), as
 * a bagged ensemble that gives each prediction a spread. The learner is ms_model_type_gbm
 * (model.h); this header documents it and exposes what the explanations need.
 *
 * Conventions
 *   - Input x is what the model layer hands every learner: kept columns, imputed, z-scored
 *     (monotone per column, so the trees are the same as on raw values up to float rounding).
 *     XGBoost works in float: x is converted to float once per call.
 *   - Ensemble. K = ensemble members (default 5). Member k trains on a row subsample of
 *     round(bag_fraction * n) rows (default 0.8) drawn without replacement from the stream
 *     ms_rng_seed(seed, k), with XGBoost seed = seed + k. Prediction: the mean of the members
 *     (regression: target units; classification: P(class 1), binary:logistic); the spread s is
 *     their sample standard deviation.
 *   - Recalibration (regression, recalibrate=1): for training rows left out by at least one
 *     member (up to 4096 rows, an even stride), r = |y - mean of the members that left it out|
 *     and s the spread of all K members; sigma^2 = k^2 s^2 + s0^2 with (k, s0) from
 *     ms_calibration_fit_floor (the forest's noise-floor fit, calibration.h), OOB-style. Rows
 *     where every member agrees still get s0. With K = 1 or no left-out rows sigma is NaN.
 *     Classification: sigma is the unscaled spread (NaN for K = 1).
 *   - Threads: nthread = 1 by default. matscreen runs one MPI rank per core; XGBoost's OpenMP
 *     threads on top of that would oversubscribe the cores (2 ranks x 2 threads on 2 cores is
 *     slower than either alone), and a fixed thread count keeps the trees identical whatever the
 *     machine. Set -p nthread=N when running a single rank on an N-core machine.
 *   - MPI: fit is Collective on comm. Member k is trained by rank k % size; the members' model
 *     bytes (XGBoost JSON) are gathered with MPI_Allgatherv in member order, and every rank
 *     loads every member from those bytes and computes the recalibration from the same rows, so
 *     the saved model is byte-identical for any number of ranks. Everything else is Not
 *     collective.
 *   - Storage: the learner state in the model file is a small header (parameters, calibration,
 *     OOB figures) then each member's XGBoost JSON model (u64 length + bytes), inside matscreen's
 *     checksummed, versioned file, so a damaged file is refused before XGBoost sees it. XGBoost
 *     1.7 does not bounds-check the trees it loads, so each member is parsed with jansson and
 *     checked (array lengths, child and feature indices) first: a crafted file is refused with
 *     "bad model: gbm member K ..." instead of crashing the loader.
 *   - predict: XGBoosterPredictFromDMatrix keeps its output in the booster, so calls on one
 *     model from several threads at once are not supported (matscreen predicts per rank).
 */
#ifndef MATSCREEN_GBM_H
#define MATSCREEN_GBM_H

#include <stddef.h>

#include "matscreen/error.h"
#include "matscreen/matrix.h"

/* Per-feature contributions (XGBoost pred_contribs, exact TreeSHAP) of a fitted gbm state
 * (ms_model.state of kind gbm), averaged over the members: phi is x->rows x x->cols, row-major;
 * base[i] the expected value (bias column) of row i. Regression: in target units; classification:
 * in log-odds (margin) units, as XGBoost reports them. Not collective. */
ms_status ms_gbm_contributions(const void *state, const ms_matrix *x, double *phi, double *base);

/* The JSON model bytes of member k (borrowed) and the member count, for checks against XGBoost's
 * other front ends (tests). Not collective. */
size_t ms_gbm_members(const void *state);
const unsigned char *ms_gbm_member_bytes(const void *state, size_t k, size_t *len);

#endif /* MATSCREEN_GBM_H */
