/* Tests of status codes and messages. */
#include <CUnit/CUnit.h>
#include <string.h>

#include "matscreen/error.h"
#include "matscreen/number.h"
#include "suites.h"

static void test_codes_have_distinct_messages(void)
{
    for (int i = 0; i < MS_STATUS_COUNT; i++) {
        const char *m = ms_strerror((ms_status)i);
        CU_ASSERT_PTR_NOT_NULL_FATAL(m);
        CU_ASSERT(strlen(m) > 3);
        CU_ASSERT(strcmp(m, "unknown status code") != 0);
        for (int j = 0; j < i; j++) CU_ASSERT(strcmp(m, ms_strerror((ms_status)j)) != 0);
    }
    CU_ASSERT_STRING_EQUAL(ms_strerror(MS_STATUS_COUNT), "unknown status code");
    CU_ASSERT_STRING_EQUAL(ms_strerror((ms_status)-7), "unknown status code");
}

static ms_status failing(int line)
{
    MS_CHECK(line < 10, MS_ERR_PARSE, "file.cif:%d: bad value", line);
    return MS_SUCCESS;
}

static ms_status calling(int line)
{
    MS_CALL(failing(line));
    return MS_ERR_INTERNAL; /* reached only when failing() succeeded */
}

static void test_check_and_call_keep_the_message(void)
{
    ms_error_clear();
    CU_ASSERT_EQUAL(calling(42), MS_ERR_PARSE);
    CU_ASSERT_STRING_EQUAL(ms_error_message(), "file.cif:42: bad value");
    ms_error_prefix("block %s", "data_x");
    CU_ASSERT_STRING_EQUAL(ms_error_message(), "block data_x: file.cif:42: bad value");
    CU_ASSERT_EQUAL(calling(3), MS_ERR_INTERNAL);
    ms_error_clear();
    CU_ASSERT_STRING_EQUAL(ms_error_message(), "");
}

/* The one numeric parser of options and workflow attributes (issue #18, item 6). */
static void test_parse_numbers(void)
{
    double d = 7;
    CU_ASSERT_EQUAL(ms_parse_double("--xi", "0.5", 0, 10, &d), MS_SUCCESS);
    CU_ASSERT_DOUBLE_EQUAL(d, 0.5, 0);
    const char *bad[] = {"nan", "NaN", "inf", "-inf", "1e999", "", " 1", "1x", "0x"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        d = 7;
        CU_ASSERT_EQUAL(ms_parse_double("--kappa", bad[i], 0, 10, &d), MS_ERR_USAGE);
        CU_ASSERT_DOUBLE_EQUAL(d, 7, 0); /* untouched */
        CU_ASSERT_PTR_NOT_NULL(strstr(ms_error_message(), "--kappa"));
        CU_ASSERT_PTR_NOT_NULL(strstr(ms_error_message(), "[0, 10]"));
    }
    CU_ASSERT_EQUAL(ms_parse_double("--xi", "-1", 0, 10, &d), MS_ERR_USAGE);
    CU_ASSERT_STRING_EQUAL(ms_error_message(),
                           "--xi: -1 is out of range (give a number in [0, 10])");
    CU_ASSERT_EQUAL(ms_parse_double("--kappa", "inf", 0, 10, &d), MS_ERR_USAGE);
    CU_ASSERT_STRING_EQUAL(ms_error_message(),
                           "--kappa: 'inf' is not a finite number (give a number in [0, 10])");
    uint64_t u = 3;
    CU_ASSERT_EQUAL(ms_parse_u64("--seed", "18446744073709551615", 0, UINT64_MAX, &u), MS_SUCCESS);
    CU_ASSERT_EQUAL(u, UINT64_MAX);
    CU_ASSERT_EQUAL(ms_parse_u64("--seed", "18446744073709551616", 0, UINT64_MAX, &u),
                    MS_ERR_USAGE);
    size_t k = 3;
    CU_ASSERT_EQUAL(ms_parse_size("--top", "99999999999999999999", 0, 1000, &k), MS_ERR_USAGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(ms_error_message(), "out of range"));
    CU_ASSERT_EQUAL(ms_parse_size("--top", "-1", 0, 1000, &k), MS_ERR_USAGE);
    CU_ASSERT_EQUAL(ms_parse_size("--top", "+1", 0, 1000, &k), MS_ERR_USAGE);
    CU_ASSERT_EQUAL(ms_parse_size("--top", "1001", 0, 1000, &k), MS_ERR_USAGE);
    CU_ASSERT_EQUAL(k, 3);
    CU_ASSERT_EQUAL(ms_parse_size("--top", "1000", 0, 1000, &k), MS_SUCCESS);
    CU_ASSERT_EQUAL(k, 1000);
    int r = 0;
    CU_ASSERT_EQUAL(ms_parse_int("--repeats", "0", 1, 100, &r), MS_ERR_USAGE);
    CU_ASSERT_EQUAL(ms_parse_int("--repeats", "100", 1, 100, &r), MS_SUCCESS);
    CU_ASSERT_EQUAL(r, 100);
}

int ms_suite_error(void)
{
    CU_pSuite s = CU_add_suite("error", NULL, NULL);
    if (!s) return CU_get_error();
    CU_add_test(s, "codes have distinct messages", test_codes_have_distinct_messages);
    CU_add_test(s, "MS_CHECK and MS_CALL keep the message", test_check_and_call_keep_the_message);
    CU_add_test(s, "numeric options: finite, in range, named", test_parse_numbers);
    return CU_get_error();
}
