/*
 * Checkpoint journal of a screen: DIR/journal, written by rank 0 only, read back by --resume.
 *
 * Conventions
 *   - Append-only file of records. Every record is a 16-byte frame header, u32 payload length,
 *     u32 type, u64 check, followed by the payload; check is FNV-1a 64 (hash.h) over the length,
 *     the type and the payload. Native byte order (the journal is read back by the same program
 *     on the same machine). A reader stops at the first record that is short, too long or whose
 *     check fails: a torn tail (kill during a write) is detected and truncated on resume.
 *   - Records: HEADER (first, once: magic, format version and the run identity), RESUME (a resumed
 *     run starts a new "life"), DISPATCH (u64 seq, i32 rank: the task left the master), RESULT
 *     (one packed ms_result, farm.h layout), DONE (u64 seq, u32 n_results, i32 rank: every result
 *     of the task is in the file before this record; rank -1 for a quarantined task), FINISHED
 *     (every task is done), CRASH (u64 seq: the task a rank crashed on, appended on resume
 *     before RESUME, so it belongs to the life that died).
 *   - What is durable when: records are buffered in memory and written to the kernel (write(2))
 *     before every task message leaves the master and after every message's results, so a killed
 *     process loses nothing that was acknowledged as DONE; fdatasync runs at most every
 *     sync_seconds (default 1 s, so a machine crash loses at most about a second of work, which is
 *     redone) and always after FINISHED. A task's results count only when its DONE record is valid
 *     and in the same life: results of tasks that were in flight when a run died are dropped on
 *     resume and the task runs again, so nothing is lost and nothing is counted twice.
 *   - Deaths: a life that ends without FINISHED died. A rank runs its batch in order and reports
 *     each finished task at once (farm.c), so the task it was running is the first of its
 *     dispatched-and-not-done tasks: that one per rank was "in flight"; the others of the batch
 *     had not started and simply run again. (If the report of a finished task was still in
 *     transit, the finished one is blamed instead: the poison then needs one more death.) A task
 *     in flight at one death is a suspect (run alone, batch of 1, while no other
 *     suspect is in flight, so a second death names one task). A death is a
 *     crash of the task when its rank recorded that it crashed running it (crash.h: a fatal
 *     signal; CRASH records, written on resume from DIR/.crash-RANK), and otherwise a death from
 *     outside (the scheduler's time limit, mpirun killed, a lost node, the kernel's memory
 *     killer). A task is quarantined - not run again, reported in errors.csv with stage
 *     "quarantine" - after two crashes, or after three deaths of any kind (a task that hangs
 *     its rank until the job is killed leaves no crash record). Two kills from outside never
 *     quarantine a task: a nightly job killed twice by its time limit loses nothing. The counts are derived from
 *     the journal on every resume, so they persist across any number of resumes.
 *   - Identity: HEADER fixes the inputs (a hash of every task's seq, path, size, modification time,
 *     byte range, format and status, from one enumeration pass: one stat per file, no reading),
 *     the specs as given, and the options that change results or outputs (rank-by, ascending,
 *     top K, seed, format, code version; workflow and model hashes, 0 until they exist).
 *     --resume with any difference is refused with a message naming what changed.
 *   - Memory on resume: a bit and a 16-bit life number per task, the dispatched-and-not-done
 *     tasks of each rank, and a sorted list of the tasks that were in flight at a death. Not collective: everything here runs on rank 0.
 */
#ifndef MATSCREEN_JOURNAL_H
#define MATSCREEN_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "matscreen/error.h"
#include "matscreen/farm.h"
#include "matscreen/pipeline.h"
#include "matscreen/source.h"

#define MS_JOURNAL_FILE "journal"       /* name inside the output directory */
#define MS_JOURNAL_MAX_RECORD (64u << 20) /* longest payload accepted by a reader */

typedef enum ms_journal_record {
    MS_JREC_HEADER = 1,
    MS_JREC_RESUME = 2,
    MS_JREC_DISPATCH = 3,
    MS_JREC_RESULT = 4,
    MS_JREC_DONE = 5,
    MS_JREC_FINISHED = 6,
    MS_JREC_CRASH = 7 /* u64 seq: a rank crashed running it (crash.h), in the life before */
} ms_journal_record;

/* What a run is: two runs with equal identities produce the same outputs. */
typedef struct ms_journal_identity {
    uint64_t tasks_hash;    /* every task: seq, path, size, mtime, offset, length, format, status */
    uint64_t n_tasks;       /* tasks enumerated */
    uint64_t specs_hash;    /* the input specs, in order */
    uint64_t seed;
    uint64_t top_k;
    int32_t rank_by, ascending, format; /* ms_rank_by, 0/1, ms_format forced (0: detect) */
    uint64_t workflow_hash; /* 0 until workflows exist */
    uint64_t model_hash;    /* 0 until models exist */
    char version[32];       /* MS_VERSION of the program */
    char specs[1024];       /* the specs joined by spaces (cut), for messages only */
} ms_journal_identity;

/* Fills the input part of id (tasks_hash, n_tasks, specs_hash, specs, version) by enumerating the
 * specs once with source options so (may be NULL); the option fields are zeroed for the caller
 * to set. Cost: one directory walk and one stat per file. Not collective. */
ms_status ms_journal_identity_inputs(ms_journal_identity *id, const char *const *specs,
                                     size_t n_specs, const ms_source_options *so);

/* The same from src, a new enumerator over those specs, which this call runs to its end (the
 * caller keeps it: recording, ms_source_record, lets the farm replay the tasks instead of
 * walking and stat'ing the inputs again). Not collective. */
ms_status ms_journal_identity_source(ms_journal_identity *id, const char *const *specs,
                                     size_t n_specs, ms_source *src);

