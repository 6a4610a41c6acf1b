/*
 * The benchmark matrix of tests/bench (bench_forest, bench_gbm, bench_treeshap): Magpie features
 * of CrabNet mp_e_hull train + val formulas (48,162 rows), the first rows repeated with relative
 * noise 1e-6 up to n rows (50,000 by default), NaN features set to 0, target e_hull.
 * Not part of the library; not collective.
 */
#ifndef MS_TESTS_EHULL_BENCH_H
#define MS_TESTS_EHULL_BENCH_H

#include <stddef.h>

#include "matscreen/error.h"
#include "matscreen/matrix.h"

/* Builds the n x 132 matrix from DATA_DIR (../shared/data) into x (allocated) and *y (malloc'd).
 * n = 0 or n > 50,000 means 50,000. */
ms_status ms_bench_ehull_matrix(const char *data_dir, size_t n, ms_matrix *x, double **y);

/* Writes x and y as CSV (the feature columns, then y; %.17g; no header) to path. */
ms_status ms_bench_write_csv(const char *path, const ms_matrix *x, const double *y);

#endif
