/*
 * Output of a screen (DESIGN.md section 5): ranked.csv, ranked.jsonl, errors.csv, top/NNNN_FORMULA.cif,
 * quality.json and manifest.json in one directory. Rank 0 only; nothing here is collective.
 *
 * Conventions
 *   - Streaming: every result is appended, packed (farm.h layout), to the checkpoint journal
 *     DIR/journal (journal.h) as it arrives; the collector adds a compact index entry per record
 *     (where it is in the journal, what sorting and de-duplication need) to external sorters
 *     (extsort.h), and at the end reads the records back from the journal in output order. A
 *     resumed run rebuilds the index from the journal, so its outputs are built from exactly the
 *     results an uninterrupted run would have.
 *   - Memory on rank 0 does not grow with the number of records: each sorter holds at most
 *     16,384 entries (88 or 56 bytes each; MATSCREEN_SORT_BUDGET overrides the number) and
 *     spills sorted runs beyond that; finish adds one de-duplication group at a time (88 bytes
 *     per member: a group of 10^5 copies of one structure is 8 MB), the first 1000 conflicts
 *     listed in quality.json, and the top-K structures while their CIFs are written.
 *   - Temporary files: DIR/tmp-results-PID-WHAT.XXXXXX, WHAT being groups, stable or ranks
 *     (sorted runs, written only beyond the budget) or members (finish: 16 bytes per duplicate);
 *     at most ~230 bytes per record on disk (less than the journal's ~300) while they exist.
 *     Removed when ms_results_finish ends (also on failure) and by ms_results_free; those of a
 *     killed run (another PID) are removed when the next run opens the journal.
 *   - Determinism: rows are ordered by (rank tier ascending, score descending, then the stable key: task sequence
 *     number = input order and sorted walk order, byte offset, record index), never by arrival,
 *     so the files are byte-identical for any number of ranks. errors.csv is ordered by the
 *     stable key, then stage.
 *   - De-duplication: results with the same dedup_key (the structural fingerprint key, screen.h)
 *     whose fp_volume (primitive volume per site) lies within 3% of their group's smallest are
 *     one candidate; records without fp_volume (no space group) stay alone. Groups are formed on
 *     records sorted by (key, fp_volume, stable key), so they do not depend on arrival order.
 *     The one kept comes from the most trusted source (ICSD, then COD, then MP, then other, then
 *     unknown), ties broken by the stable key; the others are counted in its "duplicates"
 *     column, every member is listed in its "sources" column (db:source_id, or the record key
 *     when the source names no id; representative first, then trust order and stable key), and
 *     source properties (ms_result.props) differing by more than max(0.05 max|v|, 0.01) within a
 *     group are counted as conflicts in quality.json (consistency).
 *   - Numbers are printed with %.10g; a value that does not exist yet (NaN) is an empty CSV field
 *     and null in JSON.
 */
#ifndef MATSCREEN_RESULTS_H
#define MATSCREEN_RESULTS_H

#include <stddef.h>
#include <stdint.h>

#include "matscreen/dedup.h"
#include "matscreen/element.h"
#include "matscreen/error.h"
#include "matscreen/journal.h"
#include "matscreen/pipeline.h"
#include "matscreen/structure.h"

typedef struct ms_results ms_results;

