/* Tests of status codes and messages. */
#include <CUnit/CUnit.h>
#include <string.h>

#include "matscreen/error.h"
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

int ms_suite_error(void)
{
    CU_pSuite s = CU_add_suite("error", NULL, NULL);
    if (!s) return CU_get_error();
    CU_add_test(s, "codes have distinct messages", test_codes_have_distinct_messages);
    CU_add_test(s, "MS_CHECK and MS_CALL keep the message", test_check_and_call_keep_the_message);
    return CU_get_error();
}
