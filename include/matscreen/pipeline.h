/*
 * The per-structure screening pipeline run by workers, and the result record it produces.
 *
 * Conventions
 *   - A task (source.h) is read with the readers; every record becomes exactly one ms_result, good
 *     or failed. The stages after reading run in order; the first stage that returns a non-zero
 *     ms_status stops the record, and the result carries that stage, the status and the reason
 *     (ms_error_message() of the stage). A failure never stops the task or the run.
 *   - Stages are pluggable: an ms_stage_entry is a function plus a context. The stages not yet
 *     written (symmetry, models, acquisition) are simply not registered, and the result fields they
 *     would fill keep their defaults: spacegroup 0, class_prob/mean/sigma/acquisition NaN.
 *   - Deterministic: a result depends only on the record and the pipeline settings, never on the
 *     rank; a stage needing random numbers seeds ms_rng from (seed, result key), not from the rank.
 *   - Units: volume in Å^3, density in g/cm^3, volume_per_atom in Å^3/atom; atom counts are
 *     occupancy weighted (a site with Li 0.56 counts 0.56 Li).
 *   - A worker reuses one ms_pipeline and one ms_structure for all its tasks: no per-structure
 *     allocation beyond what the readers keep.
 */
#ifndef MATSCREEN_PIPELINE_H
#define MATSCREEN_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include "matscreen/element.h"
#include "matscreen/error.h"
#include "matscreen/reader.h"
#include "matscreen/source.h"
#include "matscreen/structure.h"

typedef enum ms_stage {
    MS_STAGE_READ = 0,    /* the reader: file and record syntax, ms_structure_finish checks */
    MS_STAGE_VALIDATE,    /* physical sanity of the structure */
    MS_STAGE_SYMMETRY,    /* space group (spglib), not registered yet */
    MS_STAGE_FINGERPRINT, /* de-duplication key */
    MS_STAGE_FEATURES,    /* descriptors */
    MS_STAGE_MODELS,      /* classifier probability, surrogate mean and sigma; not registered yet */
    MS_STAGE_SCORE,       /* the ranking score (acquisition function once models exist) */
    MS_STAGE_QUARANTINE,  /* not a stage: the task was in flight when the run died twice (journal.h) */
    MS_STAGE_DONE,        /* not a stage: the record went through every stage */
    MS_STAGE_COUNT
} ms_stage;

/* Result flags (bits of ms_result.flags). */
#define MS_FLAG_DISORDERED 0x1u /* some site has partial or mixed occupancy */
#define MS_FLAG_WARNINGS 0x2u   /* the reader noted warnings */
#define MS_FLAG_HAS_LI 0x4u     /* contains lithium */
#define MS_FLAG_REUSED 0x8u     /* symmetry, fingerprint and features were those of an exact
                                   duplicate screened before on the same rank (docs/engine.md
                                   "Exact duplicates"): counted, never written */

#define MS_RESULT_FORMULA_MAX 128
#define MS_RESULT_REASON_MAX 512
#define MS_RESULT_DOMAIN_MAX 96
#define MS_RESULT_EXPLAIN_MAX 1024 /* screen --explain K: K lines of name, value, contribution */
#define MS_RESULT_N_PROPS 3 /* formation_energy_per_atom, energy_above_hull, band_gap */

/* One record's outcome: what the master keeps, sorts and writes. Packed for messages by
 * ms_result_pack (layout in farm.h). */
