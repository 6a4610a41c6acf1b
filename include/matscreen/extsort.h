/*
 * External merge sort of fixed-size records with a bounded memory budget.
 *
 * Conventions
 *   - A sorter is filled with ms_extsort_add, one record at a time, then ms_extsort_finish turns
 *     it into a sorted stream read with ms_extsort_next. Records are opaque bytes of the size
 *     given at creation; the caller's comparator orders them.
 *   - Memory: at most budget records are held (record_size + 16 bytes each: the record and two
 *     index slots for the sort), plus one stdio buffer per open run file while merging (at most
 *     MS_EXTSORT_FAN_IN + 1 files). When the buffer is full it is sorted and written as a run
 *     file; when everything fits in the budget no file is written at all.
 *   - Stability: records that compare equal come out in the order they were added (runs are
 *     sorted by a merge sort and merged with ties broken by run age).
 *   - Run files live in the directory given at creation, named "<name>.XXXXXX" (mkstemp), so a
 *     name that says what is sorted (e.g. "tmp-finish-groups") identifies them. They are removed
 *     as soon as they are merged and by ms_extsort_destroy, also after a failure; only a killed
 *     process leaves them behind.
 *   - Errors: every function returns an ms_status with a message (ms_error_message) that names
 *     the run file on I/O errors, e.g. "DIR/tmp-finish-groups.a1B2c3: cannot write a sort run:
 *     No space left on device". After a failure the sorter can only be destroyed.
 *   - Not collective; one sorter must not be used by two threads at once.
 */
#ifndef MATSCREEN_EXTSORT_H
#define MATSCREEN_EXTSORT_H

#include <stddef.h>
#include <stdint.h>

#include "matscreen/error.h"

/* Number of runs merged at once; more runs are merged in passes of this many. */
#define MS_EXTSORT_FAN_IN 64

/* Orders two records like qsort's comparator (negative, zero, positive); ctx is the pointer
 * given to ms_extsort_create. */
typedef int (*ms_extsort_cmp)(const void *a, const void *b, void *ctx);

typedef struct ms_extsort ms_extsort;

/* Creates an empty sorter of records of record_size bytes (> 0) ordered by cmp (with ctx, which
 * is borrowed and may be NULL), holding at most budget records (> 0) in memory; run files go to
 * directory dir as "<name>.XXXXXX" (dir and name are copied; name must not contain '/').
 * MS_ERR_USAGE for a bad argument, MS_ERR_NOMEM. Nothing is allocated for records until the
 * first add, and the buffer grows up to budget records. On success *out is allocated; release
 * it with ms_extsort_destroy. */
ms_status ms_extsort_create(size_t record_size, ms_extsort_cmp cmp, void *ctx, size_t budget,
                            const char *dir, const char *name, ms_extsort **out);

/* Copies one record (record_size bytes) into the sorter; when the buffer holds budget records
 * they are sorted and written as a run file first. MS_ERR_IO (naming the file) when the run
 * cannot be written, MS_ERR_NOMEM, MS_ERR_USAGE after ms_extsort_finish. */
ms_status ms_extsort_add(ms_extsort *s, const void *record);

/* Ends the input and prepares the sorted stream: sorts the buffer in memory when no run was
 * written, otherwise writes the last run and merges runs in passes of MS_EXTSORT_FAN_IN until at
 * most that many remain (merged on the fly by ms_extsort_next). MS_ERR_IO, MS_ERR_NOMEM;
 * MS_ERR_USAGE when called twice. */
ms_status ms_extsort_finish(ms_extsort *s);

/* Copies the next record of the sorted stream to record (record_size bytes) and sets *got to 1,
 * or sets *got to 0 at the end of the stream. MS_ERR_IO (naming the file) when a run file cannot
 * be read or is short; MS_ERR_USAGE before ms_extsort_finish. */
ms_status ms_extsort_next(ms_extsort *s, void *record, int *got);

/* Number of records added so far. */
uint64_t ms_extsort_count(const ms_extsort *s);

/* Number of run files written so far, including those of merge passes (0: sorted in memory). */
size_t ms_extsort_runs_written(const ms_extsort *s);

/* Removes every run file that is left, frees the sorter and sets *s to NULL. s == NULL or
 * *s == NULL is a no-op. */
void ms_extsort_destroy(ms_extsort **s);

#endif /* MATSCREEN_EXTSORT_H */
