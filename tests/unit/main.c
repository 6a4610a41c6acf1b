/*
 * Unit test runner: registers every suite of suites.h and runs them with CUnit's basic interface.
 *
 * CU_basic_run_tests returns 0 even when assertions fail, so the exit code is the number of
 * failures read before CU_cleanup_registry. An optional argument runs only the suite of that name.
 *
 * Every test runs through one trampoline that sets the skip jump of test_util.c: a test that needs
 * ../shared when it is absent prints one "SKIP" line and counts as skipped, not failed.
 */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <string.h>

#include "suites.h"
#include "test_util.h"

#define MAX_TESTS 4096

static struct {
    CU_pTest test;
    CU_TestFunc run;
} wrapped[MAX_TESTS];
static size_t n_wrapped;
static unsigned skipped;

static void skip_line(const char *reason)
{
    printf("\nSKIP %s: %s: %s", CU_get_current_suite()->pName, CU_get_current_test()->pName, reason);
    skipped++;
}

static void trampoline(void)
{
    CU_pTest t = CU_get_current_test();
    const char *suite = ms_test_skipped_suite();
    if (suite && !strcmp(suite, CU_get_current_suite()->pName)) {
        skip_line(ms_test_skip_reason());
        return;
    }
    for (size_t i = 0; i < n_wrapped; i++) {
        if (wrapped[i].test != t) continue;
        jmp_buf jump;
        if (setjmp(jump) == 0) {
            ms_test_set_skip_jump(&jump);
            wrapped[i].run();
        } else {
            skip_line(ms_test_skip_reason());
        }
        ms_test_set_skip_jump(NULL);
        return;
    }
}

/* Routes every registered test through the trampoline; 0 when there are too many tests. */
static int wrap_tests(void)
{
    for (CU_pSuite s = CU_get_registry()->pSuite; s; s = s->pNext) {
        for (CU_pTest t = s->pTest; t; t = t->pNext) {
            if (n_wrapped == MAX_TESTS) return 0;
            wrapped[n_wrapped].test = t;
            wrapped[n_wrapped++].run = t->pTestFunc;
            t->pTestFunc = trampoline;
        }
    }
    return 1;
}

typedef struct {
    const char *name;
    int (*add)(void);
} suite_entry;

#define MS_SUITE_ENTRY(name) {#name, ms_suite_##name},
static const suite_entry suites[] = {MS_SUITE_LIST(MS_SUITE_ENTRY)};

int main(int argc, char **argv)
{
    const char *only = argc > 1 ? argv[1] : NULL;
    int missing = 0;
    if (CU_initialize_registry() != CUE_SUCCESS) return 2;
    for (size_t i = 0; i < sizeof suites / sizeof suites[0]; i++) {
        if (only && strcmp(only, suites[i].name) != 0) continue;
        if (!suites[i].add) {
            fprintf(stderr, "suite %s is declared but not linked\n", suites[i].name);
            missing++;
            continue;
        }
        if (suites[i].add() != CUE_SUCCESS) {
            fprintf(stderr, "suite %s: %s\n", suites[i].name, CU_get_error_msg());
            CU_cleanup_registry();
            return 2;
        }
    }
    if (!wrap_tests()) {
        fprintf(stderr, "more than %d tests: raise MAX_TESTS in %s\n", MAX_TESTS, __FILE__);
        CU_cleanup_registry();
        return 2;
    }
    CU_basic_set_mode(CU_BRM_NORMAL);
    CU_basic_run_tests();
    unsigned failures = CU_get_number_of_failures() + CU_get_number_of_suites_failed();
    unsigned run = CU_get_number_of_tests_run();
    unsigned failed_tests = CU_get_number_of_tests_failed();
    CU_cleanup_registry();
    if (skipped)
        printf("\n%u passed, %u failed, %u skipped (they need ../shared)\n", run - failed_tests - skipped,
               failed_tests, skipped);
    else
        printf("\n%u passed, %u failed\n", run - failed_tests, failed_tests);
    if (run == 0) return 3; /* a run that tested nothing is a failure */
    return (failures > 0 || missing > 0) ? 1 : 0;
}
