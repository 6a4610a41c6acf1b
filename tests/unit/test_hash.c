/* Tests of the content hash against published FNV-1a 64 test vectors. */
#include <CUnit/CUnit.h>
#include <string.h>

#include "matscreen/hash.h"
#include "suites.h"

static void test_fnv1a_vectors(void)
{
    /* From the FNV reference test suite (Landon Curt Noll). */
    CU_ASSERT_EQUAL(ms_hash_bytes("", 0), 0xcbf29ce484222325ULL);
    CU_ASSERT_EQUAL(ms_hash_bytes("a", 1), 0xaf63dc4c8601ec8cULL);
    CU_ASSERT_EQUAL(ms_hash_bytes("foobar", 6), 0x85944171f73967e8ULL);
    uint64_t h = ms_hash_update(MS_HASH_INIT, "foo", 3);
    CU_ASSERT_EQUAL(ms_hash_update(h, "bar", 3), 0x85944171f73967e8ULL);
    char text[17];
    ms_hash_format(0x85944171f73967e8ULL, text);
    CU_ASSERT_STRING_EQUAL(text, "85944171f73967e8");
}

int ms_suite_hash(void)
{
    CU_pSuite s = CU_add_suite("hash", NULL, NULL);
    if (!s) return CU_get_error();
    CU_add_test(s, "FNV-1a test vectors", test_fnv1a_vectors);
    return CU_get_error();
}
