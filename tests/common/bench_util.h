/*
 * Helpers shared by the benchmarks of tests/bench (compiled into each, see the Makefile): a
 * monotonic clock and reading every CIF of a directory. Not part of the library; not collective.
 */
#ifndef MS_TESTS_BENCH_UTIL_H
#define MS_TESTS_BENCH_UTIL_H

#include <dirent.h>

#include <limits.h>
#include <stddef.h>

#include "matscreen/element.h"
#include "matscreen/featurize.h"
#include "matscreen/reader.h"

/* Seconds on CLOCK_MONOTONIC (for differences only). */
double ms_bench_now(void);

/* CPU seconds of this process (user + system, getrusage). */
double ms_bench_cpu(void);

/* Peak resident set of this process in kB (VmHWM of /proc/self/status), or -1. */
long ms_bench_vm_hwm_kb(void);

/* scandir filter: names ending in ".cif" (longer than the suffix alone). */
int ms_bench_is_cif(const struct dirent *e);

/* Reads every *.cif file of dir, in alphasort order, with ms_read_file (default options),
 * handing each record to fn with user. Files that fail to read are skipped (fn sees their
 * status). Returns the number of files, 0 when dir has none or cannot be read. */
int ms_bench_read_cifs(const char *dir, ms_record_fn fn, void *user);

/* The same for the first limit files (0: all). Returns the number of files read, -1 when dir
 * cannot be listed. */
long ms_bench_read_cifs_limit(const char *dir, size_t limit, ms_record_fn fn, void *user);

/* A structure featurizer with its row and tallies: the part of a corpus benchmark's record
 * callback that every one repeats. */
typedef struct ms_bench_featurized {
    ms_structure_featurizer *fz;
    double row[1024];
    unsigned char reason[1024];
    double seconds; /* inside ms_structure_featurizer_compute */
    size_t n_ok, n_fail;
} ms_bench_featurized;

/* For a reader callback's (s, status): counts a failed record, else featurizes s with f->fz,
 * timed. Returns 1 when s has a row. */
int ms_bench_featurize(ms_bench_featurized *f, const ms_structure *s, ms_status status);

/* The corpus benchmarks' command line, `NAME DATA_DIR [LIMIT]` (DATA_DIR is ../shared/data):
 * the element table, the corpus directories under DATA_DIR and the file limit. */
typedef struct ms_bench_corpora {
    ms_element_table *table;
    size_t limit;
    char perov5[PATH_MAX], obelix[PATH_MAX]; /* cif/perov5/cifs, labeled/obelix-train/cifs */
} ms_bench_corpora;

/* Parses argv (LIMIT defaults to default_limit, 0: all) and loads the element table. Returns 0,
 * or 2 (the exit status) after a usage line or the error on stderr. */
int ms_bench_corpora_open(int argc, char **argv, const char *name, size_t default_limit,
                          ms_bench_corpora *c);

/* Prints the process's peak RSS and frees the table. */
void ms_bench_corpora_close(ms_bench_corpora *c);

#endif
