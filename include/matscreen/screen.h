/*
 * The screen as a library call: read -> validate -> symmetry -> fingerprint -> features ->
 * models -> score on the workers, de-duplication and outputs on rank 0. `matscreen screen`
 * (src/cli/cmd_screen.c) is an option parser over ms_screen_run; the workflow engine
 * (src/cli/cmd_run.c) calls it too.
 *
 * Conventions
 *   - Stages per record (docs/engine.md): read (readers); validate (validate.h checks: a finding
 *     of severity error fails the record at stage "validate" with "check: message"; warnings set
 *     bits of ms_result.warnings and are listed in the flags column); symmetry (ONE
 *     ms_symmetry_analyze per structure, use_oxidation 0, cells 1, pymatgen site order; a
 *     failure is not an error: spacegroup stays 0, the symmetry warning is set and the record is
 *     a candidate of its own); fingerprint (fingerprint.h, from that same dataset); features (the
 *     descriptor set, from the same dataset and one neighbour list); models (classifier
 *     probability, surrogate mean and sigma); score (the acquisition, or the plain quantity when
 *     there is no model).
 *   - The symmetry dataset is shared by the fingerprint and the descriptors. One exception: a
 *     structure that carries oxidation states, screened with a set that needs symmetry, gets a
 *     second analysis with use_oxidation 1 for the descriptors, so its features equal those of
 *     `matscreen featurize` / `matscreen train` (pymatgen's convention); the fingerprint keeps
 *     use_oxidation 0 so that "Fe2+" and "Fe" records meet.
 *   - Descriptor set: cfg->descriptor_set, else the models' set, else none when there is no model
 *     (no descriptor is computed that nothing reads). Two models must name the same set.
 *   - Models: 0..2 model files; their task decides the role (classification: classifier,
 *     regression: surrogate). Every rank loads them itself (they are small).
 *   - Score: rank_by is an acquisition name of acquisition.h ("ei", "pi", "mu", "ucb", "mean"),
 *     "gated" (EI times the classifier probability), "prob" (the classifier probability), or a
 *     plain quantity of pipeline.h (li_fraction, ...). EI / PI / MU are multiplied by the
 *     classifier probability when both models are given (constrained EI). EI / PI need the best
 *     label so far: cfg->best when finite, else the surrogate's best training label (model.h
 *     y_best: its smallest with ascending, else its largest), else the run is refused
 *     (MS_ERR_USAGE: a model file from before y_best). The summary and the manifest say which. ms_result.acquisition is the acquisition
 *     value; ms_result.score the ranking value (negated with ascending for plain quantities).
 *   - Filters (rank 0, record_filter.h): cfg->filter plus, unless cfg->ignore_model_requirements,
 *     the elements the models require (model.h elem_required: an OBELiX conductivity model
 *     requires Li). Screened records that fail it are counted in ms_screen_summary.filtered (and
 *     the manifest) and not written; the description of the filter is in the summary.
 *   - Domain of applicability (domain.h), with a model that has one (the surrogate's, else the
 *     classifier's): domain_score = ms_domain_score of the model's standardised row;
 *     in_domain = 1 when the score is <= the model's threshold and every element of the record
 *     occurs in the training data; domain_reason says why not ("elements not in training: Hg",
 *     "far from the training rows (score 5.1 > 2.9)"). cfg->domain: RANK (default) puts
 *     out-of-domain records in rank tier 1, after all in-domain ones; GATE multiplies the
 *     acquisition by ms_acq_domain_weight (0 for unseen elements; refused for mean and ucb,
 *     which can be negative); OFF reports only. Plain quantities ignore it.
 *   - De-duplication (rank 0, results.h): records with the same fingerprint key (reduced formula
 *     of the primitive cell, space group, orbit multiset) and primitive volumes per site within
 *     3% of the group's first are one candidate. The workers send only the key and the volume,
 *     not the cell, so no site-by-site comparison (dedup.h's precise step) is made: two distinct
 *     structures with the same formula, space group, orbit multiplicities and volume (e.g. a
 *     strained lattice, or different free coordinates) merge. `matscreen quality` makes the
 *     precise comparison.
 *   - Determinism: outputs are byte-identical for any number of ranks (results.h).
 *   - Memory: per worker one batch of tasks, one structure, the featurizer workspaces and one
 *     feature row; nothing is allocated per structure in steady state except inside spglib and
 *     the learners' predict functions.
 *
 * Result cache (for nightly incremental runs; the workflow engine implements it on SQLite):
 *   identity = FNV-1a 64 of the descriptor set name, version and signature, the model files'
 *   content hashes, the validation options, rank_by / ascending / best / acquisition parameters
 *   and the program version. Before a task is dispatched, rank 0 calls lookup(task, identity):
 *   on a hit, the returned bytes are the task's packed results (farm.h layout, back to back,
 *   exactly what the workers would have sent) and are fed to the outputs as if a worker had sent
 *   them; the task is not dispatched. After a task completes, rank 0 calls store(task, identity,
 *   bytes) with its packed results (before the keep filter). A malformed hit is ignored (the task
 *   runs). The task's key for the cache is the cache's business (path, size, mtime of the file,
 *   offset and length of a JSONL range: ms_task has them; mtime via stat).
 */