typedef struct ms_result {
    uint64_t task_seq;        /* ms_task.seq of the task that yielded it: stable key, part 1 */
    long long offset;         /* byte offset of the record in its file (-1 unknown): part 2 */
    long long length;         /* byte length of the record (-1 unknown) */
    uint64_t index;           /* record position in the file (or chunk): stable key, part 3 */
    uint32_t input;           /* index of the command-line input spec */
    int32_t status;           /* ms_status; MS_SUCCESS for a screened record */
    int32_t stage;            /* ms_stage that failed, MS_STAGE_DONE when none */
    int32_t db;               /* ms_source_db */
    int32_t format;           /* ms_format of the file */
    int32_t spacegroup;       /* international number, 0 until the symmetry stage exists */
    uint32_t flags;           /* MS_FLAG_* */
    uint32_t n_sites;         /* sites in the cell */
    uint64_t content_hash;    /* reader's hash of the record bytes */
    uint64_t dedup_key;       /* fingerprint: equal keys are the same candidate */
    double n_atoms;           /* occupancy-weighted atoms per cell */
    double volume;            /* Å^3 */
    double density;           /* g/cm^3 */
    double volume_per_atom;   /* Å^3 per atom */
    double li_fraction;       /* Li atoms / all atoms, occupancy weighted */
    double class_prob;        /* classifier probability; NaN until models exist */
    double mean;              /* surrogate mean; NaN until models exist */
    double sigma;             /* surrogate standard deviation; NaN until models exist */
    double acquisition;       /* acquisition score; NaN until models exist */
    double score;             /* ranking value (larger is better after orientation); NaN: last */
    uint32_t warnings;        /* bit (1u << ms_check_id) per validation warning (validate.h) */
    double fp_volume;         /* fingerprint: volume per site of the primitive cell, Å^3; NaN
                                 when the symmetry stage found no space group */
    double props[MS_RESULT_N_PROPS]; /* source properties ms_result_prop_name(i); NaN: absent */
    double domain_score;      /* domain of applicability (domain.h): 1.0 = as far as a typical
                                 unseen chemical system; NaN: the model has no domain */
    int32_t in_domain;        /* 1 in, 0 out of the model's domain, -1 unknown (no model / domain) */
    int32_t rank_tier;        /* rows rank by (tier ascending, score descending): screen
                                 --domain rank puts out-of-domain records in tier 1 */
    char formula[MS_RESULT_FORMULA_MAX];     /* reduced formula (pymatgen rules) */
    char source_id[MS_SOURCE_ID_MAX];        /* "ICSD 12345", "mp-1234", ... */
    char block[MS_BLOCK_MAX];                /* CIF data block, or "" */
    char reason[MS_RESULT_REASON_MAX];       /* failure message, or "" */
    char domain_reason[MS_RESULT_DOMAIN_MAX]; /* why out of the domain ("far", "elements not in
                                                 training: Hg Pb"), or "" */
    char file[MS_TASK_PATH_MAX];             /* path of the input file */
    char explain[MS_RESULT_EXPLAIN_MAX];     /* screen --explain K: the surrogate's (else the
                                                classifier's) K largest |contributions|, one
                                                "name\tvalue\tcontribution\n" line each, largest
                                                first; "" without --explain */
} ms_result;

/* Quantities --rank-by can name. */
typedef enum ms_rank_by {
    MS_RANK_LI_FRACTION = 0, /* default: Li-rich candidates first */
    MS_RANK_DENSITY,
    MS_RANK_VOLUME,
    MS_RANK_VOLUME_PER_ATOM,
    MS_RANK_N_SITES,
    MS_RANK_N_ATOMS,
    MS_RANK_COUNT
} ms_rank_by;

struct ms_pipeline;
struct ms_stage_entry;

/* A stage: reads s (valid, finished), fills fields of r, returns MS_SUCCESS or a status with
 * ms_error_set() giving the reason. */
typedef ms_status (*ms_stage_fn)(const struct ms_pipeline *p, const struct ms_stage_entry *self,
                                 const ms_structure *s, ms_result *r);

typedef struct ms_stage_entry {
    ms_stage stage;   /* which stage this is (recorded on failure) */
    const char *name; /* "validate", "features", ... */
    ms_stage_fn fn;
    void *ctx;        /* stage data (a model, a descriptor set); owned by whoever registered it */
} ms_stage_entry;

/* Called for every result as it is produced; return 0 to go on. */
typedef int (*ms_result_fn)(const ms_result *r, void *user);

