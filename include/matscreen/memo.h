/*
 * A bounded memo: byte-string values stored under byte-string keys and found by the exact key.
 * The screen's workers keep one per rank to reuse the symmetry and feature row of an exact
 * duplicate record (docs/engine.md, "Exact duplicates").
 *
 * Conventions
 *   - Exact: a hash chosen by the caller picks the slot, and a hit compares the whole key, byte
 *     for byte; two keys with the same hash never share a value.
 *   - Memory: keys, values and the index together never exceed the cap given at creation. The
 *     arena grows by doubling up to it, so a small run pays for what it stores only. When a new
 *     entry does not fit, the memo is emptied and fills again (a generation): no per-entry
 *     bookkeeping; two equal keys d entries apart in a memo of C entries are found unless it
 *     emptied between them (chance about d/C).
 *   - A value returned by ms_memo_get is borrowed: valid until the next ms_memo_put.
 *   - Never a failure for the caller's work: an entry that cannot be stored (too large for the
 *     cap, no memory) is simply not stored.
 *   - Not collective, not thread-safe: one memo per rank.
 */
#ifndef MATSCREEN_MEMO_H
#define MATSCREEN_MEMO_H

#include <stddef.h>
#include <stdint.h>

#include "matscreen/error.h"

typedef struct ms_memo ms_memo;

/* Counts since creation. */
typedef struct ms_memo_stats {
    size_t entries;             /* stored now */
    size_t bytes;               /* arena + index allocated now (<= the cap) */
    unsigned long long hits;    /* ms_memo_get that found the key */
    unsigned long long misses;  /* ms_memo_get that did not */
    unsigned long long stores;  /* entries stored */
    unsigned long long flushes; /* times the memo was emptied because it was full */
} ms_memo_stats;

/* Creates an empty memo that holds at most cap_bytes (arena and index; at least 65536, an
 * eighth of it for the index). Nothing is allocated until the first store. Free with
 * ms_memo_free. MS_ERR_USAGE for a cap below 65536, MS_ERR_NOMEM. */
ms_status ms_memo_create(size_t cap_bytes, ms_memo **out);

/* Frees m; NULL is a no-op. */
void ms_memo_free(ms_memo *m);

/* The value stored under key (key_len bytes, hash = the caller's hash of them), with its length
 * in *val_len; NULL when absent. The pointer is 8-byte aligned and borrowed. */
const void *ms_memo_get(ms_memo *m, uint64_t hash, const void *key, size_t key_len,
                        size_t *val_len);

/* Stores a copy of (key, value) under hash; returns 1 when stored, 0 when not (larger than a
 * quarter of the cap, or no memory). The caller stores a key it did not find: a key stored
 * twice is found once (the first). */
int ms_memo_put(ms_memo *m, uint64_t hash, const void *key, size_t key_len, const void *val,
                size_t val_len);

/* The counts of m. */
void ms_memo_get_stats(const ms_memo *m, ms_memo_stats *out);

#endif /* MATSCREEN_MEMO_H */
