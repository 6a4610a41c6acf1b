/*
 * The state store of nightly incremental runs (docs/workflows.md, "Nightly runs").
 *
 * Conventions
 *   - One SQLite file (DIR/state.db by default), opened by rank 0 only; workers never see it.
 *     WAL journal mode, a busy timeout (MS_STATE_BUSY_MS), one write transaction per batch of
 *     stores (ms_state_set_batch). A database that is locked by another process, is not SQLite,
 *     is damaged, or has a newer schema than this build is refused with a message naming the file.
 *   - Schema version MS_STATE_SCHEMA_VERSION in table meta. Tables: runs (one row per run: id,
 *     started, finished, workflow hash, run identity, manifest JSON, counts), records (one row per
 *     task: task key = path + byte range, size, mtime, content hash, identity, packed results,
 *     first and last run that saw it, removed flag), changes (per run: inputs that were new,
 *     changed, recomputed for a new identity, or removed), topk and errors (per run: the top-K
 *     rows and the error rows, for "what changed" in the next night's report).
 *   - A task's results are reused when its key is stored, not removed, its identity (the run
 *     identity: code version, descriptor set and version, model hashes, ranking, seed, format,
 *     default database) equals the run's, and its content is unchanged. "Unchanged" is decided by
 *     ms_state_check: MS_STATE_CHECK_STAT (default) trusts an equal (size, mtime in ns) and hashes
 *     the bytes only when they differ (a touched file whose bytes are equal is still reused);
 *     MS_STATE_CHECK_HASH hashes the bytes of every task on every run.
 *   - Content hash: FNV-1a 64 of the task's bytes (the whole file, or the JSONL byte range).
 *   - uint64 values are stored as SQLite INTEGER (the same 64 bits, as signed).
 *   - Every function here is Not collective (rank 0).
 */
#ifndef MATSCREEN_STATE_H
#define MATSCREEN_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "matscreen/error.h"
#include "matscreen/report.h"
#include "matscreen/source.h"

#define MS_STATE_SCHEMA_VERSION 1
#define MS_STATE_BUSY_MS 5000     /* wait this long for a lock held by another process */
#define MS_STATE_DEFAULT_BATCH 512 /* stores per write transaction */

typedef enum ms_state_check {
    MS_STATE_CHECK_STAT = 0, /* equal (size, mtime ns): unchanged; else compare content hashes */
    MS_STATE_CHECK_HASH      /* always compare content hashes */
} ms_state_check;

/* What happened to the inputs of the current run (counts of tasks). */
typedef struct ms_state_counts {
    unsigned long long reused;    /* results taken from the store */
    unsigned long long computed;  /* tasks stored after computing (new + changed + identity) */
    unsigned long long added;     /* key not in the store (or removed before): new input */
    unsigned long long changed;   /* key stored with other content */
    unsigned long long identity;  /* same content, other run identity (models, descriptors...) */
    unsigned long long removed;   /* stored keys not seen by this run (ms_state_mark_removed) */
    unsigned long long hashed;    /* tasks whose bytes rank 0 read to hash */
} ms_state_counts;

typedef struct ms_state ms_state;

/* Opens (creating when absent) the store at path. MS_ERR_IO when the file cannot be opened or is
 * locked by another run, MS_ERR_PARSE when it is not a matscreen state store or is damaged,
 * MS_ERR_UNSUPPORTED when its schema is newer than this build. *out is freed with ms_state_close. */
ms_status ms_state_open(const char *path, ms_state **out);

/* Commits what is pending and closes; NULL is a no-op. */
void ms_state_close(ms_state *st);

/* Content check mode (default MS_STATE_CHECK_STAT) and stores per transaction (default
 * MS_STATE_DEFAULT_BATCH; 1 = a transaction per store). */
void ms_state_set_check(ms_state *st, ms_state_check check);
void ms_state_set_batch(ms_state *st, size_t stores_per_transaction);

/* How long a locked store is waited for, in ms (default MS_STATE_BUSY_MS). */
void ms_state_set_busy_ms(ms_state *st, int ms);

/* Starts a run: a new row in runs with the workflow hash and run identity; *run_id (may be NULL)
 * receives its id. The previous finished run (if any) becomes the comparison for the report. */
ms_status ms_state_run_begin(ms_state *st, uint64_t workflow_hash, uint64_t identity,
                             int64_t *run_id);

/* For `run --resume` (an interrupted or finished run whose journal is continued): continues the
 * latest run when it has this workflow hash, else begins one (ms_state_run_begin). Tasks the
 * journal replays were seen by that run already, so they are not marked removed; the run's
 * counts are then taken from the store (ms_state_mark_removed), the same whether the run was
 * interrupted or not. *continued (may be NULL) is 1 when a run was continued. */
