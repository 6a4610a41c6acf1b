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

#include "matscreen/error.h"

/* Reads the regular file at path into a new NUL-terminated buffer (*buf, *n bytes without the
 * NUL; the caller frees *buf). MS_ERR_IO when it cannot be opened or read or is not a regular
 * file, MS_ERR_LIMIT when it is larger than max_bytes, MS_ERR_NOMEM; on failure *buf is NULL. */
ms_status ms_read_whole_file(const char *path, size_t max_bytes, char **buf, size_t *n);

#endif /* MATSCREEN_FILE_READ_H */
