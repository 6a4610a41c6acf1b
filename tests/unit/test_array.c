/* Tests of the array-growth helper: doubling, kept contents, the first capacity, overflow. */
#include <CUnit/CUnit.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "matscreen/array.h"
#include "suites.h"

typedef struct {
    double x, y, z;
    int tag;
} point;

static void test_grows_by_doubling_and_keeps_contents(void)
{
    point *pts = NULL;
    size_t n = 0, cap = 0;
    for (int i = 0; i < 1000; i++) {
        size_t before = cap;
        CU_ASSERT_EQUAL_FATAL(ms_array_reserve(&pts, &cap, n + 1, sizeof *pts, 64), MS_SUCCESS);
        size_t expected = before == 0 ? 64 : n == before ? 2 * before : before;
        CU_ASSERT_EQUAL(cap, expected);
        pts[n++] = (point){2.385 * i, -0.731 * i, 1e-3 * i, i};
    }
    CU_ASSERT_EQUAL(cap, 1024);
    int kept = 1;
    for (size_t i = 0; i < n; i++)
        kept &= pts[i].x == 2.385 * (double)i && pts[i].y == -0.731 * (double)i &&
                pts[i].z == 1e-3 * (double)i && pts[i].tag == (int)i;
    CU_ASSERT(kept);
    /* Room already there: neither the block nor the capacity moves. */
    point *same = pts;
    CU_ASSERT_EQUAL(ms_array_reserve(&pts, &cap, 1024, sizeof *pts, 64), MS_SUCCESS);
    CU_ASSERT_PTR_EQUAL(pts, same);
    CU_ASSERT_EQUAL(cap, 1024);
    CU_ASSERT_EQUAL(ms_array_reserve(&pts, &cap, 0, sizeof *pts, 64), MS_SUCCESS);
    CU_ASSERT_EQUAL(cap, 1024);
    free(pts);
}

static void test_first_capacity_rule(void)
{
    char *buf = NULL;
    size_t cap = 0;
    /* From empty the capacity is first, when first holds need... */
    CU_ASSERT_EQUAL(ms_array_reserve(&buf, &cap, 3, 1, 4096), MS_SUCCESS);
    CU_ASSERT_EQUAL(cap, 4096);
    free(buf);
    buf = NULL;
    cap = 0;
    /* ...and first doubled until it holds need otherwise. */
    CU_ASSERT_EQUAL(ms_array_reserve(&buf, &cap, 100, 1, 16), MS_SUCCESS);
    CU_ASSERT_EQUAL(cap, 128);
    /* Once there is a capacity, first no longer counts: 128 doubles. */
    CU_ASSERT_EQUAL(ms_array_reserve(&buf, &cap, 129, 1, 7), MS_SUCCESS);
    CU_ASSERT_EQUAL(cap, 256);
    /* A need beyond twice the capacity doubles as often as needed (a capacity not a power of 2
     * stays on its own sequence: 10, 20, 40, 80). */
    free(buf);
    buf = malloc(10);
    CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
    memcpy(buf, "Li7La3Zr2O", 10);
    cap = 10;
    CU_ASSERT_EQUAL(ms_array_reserve(&buf, &cap, 77, 1, 64), MS_SUCCESS);
    CU_ASSERT_EQUAL(cap, 80);
    CU_ASSERT(memcmp(buf, "Li7La3Zr2O", 10) == 0);
    free(buf);
}

static void test_overflow_fails_and_leaves_the_array(void)
{
    uint64_t *v = NULL;
    size_t cap = 0;
    CU_ASSERT_EQUAL_FATAL(ms_array_reserve(&v, &cap, 4, sizeof *v, 4), MS_SUCCESS);
    for (int i = 0; i < 4; i++) v[i] = 0x9e3779b97f4a7c15ULL * (uint64_t)(i + 1);
    uint64_t *kept = v;
    /* need * elem overflows size_t although need alone does not. */
    const size_t needs[] = {SIZE_MAX / sizeof *v + 1, SIZE_MAX / 2 + 1, SIZE_MAX};
    for (size_t k = 0; k < sizeof needs / sizeof needs[0]; k++) {
        ms_error_clear();
        CU_ASSERT_EQUAL(ms_array_reserve(&v, &cap, needs[k], sizeof *v, 4), MS_ERR_NOMEM);
        CU_ASSERT_PTR_EQUAL(v, kept);
        CU_ASSERT_EQUAL(cap, 4);
        CU_ASSERT_PTR_NOT_NULL(strstr(ms_error_message(), "the size overflows"));
    }
    /* With one-byte elements the doubling itself would overflow. */
    char *c = NULL;
    size_t ccap = 0;
    CU_ASSERT_EQUAL(ms_array_reserve(&c, &ccap, SIZE_MAX, 1, 64), MS_ERR_NOMEM);
    CU_ASSERT_PTR_NULL(c);
    CU_ASSERT_EQUAL(ccap, 0);
    int same = 1;
    for (int i = 0; i < 4; i++) same &= v[i] == 0x9e3779b97f4a7c15ULL * (uint64_t)(i + 1);
    CU_ASSERT(same);
    /* The array still grows normally afterwards. */
    CU_ASSERT_EQUAL(ms_array_reserve(&v, &cap, 5, sizeof *v, 4), MS_SUCCESS);
    CU_ASSERT_EQUAL(cap, 8);
    CU_ASSERT_EQUAL(v[3], 0x9e3779b97f4a7c15ULL * 4);
    free(v);
}

static void test_bad_arguments(void)
{
    double *d = NULL;
    size_t cap = 0;
    CU_ASSERT_EQUAL(ms_array_reserve(&d, &cap, 1, 0, 64), MS_ERR_USAGE);
    CU_ASSERT_EQUAL(ms_array_reserve(&d, &cap, 1, sizeof *d, 0), MS_ERR_USAGE);
    CU_ASSERT_EQUAL(ms_array_reserve(NULL, &cap, 1, sizeof *d, 64), MS_ERR_USAGE);
    CU_ASSERT_EQUAL(ms_array_reserve(&d, NULL, 1, sizeof *d, 64), MS_ERR_USAGE);
    CU_ASSERT_PTR_NULL(d);
    CU_ASSERT_EQUAL(cap, 0);
}

int ms_suite_array(void)
{
    CU_pSuite s = CU_add_suite("array", NULL, NULL);
    if (!s) return CU_get_error();
    CU_add_test(s, "grows by doubling and keeps its contents",
                test_grows_by_doubling_and_keeps_contents);
    CU_add_test(s, "first capacity, then doubling to fit the need", test_first_capacity_rule);
    CU_add_test(s, "overflow fails with NOMEM and leaves the array",
                test_overflow_fails_and_leaves_the_array);
    CU_add_test(s, "bad arguments are usage errors", test_bad_arguments);
    return CU_get_error();
}
