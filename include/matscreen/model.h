/*
 * The model interface: one object that wraps every learner (forest, logistic regression,
 * Gaussian naive Bayes, and later Gaussian processes) together with the data-quality steps it
 * was trained with, and the model file format.
 *
 * Conventions
 *   - A learner is a const ms_model_type (name, fit, predict, save, load, free, describe), one per
 *     file in src/ml/, as descriptor families are (STYLE.md item 10). The registry in model.c maps
 *     names to types. Adding a learner (the GP engineer's "gp") means: export
 *     `const ms_model_type ms_model_type_<kind>` from its own file (the GP's is model_gp.c) and add
 *     ONE line to the table in model.c
 *     (the slot is marked there). Nothing else in this file or in the commands changes.
 *   - ms_model is what is trained, saved and loaded: kind, task (regression / classification),
 *     the target (name, log10 flag, classification threshold), the descriptor set (name, version,
 *     signature), feature names, the kept-feature mask of the variance/correlation filters, the
 *     imputation medians, the z-score scaler, the training-data hash, seed, and the CV metrics.
 *   - Prediction pipeline for a raw feature row (descriptor order, all set features):
 *       keep filtered columns -> NaN becomes the training median -> z-score -> learner.
 *     The learner's predict gives mean + sigma (regression; mean in the units of the target,
 *     i.e. log10 units with --log10) or P(class 1) + sigma (classification; sigma NaN when the
 *     learner has none, e.g. logistic and naive Bayes).
 *   - Rows are row-major (ms_matrix); every function is Not collective except ms_model_fit
 *     (Collective on comm, for learners that distribute, such as the forest and the GP).
 *
 * Model file format (version 2), all integers little-endian, doubles IEEE-754 binary64 LE:
 *     offset 0   8 bytes  magic "MSMODEL\0"
 *            8   u32      format version (2; files of version 1 still load)
 *           12   u32      0x01020304 endianness mark
 *           16   u64      payload length L
 *           24   u64      FNV-1a 64 checksum of the payload (damage detection; NOT tamper-proof:
 *                          anyone can recompute it, so loaders still bounds-check everything)
 *           32   L bytes  payload: a sequence of fields, each  u32 tag | u64 length | bytes
 *   Strings are raw bytes (no NUL) of their field; arrays of doubles are length/8 values. The
 *   payload starts with the "kind" field; unknown tags are skipped (forward compatible); the
 *   learner's own state is the "state" field, parsed by the learner's load with a bounded reader
 *   that carries the file's format version (the state layout of a learner may change with it).
 *   Version history: 1 first release; 2 the forest state adds its noise floor (forest.h);
 *   3 the "calibration" field (tag 40; ms_model_calibration: sigma recalibrated on grouped-CV
 *   residuals and a split-conformal factor; its body starts with its own u32 layout version, 1).
 *   Version-1 and -2 files still load (no model-level calibration: the learner's own sigma); a
 *   matscreen that knows only version 2 refuses version 3 with the "newer" message below instead
 *   of predicting without the calibration. 4: the calibration's distance term (body layout 2
 *   adds f64 dist_coef, f64 dist_clip after q); version-3 files (layout 1) load with no distance
 *   term and predict as before, and a matscreen that knows only version 3 refuses version 4
 *   rather than predict without the term.
 *   Optional fields added (format 2 and 3) (older matscreen skips them, older files lack them and
 *   load with the defaults of ms_model): "labels" (tag 64: u32 layout 1, f64 y_max, f64 y_min,
 *   u32 goal), "elements" (tag 65: u32 layout 1, u64 n, n bytes seen, n bytes required, n =
 *   MS_MAX_Z + 1), "domain" (tag 66: domain.h). Each carries its own layout number, so a later
 *   layout can be told from this one; a layout this build does not know is refused.
 *   Errors: "F: not a matscreen model", "F: truncated: ...", "F: checksum mismatch: file is
 *   damaged", "F: model format version V is newer than this matscreen (2)", "F: made for
 *   descriptor set magpie v2 but this matscreen has v1".
 */
