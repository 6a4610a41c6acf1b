/*
 * Dense matrices of doubles for features and models. In core (src/core/matrix.c), since quality
 * (outliers, imputation, correlation) and ml both use it and core is below both.
 *
 * Conventions
 *   - Row-major and contiguous: element (i, j) is data[i * cols + j]; the leading dimension is
 *     cols. A row is one sample (structure), a column one feature. No double ** anywhere.
 *   - Conversion to ScaLAPACK's column-major block-cyclic layout happens only inside the
 *     ScaLAPACK module; LAPACK calls on a row-major matrix pass it as its transpose.
 *   - Missing values are NaN.
 *   - ms_matrix_alloc / ms_matrix_free own the data; a matrix may also wrap caller memory
 *     (owned = 0), which ms_matrix_free leaves alone.
 */
#ifndef MATSCREEN_MATRIX_H
#define MATSCREEN_MATRIX_H

#include <stddef.h>

#include "matscreen/error.h"

typedef struct ms_matrix {
    size_t rows, cols;
    double *data; /* rows * cols, row-major */
    int owned;    /* 1 when ms_matrix_free releases data */
} ms_matrix;

/* Element (i, j). */
#define MS_AT(m, i, j) ((m)->data[(size_t)(i) * (m)->cols + (size_t)(j)])

/* Allocates a rows x cols matrix filled with zeros. On failure *m is empty and MS_ERR_NOMEM is
 * returned. Free with ms_matrix_free. */
ms_status ms_matrix_alloc(ms_matrix *m, size_t rows, size_t cols);

/* Wraps caller memory (not freed by ms_matrix_free). */
void ms_matrix_wrap(ms_matrix *m, double *data, size_t rows, size_t cols);

/* Releases owned data and empties m; safe on an empty or wrapped matrix. */
void ms_matrix_free(ms_matrix *m);

/* Copies src into a new matrix dst (allocated). */
ms_status ms_matrix_copy(ms_matrix *dst, const ms_matrix *src);

/* Copies the rows listed in idx (n of them) of src into dst (allocated n x src->cols). */
ms_status ms_matrix_take_rows(ms_matrix *dst, const ms_matrix *src, const size_t *idx, size_t n);

#endif /* MATSCREEN_MATRIX_H */
