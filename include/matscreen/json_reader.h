/*
 * Materials Project / pymatgen JSON reader (jansson).
 *
 * Accepts a pymatgen Structure dict, a ComputedStructureEntry (structure under "structure"), an API
 * document with a "structure" key and scalar properties (material_id, formation_energy_per_atom,
 * energy_above_hull, band_gap, ...), a JSON array of any of these, or JSON Lines. Numbers are read
 * with json_number_value, since pymatgen writes "occu": 1 as an integer. See reader.h for the
 * record callback contract; JSON Lines records carry their byte offset and length so a later task
 * can point at one record.
 */
#ifndef MATSCREEN_JSON_READER_H
#define MATSCREEN_JSON_READER_H

#include <stddef.h>

#include "matscreen/reader.h"

/* Reads a JSON file (one object or an array of objects). */
ms_status ms_json_read_file(const char *path, const ms_read_options *opt, ms_record_fn fn,
                            void *user);

/* Reads a JSON Lines file, one record per non-empty line. */
ms_status ms_jsonl_read_file(const char *path, const ms_read_options *opt, ms_record_fn fn,
                             void *user);

/* Reads the single JSON Lines record at [offset, offset + length) of path. */
ms_status ms_jsonl_read_record(const char *path, long long offset, long long length,
                               const ms_read_options *opt, ms_record_fn fn, void *user);

/* Reads JSON (object, array, or JSON Lines when lines is 1) held in memory; name is used in
 * messages and provenance. */
ms_status ms_json_read_buffer(const char *data, size_t n, const char *name, int lines,
                              const ms_read_options *opt, ms_record_fn fn, void *user);

/* ms_json_read_buffer(..., lines = 1, ...) for JSON Lines text that continues a stream whose
 * earlier lines were not read: its first record is index first_index and its first line is
 * line first_line + 1 (a part of a split JSON Lines range numbers its records as the whole range
 * would, farm.c). */
ms_status ms_jsonl_read_buffer_from(const char *data, size_t n, const char *name,
                                    size_t first_index, long first_line,
                                    const ms_read_options *opt, ms_record_fn fn, void *user);

/* The records and lines that ms_jsonl_read_buffer_from would count in data[0, n) (n ending a
 * line): how a part of a split range learns its first record's index and line (pipeline.c). */
size_t ms_jsonl_count_records(const char *data, size_t n, long *lines);

#endif /* MATSCREEN_JSON_READER_H */