#ifndef MATSCREEN_SCREEN_H
#define MATSCREEN_SCREEN_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

#include "matscreen/error.h"
#include "matscreen/pipeline.h"
#include "matscreen/reader.h"
#include "matscreen/record_filter.h"
#include "matscreen/source.h"
#include "matscreen/validate.h"

#define MS_SCREEN_MAX_MODELS 2
#define MS_SCREEN_REUSE_DEFAULT ((size_t)16 << 20) /* 16 MiB per rank */

/* What the domain of applicability does to the ranking (screen --domain). */
typedef enum ms_screen_domain {
    MS_SCREEN_DOMAIN_RANK = 0, /* default: out-of-domain records rank after every in-domain one */
    MS_SCREEN_DOMAIN_GATE,     /* the acquisition times ms_acq_domain_weight (acquisition.h) */
    MS_SCREEN_DOMAIN_OFF       /* reported only */
} ms_screen_domain;

typedef struct ms_result_cache {
    void *ctx;
    /* 1 when results for this task and run identity are stored: *data (owned by the cache,
     * valid until the next call) holds the packed result records the workers would have sent */
    int (*lookup)(void *ctx, const ms_task *task, uint64_t identity, const void **data, size_t *len);
    /* stores the packed results of a finished task */
    void (*store)(void *ctx, const ms_task *task, uint64_t identity, const void *data, size_t len);
    /* makes every store so far survive a kill of the process (may be NULL): called before the
     * journal hands records to the kernel, so a task the journal says is done (and --resume
     * replays without computing it) is never missing from the cache */
    void (*sync)(void *ctx);
} ms_result_cache;

/* An input spec with its own settings, applied to the files it names. */
typedef struct ms_screen_input {
    const char *spec;  /* file, directory, glob or @LIST (borrowed) */
    ms_format format;  /* forced on this spec's files; MS_FORMAT_AUTO: cfg->format, which detects
                          per file when it is MS_FORMAT_AUTO too */
    ms_source_db db;   /* database of this spec's records that state none (a CIF without ICSD
                          or COD code, JSON without an mp- id); MS_DB_UNKNOWN: leave them so */
    int trust;         /* trust rank of this spec's database (1 = most trusted, 0 = none):
                          the inputs' ranks order the databases that pick each duplicate
                          group's representative (ms_dedup_trust_from_inputs, dedup.h); one
                          database with two ranks is refused */
} ms_screen_input;