#ifndef MATSCREEN_MODEL_H
#define MATSCREEN_MODEL_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "matscreen/composition.h"
#include "matscreen/element.h"
#include "matscreen/error.h"
#include "matscreen/matrix.h"

#define MS_MODEL_FORMAT_VERSION 4u

/* ---- bounded byte streams used by the learners' save / load ---------------------------------- */

/* A growable output buffer. Errors are sticky: after an allocation failure every put is a no-op
 * and ms_model_writer.status is MS_ERR_NOMEM. */
typedef struct ms_model_writer {
    unsigned char *data;
    size_t len, cap;
    ms_status status;
} ms_model_writer;

void ms_model_put_u32(ms_model_writer *w, uint32_t v);
void ms_model_put_u64(ms_model_writer *w, uint64_t v);
void ms_model_put_f64(ms_model_writer *w, double v);
void ms_model_put_bytes(ms_model_writer *w, const void *p, size_t n);
/* n doubles preceded by n as u64. */
void ms_model_put_f64s(ms_model_writer *w, const double *v, size_t n);
/* n u32 preceded by n as u64. */
void ms_model_put_u32s(ms_model_writer *w, const uint32_t *v, size_t n);
/* A string as u64 length + bytes. */
void ms_model_put_str(ms_model_writer *w, const char *s);

/* A bounded input cursor. Every get checks the remaining length; on failure it returns
 * MS_ERR_PARSE with a message ("truncated model: ...") and leaves the output zeroed. */
typedef struct ms_model_reader {
    const unsigned char *data;
    size_t len, pos;
    uint32_t version; /* format version of the file being read; 0 = MS_MODEL_FORMAT_VERSION
                         (a buffer this build wrote, e.g. in tests or the forest's tree gather) */
} ms_model_reader;

ms_status ms_model_get_u32(ms_model_reader *r, uint32_t *v);
ms_status ms_model_get_u64(ms_model_reader *r, uint64_t *v);
ms_status ms_model_get_f64(ms_model_reader *r, double *v);
/* Reads a u64 count (which must be <= max) then that many values into a new array (caller
 * frees; NULL when the count is 0). */
ms_status ms_model_get_f64s(ms_model_reader *r, size_t max, double **v, size_t *n);
ms_status ms_model_get_u32s(ms_model_reader *r, size_t max, uint32_t **v, size_t *n);
/* Reads a string of at most max bytes into a new NUL-terminated string (caller frees). */
ms_status ms_model_get_str(ms_model_reader *r, size_t max, char **s);

/* ---- learners ------------------------------------------------------------------------------- */

typedef enum ms_model_task {
    MS_MODEL_REGRESSION = 0,
    MS_MODEL_CLASSIFICATION = 1 /* binary: y is 0 or 1 */
} ms_model_task;

/* Learner options as key=value strings (from --param KEY=VALUE); each learner reads the keys it
 * knows with ms_model_option_* and fails on keys it does not know (listing the valid ones). */
#define MS_MODEL_MAX_OPTIONS 32
typedef struct ms_model_options {
    size_t n;
    const char *key[MS_MODEL_MAX_OPTIONS];   /* borrowed */
    const char *value[MS_MODEL_MAX_OPTIONS]; /* borrowed */
} ms_model_options;

/* Adds "key=value" (borrowed; must outlive opt). MS_ERR_USAGE when malformed or full. */
ms_status ms_model_options_add(ms_model_options *opt, const char *key_eq_value);
/* Value of key as a number; *out unchanged when absent. MS_ERR_USAGE when not a number. */
ms_status ms_model_option_double(const ms_model_options *opt, const char *key, double *out);
/* Fails with MS_ERR_USAGE naming the first key of opt not in the NULL-terminated list known. */
ms_status ms_model_options_check(const ms_model_options *opt, const char *learner,
                                 const char *const *known);

