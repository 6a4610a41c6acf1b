/*
 * Growable arrays: room for one more element by doubling the capacity.
 *
 * Conventions
 *   - An array is the caller's pointer T *items with its capacity (elements allocated) kept
 *     beside its count; NULL with capacity 0 is the empty array, and free() releases it.
 *   - Growth doubles the capacity, starting from a first capacity the caller chooses, so that n
 *     appends copy O(n) elements in all. New elements are not initialised.
 *   - Errors: MS_ERR_NOMEM when memory runs out and also when the size in bytes would overflow
 *     size_t, with a message giving the element count and size, e.g. "out of memory growing an
 *     array to 4096 elements of 24 bytes". On failure the array and its capacity are unchanged:
 *     the caller still owns the old block. Callers that know what they grow may replace the
 *     message with their own (ms_error_set).
 *   - Not collective; two threads must not grow the same array at once.
 */
#ifndef MATSCREEN_ARRAY_H
#define MATSCREEN_ARRAY_H

#include <stddef.h>

#include "matscreen/error.h"

/* Makes room for at least need elements of elem bytes in the array whose pointer is at items
 * (a T **, passed as &array) and whose capacity is *cap. Nothing changes when *cap >= need;
 * otherwise the capacity becomes first when *cap is 0 and 2 * *cap otherwise, doubled again
 * until it holds need, and the array is reallocated, keeping its first *cap elements. elem and
 * first must be > 0 (MS_ERR_USAGE). MS_ERR_NOMEM when memory runs out or the size overflows;
 * then the array and *cap are unchanged. Not collective. */
ms_status ms_array_reserve(void *items, size_t *cap, size_t need, size_t elem, size_t first);

#endif /* MATSCREEN_ARRAY_H */