/* What the manifest records about the run. Strings are borrowed. */
typedef struct ms_run_info {
    int argc;                 /* the command line */
    char **argv;
    const char *const *inputs; /* the input specs */
    size_t n_inputs;
    int ranks;                /* MPI ranks */
    uint64_t seed;
    const char *rank_by;
    int ascending;
    size_t top_k;
    double seconds_total;     /* wall time of the whole command */
    double seconds_farm;      /* wall time of the farm (reading + pipeline) */
    unsigned long long tasks; /* tasks handed out */
    unsigned long long messages; /* task messages */
    /* Fields below may stay zero / NULL (a screen without models). */
    const char *descriptor_set;   /* NULL: none computed */
    int descriptor_version;
    size_t n_models;
    const char *const *model_paths;  /* n_models */
    const uint64_t *model_hashes;    /* n_models: FNV-1a 64 of each file */
    const char *const *model_roles;  /* n_models: "classifier" / "surrogate" */
    uint64_t workflow_hash;          /* 0: none */
    uint64_t identity;               /* screen.h run identity (result cache) */
    unsigned long long filtered;     /* screened records dropped by the keep filter */
    unsigned long long cache_hits;   /* tasks answered by the result cache */
    double best;                     /* EI / PI best label (NaN: not used) */
    const char *best_source;         /* where best came from; NULL: not used */
    const char *filters;             /* the record filter (record_filter.h describe); NULL: none */
    const char *domain_mode;         /* "rank", "gate", "off"; NULL: no domain scored */
    double domain_threshold;         /* the model's in-domain threshold (NaN: elements only) */
    unsigned long long in_domain, out_of_domain, ood_elements, ood_far; /* kept records, before
                                       de-duplication (duplicates count) */
    size_t explain_k;                /* > 0: ranked.csv ends with an "explain" column and
                                        ranked.jsonl rows carry "explain" (screen --explain) */
    unsigned long long records_run;  /* results collected this run (workers + cache): the
                                        throughput is records_run / seconds_farm, the figure the
                                        report and every command's summary line print */
    const ms_dedup_options *trust;   /* the trust order that picks each duplicate group's
                                        representative (dedup.h); NULL: the default order */
    unsigned long long reused;       /* records that reused an exact duplicate's symmetry and
                                        features (screen.h reuse_bytes); manifest only */
} ms_run_info;

/* Creates DIR (and DIR/top) if needed and the journal DIR/journal with identity id. With resume
 * and an existing journal, resumes it instead (ms_journal_resume: refused with MS_ERR_USAGE when
 * the identity differs, MS_ERR_PARSE for a foreign file) and indexes the results that count; with
 * resume and no journal, starts a new one. MS_ERR_USAGE when MATSCREEN_SORT_BUDGET is set and not
 * a positive number. On success *out is allocated; free it with
 * ms_results_free. Not collective (rank 0). */
ms_status ms_results_open_journal(const char *dir, const ms_journal_identity *id, int resume,
                                  ms_results **out);

/* ms_results_open_journal with an identity naming only the program version and no resume
 * (for callers that do not checkpoint; the journal is still written). */
ms_status ms_results_open(const char *dir, ms_results **out);

/* The journal of res (borrowed; for ms_journal_farm_hooks, ms_journal_finish, get_info). */
ms_journal *ms_results_journal(ms_results *res);

/* Domain of applicability of the kept screened records indexed so far, replayed from the journal
 * on --resume included (a count of the results as they arrive saw the last run's only). */
typedef struct ms_results_domain {
    unsigned long long in_domain, out_of_domain, ood_elements, ood_far;
} ms_results_domain;
void ms_results_domain_counts(const ms_results *res, ms_results_domain *out);

/* Failed results among those replayed from the journal on --resume (0 for a new run). */
unsigned long long ms_results_replayed_failed(const ms_results *res);

/* Appends one result (an ms_result_fn: user is the ms_results). Returns non-zero when writing
 * the journal or a sort run failed; ms_error_message() says why. */
int ms_results_add(const ms_result *r, void *user);

/* Sorts, de-duplicates and writes every output file. elements is used for the CIF formula of the
 * top-K files. Call it after ms_journal_finish, so a kill while writing outputs is resumed by
 * writing them again. Call it once: the index is consumed (MS_ERR_USAGE the second time); the
 * temporary files are gone when it returns, whatever it returns. MS_ERR_IO names the file. */
ms_status ms_results_finish(ms_results *res, const ms_run_info *info,
                            const ms_element_table *elements);

/* Closes and releases res (the journal file stays); NULL is a no-op. */
void ms_results_free(ms_results *res);

#endif /* MATSCREEN_RESULTS_H */
