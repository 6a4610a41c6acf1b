/*
 * XML workflows: loading, schema validation and semantic checks (docs/workflows.md).
 *
 * Conventions
 *   - A workflow file is read whole (at most MS_WORKFLOW_MAX_BYTES), parsed by libxml2 without
 *     network access, without entity expansion and without DTD loading; a file that contains a
 *     DOCTYPE at all is rejected (workflows never need one, and every entity attack - billion
 *     laughs, XXE, external DTD - lives in a DOCTYPE). Element nesting deeper than
 *     MS_WORKFLOW_MAX_DEPTH is rejected. The document must be UTF-8 (or ASCII).
 *   - The document is then validated against share/matscreen/workflow.xsd and checked for what a
 *     schema cannot say: element symbols, descriptor set names, ranking quantities, files that must
 *     exist, numbers in range, and stages this build can run.
 *   - Every problem is one ms_workflow_issue "FILE:LINE: <element>: message" in words a scientist
 *     understands; libxml2's schema messages are rephrased. At most MS_WORKFLOW_MAX_ISSUES are kept.
 *   - Relative paths in the workflow resolve against the directory of the workflow file; a path
 *     under the current directory is then written relative to it (so outputs name files the same
 *     way for every run started from the same place), others stay absolute.
 *   - Everything here is Not collective: rank 0 loads the workflow and sends workers what they need.
 */
#ifndef MATSCREEN_WORKFLOW_H
#define MATSCREEN_WORKFLOW_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

#include "matscreen/element.h"
#include "matscreen/error.h"
#include "matscreen/reader.h"
#include "matscreen/record_filter.h"
#include "matscreen/structure.h"

#define MS_WORKFLOW_MAX_BYTES (1024 * 1024) /* largest workflow file accepted: 1 MiB */
#define MS_WORKFLOW_MAX_DEPTH 32            /* deepest element nesting accepted */
#define MS_WORKFLOW_MAX_ISSUES 32           /* issues kept per load; more are counted */
#define MS_WORKFLOW_PATH_MAX 4096
#define MS_WORKFLOW_MESSAGE_MAX 640
#define MS_WORKFLOW_NAME_MAX 80

typedef enum ms_workflow_stage {
    MS_WORKFLOW_SCREEN = 0, /* screen sources, rank candidates, write outputs and the report */
    MS_WORKFLOW_TRAIN,      /* train a model from labels (then screen when sources are given) */
    MS_WORKFLOW_EVALUATE,   /* cross-validate a model and report metrics */
    MS_WORKFLOW_CAMPAIGN    /* simulated sequential learning against random picking */
} ms_workflow_stage;

/* One problem found while loading. line is 0 when the problem concerns the whole file. */
typedef struct ms_workflow_issue {
    int line;
    char message[MS_WORKFLOW_MESSAGE_MAX]; /* "FILE:LINE: <element>: text", ready to print */
} ms_workflow_issue;

/* The problems of one load, filled by ms_workflow_load. Caller-owned (about 20 kB). */
typedef struct ms_workflow_issues {
    size_t n;                                   /* issues kept in items */
    size_t dropped;                             /* further issues not kept */
    ms_workflow_issue items[MS_WORKFLOW_MAX_ISSUES];
} ms_workflow_issues;

typedef struct ms_workflow_source {
    char spec[MS_WORKFLOW_PATH_MAX]; /* resolved path or glob pattern, an ms_source spec */
    int is_glob;                     /* 1 when given as glob= */
    ms_format format;                /* MS_FORMAT_AUTO unless format= says otherwise */
    ms_source_db db;                 /* database of records that do not state theirs */
    int trust;                       /* trust rank (1 = most trusted); 0 when not given */
    int line;                        /* line of the <source> element */
} ms_workflow_source;

#define MS_WORKFLOW_MAX_SOURCES 256
#define MS_WORKFLOW_MAX_MODELS 16

