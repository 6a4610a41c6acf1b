/*
 * Test data shared by the GP and PCA tests: the unit suite "gp" (tests/unit/test_gp.c), the
 * benchmark tests/bench/bench_gp.c and the MPI driver tests/integration/gp_mpi.c. The Makefile
 * compiles every source of tests/common into the unit runner, each benchmark and each
 * integration driver.
 * Not part of the library; not collective (MPI callers read on rank 0 and broadcast).
 */
#ifndef MS_TESTS_GP_DATA_H
#define MS_TESTS_GP_DATA_H

#include <stddef.h>

#include "matscreen/element.h"
#include "matscreen/matrix.h"

/* Reads up to nmax rows "formula,target" of a CSV file (the CrabNet files of
 * ../shared/data/labeled/crabnet), featurises each formula with the magpie set, keeps rows whose
 * features and target are all finite, drops constant columns and standardises the rest (mean 0,
 * standard deviation 1, ddof 0). x is allocated, row-major n x kept columns (free with
 * ms_matrix_free), and *y malloc'd with n targets (free with free). Returns 0 on success, -1
 * when the file cannot be read, fewer than 2 rows are usable or memory runs out. */
int ms_test_load_magpie(const ms_element_table *table, const char *csv, size_t nmax, ms_matrix *x,
                        double **y);

#endif
