/*
 * The bounded memo (include/matscreen/memo.h): entries packed back to back in one arena, an
 * open-addressing index (linear probing) of (hash, offset) pairs, emptied whole when full.
 */
#include "matscreen/memo.h"

#include <stdlib.h>
#include <string.h>

#define MEMO_MIN_CAP 65536
#define MEMO_FIRST_SLOTS 64

typedef struct slot {
    uint64_t hash;
    size_t at; /* offset of the entry in the arena + 1; 0: empty */
} slot;

/* An entry: this header, the key padded to 8 bytes, the value padded to 8 bytes. */
typedef struct entry_head {
    uint32_t key_len, val_len;
} entry_head;

struct ms_memo {
    size_t cap;
    unsigned char *arena;
    size_t arena_cap, used;
    slot *slots;
    size_t n_slots, n_entries; /* n_slots: 0 or a power of two */
    ms_memo_stats stats;
};

static size_t pad8(size_t n) { return (n + 7) & ~(size_t)7; }

ms_status ms_memo_create(size_t cap_bytes, ms_memo **out)
{
    *out = NULL;
    MS_CHECK(cap_bytes >= MEMO_MIN_CAP, MS_ERR_USAGE, "memo: a cap of %zu bytes is below %d",
             cap_bytes, MEMO_MIN_CAP);
    ms_memo *m = calloc(1, sizeof *m);
    MS_CHECK(m != NULL, MS_ERR_NOMEM, "memo: allocating");
    m->cap = cap_bytes;
    *out = m;
    return MS_SUCCESS;
}

void ms_memo_free(ms_memo *m)
{
    if (!m) return;
    free(m->arena);
    free(m->slots);
    free(m);
}

const void *ms_memo_get(ms_memo *m, uint64_t hash, const void *key, size_t key_len,
                        size_t *val_len)
{
    size_t mask = m->n_slots - 1;
    for (size_t i = m->n_slots ? (size_t)hash & mask : 0; m->n_slots && m->slots[i].at;
         i = (i + 1) & mask) {
        if (m->slots[i].hash != hash) continue;
        const unsigned char *e = m->arena + m->slots[i].at - 1;
        entry_head h;
        memcpy(&h, e, sizeof h);
        if (h.key_len != key_len || memcmp(e + sizeof h, key, key_len) != 0) continue;
        m->stats.hits++;
        if (val_len) *val_len = h.val_len;
        return e + sizeof h + pad8(key_len);
    }
    m->stats.misses++;
    return NULL;
}

static void flush(ms_memo *m)
{
    m->used = 0;
    m->n_entries = 0;
    if (m->slots) memset(m->slots, 0, m->n_slots * sizeof *m->slots);
    m->stats.flushes++;
}

static void index_insert(slot *slots, size_t n_slots, uint64_t hash, size_t at)
{
    size_t i = (size_t)hash & (n_slots - 1);
    while (slots[i].at) i = (i + 1) & (n_slots - 1);
    slots[i].hash = hash;
    slots[i].at = at;
}

/* Makes room for one more entry of need bytes within the cap: 1 done, 0 not possible now. The
 * index may take an eighth of the cap and the arena the rest, so neither growth can push the
 * other over the cap. */
static int make_room(ms_memo *m, size_t need)
{
    size_t arena_max = m->cap - m->cap / 8, index_max = m->cap / 8;
    size_t want_slots = m->n_slots;
    if ((m->n_entries + 1) * 2 > m->n_slots) /* load at most 1/2 */
        want_slots = m->n_slots ? m->n_slots * 2 : MEMO_FIRST_SLOTS;
    if (want_slots * sizeof(slot) > index_max || m->used + need > arena_max) return 0;
    if (m->used + need > m->arena_cap) {
        size_t c = m->arena_cap ? m->arena_cap : 4096;
        while (c < m->used + need) c *= 2;
        if (c > arena_max) c = arena_max;
        unsigned char *a = realloc(m->arena, c);
        if (!a) return 0;
        m->arena = a;
        m->arena_cap = c;
    }
    if (want_slots != m->n_slots) {
        slot *s = calloc(want_slots, sizeof *s);
        if (!s) return 0;
        for (size_t i = 0; i < m->n_slots; i++)
            if (m->slots[i].at) index_insert(s, want_slots, m->slots[i].hash, m->slots[i].at);
        free(m->slots);
        m->slots = s;
        m->n_slots = want_slots;
    }
    return 1;
}

int ms_memo_put(ms_memo *m, uint64_t hash, const void *key, size_t key_len, const void *val,
                size_t val_len)
{
    if (key_len > UINT32_MAX || val_len > UINT32_MAX) return 0;
    size_t need = sizeof(entry_head) + pad8(key_len) + pad8(val_len);
    if (need > m->cap / 4) return 0; /* would empty the memo for a few entries */
    if (!make_room(m, need)) {
        if (m->n_entries == 0) return 0; /* no memory, not a full memo */
        flush(m);
        if (!make_room(m, need)) return 0;
    }
    unsigned char *e = m->arena + m->used;
    entry_head h = {(uint32_t)key_len, (uint32_t)val_len};
    memcpy(e, &h, sizeof h);
    memcpy(e + sizeof h, key, key_len);
    memcpy(e + sizeof h + pad8(key_len), val, val_len);
    index_insert(m->slots, m->n_slots, hash, m->used + 1);
    m->used += need;
    m->n_entries++;
    m->stats.stores++;
    return 1;
}

void ms_memo_get_stats(const ms_memo *m, ms_memo_stats *out)
{
    *out = m->stats;
    out->entries = m->n_entries;
    out->bytes = m->arena_cap + m->n_slots * sizeof(slot);
}