/* What fit receives: x already filtered, imputed and standardised. */
typedef struct ms_model_fit_args {
    const ms_matrix *x;
    const double *y;               /* regression target, or 0/1 for classification */
    ms_model_task task;
    uint64_t seed;
    const ms_model_options *options; /* never NULL */
    MPI_Comm comm;                 /* ranks that train together (MPI_COMM_SELF for one) */
} ms_model_fit_args;

/* A learner. fit and load create the state; free releases it. predict must not modify state
 * (it may be called from several threads). sigma may be NULL in predict. */
typedef struct ms_model_type {
    const char *name;       /* "forest", "logistic", "naive_bayes", "gp" */
    const char *summary;    /* one line for listings */
    int regression;         /* 1 when the learner does regression */
    int classification;     /* 1 when it does binary classification */
    ms_status (*fit)(const ms_model_fit_args *args, void **state);
    ms_status (*predict)(const void *state, const ms_matrix *x, double *mean, double *sigma);
    ms_status (*save)(const void *state, ms_model_writer *w);
    ms_status (*load)(ms_model_reader *r, size_t n_features, ms_model_task task, void **state);
    void (*free)(void *state);
    /* Prints "  key: value" lines describing the fitted state (may be NULL). */
    void (*describe)(const void *state, FILE *out);
    /* Per-feature contributions of each row (may be NULL: the learner cannot explain): phi is
     * x->rows x x->cols, base[i] the expected value, sum_j phi[i][j] = prediction - base[i]
     * (in the learner's additive units: the target for regression; for classification the
     * forest's probability, the gbm's log-odds). */
    ms_status (*explain)(const void *state, const ms_matrix *x, double *phi, double *base);
    /* Optional (may be NULL): explain's scratch made once and reused over many calls (the
     * forest's TreeSHAP workspace), so that a caller explaining one batch at a time does not
     * build it each time. explain_ws_new returns NULL when out of memory; explain_with gives
     * the same numbers as explain. */
    void *(*explain_ws_new)(const void *state);
    void (*explain_ws_free)(void *ws);
    ms_status (*explain_with)(const void *state, const ms_matrix *x, void *ws, double *phi,
                              double *base);
} ms_model_type;

extern const ms_model_type ms_model_type_forest;      /* forest.c */
extern const ms_model_type ms_model_type_logistic;    /* logistic.c */
extern const ms_model_type ms_model_type_naive_bayes; /* naive_bayes.c */
extern const ms_model_type ms_model_type_gp;          /* model_gp.c: Gaussian process */
extern const ms_model_type ms_model_type_gbm;         /* model_gbm.c: XGBoost ensemble (gbm.h) */

/* Finds a learner by name; unknown names fail with MS_ERR_NOT_FOUND listing the valid ones. */
ms_status ms_model_type_lookup(const char *name, const ms_model_type **out);
size_t ms_model_type_count(void);
const ms_model_type *ms_model_type_get(size_t i);

/* ---- the model ------------------------------------------------------------------------------ */

#define MS_MODEL_MAX_METRICS 64

/* Which end of a regression target is good, as train's --goal said. */
typedef enum ms_model_goal {
    MS_GOAL_UNKNOWN = 0, /* not said: the screen's --ascending decides */
    MS_GOAL_MAX = 1,     /* larger is better (e.g. ionic conductivity) */
    MS_GOAL_MIN = 2      /* smaller is better (e.g. energy above hull) */
} ms_model_goal;

