/* Rank 0's per-task bytes on disk in fixed chunks (task_spill.h). */
#include "matscreen/task_spill.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "matscreen/array.h"
#include "matscreen/sysio.h"

static const char *tmp_dir(void) { return ms_tmp_dir(); }

void ms_spill_init(ms_spill *s)
{
    memset(s, 0, sizeof *s);
    s->fd = -1;
}

void ms_spill_close(ms_spill *s)
{
    if (s->fd >= 0) close(s->fd);
    free(s->free);
    ms_spill_init(s);
}

static ms_status chunk_take(ms_spill *s, uint64_t *off)
{
    if (s->n_free) {
        *off = s->free[--s->n_free];
        return MS_SUCCESS;
    }
    if (s->fd < 0) {
        s->fd = ms_unnamed_tmpfile(tmp_dir());
        MS_CHECK(s->fd >= 0, MS_ERR_IO,
                 "%s: cannot create the temporary file for the results of the tasks in flight: %s "
                 "(set TMPDIR to a writable directory)", tmp_dir(), strerror(errno));
    }
    *off = s->end;
    s->end += MS_SPILL_CHUNK;
    return MS_SUCCESS;
}

static void chunks_give_back(ms_spill *s, ms_spill_buf *b)
{
    if (b->n_chunk == 0) return; /* b->chunk may be NULL: memcpy must not see it, even for 0 bytes */
    /* the free list never holds more than the chunks ever made, so this cannot fail for long:
     * on a failed growth the chunks are leaked in the file (it is unnamed) */
    if (ms_array_reserve(&s->free, &s->cap_free, s->n_free + b->n_chunk, sizeof *s->free, 64) ==
        MS_SUCCESS) {
        memcpy(s->free + s->n_free, b->chunk, b->n_chunk * sizeof *b->chunk);
        s->n_free += b->n_chunk;
    }
    b->n_chunk = 0;
}

static ms_status write_all(int fd, const unsigned char *p, size_t n, uint64_t off)
{
    MS_CHECK(ms_pwrite_all(fd, p, n, off) == n, MS_ERR_IO,
             "%s: cannot write the results of the tasks in flight: %s", tmp_dir(),
             errno ? strerror(errno) : "no space");
    return MS_SUCCESS;
}

ms_status ms_spill_flush(ms_spill *s, ms_spill_buf *b)
{
    size_t done = 0;
    while (b->mem.n - done >= MS_SPILL_CHUNK) {
        uint64_t off = 0;
        MS_CALL(ms_array_reserve(&b->chunk, &b->cap_chunk, b->n_chunk + 1, sizeof *b->chunk, 16));
        MS_CALL(chunk_take(s, &off));
        b->chunk[b->n_chunk++] = off; /* given back with the rest, even if the write fails */
        MS_CALL(write_all(s->fd, b->mem.data + done, MS_SPILL_CHUNK, off));
        done += MS_SPILL_CHUNK;
    }
    if (done) {
        memmove(b->mem.data, b->mem.data + done, b->mem.n - done);
        b->mem.n -= done;
    }
    return MS_SUCCESS;
}

static ms_status read_all(int fd, unsigned char *p, size_t n, uint64_t off)
{
    MS_CHECK(ms_pread_all(fd, p, n, off) == n, MS_ERR_IO,
             "%s: cannot read back the results of the tasks in flight: %s", tmp_dir(),
             errno ? strerror(errno) : "short file");
    return MS_SUCCESS;
}

ms_status ms_spill_gather(ms_spill *s, ms_spill_buf *b, ms_buffer *out)
{
    ms_buffer_reset(out);
    ms_status st = MS_SUCCESS;
    size_t total = b->n_chunk * MS_SPILL_CHUNK + b->mem.n;
    if (total > out->cap) { /* one allocation, not doubling: out keeps its largest task's size */
        unsigned char *g = realloc(out->data, total);
        if (!g) st = ms_error_set(MS_ERR_NOMEM, "gathering %zu bytes of a task's results", total);
        else {
            out->data = g;
            out->cap = total;
        }
    }
    for (size_t i = 0; i < b->n_chunk && st == MS_SUCCESS; i++)
        st = read_all(s->fd, out->data + i * MS_SPILL_CHUNK, MS_SPILL_CHUNK, b->chunk[i]);
    if (st == MS_SUCCESS) {
        if (b->mem.n) memcpy(out->data + b->n_chunk * MS_SPILL_CHUNK, b->mem.data, b->mem.n);
        out->n = total;
    }
    ms_spill_reset(s, b);
    return st;
}

void ms_spill_reset(ms_spill *s, ms_spill_buf *b)
{
    chunks_give_back(s, b);
    ms_buffer_reset(&b->mem);
}

void ms_spill_buf_free(ms_spill_buf *b)
{
    ms_buffer_free(&b->mem);
    free(b->chunk);
    b->chunk = NULL;
    b->n_chunk = b->cap_chunk = 0;
}
