/*
 * The task farm: rank 0 enumerates tasks and hands them out, the other ranks run the pipeline and
 * send back result records. The message protocol is described at the top of src/parallel/farm.c.
 *
 * Conventions
 *   - Rank 0 is the master. By default it also runs tasks itself, one at a time, and looks for
 *     messages (MPI_Iprobe) after every record it produces, so N ranks are N workers; with
 *     master_works 0 it only coordinates when there are workers. With one rank it runs every task
 *     through the same window and hooks, so all paths give the same results.
 *   - No rank spins on MPI while it has nothing to do: waiting is MPI_Iprobe with a sleep that
 *     grows from 20 us to 1 ms (Open MPI's blocking MPI_Probe busy-polls a core).
 *   - Every result reaches the master's collect callback exactly once, in arrival order; the
 *     order of output files never depends on it (results.h sorts on stable keys).
 *   - Byte buffers (ms_buffer) grow by doubling and are reused; packing never allocates per field.
 *   - Packed layout (native byte order and sizes: all ranks of a run share one architecture):
 *       task:   u64 seq, u32 input, i32 format, i64 offset, i64 length, i64 size, i32 status,
 *               str reason, str path
 *       result: u64 task_seq, i64 offset, i64 length, u64 index, u32 input, i32 status, i32 stage,
 *               i32 db, i32 format, i32 spacegroup, u32 flags, u32 n_sites, u64 content_hash,
 *               u64 dedup_key, u32 warnings, i32 in_domain, i32 rank_tier, f64 n_atoms, volume,
 *               density, volume_per_atom, li_fraction, class_prob, mean, sigma, acquisition,
 *               score, fp_volume, props[3], domain_score,
 *               str formula, str source_id, str block, str reason, str domain_reason, str file,
 *               str explain
 *       worker message item: u8 'R' + packed result, or u8 'D' + u64 seq + u32 n_results (the
 *               task seq is complete: all its n_results results precede this item)
 *     where str is u32 length followed by that many bytes (no NUL). An unpacker checks every
 *     length against the bytes left and against the destination size (MS_ERR_PARSE otherwise).
 */
#ifndef MATSCREEN_FARM_H
#define MATSCREEN_FARM_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

#include "matscreen/error.h"
#include "matscreen/pipeline.h"
#include "matscreen/source.h"

typedef struct ms_buffer {
    unsigned char *data;
    size_t n, cap;
} ms_buffer;

/* Empties b, keeping its memory. */
void ms_buffer_reset(ms_buffer *b);
/* Releases b's memory; b may then be reused. */
void ms_buffer_free(ms_buffer *b);
/* Appends n bytes. MS_ERR_NOMEM on failure (b unchanged). */
ms_status ms_buffer_append(ms_buffer *b, const void *data, size_t n);

/* Appends the packed task / result to b. */
ms_status ms_task_pack(const ms_task *t, ms_buffer *b);
ms_status ms_result_pack(const ms_result *r, ms_buffer *b);
/* Unpacks one task / result from data[*pos .. n) and advances *pos. MS_ERR_PARSE on a short or
 * inconsistent buffer (out is then unspecified). */
ms_status ms_task_unpack(const unsigned char *data, size_t n, size_t *pos, ms_task *t);
ms_status ms_result_unpack(const unsigned char *data, size_t n, size_t *pos, ms_result *r);

/* What the master does with an enumerated task (ms_farm_hooks.admit). */
typedef enum ms_farm_admit {
    MS_FARM_RUN = 0,        /* hand it out normally */
    MS_FARM_SKIP,           /* already done (a resumed run): drop it */
    MS_FARM_ALONE,          /* a suspect: run it while no other suspect is in flight, batch of 1 */
    MS_FARM_QUARANTINE      /* do not run it: the master emits one result with stage quarantine */
} ms_farm_admit;

/* Master-side hooks of the checkpoint journal (journal.h fills them); every pointer may be NULL.
 * Called on rank 0 only, in this order per task: admit when enumerated, dispatched before the
 * task is sent (or run by rank 0 itself), the collect callback for each of its results, done
 * after its last result, and batch_end after each message's results were collected. A non-zero
 * return from dispatched, done or batch_end stops the run like a failing collect callback. */
typedef struct ms_farm_hooks {
    ms_farm_admit (*admit)(const ms_task *t, void *user);
    int (*dispatched)(const ms_task *t, int rank, void *user);
    int (*done)(uint64_t seq, uint32_t n_results, int rank, void *user); /* rank -1: quarantine */
    int (*batch_end)(void *user);
    void *user;
} ms_farm_hooks;

typedef struct ms_farm_options {
    size_t window;             /* tasks the master looks ahead (largest first within it); 512 */
    size_t max_batch;          /* upper bound of tasks per message; 256 */
    double batch_seconds;      /* aim of the adaptive batch size: work per message; 0.25 s */
    size_t flush_bytes;        /* a worker sends partial results beyond this; 256 KiB */
    double report_seconds;     /* a worker reports finished tasks at most this often within a
                                  batch (the rest go with its next REQUEST); 0.05 s */
    int progress;              /* 1: rank 0 reports progress on stderr */
    int master_works;          /* 1: rank 0 also runs tasks between messages (default); 0: it
                                  only coordinates when there are workers */
    const ms_farm_hooks *hooks; /* journal hooks (rank 0); NULL: none */
} ms_farm_options;

typedef struct ms_farm_stats {
    unsigned long long tasks;      /* tasks handed out */
    unsigned long long records;    /* results collected */
    unsigned long long failed;     /* results with status != MS_SUCCESS */
    unsigned long long messages;   /* task messages sent (batches) */
    unsigned long long quarantined; /* tasks not run because hooks->admit said quarantine */
    double seconds;                /* wall time of ms_farm_run on rank 0 */
    double cpu_seconds;            /* rank 0's CPU time (user + system) in ms_farm_run: the
                                      master's own cost, whatever else runs on the machine */
} ms_farm_stats;

/* Defaults listed in the struct comments; progress 1, master_works 1, hooks NULL. */
void ms_farm_options_default(ms_farm_options *opt);

/* Runs the farm. Collective on comm: every rank calls it. On rank 0, src is the enumerator and
 * collect(r, user) receives every result; on the other ranks src, collect and user are ignored
 * (may be NULL). p is each rank's own pipeline. stats (may be NULL) is filled on rank 0.
 * Returns MS_SUCCESS on every rank unless the collect callback asked to stop (MS_ERR_IO on rank 0)
 * or a message was malformed (MS_ERR_INTERNAL). Structure failures are results, not errors. */
ms_status ms_farm_run(MPI_Comm comm, ms_source *src, ms_pipeline *p, const ms_farm_options *opt,
                      ms_result_fn collect, void *user, ms_farm_stats *stats);

#endif /* MATSCREEN_FARM_H */
