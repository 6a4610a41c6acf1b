/* Dense row-major matrices; see matrix.h. */
#include "matscreen/matrix.h"

#include <stdlib.h>
#include <string.h>

ms_status ms_matrix_alloc(ms_matrix *m, size_t rows, size_t cols)
{
    m->rows = m->cols = 0;
    m->owned = 0;
    m->data = NULL;
    MS_CHECK(cols == 0 || rows <= ((size_t)-1) / sizeof(double) / cols, MS_ERR_LIMIT,
             "matrix of %zu x %zu does not fit in memory", rows, cols);
    size_t n = rows * cols;
    m->data = calloc(n ? n : 1, sizeof *m->data);
    MS_CHECK(m->data, MS_ERR_NOMEM, "cannot allocate a %zu x %zu matrix", rows, cols);
    m->rows = rows;
    m->cols = cols;
    m->owned = 1;
    return MS_SUCCESS;
}

void ms_matrix_wrap(ms_matrix *m, double *data, size_t rows, size_t cols)
{
    m->data = data;
    m->rows = rows;
    m->cols = cols;
    m->owned = 0;
}

void ms_matrix_free(ms_matrix *m)
{
    if (m->owned) free(m->data);
    m->data = NULL;
    m->rows = m->cols = 0;
    m->owned = 0;
}

ms_status ms_matrix_copy(ms_matrix *dst, const ms_matrix *src)
{
    MS_CALL(ms_matrix_alloc(dst, src->rows, src->cols));
    if (src->rows > 0 && src->cols > 0) memcpy(dst->data, src->data, src->rows * src->cols * sizeof *dst->data);
    return MS_SUCCESS;
}

ms_status ms_matrix_take_rows(ms_matrix *dst, const ms_matrix *src, const size_t *idx, size_t n)
{
    MS_CALL(ms_matrix_alloc(dst, n, src->cols));
    for (size_t r = 0; r < n; r++) {
        if (idx[r] >= src->rows) {
            ms_matrix_free(dst);
            return ms_error_set(MS_ERR_USAGE, "row %zu out of range (%zu rows)", idx[r], src->rows);
        }
        memcpy(&MS_AT(dst, r, 0), &MS_AT(src, idx[r], 0), src->cols * sizeof *dst->data);
    }
    return MS_SUCCESS;
}