typedef struct ms_workflow_training {
    int present;                                  /* 1 when <training> was given */
    int line;                                     /* line of <training> */
    char labels[MS_WORKFLOW_PATH_MAX];            /* labels CSV (resolved) */
    char id_column[64];                           /* "" = first column */
    char formula_column[64];                      /* formula-column= ("" = "formula"; campaign) */
    char target[64];                              /* target column */
    char transform[16];                           /* "none" or "log10" */
    double threshold;                             /* NaN when not given */
    char kind[32];                                /* model kind */
    int folds;                                    /* CV folds */
    char output[MS_WORKFLOW_PATH_MAX];            /* model file to write (resolved) */
    size_t n_structures;                          /* <structures> sources */
    ms_workflow_source structures[MS_WORKFLOW_MAX_SOURCES / 4];
} ms_workflow_training;

/* Settings of stage campaign (<campaign>; defaults when the element is absent). */
#define MS_WORKFLOW_MAX_ACQ 8
typedef struct ms_workflow_campaign {
    int line;                       /* line of <campaign>; 0 when not given */
    size_t n0;                      /* initial= random labels (default 10) */
    size_t batch;                   /* batch= labels per round (default 1) */
    size_t budget;                  /* iterations= most labels acquired after n0 (default 50) */
    size_t seeds;                   /* repeats= campaigns per acquisition function (default 10) */
    size_t n_acq;                   /* acquisition functions compared */
    int acq[MS_WORKFLOW_MAX_ACQ];   /* ms_acq_kind values (acquisition.h), in the order given */
    char group[64];                 /* group= grouped mode (campaign.h; as campaign --group):
                                       chemsys, formula or kmeans:K; "" or none: classic */
    double pool_frac;               /* pool-fraction= grouped pool share of the rows (0.2) */
} ms_workflow_campaign;

/* A loaded, checked workflow. Plain data (no pointers): it can be copied or sent as bytes. */
typedef struct ms_workflow {
    char file[MS_WORKFLOW_PATH_MAX];   /* the workflow file as given */
    char name[MS_WORKFLOW_NAME_MAX];   /* name= */
    ms_workflow_stage stage;           /* stage= */
    uint64_t seed;                     /* seed= */
    uint64_t hash;                     /* FNV-1a of the file bytes (manifest, report) */

    size_t n_sources;
    ms_workflow_source sources[MS_WORKFLOW_MAX_SOURCES];

    /* <filters>: applied to screened candidates before ranking (record_filter.h, the same code
     * as the screen's --require-elements etc.); validity-severity "warning" is reject_warnings */
    ms_record_filter filter;

    char descriptor_set[64];           /* descriptor set name ("default" when not given) */

    size_t n_models;
    char models[MS_WORKFLOW_MAX_MODELS][MS_WORKFLOW_PATH_MAX]; /* model files (resolved) */
    ms_workflow_training training;

    int rank_by;                       /* ms_rank_by (default li_fraction) */
    int ascending;                     /* <ranking order=>: 1 ascending, 0 descending, -1 not
                                          given (the surrogate's goal, else descending) */
    char acquisition[16];              /* "" when not given, else mei|mli|mu|ucb|mean|probability */
    double acq_target;                 /* acquisition@target: best label for mei/mli (NaN: none) */
    double acq_xi;                     /* acquisition@xi: mei/mli margin (default 0) */
    double acq_kappa;                  /* acquisition@kappa: ucb weight of sigma; NaN when not given:
                                        * the screen's MS_ACQ_DEFAULT_KAPPA, a campaign's
                                        * ms_campaign_default_kappa (by its mode) */
    size_t top_k;                      /* default 20 */
    size_t explain_k;                  /* models@explain: each candidate's K largest feature
                                          contributions (screen --explain K); 0: off */
    ms_workflow_campaign campaign;     /* stage campaign */
    char output_dir[MS_WORKFLOW_PATH_MAX]; /* resolved */
} ms_workflow;

/* Name of a stage ("screen", "train", ...). */
const char *ms_workflow_stage_name(ms_workflow_stage stage);

/* Loads, validates and checks the workflow at path against the schema file schema_path (NULL:
 * workflow.xsd in ms_share_dir()). issues (required) receives every problem found. On success
 * *out is allocated (free with ms_workflow_free) and issues->n is 0. On failure *out is NULL,
 * issues->n >= 1 and the status says what kind of problem came first: MS_ERR_IO (unreadable),
 * MS_ERR_LIMIT (size or depth), MS_ERR_PARSE (not well-formed, DOCTYPE, encoding), MS_ERR_INVALID
 * (schema or semantic checks), MS_ERR_UNSUPPORTED (a stage or feature this build lacks);
 * ms_error_message() holds the first issue. Not collective. */