/* Sigma recalibration stored with a model (regression). The learner's sigma s (the forest's is
 * already scaled on its out-of-bag rows; the GP's is the latent sd) becomes
 *     sigma = sqrt(scale^2 s^2 + (floor (1 + dist_coef min(score, dist_clip)))^2)
 * with score the row's domain score (domain.h; the model's domain, computed in ms_model_predict)
 * and dist_clip the domain's threshold (beyond it a row is out of the domain, and the fit rows
 * say nothing of how errors grow there): the noise floor grows with the distance from the
 * training rows (calibration.h ms_calibration_fit_floor_dist). dist_coef 0 (files of format 3, a
 * model without a domain, or a fit that found no gain in it) is sqrt(scale^2 s^2 + floor^2),
 * with (scale, floor, dist_coef) fitted by ms_calibration_fit_floor (calibration.h) on the out-of-fold
 * residuals of a grouped cross-validation (cv.h: whole chemical systems held out), so that sigma
 * describes errors on families the model has not seen rather than on siblings of its training
 * rows. With alpha > 0 the model also carries a split-conformal factor q (ms_calibration_conformal_q
 * of |residual| / recalibrated sigma on the same grouped out-of-fold rows): mu +- q sigma is an
 * interval of stated coverage 1 - alpha. */
typedef enum ms_model_calibration_kind {
    MS_MODEL_CAL_NONE = 0,   /* the learner's own sigma (forest: out-of-bag recalibration) */
    MS_MODEL_CAL_GROUPED = 1 /* recalibrated on grouped-CV residuals */
} ms_model_calibration_kind;

typedef struct ms_model_calibration {
    ms_model_calibration_kind kind;
    char grouping[64];        /* the grouping of the folds ("chemsys", "kmeans:8", ...) */
    size_t folds, groups, rows; /* folds, groups and rows of the cross-validation */
    int criterion;            /* 1 miscalibration area, 0 likelihood, 2 coverage (calibration.h) */
    double scale, floor;      /* as above; floor in the target's (learner's) units */
    double within1, within2;  /* coverage of the recalibrated out-of-fold sigma (fit rows) */
    double alpha, q;          /* conformal: alpha 0 = none; q may be INFINITY (too few rows) */
    double dist_coef;         /* c >= 0 of the distance term; 0: none */
    double dist_clip;         /* domain scores are clipped here (the domain's threshold) */
} ms_model_calibration;

typedef struct ms_model {
    const ms_model_type *type;
    void *state;                 /* the learner's, owned */
    ms_model_task task;
    uint64_t seed;
    char *target;                /* target column name */
    int log10_target;            /* 1 when the learner saw log10(target) */
    double threshold;            /* classification: positive when target >= threshold (in the
                                    target's own units); NaN when labels were given as classes */
    char *descriptor_set;        /* "" when features came from elsewhere (no check at load) */
    int descriptor_version;
    char *descriptor_signature;
    size_t n_raw;                /* features in a raw row (descriptor order) */
    char **feature_names;        /* n_raw names */
    unsigned char *keep;         /* n_raw flags (filters) */
    size_t n_kept;
    double *median;              /* n_kept training medians (imputation) */
    double *center, *scale;      /* n_kept z-score parameters */
    uint64_t data_hash;          /* FNV-1a of the training matrix and targets */
    size_t n_train;
    char *created;               /* ISO time and matscreen version */
    size_t n_metrics;            /* CV / OOB metrics stored with the model */
    char *metric_name[MS_MODEL_MAX_METRICS];
    double metric_value[MS_MODEL_MAX_METRICS];
    /* Optional fields (files written before them load with the defaults in brackets). */
    double y_max, y_min;         /* regression: largest / smallest training label, learner units
                                    (log10 with --log10) [NaN: unknown, EI / PI need --best] */
    int goal;                    /* ms_model_goal: which end of the target is good [unknown] */
    int has_elements;            /* 1 when elem_seen / elem_required are known [0] */
    unsigned char elem_seen[MS_MAX_Z + 1];     /* 1: element z occurs in a training row */
    unsigned char elem_required[MS_MAX_Z + 1]; /* 1: the model requires z (model.h "requires") */
    struct ms_domain *domain;    /* domain of applicability (domain.h) [NULL: none] */
    ms_model_calibration calibration; /* kind MS_MODEL_CAL_NONE unless recalibrated */
    struct ms_selection *selection; /* feature selection record (select.h) [NULL: none] */
} ms_model;

