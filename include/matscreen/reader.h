/*
 * Reading structures from files: the interface every format reader shares.
 *
 * Conventions
 *   - A file holds one or more records (CIF data blocks, JSON array elements, JSON Lines lines).
 *     Readers call a callback once per record with a structure they own and reuse; the structure is
 *     valid only during the call. Copy what you need.
 *   - A record that cannot be read does not stop the file: the callback gets a non-zero status, a
 *     message naming the file and the line/block/record and what is wrong, and a structure whose
 *     provenance (file, block, index, offset) is filled so the failure can be reported.
 *   - A reader returns non-MS_SUCCESS itself only when the file as a whole cannot be read (cannot
 *     be opened, is not in the format at all, exceeds a limit); ms_error_message() says why.
 *   - Readers are not collective; each MPI rank reads the files of its own tasks.
 */
#ifndef MATSCREEN_READER_H
#define MATSCREEN_READER_H

#include <stddef.h>

#include "matscreen/error.h"
#include "matscreen/structure.h"

typedef enum ms_format {
    MS_FORMAT_AUTO = 0, /* decide from the name and the first bytes */
    MS_FORMAT_CIF,      /* CIF 1.1 or 2.0 */
    MS_FORMAT_JSON,     /* pymatgen / Materials Project JSON: one object or an array */
    MS_FORMAT_JSONL,    /* JSON Lines: one object per line */
    MS_FORMAT_POSCAR    /* VASP 5 POSCAR / CONTCAR */
} ms_format;

#define MS_READ_DEFAULT_MAX_SYMOPS 192          /* = MS_SYMOP_MAX: a space group has at most 192 */
#define MS_READ_DEFAULT_MAX_VALUE_BYTES 65536u

typedef struct ms_read_options {
    size_t max_atoms;          /* sites after symmetry expansion; more is MS_ERR_LIMIT */
    size_t max_file_bytes;     /* larger files are refused with MS_ERR_LIMIT */
    double merge_tol;          /* Å: symmetry images closer than this are one site */
    ms_source_db default_db;   /* database for records that do not say (from the workflow) */
    size_t max_symops;         /* CIF: operators in one symmetry-operator list; more is
                                  MS_ERR_LIMIT (0: the default, MS_SYMOP_MAX = 192) */
    size_t max_value_bytes;    /* CIF: characters in one value of a data name the reader uses
                                  (label, symbol, operator, formula, number); longer is
                                  MS_ERR_LIMIT (0: the default, 65536) */
} ms_read_options;

/* Defaults: max_atoms 100000 (a CIF's atom-site rows are counted against it as they are read,
 * and again the sites after symmetry expansion), max_file_bytes 1 GiB, merge_tol 0.01 Å,
 * default_db MS_DB_UNKNOWN, max_symops 192, max_value_bytes 65536. See docs/reliability.md. */
void ms_read_options_default(ms_read_options *opt);

/* Called once per record. s is owned by the reader and valid only during the call. status is
 * MS_SUCCESS for a structure that was read; otherwise message explains the failure. Return 0 to
 * go on, non-zero to stop reading the file (the reader then returns MS_SUCCESS). */
typedef int (*ms_record_fn)(const ms_structure *s, ms_status status, const char *message,
                            void *user);

/* The format of path by its extension (.cif, .json, .jsonl/.ndjson, POSCAR/CONTCAR/.vasp), then by
 * its first bytes; MS_FORMAT_AUTO when it cannot tell. */
ms_format ms_format_detect(const char *path);

/* Name of a format ("cif", "json", "jsonl", "poscar", "auto"). */
const char *ms_format_name(ms_format format);

/* Reads every record of path in format (MS_FORMAT_AUTO detects it), calling fn for each. opt may
 * be NULL for defaults. */
ms_status ms_read_file(const char *path, ms_format format, const ms_read_options *opt,
                       ms_record_fn fn, void *user);

#endif /* MATSCREEN_READER_H */