typedef struct ms_screen_config {
    const ms_screen_input *inputs; /* n_inputs specs (borrowed) */
    size_t n_inputs;
    ms_format format;              /* force a format for every file (MS_FORMAT_AUTO: detect) */
    const char *out_dir;           /* output directory (created) */
    size_t top_k;                  /* top CIFs written (default 20) */
    uint64_t seed;
    const char *descriptor_set;    /* NULL: from the models, else none */
    const char *model_paths[MS_SCREEN_MAX_MODELS];
    size_t n_models;
    const char *rank_by;           /* NULL: "ei" with a surrogate, "prob" with only a classifier,
                                      else "li_fraction" */
    int ascending;                 /* 1: plain quantities smaller first, acquisitions minimise the
                                      target (acquisition.h minimize); 0: larger first, maximise;
                                      -1 (the default): the surrogate's goal (train --goal min
                                      gives 1), else 0 */
    double best;                   /* best label so far for EI / PI (NaN: from the model) */
    double xi, kappa;              /* EI / PI margin (0), UCB weight (2) */
    int (*keep)(const ms_result *r, void *user); /* rank 0, screened records only: 0 drops the
                                                    record before collection; NULL keeps all */
    void *keep_user;
    const ms_record_filter *filter; /* rank 0, screened records, before keep: NULL none
                                       (borrowed; record_filter.h) */
    int ignore_model_requirements; /* 1: do not add the models' required elements to the filter */
    ms_screen_domain domain;       /* default MS_SCREEN_DOMAIN_RANK */
    ms_validate_options validate;  /* severities, thresholds, expect_li (elements set by the run) */
    int resume;                    /* continue DIR/journal */
    const ms_result_cache *cache;  /* NULL: none */
    int argc;                      /* command line for the manifest (borrowed) */
    char **argv;
    uint64_t workflow_hash;        /* 0: none */
    int progress;                  /* progress on stderr (rank 0) */
    int master_works;              /* rank 0 works too (default 1) */
    int out_dir_locked;            /* 1: the caller holds out_dir's lock (ms_dir_lock_take,
                                      outfile.h) for a longer run; 0: the screen takes it */
    int dry_run;                   /* --dry-run: workers do no science (pipeline.h dry_run), the
                                      master does all its bookkeeping; no models or descriptors
                                      are loaded and no top CIFs are written. For measuring the
                                      master's capacity (docs/scale.md) */
    size_t explain_k;              /* --explain K: each candidate's K largest feature
                                      contributions (ms_result.explain; 0 = off, the default) */
    size_t reuse_bytes;            /* per-rank cap of the exact-duplicate memo (memo.h): a record
                                      whose lattice and sites equal, byte for byte, those of one
                                      this rank screened before reuses its symmetry, fingerprint
                                      and feature row (docs/engine.md "Exact duplicates").
                                      Outputs are the same either way. Default
                                      MS_SCREEN_REUSE_DEFAULT; 0: off */
} ms_screen_config;

typedef struct ms_screen_summary {
    unsigned long long records;    /* results collected this run (workers + cache) */
    unsigned long long failed;     /* of them, failed */
    unsigned long long filtered;   /* screened records the keep callback dropped */
    unsigned long long tasks;      /* tasks dispatched to ranks this run */
    unsigned long long cache_hits; /* tasks answered by the cache */
    unsigned long long reused;     /* records of this run's workers that reused an exact
                                      duplicate's symmetry and features (MS_FLAG_REUSED) */
    unsigned long long quarantined;
    unsigned long long earlier_records; /* --resume: records of the tasks earlier runs finished
                                           (kept or filtered), not in records */
    unsigned long long earlier_failed;  /* of them, failed */
    uint64_t identity;             /* the run identity given to the cache */
    int resumed_finished;          /* 1: --resume of a finished run (outputs written again) */
    double seconds;                /* wall time */
    double best;                   /* best label EI / PI used (NaN: none) */
    const char *best_source;       /* "--best" or which model label it is (static); NULL: none */
    int ascending;                 /* the direction used (config's, else the model's goal) */
    const char *direction_source;  /* where it came from (static text) */
    char filters[512];             /* the record filter applied (record_filter.h describe), "" none */
    int has_domain;                /* 1 when the model scoring the domain has one */
    unsigned long long in_domain;  /* kept screened records in the model's domain */
    unsigned long long out_of_domain, ood_elements, ood_far; /* out: total, with elements never
                                      seen in training, (only) far from the training rows */
    double farm_seconds;           /* wall time of the farm (reading, scoring): the throughput
                                      records / farm_seconds is the manifest's and the report's */
    double farm_cpu_seconds;       /* rank 0's CPU time in the farm (bench_master's figure) */
} ms_screen_summary;

/* Defaults: no inputs, top_k 20, seed 0, no models, rank_by NULL, best NaN, xi 0, kappa 2,
 * validation defaults, progress 1, master_works 1, reuse_bytes MS_SCREEN_REUSE_DEFAULT. Not
 * collective. */
void ms_screen_config_default(ms_screen_config *cfg);

/* Runs the screen. Collective on comm: every rank calls it with the same cfg (inputs and
 * out_dir are read on rank 0 only). Rank 0 writes the outputs in cfg->out_dir; out (may be NULL)
 * is filled on rank 0. Returns the same status on every rank: MS_SUCCESS when the screen
 * completed (failed records are data); MS_ERR_USAGE for a bad configuration (unknown rank-by,
 * models that disagree, a refused resume); MS_ERR_IO when outputs could not be written;
 * ms_error_message() says why on rank 0. */
ms_status ms_screen_run(MPI_Comm comm, const ms_screen_config *cfg, ms_screen_summary *out);

#endif /* MATSCREEN_SCREEN_H */
