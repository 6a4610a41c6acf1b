/*
 * Helpers shared by the benchmarks of tests/bench (compiled into each, see the Makefile): a
 * monotonic clock and reading every CIF of a directory. Not part of the library; not collective.
 */
#ifndef MS_TESTS_BENCH_UTIL_H
#define MS_TESTS_BENCH_UTIL_H

#include <dirent.h>

#include "matscreen/reader.h"

/* Seconds on CLOCK_MONOTONIC (for differences only). */
double ms_bench_now(void);

/* CPU seconds of this process (user + system, getrusage). */
double ms_bench_cpu(void);

/* scandir filter: names ending in ".cif" (longer than the suffix alone). */
int ms_bench_is_cif(const struct dirent *e);

/* Reads every *.cif file of dir, in alphasort order, with ms_read_file (default options),
 * handing each record to fn with user. Files that fail to read are skipped (fn sees their
 * status). Returns the number of files, 0 when dir has none or cannot be read. */
int ms_bench_read_cifs(const char *dir, ms_record_fn fn, void *user);

#endif
