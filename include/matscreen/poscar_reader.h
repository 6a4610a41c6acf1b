/*
 * VASP 5 POSCAR / CONTCAR reader.
 *
 * Comment line, scale (negative: target volume), three lattice rows, element symbols line, counts
 * line, optional "Selective dynamics", "Direct"/"Cartesian" then positions. VASP 4 files (no
 * symbols line) are refused with a clear message, since the elements cannot be known.
 */
#ifndef MATSCREEN_POSCAR_READER_H
#define MATSCREEN_POSCAR_READER_H

#include <stddef.h>

#include "matscreen/reader.h"

/* Reads the POSCAR file at path (one record). */
ms_status ms_poscar_read_file(const char *path, const ms_read_options *opt, ms_record_fn fn,
                              void *user);

/* Reads a POSCAR held in memory; name is used in messages and provenance. */
ms_status ms_poscar_read_buffer(const char *data, size_t n, const char *name,
                                const ms_read_options *opt, ms_record_fn fn, void *user);

#endif /* MATSCREEN_POSCAR_READER_H */