/* The best training label for a search that minimises (minimize = 1: y_min) or maximises (y_max);
 * NaN when the model does not know (files from before y_best, classifiers). Not collective. */
double ms_model_y_best(const ms_model *m, int minimize);

/* Records the training labels' extremes (y_max, y_min) and the goal. Not collective. */
void ms_model_set_labels(ms_model *m, const double *y, size_t n, ms_model_goal goal);

/* How to train. */
typedef struct ms_model_spec {
    const char *kind;            /* learner name */
    ms_model_task task;
    uint64_t seed;
    ms_model_options options;
    double variance_threshold;   /* drop features with training variance <= this (default 0) */
    double correlation_threshold;/* drop the later of two features with |r| > this (default 1:
                                    off, as no |r| exceeds 1) */
    int standardize;             /* default 1 */
    /* What ms_train_fit records besides the fit (train.h); ms_model_fit ignores these. */
    ms_model_goal goal;          /* --goal (default unknown) */
    const unsigned char *requires; /* MS_MAX_Z + 1 flags of --requires (all zero: none); NULL:
                                    the elements present in every training row (model.h) */
    int domain;                  /* 1 (default): store the domain of applicability (domain.h) */
    /* Feature selection (select.h), run by ms_model_fit on its training rows after the filters. */
    const char *select;          /* SPEC, NULL: none */
    const int *group;            /* group ids of x's rows for the selection's folds (NULL: random
                                    folds); ms_cv_predict hands each fit its training rows' ids */
    const unsigned char *columns;/* raw columns the fit may use (NULL: all); the wrapper's fits */
} ms_model_spec;

void ms_model_spec_default(ms_model_spec *spec);

/* Trains on raw rows x (n x n_raw, NaN allowed) and y. feature_names (n_raw, may be NULL) are
 * copied. Collective on comm. On success *out is a new model (free with ms_model_free). The
 * caller fills target, threshold, descriptor fields with ms_model_set_meta afterwards. */
ms_status ms_model_fit(const ms_model_spec *spec, const ms_matrix *x, const double *y,
                       const char *const *feature_names, MPI_Comm comm, ms_model **out);

/* Records metadata (strings copied; NULL leaves a field empty). */
ms_status ms_model_set_meta(ms_model *m, const char *target, int log10_target, double threshold,
                            const char *descriptor_set, int descriptor_version,
                            const char *descriptor_signature);

/* Adds (or replaces) a named metric stored in the file. */
ms_status ms_model_add_metric(ms_model *m, const char *name, double value);

/* Raw rows x (n x n_raw) as the learner sees them: kept columns, imputed, standardised, into a
 * new matrix out (free with ms_matrix_free). Not collective. */
ms_status ms_model_standardize(const ms_model *m, const ms_matrix *x, ms_matrix *out);

/* Predicts raw rows x (n x n_raw). mean and sigma (may be NULL) have x->rows entries. A
 * regression's sigma carries m->calibration when it has one. This is the one road from a feature
 * row to a prediction: nobody else reads keep/median/center/scale. */
ms_status ms_model_predict(const ms_model *m, const ms_matrix *x, double *mean, double *sigma);

/* The same, and score (may be NULL; x->rows entries) gets each row's domain score against
 * m->domain (domain.h: its prepared row, unclipped; NaN without a domain). The score is computed
 * once per row and model: the one the distance term of the sigma calibration uses, else computed
 * for score alone. Callers that judge the domain (ms_model_domain_verdict) take it from here
 * rather than scoring the row again. */
ms_status ms_model_predict_scored(const ms_model *m, const ms_matrix *x, double *mean,
                                  double *sigma, double *score);

