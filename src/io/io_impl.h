/* Helpers shared by the readers of src/io. Private to the io layer; never installed. */
#ifndef MS_IO_IMPL_H
#define MS_IO_IMPL_H

#include <stddef.h>

#include "matscreen/error.h"

/* Reads the regular file at path into a new NUL-terminated buffer (*buf, *n bytes without the
 * NUL; the caller frees *buf). Files larger than max_bytes fail with MS_ERR_LIMIT before any
 * allocation; messages name the path. */
ms_status ms_io_read_file(const char *path, size_t max_bytes, char **buf, size_t *n);

#endif
