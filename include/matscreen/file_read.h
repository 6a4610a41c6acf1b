/*
 * Whole-file reading with a size limit: structure files, models, workflow schemas, manifests.
 *
 * The limit is checked on the file's size before anything is allocated, so a mistaken path to a
 * huge file fails at once with MS_ERR_LIMIT instead of exhausting memory. Only regular files are
 * read (a directory or a FIFO is MS_ERR_IO). Messages name the path. Not collective; thread-safe.
 */
#ifndef MATSCREEN_FILE_READ_H
#define MATSCREEN_FILE_READ_H

#include <stddef.h>
#include <stdio.h>

#include "matscreen/error.h"

/* Reads the regular file at path into a new NUL-terminated buffer (*buf, *n bytes without the
 * NUL; the caller frees *buf). MS_ERR_IO when it cannot be opened or read or is not a regular
 * file, MS_ERR_LIMIT when it is larger than max_bytes, MS_ERR_NOMEM; on failure *buf is NULL. */
ms_status ms_read_whole_file(const char *path, size_t max_bytes, char **buf, size_t *n);

/* As ms_read_whole_file for a text format named what ("CIF", "JSON"): a NUL byte is refused as
 * soon as the chunk holding it is read (MS_ERR_PARSE naming the file and the byte offset), so a
 * binary file never reaches a parser. */
ms_status ms_read_text_file(const char *path, size_t max_bytes, const char *what, char **buf,
                            size_t *n);

/* Opens the regular file at path for reading (*out, the caller fcloses it; *size its bytes when
 * size is not NULL). The file is opened without blocking and its type checked on the open
 * descriptor, so a FIFO, a device or a socket is MS_ERR_IO at once ("not a regular file (a FIFO
 * (named pipe))") instead of a read that waits or never ends. max_bytes 0: no size limit. Every
 * open of a user's input file goes through here. */
ms_status ms_open_regular(const char *path, size_t max_bytes, FILE **out, long long *size);

/* "a FIFO (named pipe)", "a directory", ... for a st_mode that is not a regular file. */
const char *ms_file_type_name(unsigned mode);

/* Bytes at the start of a file in which a NUL byte marks it binary (git's heuristic). */
#define MS_BINARY_SNIFF_BYTES 8000

/* MS_ERR_PARSE naming path, what and the offset (base + index) of the first NUL byte in
 * data[0 .. n), else MS_SUCCESS. */
ms_status ms_refuse_binary(const char *path, const char *what, const char *data, size_t n,
                           long long base);

/* Refuses f (open on path) when its first MS_BINARY_SNIFF_BYTES hold a NUL byte; reads with
 * pread, so the stream's position is unchanged. */
ms_status ms_refuse_binary_head(FILE *f, const char *path, const char *what);

#endif /* MATSCREEN_FILE_READ_H */
