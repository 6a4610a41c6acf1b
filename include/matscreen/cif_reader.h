/*
 * CIF reader (CIF 1.1 and 2.0) built on the IUCr CIF API (libcif).
 *
 * See reader.h for the record callback contract. Each data block is one record. Symmetry comes
 * from _symmetry_equiv_pos_as_xyz / _space_group_symop_operation_xyz, else from the Hall or
 * Hermann-Mauguin symbol through spglib's space-group database, else P1. Images of a site that fall
 * within opt->merge_tol Å of each other are one site. Partial occupancies are kept as read.
 */
#ifndef MATSCREEN_CIF_READER_H
#define MATSCREEN_CIF_READER_H

#include <stddef.h>

#include "matscreen/reader.h"

/* Reads every data block of the CIF file at path. */
ms_status ms_cif_read_file(const char *path, const ms_read_options *opt, ms_record_fn fn,
                           void *user);

/* Reads every data block of a CIF held in memory; name is used in messages and provenance. */
ms_status ms_cif_read_buffer(const char *data, size_t n, const char *name,
                             const ms_read_options *opt, ms_record_fn fn, void *user);

/* Checks only the CIF syntax of path (no structure is built). Returns MS_SUCCESS when the file is
 * valid CIF, else MS_ERR_PARSE with the first serious error as "file:line:column: what" and the
 * number of serious errors in *n_errors. Cosmetic errors (long lines, non-ASCII bytes) do not
 * count. Used to check the reader against the CIF conformance verdicts. */
ms_status ms_cif_check_syntax(const char *path, int *n_errors);

#endif /* MATSCREEN_CIF_READER_H */
