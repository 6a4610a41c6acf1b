/*
 * Low-level file helpers, each the one implementation for every layer; callers word their own
 * messages.
 *   - Positioned reads and writes of a whole buffer: pread(2)/pwrite(2) in a loop over short
 *     transfers and EINTR (the journal, parallel/journal.c; rank 0's spill file,
 *     parallel/task_spill.c).
 *   - An unnamed temporary file (rank 0's spill file; the recorded enumeration, io/source.c).
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

/* A new temporary file in dir that has no name once open (nothing to clean up after a kill):
 * mkstemp, then unlink at once, close-on-exec. Not O_TMPFILE, which some file systems a
 * cluster's TMPDIR may be on (NFS, some parallel file systems) refuse. Returns the descriptor
 * (read-write), or -1 with errno. */
int ms_unnamed_tmpfile(const char *dir);

/* $TMPDIR, or "/tmp" when it is unset or empty. */
const char *ms_tmp_dir(void);

#endif /* MATSCREEN_SYSIO_H */