ms_status ms_workflow_load(const char *path, const char *schema_path, ms_workflow **out,
                           ms_workflow_issues *issues);

/* Frees w; NULL is a no-op. */
void ms_workflow_free(ms_workflow *w);

/* 1 when a screened candidate passes the workflow's filters: ms_record_filter_accepts of
 * w->filter (record_filter.h); 1 when w is NULL. Not collective. */
int ms_workflow_accepts(const ms_workflow *w, const char *formula, double n_atoms, unsigned flags,
                        const double *values);

/* ---- stages train and evaluate (src/workflow/stages.c) -------------------------------------- */

/* What a train or evaluate stage did; metrics are NaN when they do not apply. */
typedef struct ms_workflow_model_summary {
    size_t rows, dropped, features, folds; /* folds 0: held-out evaluation of a given model */
    int classification;
    char learner[32];
    char descriptor_set[64];
    char target[256];
    char model[MS_WORKFLOW_PATH_MAX];      /* model file written (train) or evaluated */
    double mae, rmse, r2, spearman;        /* regression, in the learner's units (log10 when
                                              transform="log10") */
    double within1, within2, miscal_area;  /* calibration of sigma (regression) */
    double accuracy, roc_auc;              /* classification */
    double seconds;
    /* The same figures of the grouped cross-validation (folds of whole chemical systems) that
     * train and evaluate run beside the random folds; g_groups 0 when it did not run (held-out
     * evaluation, or fewer chemical systems than folds). */
    size_t g_groups;
    double g_mae, g_rmse, g_r2, g_spearman, g_within1, g_within2, g_miscal_area, g_accuracy,
        g_roc_auc, g_seconds, r_seconds;
} ms_workflow_model_summary;

/* The model registry's name of a workflow kind ("naive-bayes" -> "naive_bayes"). */
const char *ms_workflow_learner_name(const char *kind);

/* Trains the model of w->training on its labels and structures with the workflow's descriptor
 * set and seed, cross-validates it with training.folds folds (out-of-fold predictions), stores
 * the CV metrics in the model and writes the model to training.output and the predictions to
 * out_dir/evaluation.csv (id,observed,predicted,sigma). w must be identical on every rank.
 * Collective on comm. */
ms_status ms_workflow_train(const ms_workflow *w, MPI_Comm comm, const char *out_dir,
                            ms_workflow_model_summary *out);

/* Evaluates: with a <model>, its held-out predictions on the labels of <training>; without, a
 * cross-validation of the <training> learner. Writes out_dir/evaluation.csv. Collective on comm. */
ms_status ms_workflow_evaluate(const ms_workflow *w, MPI_Comm comm, const char *out_dir,
                               ms_workflow_model_summary *out);

/* Writes out_dir/STAGE.json with the summary (rank 0). Not collective. */
ms_status ms_workflow_write_model_summary(const char *out_dir, const char *stage,
                                          const ms_workflow_model_summary *s);

/* ---- stage campaign (src/workflow/stages.c) ------------------------------------------------- */

typedef struct ms_workflow_campaign_summary {
    size_t rows, dropped, features;   /* the pool */
    size_t seeds, n_acq;
    char surrogate[32];
    double seconds;
} ms_workflow_campaign_summary;

/* Simulated sequential learning (campaign.h) on the labels of <training> (formulas in
 * formula-column, composition descriptors of the workflow's set), one campaign per acquisition
 * function of w->campaign and seed index, with the <training kind> surrogate (forest or gp);
 * random picking runs until it finds the best. Writes out_dir/campaign.csv (one row per
 * campaign) and out_dir/summary.csv (one row per acquisition function), the files of
 * `matscreen campaign`. Campaigns are dealt round-robin over the ranks; results do not depend on
 * the number of ranks. w must be identical on every rank. Collective on comm. */
ms_status ms_workflow_run_campaign(const ms_workflow *w, MPI_Comm comm, const char *out_dir,
                                   ms_workflow_campaign_summary *out);

/* FNV-1a 64 of a file's bytes (model files in the run identity). Not collective. */
ms_status ms_workflow_file_hash(const char *path, uint64_t *out);

#endif /* MATSCREEN_WORKFLOW_H */
