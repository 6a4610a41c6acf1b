/* Tests of the bounded memo (src/core/memo.c): exact keys (a shared hash never mixes two keys),
 * values found after the index grows, the cap held while it fills and empties again, entries
 * too large for it refused. */
#include <CUnit/CUnit.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "matscreen/hash.h"
#include "matscreen/memo.h"
#include "suites.h"

/* Value i: 40 doubles derived from i (a feature row's size order). */
static void value_of(size_t i, double v[40])
{
    for (size_t k = 0; k < 40; k++) v[k] = 2.385 * (double)i + 0.125 * (double)k;
}

static void test_memo_exact(void)
{
    ms_memo *m = NULL;
    CU_ASSERT_EQUAL(ms_memo_create(1000, &m), MS_ERR_USAGE);
    CU_ASSERT_PTR_NULL(m);
    CU_ASSERT_EQUAL_FATAL(ms_memo_create(1 << 20, &m), MS_SUCCESS);
    const char ka[] = "Li7La3Zr2O12 cell", kb[] = "Li7La3Zr2O12 cell, other";
    double va[40], vb[40];
    value_of(1, va);
    value_of(2, vb);
    size_t n = 0;
    CU_ASSERT_PTR_NULL(ms_memo_get(m, 42, ka, sizeof ka, &n));
    CU_ASSERT_EQUAL(ms_memo_put(m, 42, ka, sizeof ka, va, sizeof va), 1);
    /* the same hash, another key: not found, then stored beside it */
    CU_ASSERT_PTR_NULL(ms_memo_get(m, 42, kb, sizeof kb, &n));
    CU_ASSERT_EQUAL(ms_memo_put(m, 42, kb, sizeof kb, vb, sizeof vb), 1);
    const double *ga = ms_memo_get(m, 42, ka, sizeof ka, &n);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ga);
    CU_ASSERT_EQUAL(n, sizeof va);
    CU_ASSERT_EQUAL((uintptr_t)ga % 8, 0);
    CU_ASSERT(memcmp(ga, va, sizeof va) == 0);
    const double *gb = ms_memo_get(m, 42, kb, sizeof kb, &n);
    CU_ASSERT_PTR_NOT_NULL_FATAL(gb);
    CU_ASSERT(memcmp(gb, vb, sizeof vb) == 0);
    /* a key one byte shorter (a prefix) is another key */
    CU_ASSERT_PTR_NULL(ms_memo_get(m, 42, ka, sizeof ka - 1, &n));
    /* a thousand more: the index grows, every value is still found */
    char key[32];
    double v[40], g[40];
    for (size_t i = 0; i < 1000; i++) {
        int len = snprintf(key, sizeof key, "key %zu", i);
        value_of(i, v);
        CU_ASSERT_EQUAL(ms_memo_put(m, ms_hash_bytes(key, (size_t)len), key, (size_t)len, v,
                                    sizeof v), 1);
    }
    size_t found = 0;
    for (size_t i = 0; i < 1000; i++) {
        int len = snprintf(key, sizeof key, "key %zu", i);
        const void *p = ms_memo_get(m, ms_hash_bytes(key, (size_t)len), key, (size_t)len, &n);
        value_of(i, v);
        if (p && n == sizeof v) memcpy(g, p, sizeof g);
        found += p && n == sizeof v && memcmp(g, v, sizeof v) == 0;
    }
    CU_ASSERT_EQUAL(found, 1000);
    ms_memo_stats st;
    ms_memo_get_stats(m, &st);
    CU_ASSERT_EQUAL(st.entries, 1002);
    CU_ASSERT_EQUAL(st.stores, 1002);
    CU_ASSERT_EQUAL(st.flushes, 0);
    CU_ASSERT(st.bytes <= (size_t)1 << 20);
    ms_memo_free(m);
    ms_memo_free(NULL);
}

/* A 64 KiB memo and 340-byte entries: it empties when full, never holds more than its cap,
 * and finds what was stored since it last emptied. */
static void test_memo_cap(void)
{
    ms_memo *m = NULL;
    const size_t cap = 65536;
    CU_ASSERT_EQUAL_FATAL(ms_memo_create(cap, &m), MS_SUCCESS);
    char key[8];
    double v[40];
    size_t since_flush = 0;
    unsigned long long flushes = 0;
    for (size_t i = 0; i < 2000; i++) {
        memcpy(key, &i, sizeof key);
        value_of(i, v);
        CU_ASSERT_EQUAL(ms_memo_put(m, ms_hash_bytes(key, sizeof key), key, sizeof key, v,
                                    sizeof v), 1);
        ms_memo_stats st;
        ms_memo_get_stats(m, &st);
        CU_ASSERT(st.bytes <= cap);
        since_flush = st.flushes != flushes ? 1 : since_flush + 1;
        flushes = st.flushes;
    }
    CU_ASSERT(flushes >= 10); /* 2000 x 344 bytes in a 64 KiB memo */
    size_t n = 0, found = 0;
    for (size_t i = 2000 - since_flush; i < 2000; i++) {
        memcpy(key, &i, sizeof key);
        found += ms_memo_get(m, ms_hash_bytes(key, sizeof key), key, sizeof key, &n) != NULL;
    }
    CU_ASSERT_EQUAL(found, since_flush);
    size_t first = 0; /* gone with the last emptying */
    memcpy(key, &first, sizeof key);
    CU_ASSERT_PTR_NULL(ms_memo_get(m, ms_hash_bytes(key, sizeof key), key, sizeof key, &n));
    /* larger than a quarter of the cap: not stored, and nothing else lost */
    static char big[20000];
    CU_ASSERT_EQUAL(ms_memo_put(m, 7, "big", 3, big, sizeof big), 0);
    CU_ASSERT_PTR_NULL(ms_memo_get(m, 7, "big", 3, &n));
    ms_memo_stats st;
    ms_memo_get_stats(m, &st);
    CU_ASSERT_EQUAL(st.entries, since_flush);
    ms_memo_free(m);
}

int ms_suite_memo(void)
{
    CU_pSuite s = CU_add_suite("memo", NULL, NULL);
    if (!s) return CU_get_error();
    if (!CU_add_test(s, "exact keys, growing index", test_memo_exact) ||
        !CU_add_test(s, "cap held, emptied when full", test_memo_cap))
        return CU_get_error();
    return CUE_SUCCESS;
}