/* The same without allocating, for one row at a time in the screen: work holds
 * ms_model_workspace_size(m, x->rows) doubles (the prepared rows). Same bytes as
 * ms_model_predict_scored, calibrated sigma and score (may be NULL) included. */
size_t ms_model_workspace_size(const ms_model *m, size_t rows);
ms_status ms_model_predict_ws(const ms_model *m, const ms_matrix *x, double *work, double *mean,
                              double *sigma, double *score);

/* Explains rows x (n x n_raw) with the learner's explain (MS_ERR_UNSUPPORTED when it has none):
 * phi is x->rows x n_raw (features dropped by the filters get 0), base[i] the expected value.
 * Trees are invariant to the per-column scaling, so phi is in the prediction's units. */
ms_status ms_model_explain(const ms_model *m, const ms_matrix *x, double *phi, double *base);

/* The same without allocating (the screen's --explain, a batch of rows at a time): work holds
 * ms_model_explain_workspace_size(m, x->rows) doubles; scratch is NULL or the learner's scratch
 * from ms_model_explain_scratch_new(m) (the caller's, reused over its calls; one caller at a
 * time). Same numbers as ms_model_explain. */
size_t ms_model_explain_workspace_size(const ms_model *m, size_t rows);
ms_status ms_model_explain_ws(const ms_model *m, const ms_matrix *x, double *work, void *scratch,
                              double *phi, double *base);

/* The learner's explain scratch for m (*out NULL when its learner needs none); free it with
 * ms_model_explain_scratch_free(m, scratch). */
ms_status ms_model_explain_scratch_new(const ms_model *m, void **out);
void ms_model_explain_scratch_free(const ms_model *m, void *scratch);

/* 1 when raw feature j reaches the learner (the filters kept it), else 0. */
int ms_model_uses_feature(const ms_model *m, size_t j);

/* The model's domain verdict on one candidate (the screen on a structure, suggest on a formula):
 * 1 in the domain, 0 out. Out when the composition c holds an element no training row had (when
 * the model knows them), else when score, the candidate's domain score as
 * ms_model_predict_scored gave it (NaN without a domain), is above the model's threshold.
 * why[n] says why a candidate is out ("" when in). */
int ms_model_domain_verdict(const ms_model *m, const ms_composition *c, double score, char *why,
                            size_t n);

/* How ms_model_domain_verdict's why begins when the candidate holds unseen elements; the reason
 * travels as text (messages, journal, outputs), so readers classify it with the function below. */
#define MS_DOMAIN_REASON_ELEMENTS "elements not in training"

/* 1 when a domain reason (why of ms_model_domain_verdict) names unseen elements, else 0. */
int ms_domain_reason_is_elements(const char *why);

/* Largest model file read (16 GiB: far above any forest we train); a larger one is MS_ERR_LIMIT. */
#define MS_MODEL_MAX_BYTES ((size_t)1 << 34)

/* Writes / reads a model file. Load verifies magic, version, length, checksum, every field's
 * bounds, and (when the model names a descriptor set) that this build has that set at the same
 * version; errors are prefixed with path. */
ms_status ms_model_save(const ms_model *m, const char *path);
ms_status ms_model_load(const char *path, ms_model **out);
/* The same on a memory image (for tests and fuzzing); name is used in messages. */
ms_status ms_model_save_buffer(const ms_model *m, ms_model_writer *w);
ms_status ms_model_load_buffer(const unsigned char *data, size_t len, const char *name,
                               ms_model **out);

/* Half-width of the model's conformal interval for a predicted sigma (q sigma), NaN when the
 * model carries no conformal factor. Not collective. */
double ms_model_interval_half_width(const ms_model *m, double sigma);

/* Prints what the model is and how it scored (for `matscreen model info`). */
void ms_model_describe(const ms_model *m, FILE *out);

/* Releases m; NULL is a no-op. */
void ms_model_free(ms_model *m);

#endif /* MATSCREEN_MODEL_H */