ms_status ms_state_run_resume(ms_state *st, uint64_t workflow_hash, uint64_t identity,
                              int64_t *run_id, int *continued);

/* The result cache of the screen (contract of ms_result_cache in screen.h; ctx is the ms_state).
 * lookup: 1 when the task's results are stored for identity and its content is unchanged; *data
 * (owned by the store, valid until the next call) holds the packed results, *len their bytes
 * (0 for a task that produced none). Every looked-up task counts as seen by the run. Tasks whose
 * enumeration failed (status != MS_SUCCESS) are never cached. store: keeps the packed results of
 * a finished task. Errors are kept and returned by ms_state_error; the run goes on without them. */
int ms_state_lookup(void *ctx, const ms_task *task, uint64_t identity, const void **data,
                    size_t *len);
void ms_state_store(void *ctx, const ms_task *task, uint64_t identity, const void *data,
                    size_t len);
/* The cache's sync (screen.h): commits the open transaction (errors kept as for store). */
void ms_state_sync(void *ctx);

/* First error of lookup/store since the run began (MS_SUCCESS when none); the message is in
 * ms_error_message() only right after the failing call, so this copies it into msg (n bytes). */
ms_status ms_state_error(const ms_state *st, char *msg, size_t n);

/* Marks stored records not seen by the current run as removed (they are listed in the report).
 * Call after the screen finished completely. *n_removed (may be NULL) gets their number. */
ms_status ms_state_mark_removed(ms_state *st, size_t *n_removed);

/* Records the current run's outputs for the next report: the first top_k rows of DIR/ranked.csv
 * and every row of DIR/errors.csv. */
ms_status ms_state_record_outputs(ms_state *st, const char *dir, size_t top_k);

/* Finishes the run: commits, stores manifest_json (may be NULL: DIR/manifest.json is not read
 * here) and the counts, and sets the finish time. */
ms_status ms_state_run_finish(ms_state *st, const char *manifest_json);

/* Counts of the current run so far. */
void ms_state_get_counts(const ms_state *st, ms_state_counts *out);

/* The comparison for the report: the previous finished run's top-K and errors, and the current
 * run's input changes. *out is allocated; free with ms_state_history_free. */
ms_status ms_state_history(ms_state *st, ms_report_history **out);
void ms_state_history_free(ms_report_history *h);

/* ---- unchanged nights (docs/workflows.md) ----
 * A night whose inputs, settings and outputs are all those of the previous finished run would
 * write the same outputs again (they are byte-identical to a run from scratch): it is answered
 * from the store without running the screen. The caller's key stands for everything that decides
 * the outputs besides the inputs (program version, workflow file, output directory, model files'
 * size and mtime); 0 means "never unchanged". */

/* What a run's screen ended with: the run's exit status and summary are made from it. */
typedef struct ms_state_outcome {
    unsigned long long records, failed, filtered;
} ms_state_outcome;

/* Records the current run's output files (every regular file under dir but report.html,
 * incremental.json, the journal, previous/, state.db* and hidden files: name, size, mtime), its
 * key and outcome, once the outputs were written completely. o NULL keeps the outcome already
 * recorded for the run (a --resume of a finished run rewrites the outputs without screening). */
ms_status ms_state_record_files(ms_state *st, const char *dir, uint64_t key,
                                const ms_state_outcome *o);

/* *prev_run = the previous finished run's id when this run is unchanged from it: same key; every
 * task of the enumeration (specs, so: as the screen enumerates them) is a record that run saw,
 * with the same size and mtime, and there are no others; the files under dir are the ones it
 * recorded (ms_state_record_files), unchanged; *o is then that run's outcome. Else *prev_run = 0. Never unchanged with
 * MS_STATE_CHECK_HASH (mtimes are not trusted). Cost: one enumeration, a stat and an indexed
 * lookup per task, a stat per output file; it stops at the first difference. */
ms_status ms_state_unchanged(ms_state *st, uint64_t key, const char *const *specs, size_t n_specs,
                             const ms_source_options *so, const char *dir, int64_t *prev_run,
                             ms_state_outcome *o);

/* Makes the current run a repeat of prev_run (found by ms_state_unchanged): the records that run
 * saw are seen by this one, counted as reused. One UPDATE, no lookup per task. */
ms_status ms_state_run_unchanged(ms_state *st, int64_t prev_run);

#endif /* MATSCREEN_STATE_H */
