/*
 * Output files and directories written safely (docs/reliability.md, "What is guaranteed").
 *
 * Conventions
 *   - One writer per output directory: ms_dir_lock takes an flock(2) on DIR/.matscreen.lock, a
 *     file that is never renamed or unlinked (a lock on a file that can be replaced protects
 *     nothing), and writes the holder's pid, host, start time and command into it. A second
 *     process is refused with a message naming the holder. The lock goes with the process (the
 *     kernel drops it when the descriptor closes, also on SIGKILL): a stale file is harmless.
 *   - Every output is written beside its final name (DIR/.tmp-NAME, flock'd while it is written,
 *     so a second writer of the same output is refused and a killed writer's leftover is written
 *     over), flushed, fsync'd and renamed into place, then the directory is fsync'd: a reader
 *     sees the previous complete file or the new complete one, never a torn one, whatever kills
 *     the writer. ms_atomic_remove_stale removes what killed writers left in an output directory
 *     (call it with the directory's lock held).
 *   - A final name that is a symbolic link is refused: outputs never write through links
 *     (DIR/ranked.csv -> ../precious.txt must not replace precious.txt's content, nor the link).
 *   - ms_name_escape makes a file name safe for one line of text: control bytes, backslash and
 *     bytes that are not valid UTF-8 become \xHH (backslash itself \\), so every name is kept,
 *     on one line, as valid UTF-8.
 *   - Everything here is Not collective (rank 0 writes outputs).
 */
#ifndef MATSCREEN_OUTFILE_H
#define MATSCREEN_OUTFILE_H

#include <stddef.h>
#include <stdio.h>

#include "matscreen/error.h"

#define MS_DIR_LOCK_FILE ".matscreen.lock"
#define MS_ATOMIC_TMP_PREFIX ".tmp-"

typedef struct ms_dir_lock ms_dir_lock;

/* Creates dir when absent and takes its lock for this process; argc/argv (may be 0/NULL) are
 * recorded for the message another process gets. Held by another process: MS_ERR_IO with
 * "DIR: in use by another matscreen (pid P on host H since T: COMMAND) ...". A lock taken
 * twice in one process also fails (flock locks open files, not processes). *out is released
 * with ms_dir_lock_release. */
ms_status ms_dir_lock_take(const char *dir, int argc, char *const *argv, ms_dir_lock **out);

/* Releases the lock (the file stays); NULL is a no-op; sets *lock to NULL. */
void ms_dir_lock_release(ms_dir_lock **lock);

typedef struct ms_atomic_file ms_atomic_file;

/* Opens a temporary file beside path for writing. MS_ERR_IO when path is a symbolic link or
 * the temporary file cannot be created (the message names path and why). */
ms_status ms_atomic_open(const char *path, ms_atomic_file **out);

/* The stream to write to (owned by the ms_atomic_file). */
FILE *ms_atomic_stream(ms_atomic_file *f);

/* The final path (owned by the ms_atomic_file). */
const char *ms_atomic_path(const ms_atomic_file *f);

/* Flushes and fsyncs the temporary file: MS_ERR_IO naming the final path and why ("No space
 * left on device") when a write failed. For a set of outputs: sync every one, then commit them,
 * so that a failing file stops the set before any is renamed. */
ms_status ms_atomic_sync(ms_atomic_file *f);

/* Flushes, fsyncs (unless ms_atomic_sync did) and renames the temporary file over the final path, then fsyncs the
 * directory; on any failure the temporary file is removed, the final path is untouched and the
 * message names the final path and says why. Frees *f and sets it to NULL (NULL: no-op). */
ms_status ms_atomic_commit(ms_atomic_file **f);

/* Closes and removes the temporary file; the final path is untouched. NULL is a no-op. */
void ms_atomic_abort(ms_atomic_file **f);

/* Checks that path is not a symbolic link (a missing path is fine): MS_ERR_IO naming the link
 * and its target otherwise. For outputs that are directories (DIR/top) and for DIR itself. */
ms_status ms_output_not_link(const char *path);

/* Replaces the directory path by the complete directory fresh (on the same file system):
 * exchanged atomically when path exists (renameat2 RENAME_EXCHANGE), the old one then removed
 * (it holds plain files only). fresh must not be a link. */
ms_status ms_dir_replace(const char *fresh, const char *path);

/* Removes DIR/.tmp-* files and directories (of plain files) that killed writers left; call it
 * with DIR's lock held (ms_dir_lock_take), when no writer of this process is open in DIR. */
void ms_atomic_remove_stale(const char *dir);

/* Writes name into out (n bytes, NUL-terminated, cut at a character boundary when too long)
 * with control bytes, backslash and bytes that are not valid UTF-8 as \xHH (backslash \\).
 * Returns 1 when something was escaped. */
int ms_name_escape(const char *name, char *out, size_t n);

/* "dir/name" in a new string the caller frees; NULL when out of memory. */
char *ms_path_join(const char *dir, const char *name);

/* Creates the directory dir and its missing parents (mkdir -p); an existing one is fine. The
 * message names the directory that could not be created and why. */
ms_status ms_mkdir_p(const char *dir);

/* Creates the missing parent directories of path, not path itself (for an output file or a
 * directory renamed into place later). */
ms_status ms_mkdir_parents(const char *path);

/* Length of the valid UTF-8 sequence at s (1-4), or 0 when it is not one (no overlong forms, no
 * surrogates, nothing above U+10FFFF). The one UTF-8 rule of the name escaper and the JSON
 * writer. */
size_t ms_utf8_len(const unsigned char *s);

/* 1 when s is valid UTF-8 (no overlong forms, no surrogates). */
int ms_utf8_valid(const char *s);

#endif /* MATSCREEN_OUTFILE_H */
