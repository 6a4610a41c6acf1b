/* Growable arrays; see array.h. */
#include "matscreen/array.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

ms_status ms_array_reserve(void *items, size_t *cap, size_t need, size_t elem, size_t first)
{
    MS_CHECK(items && cap && elem > 0 && first > 0, MS_ERR_USAGE,
             "ms_array_reserve: no array, or an element size or first capacity of 0");
    if (need <= *cap) return MS_SUCCESS;
    size_t nc = *cap ? *cap : first;
    while (nc < need && nc <= SIZE_MAX / 2) nc *= 2;
    MS_CHECK(nc >= need && nc <= SIZE_MAX / elem, MS_ERR_NOMEM,
             "cannot grow an array to %zu elements of %zu bytes: the size overflows", need, elem);
    /* items points to a T *: copied through memcpy, not read as a void *, so that no object is
     * accessed through an lvalue of another pointer type (T * and void * share one
     * representation on every POSIX platform). */
    void *old, *p;
    memcpy(&old, items, sizeof old);
    p = realloc(old, nc * elem);
    MS_CHECK(p, MS_ERR_NOMEM, "out of memory growing an array to %zu elements of %zu bytes", nc,
             elem);
    memcpy(items, &p, sizeof p);
    *cap = nc;
    return MS_SUCCESS;
}
