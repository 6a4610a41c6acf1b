/*
 * Tests of rank 0's on-disk buffers of the tasks in flight (task_spill.h): interleaved appends to
 * several tasks of sizes around the chunk size gather back byte for byte in order; chunks freed
 * by a gathered or reset task are reused, so the file stays as large as the data in flight; a
 * task under one chunk never creates the file; an unusable TMPDIR is a clear error.
 */
#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

#include "matscreen/rng.h"
#include "matscreen/task_spill.h"
#include "suites.h"

/* What the screen does (screen.c m_collect): bytes go into b->mem, then the full chunks out. */
static ms_status append(ms_spill *s, ms_spill_buf *b, const void *data, size_t n)
{
    MS_CALL(ms_buffer_append(&b->mem, data, n));
    return ms_spill_flush(s, b);
}

#define N_TASKS 3

/* The byte j of task t's stream in round r: distinct per task, round and position. */
static unsigned char byte_at(int t, int r, size_t j)
{
    return (unsigned char)(j * 131u + (unsigned)t * 17u + (unsigned)r * 7u + (j >> 16));
}

static void test_interleaved_roundtrip(void)
{
    ms_spill s;
    ms_spill_init(&s);
    ms_spill_buf b[N_TASKS];
    memset(b, 0, sizeof b);
    ms_buffer out = {0};
    ms_rng rng;
    ms_rng_seed(&rng, 22, 0);
    unsigned char piece[5000];
    uint64_t peak_end = 0;
    for (int round = 0; round < 6; round++) {
        size_t want[N_TASKS], have[N_TASKS] = {0};
        for (int t = 0; t < N_TASKS; t++) /* 0, a chunk exactly, or up to ~5 chunks */
            want[t] = round == 0 && t == 0   ? 0
                      : round == 0 && t == 1 ? MS_SPILL_CHUNK
                                             : (size_t)(ms_rng_uniform(&rng) * 5.3 * MS_SPILL_CHUNK);
        for (int left = 1; left;) {
            left = 0;
            for (int t = 0; t < N_TASKS; t++) {
                size_t n = (size_t)(ms_rng_uniform(&rng) * sizeof piece) + 1;
                if (n > want[t] - have[t]) n = want[t] - have[t];
                for (size_t j = 0; j < n; j++) piece[j] = byte_at(t, round, have[t] + j);
                if (n) CU_ASSERT_EQUAL_FATAL(append(&s, &b[t], piece, n), MS_SUCCESS);
                CU_ASSERT(b[t].mem.n < MS_SPILL_CHUNK);
                have[t] += n;
                left |= have[t] < want[t];
            }
        }
        for (int t = 0; t < N_TASKS; t++) {
            if (round == 3 && t == 2) { /* a task given up (its worker died): chunks come back */
                ms_spill_reset(&s, &b[t]);
                continue;
            }
            CU_ASSERT_EQUAL_FATAL(ms_spill_gather(&s, &b[t], &out), MS_SUCCESS);
            CU_ASSERT_EQUAL_FATAL(out.n, want[t]);
            size_t bad = 0;
            for (size_t j = 0; j < out.n; j++) bad += out.data[j] != byte_at(t, round, j);
            CU_ASSERT_EQUAL(bad, 0);
            CU_ASSERT_EQUAL(b[t].n_chunk, 0);
            CU_ASSERT_EQUAL(b[t].mem.n, 0);
        }
        if (s.end > peak_end) peak_end = s.end;
        /* every chunk is free again between rounds, and no round needs more than 16 */
        CU_ASSERT_EQUAL(s.n_free * MS_SPILL_CHUNK, s.end);
    }
    CU_ASSERT(peak_end <= 16 * MS_SPILL_CHUNK);
    CU_ASSERT(peak_end > 0);
    for (int t = 0; t < N_TASKS; t++) ms_spill_buf_free(&b[t]);
    ms_buffer_free(&out);
    ms_spill_close(&s);
}

static void test_small_task_no_file(void)
{
    ms_spill s;
    ms_spill_init(&s);
    ms_spill_buf b = {0};
    ms_buffer out = {0};
    const char text[] = "one record's packed result";
    CU_ASSERT_EQUAL(append(&s, &b, text, sizeof text), MS_SUCCESS);
    CU_ASSERT_EQUAL(s.fd, -1);
    CU_ASSERT_EQUAL(ms_spill_gather(&s, &b, &out), MS_SUCCESS);
    CU_ASSERT_EQUAL(out.n, sizeof text);
    CU_ASSERT(out.n == sizeof text && !memcmp(out.data, text, sizeof text));
    CU_ASSERT_EQUAL(s.fd, -1);
    ms_spill_buf_free(&b);
    ms_buffer_free(&out);
    ms_spill_close(&s);
}

static void test_bad_tmpdir(void)
{
    const char *old = getenv("TMPDIR");
    char *keep = old ? strdup(old) : NULL;
    setenv("TMPDIR", "/nonexistent-matscreen-dir", 1);
    ms_spill s;
    ms_spill_init(&s);
    ms_spill_buf b = {0};
    unsigned char *big = calloc(1, MS_SPILL_CHUNK + 1);
    CU_ASSERT_FATAL(big != NULL);
    CU_ASSERT_EQUAL(append(&s, &b, big, MS_SPILL_CHUNK + 1), MS_ERR_IO);
    CU_ASSERT(strstr(ms_error_message(), "/nonexistent-matscreen-dir") != NULL);
    CU_ASSERT(strstr(ms_error_message(), "TMPDIR") != NULL);
    ms_spill_reset(&s, &b);
    ms_spill_buf_free(&b);
    ms_spill_close(&s);
    free(big);
    if (keep) setenv("TMPDIR", keep, 1);
    else unsetenv("TMPDIR");
    free(keep);
}

int ms_suite_task_spill(void)
{
    CU_pSuite s = CU_add_suite("task_spill", NULL, NULL);
    if (!s) return CU_get_error();
    CU_add_test(s, "interleaved tasks gather back in order; chunks reused", test_interleaved_roundtrip);
    CU_add_test(s, "a task under one chunk creates no file", test_small_task_no_file);
    CU_add_test(s, "unusable TMPDIR: error names it", test_bad_tmpdir);
    return CU_get_error();
}
