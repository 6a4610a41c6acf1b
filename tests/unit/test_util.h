/* Helpers shared by the unit tests: where the real data lives, and float comparison. */
#ifndef MS_TEST_UTIL_H
#define MS_TEST_UTIL_H

#include <setjmp.h>
#include <stddef.h>

/* Skipping without ../shared: the runner sets a jump buffer around each test; ms_test_data and
 * ms_test_reference jump to it, with a reason, when their root folder is absent. */
void ms_test_set_skip_jump(jmp_buf *jump);
const char *ms_test_skip_reason(void);
/* A suite whose setup needs the shared data calls this first: when the data is absent it returns
 * 1 (setup should then succeed without loading anything) and every test of the suite is skipped. */
int ms_test_suite_needs_shared(const char *suite);
const char *ms_test_skipped_suite(void);

/* Path of a file under ../shared/data (MS_SHARED_DATA overrides); static buffer per call slot. */
const char *ms_test_data(const char *relative);

/* Path of a file under ../shared/reference (MS_SHARED_REFERENCE overrides). */
const char *ms_test_reference(const char *relative);

/* Path of a file under tests/data of the repository. */
const char *ms_test_local(const char *relative);

/* 1 when |a - b| <= rtol * max(|a|, |b|) + atol. */
int ms_test_close(double a, double b, double rtol, double atol);

/* Number of entries of directory dir whose names start with prefix ((size_t)-1: no such
 * directory). For tests that check temporary files are gone. */
size_t ms_test_count_prefixed(const char *dir, const char *prefix);

/* Shared element table, loaded once from share/matscreen; never NULL inside a test. */
struct ms_element_table;
const struct ms_element_table *ms_test_elements(void);

#endif
