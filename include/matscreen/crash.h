/*
 * Crash records: which task a rank was running when it crashed.
 *
 * The journal (journal.h) sees a run die but not why. A rank killed by its task (a segmentation
 * fault in a library on a pathological cell, an abort) and a job killed from outside (the
 * scheduler's time limit, mpirun killed, a lost node) look the same there, and counting the
 * second as the first quarantined innocent tasks when a nightly run was killed twice. So each
 * worker rank notes, from a signal handler, the task it was running when a fatal signal
 * (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT) arrives: one line "SEQ\n" appended to
 * DIR/.crash-RANK, opened before the rank's first task. On --resume rank 0 reads those files
 * into the journal (a CRASH record per task) and removes them.
 *
 * The output directory must be reachable from the worker ranks (as on a cluster's shared file
 * system); where it is not, no crash is recorded and a crashing task needs three deaths instead
 * of two to be quarantined (journal.h). Not collective; one watcher per process.
 */
#ifndef MATSCREEN_CRASH_H
#define MATSCREEN_CRASH_H

#include <stddef.h>
#include <stdint.h>

#include "matscreen/error.h"

#define MS_CRASH_PREFIX ".crash-"

/* Opens DIR/.crash-RANK for appending and installs the fatal-signal handlers (the previous ones
 * run after the note, so a debugger or a sanitizer still sees the crash). A file that cannot be
 * opened leaves crashes unrecorded; that is not an error. Idempotent. */
void ms_crash_watch(const char *dir, int rank);

/* The task this process runs from now (ms_crash_task_done: none). Async-signal-safe reads. */
void ms_crash_task(uint64_t seq);
void ms_crash_task_done(void);

/* Restores the handlers, closes the file and removes it when nothing was written. */
void ms_crash_unwatch(void);

/* Reads every DIR/.crash-* file: *seqs receives the tasks named (malloc'd, caller frees; NULL when
 * none), *n their number. Lines that are not a number are skipped (a torn write). */
ms_status ms_crash_collect(const char *dir, uint64_t **seqs, size_t *n);

/* Removes every DIR/.crash-* file (after their tasks are in the journal, or for a new run). */
void ms_crash_clear(const char *dir);

#endif /* MATSCREEN_CRASH_H */
