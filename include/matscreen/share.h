/*
 * Where matscreen finds its run-time data (element tables, workflow schema, example models).
 *
 * Search order: the MATSCREEN_SHARE environment variable; share/matscreen next to the running
 * executable or one directory above it (so an in-tree build works without install); the
 * directory compiled in as MS_DATADIR ($(PREFIX)/share/matscreen).
 */
#ifndef MATSCREEN_SHARE_H
#define MATSCREEN_SHARE_H

#include <stddef.h>

#include "matscreen/error.h"

/* Writes the share directory into out (n bytes). Fails with MS_ERR_NOT_FOUND and a message
 * listing the places searched when none holds the element tables. Not collective. */
ms_status ms_share_dir(char *out, size_t n);

#endif /* MATSCREEN_SHARE_H */
