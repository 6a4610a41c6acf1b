/* Tests of the deterministic random streams. */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdlib.h>

#include "matscreen/rng.h"
#include "suites.h"

static void test_streams_depend_on_seed_and_key_only(void)
{
    ms_rng a, b, c;
    ms_rng_seed(&a, 2385, 17);
    ms_rng_seed(&b, 2385, 17);
    ms_rng_seed(&c, 2385, 18);
    int differ = 0;
    for (int i = 0; i < 100; i++) {
        uint64_t x = ms_rng_next(&a), y = ms_rng_next(&b), z = ms_rng_next(&c);
        CU_ASSERT_EQUAL(x, y);
        differ += x != z;
    }
    CU_ASSERT(differ > 95);
}

static void test_uniform_and_normal_moments(void)
{
    ms_rng r;
    ms_rng_seed(&r, 7, 0);
    const int n = 200000;
    double su = 0, sn = 0, sn2 = 0;
    for (int i = 0; i < n; i++) {
        double u = ms_rng_uniform(&r);
        CU_ASSERT_FATAL(u >= 0.0 && u < 1.0);
        su += u;
        double g = ms_rng_normal(&r);
        sn += g;
        sn2 += g * g;
    }
    /* 5 standard errors: fails by chance with probability below 1e-6. */
    CU_ASSERT(fabs(su / n - 0.5) < 5 * sqrt(1.0 / 12 / n));
    CU_ASSERT(fabs(sn / n) < 5 / sqrt((double)n));
    CU_ASSERT(fabs(sn2 / n - 1.0) < 5 * sqrt(2.0 / n));
}

static void test_below_covers_range_without_bias(void)
{
    ms_rng r;
    ms_rng_seed(&r, 11, 3);
    int counts[7] = {0};
    for (int i = 0; i < 70000; i++) {
        uint64_t k = ms_rng_below(&r, 7);
        CU_ASSERT_FATAL(k < 7);
        counts[k]++;
    }
    for (int k = 0; k < 7; k++) CU_ASSERT(abs(counts[k] - 10000) < 500);
}

int ms_suite_rng(void)
{
    CU_pSuite s = CU_add_suite("rng", NULL, NULL);
    if (!s) return CU_get_error();
    CU_add_test(s, "streams depend on seed and key only", test_streams_depend_on_seed_and_key_only);
    CU_add_test(s, "uniform and normal moments", test_uniform_and_normal_moments);
    CU_add_test(s, "below covers range without bias", test_below_covers_range_without_bias);
    return CU_get_error();
}
