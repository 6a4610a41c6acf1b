/*
 * Positioned reads and writes of a whole buffer: pread(2)/pwrite(2) in a loop over short
 * transfers and EINTR. The one loop of the journal (parallel/journal.c) and of rank 0's
 * spill file (parallel/task_spill.c); callers word their own messages.
 */
#ifndef MATSCREEN_SYSIO_H
#define MATSCREEN_SYSIO_H

#include <stddef.h>
#include <stdint.h>

/* Writes n bytes of p at file offset off. Returns the bytes written: n on success; fewer when
 * a write failed (errno says why) or wrote nothing (errno 0: no space). */
size_t ms_pwrite_all(int fd, const void *p, size_t n, uint64_t off);

/* Reads n bytes at file offset off into p. Returns the bytes read: n on success; fewer when a
 * read failed (errno says why) or the file ended (errno 0). */
size_t ms_pread_all(int fd, void *p, size_t n, uint64_t off);

#endif /* MATSCREEN_SYSIO_H */