/* Compares two identities. Returns the number of differences and writes a message naming each
 * (for example "--seed was 1, now 2; input files changed (sizes or modification times)") into
 * msg (n bytes; "" when equal). */
int ms_journal_identity_diff(const ms_journal_identity *was, const ms_journal_identity *now,
                             char *msg, size_t n);

typedef struct ms_journal ms_journal;

/* Called on resume for every result that counts (its task is done in the same life), in journal
 * order; pos and len locate the packed result in the file (for ms_journal_read). Non-zero stops. */
typedef int (*ms_journal_result_fn)(const ms_result *r, uint64_t pos, uint32_t len, void *user);

/* Called by ms_journal_scan for every valid record; pos is the payload's file offset. Non-zero
 * stops the scan. */
typedef int (*ms_journal_record_fn)(uint32_t type, const unsigned char *payload, uint32_t n,
                                    uint64_t pos, void *user);

/* Reads the records of the journal at path in order until the end or the first invalid record;
 * *valid_end (may be NULL) receives the offset after the last valid record. MS_ERR_IO when the
 * file cannot be read, MS_ERR_PARSE when it does not start with a valid HEADER record (a foreign
 * or damaged file). Not collective. */
ms_status ms_journal_scan(const char *path, ms_journal_record_fn fn, void *user,
                          uint64_t *valid_end);

/* Creates a new journal at path (replacing any file there) whose HEADER holds id. The header is
 * written to path.tmp, synced and renamed, so path is either absent or starts with a complete
 * header. On success *out is allocated; release with ms_journal_close. Not collective. */
ms_status ms_journal_create(const char *path, const ms_journal_identity *id, ms_journal **out);

/* Opens the journal at path for resuming: checks its HEADER against id (MS_ERR_USAGE with the
 * differences in the message when they differ; MS_ERR_PARSE for a foreign file), replays it (fn,
 * which may be NULL, receives the results that count), truncates a torn tail, and, unless the
 * run had finished, appends a RESUME record. Release with ms_journal_close. Not collective. */
ms_status ms_journal_resume(const char *path, const ms_journal_identity *id,
                            ms_journal_result_fn fn, void *user, ms_journal **out);

/* What a resume found (all zero for a new journal). */
typedef struct ms_journal_info {
    unsigned lives;                 /* runs recorded before this one (1 + RESUME records) */
    unsigned long long tasks_done;  /* tasks with a valid DONE */
    unsigned long long results;     /* results that count */
    unsigned long long produced;    /* results the done tasks produced (their DONE records'
                                       counts), kept or not: produced - results were dropped by
                                       the screen's record filters in earlier runs */
    unsigned long long dropped;     /* results of unfinished tasks, dropped */
    unsigned long long torn_bytes;  /* bytes of the torn tail that were truncated */
    size_t suspects;                /* tasks in flight at a death, not quarantined, not done */
    size_t quarantined;             /* tasks quarantined (two crashes or three deaths), not done */
    int finished;                   /* FINISHED was recorded: only the outputs remain to write */
} ms_journal_info;

void ms_journal_get_info(const ms_journal *j, ms_journal_info *info);

/* Appends one record; *pos (may be NULL) receives the file offset of its payload. */
ms_status ms_journal_append(ms_journal *j, uint32_t type, const void *payload, uint32_t n,
                            uint64_t *pos);

/* Record helpers: a packed result (pos/len locate it), a dispatch, a done task, the end. */
ms_status ms_journal_result(ms_journal *j, const ms_result *r, uint64_t *pos, uint32_t *len);
ms_status ms_journal_dispatch(ms_journal *j, uint64_t seq, int rank);
ms_status ms_journal_done(ms_journal *j, uint64_t seq, uint32_t n_results, int rank);
/* Appends FINISHED and syncs (write + fdatasync). */
ms_status ms_journal_finish(ms_journal *j);

/* Writes buffered records to the kernel (survives a kill of the process). */
ms_status ms_journal_flush(ms_journal *j);
/* fn(user) is called before buffered records go to the kernel (NULL: none): what the records
 * say is done must be durable elsewhere first (the result cache's stores, screen.h). */
void ms_journal_set_flush_hook(ms_journal *j, void (*fn)(void *user), void *user);
/* Flushes and fdatasyncs (survives a machine crash). */
ms_status ms_journal_sync(ms_journal *j);
/* Flushes; fdatasyncs too when the last sync is older than sync_seconds (0: every call). */
ms_status ms_journal_checkpoint(ms_journal *j);
/* Sets the fdatasync interval of ms_journal_checkpoint (seconds; default 1). */
void ms_journal_set_sync_seconds(ms_journal *j, double seconds);

/* Reads len bytes at file offset pos (flushing first when needed). */
ms_status ms_journal_read(ms_journal *j, uint64_t pos, void *buf, size_t len);

/* Path of the file (borrowed). */
const char *ms_journal_path(const ms_journal *j);

/* State of task seq after the replay: MS_FARM_SKIP (done), MS_FARM_QUARANTINE (two crashes or
 * three deaths, see the conventions), MS_FARM_ALONE (in flight at a death) or MS_FARM_RUN. */
ms_farm_admit ms_journal_task_state(const ms_journal *j, uint64_t seq);

/* Deaths task seq was in flight at. */
unsigned ms_journal_deaths(const ms_journal *j, uint64_t seq);

/* Fills h with hooks that record the farm's progress in j (admit from ms_journal_task_state,
 * DISPATCH, DONE, and ms_journal_checkpoint after each message). */
void ms_journal_farm_hooks(ms_journal *j, ms_farm_hooks *h);

/* Flushes (no sync), closes and releases j; the file stays. NULL is a no-op. */
void ms_journal_close(ms_journal *j);

#endif /* MATSCREEN_JOURNAL_H */
