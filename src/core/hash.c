/* FNV-1a 64-bit; see hash.h. */
#include "matscreen/hash.h"

#include <stdio.h>

uint64_t ms_hash_update(uint64_t h, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

uint64_t ms_hash_bytes(const void *data, size_t n) { return ms_hash_update(MS_HASH_INIT, data, n); }

/* "%016llx" without printf: it runs once per output row. */
void ms_hash_format(uint64_t h, char out[17])
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 15; i >= 0; i--, h >>= 4) out[i] = hex[h & 15];
    out[16] = '\0';
}