typedef struct ms_pipeline {
    const ms_element_table *elements; /* borrowed */
    ms_read_options read_opt;         /* default_db: from input_db per task when that is set */
    const ms_source_db *input_db;     /* NULL or n_input_db entries (borrowed): the database of
                                         records that state none, per input spec (task->input) */
    size_t n_input_db;
    ms_rank_by rank_by;
    int ascending;                    /* 1: smaller values rank first */
    uint64_t seed;                    /* for stages that draw random numbers */
    size_t n_stages;
    ms_stage_entry stages[MS_STAGE_COUNT];
    int dry_run;                      /* 1: no science (screen --dry-run): each task yields one
                                         synthetic result made from the task alone, the file is
                                         not opened; measures the master's own cost */
    char test_crash_on[256];          /* test hook: abort() on a task whose file has this base
                                         name; from MATSCREEN_TEST_CRASH_ON at init ("" = off);
                                         "NAME@OFFSET": on the record of that file starting at
                                         byte OFFSET only (a poison record in a JSON Lines file) */
    long long test_crash_offset;      /* OFFSET of "NAME@OFFSET", -1 otherwise */
    const char *crash_dir;            /* NULL, or the output directory where this rank records the
                                         task it crashed on (crash.h), from its first task on */
    int crash_rank;                   /* the rank's number, for DIR/.crash-RANK */
    int crash_watching;               /* the record is open (ms_pipeline_destroy closes it) */
    /* Optional hold (screen --explain: one batched explanation for several records): when
     * hold_max > 0 the stages write each record's result into held[0..hold_max) (caller-owned),
     * and after hold_max records, and at the task's end, hold_fn(held, n, hold_ctx) completes
     * the n held results before they go to the result callback in order. Results never leave
     * their task later than without the hold (a task's end emits all it holds), so journal and
     * resume see the same results. */
    size_t hold_max;
    ms_result *held;
    void (*hold_fn)(ms_result *held, size_t n, void *ctx);
    void *hold_ctx;
} ms_pipeline;

/* Sets up p with the stages that exist today: validate, fingerprint, features, score. elements is
 * borrowed and must outlive p. Release with ms_pipeline_destroy. Not collective.
 * Test hook (fault tests only, never for production): when the environment variable
 * MATSCREEN_TEST_CRASH_ON names a file's base name, the rank that runs a task on that file calls
 * abort(), to simulate a structure that kills its worker (tests/integration/resume.sh). */
ms_status ms_pipeline_init(ms_pipeline *p, const ms_element_table *elements, ms_rank_by rank_by,
                           int ascending, uint64_t seed);

/* Appends a stage; stages run in the order added. Fails with MS_ERR_LIMIT when full. */
ms_status ms_pipeline_add_stage(ms_pipeline *p, ms_stage stage, const char *name, ms_stage_fn fn,
                                void *ctx);

/* Releases what p holds. */
void ms_pipeline_destroy(ms_pipeline *p);

/* Runs the pipeline over every record of task, calling fn once per record (including a single
 * failed result when the file cannot be read at all). r is scratch owned by the caller. Returns
 * the number of results produced. Not collective. */
size_t ms_pipeline_run_task(ms_pipeline *p, const ms_task *task, ms_result *r, ms_result_fn fn,
                            void *user);

/* Runs the stages after reading on one structure (already finished by its reader) into r. */
void ms_pipeline_run_structure(ms_pipeline *p, const ms_structure *s, ms_result *r);

/* Sets r to the single failed result of a task that yields no record: stage, status and reason
 * as given, index 0, offset of the JSONL range or -1. */
void ms_result_task_failure(ms_result *r, const ms_task *task, ms_stage stage, ms_status status,
                            const char *reason);

/* Resets r to "nothing known": NaN values, empty strings, stage MS_STAGE_DONE. */
void ms_result_clear(ms_result *r);

/* Name of source property i of ms_result.props ("" out of range). */
const char *ms_result_prop_name(size_t i);

/* Fills the descriptive fields of r from s: formula, n_sites, n_atoms, volume, density,
 * volume_per_atom, li_fraction, the disordered / Li flags and props. Not collective. */
ms_status ms_result_describe(const ms_pipeline *p, const ms_structure *s, ms_result *r);

/* Removes every registered stage (a caller that registers its own, e.g. screen.c). */
void ms_pipeline_clear_stages(ms_pipeline *p);

/* Name of a stage ("read", "validate", ..., "done"). */
const char *ms_stage_name(ms_stage stage);

/* Name of a rank-by quantity and the reverse lookup (-1 when unknown). */
const char *ms_rank_by_name(ms_rank_by r);
int ms_rank_by_from_name(const char *name);

/* Value of quantity which in r. */
double ms_result_quantity(const ms_result *r, ms_rank_by which);

#endif /* MATSCREEN_PIPELINE_H */
