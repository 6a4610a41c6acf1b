/*
 * Rank 0's bytes of the tasks in flight, kept on disk instead of in memory (docs/scale.md, "Peak
 * RSS"): the result cache must hold each task's packed results until its DONE, ~4 MB for an 8 MiB
 * JSON Lines range, and in memory those buffers were one per task in flight. Here each task keeps
 * at most one chunk (64 KiB) in memory; full chunks go to one unnamed temporary file in $TMPDIR
 * whose freed chunks are reused, so the file is as large as the data in flight at once and the
 * memory is one chunk per task in flight plus the buffer a finished task is gathered into.
 * Tasks that yield less than a chunk (one file per task) never touch the file.
 */
#ifndef MATSCREEN_TASK_SPILL_H
#define MATSCREEN_TASK_SPILL_H

#include <stddef.h>
#include <stdint.h>

#include "matscreen/error.h"
#include "matscreen/farm.h"

#define MS_SPILL_CHUNK ((size_t)64 << 10)

typedef struct ms_spill {
    int fd;          /* -1 until the first chunk is written */
    uint64_t end;    /* the file's size: chunks [0, end) */
    uint64_t *free;  /* offsets of chunks no task holds */
    size_t n_free, cap_free;
} ms_spill;

typedef struct ms_spill_buf {
    ms_buffer mem;   /* the bytes after the last full chunk (< MS_SPILL_CHUNK after an append) */
    uint64_t *chunk; /* offsets of the full chunks, in order */
    size_t n_chunk, cap_chunk;
} ms_spill_buf;

void ms_spill_init(ms_spill *s);
/* Closes the file (the kernel drops it: it has no name). */
void ms_spill_close(ms_spill *s);
/* Writes b's full chunks to the file, after bytes were appended to b->mem (the caller packs
 * straight into it: no copy). MS_ERR_IO / MS_ERR_NOMEM. */
ms_status ms_spill_flush(ms_spill *s, ms_spill_buf *b);
/* The packed bytes of b in order, in *out (reset first); b is emptied and its chunks freed. */
ms_status ms_spill_gather(ms_spill *s, ms_spill_buf *b, ms_buffer *out);
/* Empties b and frees its chunks for reuse, keeping its memory. */
void ms_spill_reset(ms_spill *s, ms_spill_buf *b);
/* Releases b's memory (its chunks must have been given back: ms_spill_reset or _gather). */
void ms_spill_buf_free(ms_spill_buf *b);

#endif /* MATSCREEN_TASK_SPILL_H */
